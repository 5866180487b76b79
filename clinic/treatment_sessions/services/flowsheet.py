"""The monitoring flowsheet: vital signs and the alerts they raise, the session's scores
(MOAA/S, CADSS, modified Aldrete), side effects and adverse events, and their correction as
entered in error.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import cast

from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.assessments.choices import Timepoint
from clinic.assessments.services import response_record
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, InvalidInput
from clinic.core.parsing import clean_text, event_moment
from clinic.core.records import mark_entered_in_error, required_text
from clinic.screening.choices import Route
from clinic.treatment_sessions import prescriber_requests, rules
from clinic.treatment_sessions.choices import (
    OPEN_PHASES,
    AdverseEventOutcome,
    AlertAction,
    InfusionEventKind,
    Seriousness,
    SessionPhase,
    SessionScoreKind,
    Severity,
    SideEffectKind,
)
from clinic.treatment_sessions.models import (
    AdverseEvent,
    SessionAlert,
    SessionScore,
    SideEffect,
    TreatmentSession,
    VitalsEntry,
)
from clinic.treatment_sessions.services._common import (
    ALL_PHASES,
    Precondition,
    _choice,
    _locked,
    _now,
)
from clinic.treatment_sessions.services.infusion import _infusion_event
from clinic.treatment_sessions.state import (
    VITALS_FIELDS,
    bp_confirmation_reasons,
    infusion_running,
    policy_of,
    valid_vitals,
    vitals_reading,
)


@transaction.atomic
def vitals_record(
    *,
    actor: User,
    session: TreatmentSession,
    taken_at: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
    **values: Decimal | int | str | None,
) -> tuple[VitalsEntry, list[SessionAlert]]:
    """One set of vital signs. Implausible values are refused as entry errors naming the field;
    values outside the clinic's limits raise alerts that stay open until acknowledged."""
    now = _now(now)
    locked = _locked(
        actor,
        session,
        Capability.SESSION_RUN,
        phases=OPEN_PHASES,
    )
    unknown = sorted(set(values) - set(VITALS_FIELDS))
    if unknown:
        raise InvalidInput({unknown[0]: ["Not a vital sign."]})
    taken_at = event_moment("taken_at", taken_at, now=now, not_before=locked.checked_in_at)
    cleaned = {k: (None if values.get(k) in ("", None) else values.get(k)) for k in VITALS_FIELDS}
    if all(v is None for v in cleaned.values()):
        raise InvalidInput({"systolic_mmhg": ["Enter at least one vital sign."]})
    policy = policy_of(locked)
    numbers: dict[str, Decimal | None] = {}
    for field, value in cleaned.items():
        try:
            numbers[field] = None if value is None else Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            raise InvalidInput({field: ["Enter a number."]}) from None
    reading = rules.VitalsReading(taken_at=taken_at, **numbers)
    problems = rules.check_vitals_plausible(reading, policy)
    if problems:
        errors: dict[str, list[str]] = {}
        for problem in problems:
            errors.setdefault(problem.field, []).append(problem.message)
        raise InvalidInput(errors)
    for field in VITALS_FIELDS[:-1]:
        value = cleaned[field]
        if value is not None and Decimal(str(value)) != Decimal(str(value)).to_integral_value():
            raise InvalidInput({field: ["Enter a whole number."]})
    previous = [vitals_reading(v) for v in valid_vitals(locked) if v.taken_at < taken_at]
    found = rules.vitals_alerts(reading, previous, policy)
    entry = VitalsEntry.objects.create(
        session=locked,
        taken_at=taken_at,
        phase=locked.phase,
        recorded_by=actor,
        **{
            k: (int(Decimal(str(v))) if v is not None and k != "temperature_c" else v)
            for k, v in cleaned.items()
        },
    )
    alerts = [
        SessionAlert.objects.create(
            session=locked,
            vitals=entry,
            code=alert.code,
            severity=alert.severity,
            message=alert.message,
            recommendation=alert.recommendation or "",
            source=alert.source,
        )
        for alert in found
    ]
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="session_vitals",
        object_id=entry.uuid,
        patient=locked.patient,
        summary="Vitals recorded" + (f" with {len(alerts)} alert(s)" if alerts else ""),
        changes={k: v for k, v in cleaned.items() if v is not None},
    )
    if locked.phase == SessionPhase.CHECKED_IN and entry.has_bp:
        # A high pre-dose BP asks a prescriber at once: dosing waits for the confirmation.
        prescriber_requests.bp_request_sync(
            actor=actor, session=locked, reasons=bp_confirmation_reasons(locked), now=now
        )
    return entry, alerts


def _mark_in_error[RecordT: VitalsEntry | SideEffect | AdverseEvent](
    actor: User,
    record: RecordT,
    reason: str,
    *,
    object_type: str,
    what: str,
    precondition: Precondition | None = None,
) -> RecordT:
    locked_session = _locked(
        actor, record.session, Capability.SESSION_RUN, phases=ALL_PHASES, precondition=precondition
    )
    reason = required_text("reason", reason, f"Say why the {what} is wrong.")
    # The same model as `record`: the manager of its own class.
    row = cast(RecordT, type(record).objects.select_for_update().get(pk=record.pk))
    if mark_entered_in_error(row, actor=actor, reason=reason):
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type=object_type,
            object_id=row.uuid,
            patient=locked_session.patient,
            summary=f"{what.capitalize()} marked entered in error: {reason}",
        )
    return row


@transaction.atomic
def vitals_mark_entered_in_error(
    *,
    actor: User,
    vitals: VitalsEntry,
    reason: str,
    precondition: Precondition | None = None,
) -> VitalsEntry:
    """A wrong reading stays on the flowsheet, struck through. Its alerts stay until
    acknowledged (the acknowledgement can say the reading was wrong)."""
    row = _mark_in_error(
        actor,
        vitals,
        reason,
        object_type="session_vitals",
        what="reading",
        precondition=precondition,
    )
    session = TreatmentSession.objects.get(pk=row.session_id)
    if session.phase == SessionPhase.CHECKED_IN:
        prescriber_requests.bp_request_sync(
            actor=actor,
            session=session,
            reasons=bp_confirmation_reasons(session),
            now=timezone.now(),
        )
    return row


@transaction.atomic
def session_alert_acknowledge(
    *,
    actor: User,
    alert: SessionAlert,
    action: str,
    note: str = "",
    now: datetime.datetime | None = None,
    precondition: Precondition | None = None,
) -> SessionAlert:
    """Acknowledge an alert with what was done. "Pause" also pauses a running infusion."""
    now = _now(now)
    locked_session = _locked(
        actor, alert.session, Capability.SESSION_RUN, phases=ALL_PHASES, precondition=precondition
    )
    locked = SessionAlert.objects.select_for_update().get(pk=alert.pk)
    if locked.acknowledged_at is not None:
        raise Conflict("This alert is acknowledged already.", code="already_acknowledged")
    action = _choice("action", action, AlertAction)
    note = clean_text("note", note, max_length=500)
    if action in (AlertAction.INTERVENTION, AlertAction.STOP) and not note:
        raise InvalidInput({"note": ["Say what was done."]})
    locked.acknowledged_at = now
    locked.acknowledged_by = actor
    locked.action = action
    locked.action_note = note
    locked.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="session_alert",
        object_id=locked.uuid,
        patient=locked_session.patient,
        summary=f"Alert acknowledged ({AlertAction(action).label}): {locked.message}"[:300],
        changes={"action": action, "note": note},
    )
    if (
        action == AlertAction.PAUSE
        and locked_session.route == Route.IV
        and locked_session.phase == SessionPhase.DOSING
        and infusion_running(locked_session)
    ):
        last = locked_session.infusion_events.last()
        assert last is not None  # a running infusion has its start event
        _infusion_event(
            actor,
            locked_session,
            InfusionEventKind.PAUSE,
            max(now, last.occurred_at),
            reason=f"Alert: {locked.message}"[:300],
        )
    return locked


@transaction.atomic
def session_score_record(
    *,
    actor: User,
    session: TreatmentSession,
    kind: str,
    answers: list,
    taken_at: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
    precondition: Precondition | None = None,
) -> SessionScore:
    """MOAA/S, CADSS or modified Aldrete, stored as an assessment response of the patient."""
    now = _now(now)
    locked = _locked(
        actor, session, Capability.SESSION_RUN, phases=OPEN_PHASES, precondition=precondition
    )
    kind = _choice("kind", kind, SessionScoreKind)
    taken_at = event_moment("taken_at", taken_at, now=now, not_before=locked.checked_in_at)
    response = response_record(
        actor=actor,
        patient=locked.patient,
        instrument_code=kind,
        answers=answers,
        timepoint=Timepoint.UNSCHEDULED,
        taken_at=taken_at,
    )
    return SessionScore.objects.create(session=locked, kind=kind, response=response)


@transaction.atomic
def side_effect_record(
    *,
    actor: User,
    session: TreatmentSession,
    kind: str,
    severity: str,
    other_text: str = "",
    intervention: str = "",
    noticed_at: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
    precondition: Precondition | None = None,
) -> SideEffect:
    now = _now(now)
    locked = _locked(
        actor, session, Capability.SESSION_RUN, phases=OPEN_PHASES, precondition=precondition
    )
    kind = _choice("kind", kind, SideEffectKind)
    severity = _choice("severity", severity, Severity)
    other_text = clean_text("other_text", other_text, max_length=200)
    if kind == SideEffectKind.OTHER and not other_text:
        raise InvalidInput({"other_text": ["Describe the side effect."]})
    effect = SideEffect.objects.create(
        session=locked,
        kind=kind,
        other_text=other_text if kind == SideEffectKind.OTHER else "",
        severity=severity,
        intervention=clean_text("intervention", intervention, max_length=300),
        noticed_at=event_moment("noticed_at", noticed_at, now=now, not_before=locked.checked_in_at),
        recorded_by=actor,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="session_side_effect",
        object_id=effect.uuid,
        patient=locked.patient,
        summary=f"Side effect: {effect.label} ({effect.get_severity_display().lower()})",
        changes={"intervention": effect.intervention},
    )
    return effect


@transaction.atomic
def adverse_event_record(
    *,
    actor: User,
    session: TreatmentSession,
    description: str,
    seriousness: str,
    outcome: str,
    action_taken: str = "",
    onset_at: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
    precondition: Precondition | None = None,
) -> AdverseEvent:
    now = _now(now)
    locked = _locked(
        actor, session, Capability.SESSION_RUN, phases=ALL_PHASES, precondition=precondition
    )
    event = AdverseEvent.objects.create(
        session=locked,
        description=required_text("description", description, "Describe the event."),
        seriousness=_choice("seriousness", seriousness, Seriousness),
        outcome=_choice("outcome", outcome, AdverseEventOutcome),
        action_taken=clean_text("action_taken", action_taken, max_length=500),
        onset_at=event_moment("onset_at", onset_at, now=now, not_before=locked.checked_in_at),
        recorded_by=actor,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="session_adverse_event",
        object_id=event.uuid,
        patient=locked.patient,
        summary=f"Adverse event ({event.get_seriousness_display().lower()})",
    )
    return event


@transaction.atomic
def session_record_mark_entered_in_error(
    *,
    actor: User,
    record: SideEffect | AdverseEvent,
    reason: str,
    precondition: Precondition | None = None,
) -> SideEffect | AdverseEvent:
    """A side effect or adverse event entered by mistake (stays visible, struck through)."""
    if not isinstance(record, SideEffect | AdverseEvent):
        raise InvalidInput({"record": ["Only side effects and adverse events."]})
    return _mark_in_error(
        actor,
        record,
        reason,
        object_type=f"session_{type(record).__name__.lower()}",
        what="entry",
        precondition=precondition,
    )
