"""Esketamine REMS monitoring forms: the list of forms due, one form (prefilled from the session
record, saved through the service), the form as a PDF, and recording its submission."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.accounts.permissions import Capability
from clinic.core.access import require, staff_required
from clinic.core.exceptions import DomainError, InvalidInput, NotFound, PermissionDenied
from clinic.core.forms import apply_domain_error
from clinic.locations.selectors import (
    ALL_LOCATIONS,
    location_scope,
    require_works_at,
    sees_network,
)
from clinic.screening.choices import Route
from clinic.treatment_sessions import rems, rules, services, state
from clinic.treatment_sessions.forms_rems import NONE_OF_THESE, RemsMonitoringForm
from clinic.treatment_sessions.selectors import session_get

# Rendered as a fieldset with a legend (a group of radio buttons or checkboxes).
GROUPED_FIELDS = ["concomitant_medications", *sorted(rems.BOOLEAN_FIELDS)]


def _as_initial(key: str, value):
    """A stored answer as the form field's initial value."""
    if key in rems.BOOLEAN_FIELDS:
        return {True: "yes", False: "no"}.get(value, "")
    if key == "concomitant_medications":
        return list(value) if value else [NONE_OF_THESE]
    if key == "serious_adverse_events":
        return "\n".join(value) if value else "None"
    return value


def _initial(session) -> tuple[dict, frozenset[str]]:
    """Saved answers first; blank fields prefilled from the session record (and marked)."""
    saved = {k: v for k, v in (session.rems_form or {}).items() if v not in (None, "")}
    prefill = state.rems_form_prefill(session)
    initial = {k: _as_initial(k, v) for k, v in saved.items()}
    prefilled = set()
    for key, value in prefill.items():
        if key not in saved:
            initial[key] = _as_initial(key, value)
            prefilled.add(key)
    return initial, frozenset(prefilled)


def _esketamine_session(actor, session_uuid, *, audit: bool = True):
    session = session_get(actor=actor, session_uuid=session_uuid, audit=audit)
    if session.route != Route.ESKETAMINE:
        raise Http404("Only an esketamine session has a REMS monitoring form.")
    return session


@staff_required
@require_GET
def rems_due(request):
    require(request.user, Capability.SESSION_REMS)
    location = location_scope(
        actor=request.user,
        requested=request.GET.get("location") or None,
        current=getattr(request, "location", None),
    )
    context = {
        "rows": rems.rems_due_list(actor=request.user, location=location),
        "location": location,
        "sees_network": sees_network(request.user),
        "all_locations": ALL_LOCATIONS,
    }
    return render(request, "treatment_sessions/rems_due.html", context)


@staff_required
@require_http_methods(["GET", "POST"])
def rems_form(request, session_uuid):
    actor = request.user
    require(actor, Capability.SESSION_RUN if request.method == "POST" else Capability.SESSION_REMS)
    session = _esketamine_session(actor, session_uuid)
    # The form is filled in by the staff of the session's location; the PDF is a read.
    require_works_at(actor, session.appointment.chair.room.location)
    initial, prefilled = _initial(session)
    if request.method == "POST":
        form = RemsMonitoringForm(request.POST, initial=initial, prefilled=prefilled)
        if form.is_valid():
            try:
                services.rems_form_save(actor=actor, session=session, values=form.values())
            except (NotFound, PermissionDenied):
                raise
            except InvalidInput as error:
                apply_domain_error(form, error)
            except DomainError as error:
                # A refusal of the whole form (the record is signed): say so above it.
                messages.error(request, error.message)
                return redirect("treatment_sessions:rems_form", session_uuid=session.uuid)
            else:
                missing = rules.rems_form_missing({**(session.rems_form or {}), **form.values()})
                if missing:
                    messages.success(
                        request,
                        f"Monitoring form saved; {len(missing)} field(s) still to answer.",
                    )
                else:
                    messages.success(request, "Monitoring form saved and complete.")
                return redirect("treatment_sessions:rems_form", session_uuid=session.uuid)
    else:
        form = RemsMonitoringForm(initial=initial, prefilled=prefilled)
    saved = session.rems_form or {}
    missing = rules.rems_form_missing(saved)
    context = {
        "session": session,
        "patient": session.patient,
        "form": form,
        "grouped_fields": GROUPED_FIELDS,
        "answers": [
            (item.label, rems.answer_text(item.key, saved.get(item.key)))
            for item in rules.REMS_MONITORING_FIELDS
        ],
        "missing": [rems.LABELS[k] for k in missing],
        "session_date": rems.session_date(session),
        "location": session.appointment.chair.room.location,
        "can_save": actor.can(Capability.SESSION_RUN) and not session.is_signed,
        "can_submit": (
            actor.can(Capability.SESSION_REMS)
            and not missing
            and session.dose_started_at is not None
            and session.rems_submitted_at is None
        ),
    }
    return render(request, "treatment_sessions/rems_form.html", context)


@staff_required
@require_GET
def rems_pdf(request, session_uuid):
    require(request.user, Capability.SESSION_REMS)
    session = _esketamine_session(request.user, session_uuid, audit=False)
    content = rems.rems_pdf_build(actor=request.user, session=session)
    response = HttpResponse(content, content_type="application/pdf")
    day = rems.session_date(session)
    response["Content-Disposition"] = (
        f'inline; filename="rems-monitoring-{session.patient.mrn}-{day:%Y%m%d}.pdf"'
    )
    return response


@staff_required
@require_POST
def rems_submitted(request, session_uuid):
    """Record that the completed form went to the REMS."""
    actor = request.user
    require(actor, Capability.SESSION_REMS)
    session = session_get(actor=actor, session_uuid=session_uuid, audit=False)
    try:
        services.rems_form_mark_submitted(actor=actor, session=session)
    except (NotFound, PermissionDenied):
        raise
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            f"REMS monitoring form of {session.patient.display_name} recorded as submitted.",
        )
    if request.POST.get("next") == "form" and session.route == Route.ESKETAMINE:
        return redirect("treatment_sessions:rems_form", session_uuid=session.uuid)
    return redirect("treatment_sessions:rems_due")
