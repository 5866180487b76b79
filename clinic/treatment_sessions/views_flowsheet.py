"""The monitoring flowsheet at the chair: vital signs and their correction, alert
acknowledgements, scores, side effects and adverse events. Glue only, as in views.py, whose
page these forms post back to.
"""

from __future__ import annotations

from django.contrib import messages
from django.views.decorators.http import require_POST

from clinic.accounts.permissions import Capability
from clinic.core.access import staff_required
from clinic.core.exceptions import Conflict, InvalidInput, NotFound
from clinic.treatment_sessions import services
from clinic.treatment_sessions.choices import SessionScoreKind
from clinic.treatment_sessions.forms import (
    AdverseEventForm,
    AlertAcknowledgeForm,
    EnteredInErrorForm,
    ScoreForm,
    SideEffectForm,
    VitalsForm,
    today_at,
)
from clinic.treatment_sessions.views import _back, _page, _refused, _session, _submit

RECORD_KINDS = {"side-effect": "side_effects", "adverse-event": "adverse_events"}


@staff_required
@require_POST
def vitals(request, session_uuid):
    session = _session(request, session_uuid, Capability.SESSION_RUN)
    form = VitalsForm(request.POST, prefix="vitals")
    if form.is_valid():
        try:
            _entry, alerts = services.vitals_record(
                actor=request.user,
                session=session,
                taken_at=today_at(form.cleaned_data["taken_at"]),
                **form.values(),
            )
        except (Conflict, InvalidInput) as error:
            _refused(form, error)
        else:
            if alerts:
                # The alert itself is on the page; no clinical values in the message (it may
                # travel in a cookie).
                count = len(alerts)
                messages.warning(
                    request,
                    f"Vitals recorded with {count} alert{'s' if count > 1 else ''}: "
                    "acknowledge with an action.",
                )
                return _back(session, "alerts", request=request)
            messages.success(request, "Vitals recorded.")
            return _back(session, "flowsheet", request=request)
    return _page(request, session, {"vitals": form})


def _in_session(items, key):
    found = next((item for item in items if item.uuid == key), None)
    if found is None:
        raise NotFound("No such record in this session.")
    return found


@staff_required
@require_POST
def vitals_error(request, session_uuid, vitals_uuid):
    session = _session(request, session_uuid, Capability.SESSION_RUN)
    entry = _in_session(session.vitals.all(), vitals_uuid)
    return _submit(
        request,
        session,
        key=("vitals_error", entry.pk),
        form=EnteredInErrorForm(request.POST, prefix=f"verr-{entry.uuid}"),
        call=lambda data: services.vitals_mark_entered_in_error(
            actor=request.user, vitals=entry, reason=data["reason"]
        ),
        done="Reading marked entered in error.",
        anchor="flowsheet",
    )


@staff_required
@require_POST
def alert_acknowledge(request, session_uuid, alert_uuid):
    session = _session(request, session_uuid, Capability.SESSION_RUN)
    alert = _in_session(session.alerts.all(), alert_uuid)
    return _submit(
        request,
        session,
        key=("ack", alert.pk),
        form=AlertAcknowledgeForm(request.POST, prefix=f"ack-{alert.uuid}"),
        call=lambda data: services.session_alert_acknowledge(
            actor=request.user, alert=alert, action=data["action"], note=data.get("note") or ""
        ),
        done="Alert acknowledged.",
        anchor="alerts",
    )


@staff_required
@require_POST
def score(request, session_uuid):
    session = _session(request, session_uuid, Capability.SESSION_RUN)
    kind = request.POST.get("kind", "")
    if kind not in SessionScoreKind.values:
        messages.error(request, "Choose MOAA/S, CADSS or modified Aldrete.")
        return _back(session, "scores", request=request)
    form = ScoreForm(request.POST, prefix=kind, kind=kind)
    return _submit(
        request,
        session,
        key=("score", kind),
        form=form,
        call=lambda data: services.session_score_record(
            actor=request.user,
            session=session,
            kind=kind,
            answers=form.answers(),
            taken_at=today_at(data.get("taken_at")),
        ),
        done=f"{SessionScoreKind(kind).label} recorded.",
        anchor="scores",
    )


@staff_required
@require_POST
def side_effect(request, session_uuid):
    session = _session(request, session_uuid, Capability.SESSION_RUN)
    return _submit(
        request,
        session,
        key="side_effect",
        form=SideEffectForm(request.POST, prefix="se"),
        call=lambda data: services.side_effect_record(
            actor=request.user,
            session=session,
            kind=data["kind"],
            severity=data["severity"],
            other_text=data.get("other_text") or "",
            intervention=data.get("intervention") or "",
            noticed_at=today_at(data.get("noticed_at")),
        ),
        done="Side effect recorded.",
        anchor="side-effects",
    )


@staff_required
@require_POST
def adverse_event(request, session_uuid):
    session = _session(request, session_uuid, Capability.SESSION_RUN)
    return _submit(
        request,
        session,
        key="adverse_event",
        form=AdverseEventForm(request.POST, prefix="ae"),
        call=lambda data: services.adverse_event_record(
            actor=request.user,
            session=session,
            description=data["description"],
            seriousness=data["seriousness"],
            outcome=data["outcome"],
            action_taken=data.get("action_taken") or "",
            onset_at=today_at(data.get("onset_at")),
        ),
        done="Adverse event recorded.",
        anchor="side-effects",
    )


@staff_required
@require_POST
def record_error(request, session_uuid, kind, record_uuid):
    if kind not in RECORD_KINDS:
        raise NotFound()
    session = _session(request, session_uuid, Capability.SESSION_RUN)
    record = _in_session(getattr(session, RECORD_KINDS[kind]).all(), record_uuid)
    return _submit(
        request,
        session,
        key=("record_error", record.pk),
        form=EnteredInErrorForm(request.POST, prefix=f"rerr-{record.uuid}"),
        call=lambda data: services.session_record_mark_entered_in_error(
            actor=request.user, record=record, reason=data["reason"]
        ),
        done="Marked entered in error.",
        anchor="side-effects",
    )
