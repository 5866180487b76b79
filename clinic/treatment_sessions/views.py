"""One session at the chair: the page a nurse runs from check-in to discharge and signing.

Every view is glue: check the capability, read the session through the selector, call one
service, and go back to the page (a redirect with a message) or show the page again with the
service's refusal next to the field it names. Forms post with htmx when it is there (the page's
<main> is swapped) and work the same without it. No patient data goes into URLs or logs.

This module holds the page, its forms' context and the glue every session form shares
(`_session`, `_submit`, `_back`, `_one_field_action`); dosing posts are in views_dosing.py and
the flowsheet's in views_flowsheet.py.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from clinic.accounts.permissions import Capability
from clinic.assessments.selectors import unresolved_alerts_for_patient
from clinic.core.access import require, staff_required
from clinic.core.dates import in_era
from clinic.core.exceptions import Conflict, DomainError, InvalidInput
from clinic.core.forms import apply_domain_error
from clinic.patients.choices import Sex
from clinic.screening.choices import Route
from clinic.treatment_sessions import selectors, services, state
from clinic.treatment_sessions.choices import (
    AlertAction,
    SessionPhase,
    SessionScoreKind,
)
from clinic.treatment_sessions.forms import (
    AddendumForm,
    AdverseEventForm,
    AlertAcknowledgeForm,
    DeviceForm,
    DischargeForm,
    DosingEndForm,
    EnteredInErrorForm,
    ImInjectionForm,
    InfusionPauseForm,
    InfusionRateForm,
    InfusionStartForm,
    InfusionStopForm,
    IntegrationNoteForm,
    NoteForm,
    PreCheckForm,
    ReasonForm,
    ScoreForm,
    SideEffectForm,
    VitalsForm,
    WasteForm,
)
from clinic.treatment_sessions.note_facts import note_draft_of
from clinic.treatment_sessions.page import (
    SCORE_HINTS,
    SessionPage,
    session_page,
)

PAGE = "treatment_sessions/session_detail.html"
# The service's names for a field the page calls otherwise.
RENAMED_FIELDS = {"weight_kg": "weight_today_kg"}


# --------------------------------------------------------------------------- helpers


def _session(request, session_uuid, capability: str | None = None, *, audit: bool = False):
    """The session for a write (capability first, so a denial reads and writes nothing)."""
    if capability is not None:
        require(request.user, capability)
    return selectors.session_get(actor=request.user, session_uuid=session_uuid, audit=audit)


def _back(session, anchor: str = "", *, request=None):
    """Back to the page. Without JavaScript the browser lands on the form's section; with
    htmx the page is swapped in place and the nurse stays where she was (session.js), so no
    anchor: htmx would scroll to it."""
    url = reverse("treatment_sessions:detail", args=[session.uuid])
    if anchor and not (request is not None and request.htmx):
        url = f"{url}#{anchor}"
    return redirect(url)


def _refused(form, error: DomainError) -> None:
    """The service's refusal on the form (NotFound and PermissionDenied go to the error pages)."""
    if isinstance(error, InvalidInput):
        error = InvalidInput(
            {RENAMED_FIELDS.get(k, k): v for k, v in error.errors.items()}, error.message
        )
    apply_domain_error(form, error)


def _initial_precheck(session, portal_intention=None) -> dict:
    initial = {name: getattr(session, name) for name in state.PRECHECK_FIELDS}
    if portal_intention is not None and not session.intention.strip():
        # The patient's own words from the portal, until the session has its own.
        initial["intention"] = portal_intention.text
    return initial


def _row_forms(items, bound, key, make, used: set):
    rows = []
    for item in items:
        if (key, item.pk) in bound:
            used.add((key, item.pk))
        rows.append((item, bound[(key, item.pk)] if (key, item.pk) in bound else make(item)))
    return rows


def _context(request, session, bound: dict | None = None) -> dict:
    """The page: its view-model and each form the actor may use (a form bound with errors
    replaces the blank one)."""
    bound = bound or {}
    actor = request.user
    page: SessionPage = session_page(session, actor=actor, now=timezone.now())
    run = page.run
    open_run = run and session.is_open
    patient = session.patient
    context = {"page": page, "session": session, "patient": patient, "bound": bound}
    location = session.appointment.chair.room.location

    used: set = set()

    def form(key, make):
        if key in bound:
            used.add(key)
            return bound[key]
        return make()

    if open_run and page.is_checked_in:
        context["precheck_form"] = form(
            "precheck",
            lambda: PreCheckForm(
                prefix="pre",
                initial=_initial_precheck(session, page.portal_intention),
                route=session.route,
                flagged=page.suicidality_flagged,
                male=patient.sex == Sex.MALE,
            ),
        )
    if page.can_override and page.editable and page.is_checked_in:
        context["bp_form"] = form("bp", lambda: ReasonForm(prefix="bp"))
        context["override_form"] = form("override", lambda: ReasonForm(prefix="override"))
    if open_run and page.dosing_open:
        dose = page.dose.dose_mg
        if session.route == Route.IV and page.is_checked_in:
            context["start_form"] = form(
                "start",
                lambda: InfusionStartForm(
                    prefix="start", containers=page.containers, initial={"drawn_mg": dose}
                ),
            )
        if session.route == Route.IV and session.phase == SessionPhase.DOSING:
            # The planned dose is offered only once it can have run in; an infusion stopped
            # early is charted from the pump, never from the plan.
            given = (
                min(dose, session.infusion_drawn_mg)
                if dose is not None and page.infusion_complete
                else None
            )
            context["pause_form"] = form("pause", lambda: InfusionPauseForm(prefix="pause"))
            context["rate_form"] = form(
                "rate",
                lambda: InfusionRateForm(
                    prefix="rate", initial={"rate_ml_per_h": session.infusion_rate_ml_per_h}
                ),
            )
            context["infusion_stop_form"] = form(
                "infusion_stop",
                lambda: InfusionStopForm(
                    prefix="iv-stop",
                    actor=actor,
                    request=request,
                    location=location,
                    initial={"given_mg": given},
                ),
            )
        if session.route == Route.IM and page.is_checked_in:
            context["im_form"] = form(
                "im",
                lambda: ImInjectionForm(
                    prefix="im",
                    containers=page.containers,
                    actor=actor,
                    request=request,
                    location=location,
                    initial={"drawn_mg": dose, "given_mg": dose},
                ),
            )
        if session.route == Route.ESKETAMINE and page.devices and page.devices.next_number:
            context["device_form"] = form(
                "device", lambda: DeviceForm(prefix="device", containers=page.containers)
            )
            if session.phase == SessionPhase.DOSING:
                context["dosing_end_form"] = form(
                    "dosing_end", lambda: DosingEndForm(prefix="dosing-end")
                )
    if run:
        context["waste_rows"] = [
            (
                administration,
                outstanding,
                form(
                    ("waste", administration.pk),
                    lambda administration=administration: WasteForm(
                        prefix=f"waste-{administration.uuid}",
                        actor=actor,
                        request=request,
                        location=location,
                    ),
                ),
            )
            for administration, outstanding in page.residuals
        ]
        context["alert_rows"] = _row_forms(
            page.alerts_open,
            bound,
            "ack",
            lambda alert: AlertAcknowledgeForm(
                prefix=f"ack-{alert.uuid}",
                initial={"action": alert.recommendation or AlertAction.CONTINUE},
            ),
            used,
        )
        context["vitals_rows"] = _row_forms(
            page.vitals,
            bound,
            "vitals_error",
            lambda entry: EnteredInErrorForm(prefix=f"verr-{entry.uuid}"),
            used,
        )
        context["side_effect_rows"] = _row_forms(
            page.side_effects,
            bound,
            "record_error",
            lambda record: EnteredInErrorForm(prefix=f"rerr-{record.uuid}"),
            used,
        )
        context["adverse_event_rows"] = _row_forms(
            page.adverse_events,
            bound,
            "record_error",
            lambda record: EnteredInErrorForm(prefix=f"rerr-{record.uuid}"),
            used,
        )
    else:
        context["alert_rows"] = [(alert, None) for alert in page.alerts_open]
        context["vitals_rows"] = [(entry, None) for entry in page.vitals]
        context["side_effect_rows"] = [(record, None) for record in page.side_effects]
        context["adverse_event_rows"] = [(record, None) for record in page.adverse_events]
        context["waste_rows"] = [(a, outstanding, None) for a, outstanding in page.residuals]
    if open_run:
        context["vitals_form"] = form("vitals", lambda: VitalsForm(prefix="vitals"))
        context["score_forms"] = [
            (
                form(("score", kind), lambda kind=kind: ScoreForm(prefix=kind, kind=kind)),
                SCORE_HINTS[kind],
            )
            for kind in SessionScoreKind.values
        ]
        context["side_effect_form"] = form("side_effect", lambda: SideEffectForm(prefix="se"))
        context["stop_form"] = form("stop", lambda: ReasonForm(prefix="stop"))
    if run:
        context["adverse_event_form"] = form("adverse_event", lambda: AdverseEventForm(prefix="ae"))
    if open_run and page.in_aftercare:
        context["discharge_form"] = form(
            "discharge",
            lambda: DischargeForm(
                prefix="discharge",
                can_override=page.can_override,
                initial={"instructions_text": page.default_instructions},
            ),
        )
    if run:
        context["note_form"] = form(
            "note",
            lambda: NoteForm(
                prefix="note",
                initial={"text": session.nurse_note or note_draft_of(session, page)},
            ),
        )
    if page.can_run and session.is_signed:
        context["addendum_form"] = form("addendum", lambda: AddendumForm(prefix="addendum"))
    if page.can_integrate:
        context["integration_form"] = form(
            "integration", lambda: IntegrationNoteForm(prefix="integration")
        )
    for key, refused in bound.items():
        if key not in used:  # the form is no longer on the page (e.g. the record was signed)
            for errors in refused.errors.values():
                for error in errors:
                    messages.error(request, error)
    return context


def _page(request, session, bound: dict | None = None):
    return render(request, PAGE, _context(request, session, bound))


def _submit(request, session, *, key, form, call, done: str, anchor: str):
    """Validate, call the service, and go back to the page; or show the page with the errors."""
    if form.is_valid():
        try:
            call(form.cleaned_data)
        except (Conflict, InvalidInput) as error:
            _refused(form, error)
        else:
            messages.success(request, done)
            return _back(session, anchor, request=request)
    return _page(request, session, {key: form})


# --------------------------------------------------------------------------- the page


@staff_required
@require_GET
def detail(request, session_uuid):
    """The session page; its live header alone for the header's own refresh (htmx)."""
    live = bool(request.htmx) and request.htmx.target == "session-live"
    session = selectors.session_get(actor=request.user, session_uuid=session_uuid, audit=not live)
    if live:
        since = _since(request.GET.get("since"))
        page = session_page(session, actor=request.user, now=timezone.now(), since=since)
        return render(request, f"{PAGE}#live", {"page": page, "session": session, "since": since})
    return _page(request, session)


def _since(raw: str | None):
    """The page's first render, echoed back by the live bar's refresh; None if unreadable."""
    try:
        moment = datetime.datetime.fromisoformat(raw or "")
    except ValueError:
        return None
    # An aware moment inside the plausible era: year 1 would overflow the database adapter.
    return moment if timezone.is_aware(moment) and in_era(moment) else None


# --------------------------------------------------------------------------- pre-checks


@staff_required
@require_POST
def precheck(request, session_uuid):
    session = _session(request, session_uuid, Capability.SESSION_RUN)
    flagged = bool(unresolved_alerts_for_patient(patient=session.patient))
    form = PreCheckForm(
        request.POST,
        prefix="pre",
        route=session.route,
        flagged=flagged,
        male=session.patient.sex == Sex.MALE,
    )
    return _submit(
        request,
        session,
        key="precheck",
        form=form,
        call=lambda data: services.precheck_record(
            actor=request.user, session=session, data=form.service_data()
        ),
        done="Pre-checks saved.",
        anchor="pre-checks",
    )


# --------------------------------------------------------------------------- recovery, discharge


@staff_required
@require_POST
def recovery(request, session_uuid):
    session = _session(request, session_uuid, Capability.SESSION_RUN)
    try:
        services.recovery_start(actor=request.user, session=session)
    except (Conflict, InvalidInput) as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Recovery started.")
    return _back(session, "discharge", request=request)


@staff_required
@require_POST
def discharge(request, session_uuid):
    session = _session(request, session_uuid, Capability.SESSION_RUN)
    form = DischargeForm(
        request.POST,
        prefix="discharge",
        can_override=request.user.can(Capability.SESSION_OVERRIDE),
    )
    return _submit(
        request,
        session,
        key="discharge",
        form=form,
        call=lambda data: services.session_discharge(
            actor=request.user,
            session=session,
            escort_present=data["escort_present"],
            instructions_given=data["instructions_given"],
            instructions_text=data.get("instructions_text") or "",
            override_reason=data.get("override_reason") or "",
        ),
        done="Patient discharged.",
        anchor="discharge",
    )


# --------------------------------------------------------------------------- notes, signature


@staff_required
@require_POST
def sign(request, session_uuid):
    session = _session(request, session_uuid, Capability.SESSION_SIGN)
    try:
        services.session_sign(actor=request.user, session=session)
    except (Conflict, InvalidInput) as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Session record signed and locked.")
    return _back(session, "notes", request=request)


# --------------------------------------------------------------------------- one-field actions


def _one_field_action(*, capability, key, prefix, form, service, argument, done, anchor):
    """A POST whose form's one field is handed to a session service as `argument`."""

    @staff_required
    @require_POST
    def view(request, session_uuid):
        session = _session(request, session_uuid, capability)
        return _submit(
            request,
            session,
            key=key,
            form=form(request.POST, prefix=prefix),
            call=lambda data: service(
                actor=request.user, session=session, **{argument: data[argument]}
            ),
            done=done,
            anchor=anchor,
        )

    return view


bp_confirm = _one_field_action(
    capability=Capability.SESSION_OVERRIDE,
    key="bp",
    prefix="bp",
    form=ReasonForm,
    service=services.pre_dose_bp_confirm,
    argument="reason",
    done="Pre-dose blood pressure confirmed.",
    anchor="pre-checks",
)
override = _one_field_action(
    capability=Capability.SESSION_OVERRIDE,
    key="override",
    prefix="override",
    form=ReasonForm,
    service=services.precheck_override,
    argument="reason",
    done="Pre-checks overridden: dosing may start.",
    anchor="pre-checks",
)
stop = _one_field_action(
    capability=Capability.SESSION_RUN,
    key="stop",
    prefix="stop",
    form=ReasonForm,
    service=services.session_stop,
    argument="reason",
    done="Session stopped.",
    anchor="notes",
)
note = _one_field_action(
    capability=Capability.SESSION_RUN,
    key="note",
    prefix="note",
    form=NoteForm,
    service=services.nurse_note_save,
    argument="text",
    done="Session note saved.",
    anchor="notes",
)
addendum = _one_field_action(
    capability=Capability.SESSION_RUN,
    key="addendum",
    prefix="addendum",
    form=AddendumForm,
    service=services.session_addendum_add,
    argument="text",
    done="Addendum added.",
    anchor="notes",
)
integration_note = _one_field_action(
    capability=Capability.SESSION_INTEGRATION_NOTE,
    key="integration",
    prefix="integration",
    form=IntegrationNoteForm,
    service=services.integration_note_add,
    argument="text",
    done="Integration note added.",
    anchor="integration",
)
