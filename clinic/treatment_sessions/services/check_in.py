"""Check-in (identity, the chair's nurse, the appointment checked in) and the pre-checks
before dosing, with the prescriber's decisions on them (pre-dose BP confirmation, override).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from clinic.accounts.choices import Role
from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.audit import diff, snapshot
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, InvalidInput, NotFound
from clinic.core.parsing import clean_text, event_moment
from clinic.core.records import required_text
from clinic.locations.selectors import require_works_at, working_at
from clinic.patients.choices import Sex
from clinic.patients.models import Patient
from clinic.patients.services import body_measurement_record
from clinic.scheduling.choices import IN_CLINIC_ROUTES, AppointmentStatus
from clinic.scheduling.models import Appointment
from clinic.scheduling.services import (
    appointment_lock_for_check_in,
    appointment_status_from_chair,
)
from clinic.treatment_sessions import prescriber_requests, rules
from clinic.treatment_sessions.choices import (
    IDENTIFIERS_AT_CHECK_IN,
    Lighting,
    OverrideKind,
    PregnancyTest,
    PrescriberRequestKind,
    PrescriberRequestStatus,
    QuestionnaireStatus,
    SessionPhase,
)
from clinic.treatment_sessions.models import (
    SessionOverride,
    TreatmentSession,
)
from clinic.treatment_sessions.policy import (
    policy_as_json,
    session_policy,
)
from clinic.treatment_sessions.services._common import (
    _PRE_DOSE_KINDS,
    Precondition,
    _audit,
    _choice,
    _locked,
    _now,
    _visible,
)
from clinic.treatment_sessions.state import (
    PRECHECK_FIELDS,
    policy_of,
    pre_dose_vitals,
    precheck_status,
    vitals_reading,
)


@dataclass(frozen=True)
class IdentityCheck:
    """What the patient said at check-in, for the service to match against the record: their
    full name (the nurse confirms it matches) and their date of birth as they state it."""

    full_name_confirmed: bool
    stated_date_of_birth: datetime.date | None


def _check_identity(patient: Patient, identity: IdentityCheck) -> None:
    errors: dict[str, list[str]] = {}
    if not identity.full_name_confirmed:
        errors["full_name_confirmed"] = [
            "Ask the patient to say their full name, and confirm it matches."
        ]
    if identity.stated_date_of_birth is None:
        errors["stated_date_of_birth"] = ["Ask the patient for their date of birth."]
    elif identity.stated_date_of_birth != patient.date_of_birth:
        errors["stated_date_of_birth"] = [
            "This is not the date of birth on record for this appointment's patient: check "
            "you have the right person and the right appointment before going on."
        ]
    if errors:
        raise InvalidInput(errors)


def _nurse_for_the_chair(actor: User, appointment: Appointment, nurse: User | None) -> User:
    """The nurse who runs the chair today: the one chosen, else the booked nurse. A nurse on the
    patient's care team who works at the chair's location (they must be able to chart on it)."""
    nurse = nurse if nurse is not None else appointment.nurse
    if (
        nurse is None
        or not nurse.is_active
        or nurse.role != Role.NURSE
        or not _visible(nurse, appointment.patient_id)
    ):
        raise InvalidInput(
            {"assigned_nurse": ["Choose a nurse on the patient's care team to run the chair."]}
        )
    location = appointment.chair.room.location
    if not working_at(User.objects.filter(pk=nurse.pk), location).exists():
        raise InvalidInput(
            {"assigned_nurse": [f"{nurse.display_name} does not work at {location.name}."]}
        )
    return nurse


@transaction.atomic
def session_check_in(
    *,
    actor: User,
    appointment: Appointment,
    identity: IdentityCheck,
    assigned_nurse: User | None = None,
    now: datetime.datetime | None = None,
) -> TreatmentSession:
    """Start the session of today's booked appointment once the patient's two identifiers
    match the record; the appointment becomes checked in. `assigned_nurse` runs the chair (the
    booked nurse when not given)."""
    require(actor, Capability.SESSION_RUN)
    now = _now(now)
    locked = appointment_lock_for_check_in(appointment_id=appointment.pk)
    if locked is None or not _visible(actor, locked.patient_id):
        raise NotFound("No such appointment, or the patient is not on your care team.")
    require_works_at(actor, locked.chair.room.location)
    if TreatmentSession.objects.filter(appointment=locked).exists():
        raise Conflict("This appointment is checked in already.", code="already_checked_in")
    if locked.status != AppointmentStatus.BOOKED:
        raise Conflict(
            f"The appointment is {locked.get_status_display().lower()}: only a booked "
            "appointment can be checked in.",
            code="appointment_not_booked",
        )
    if locked.route not in IN_CLINIC_ROUTES:
        raise Conflict("Only IV, IM and esketamine sessions run in the clinic.", code="route")
    if timezone.localdate(locked.starts_at) != timezone.localdate(now):
        raise Conflict(
            f"This appointment is on {timezone.localtime(locked.starts_at):%m/%d/%Y}: patients "
            "are checked in on the day.",
            code="not_today",
        )
    _check_identity(locked.patient, identity)
    nurse = _nurse_for_the_chair(actor, locked, assigned_nurse)
    session = TreatmentSession.objects.create(
        appointment=locked,
        patient=locked.patient,
        route=locked.route,
        planned_session=locked.planned_session,
        policy_values=policy_as_json(session_policy()),
        checked_in_at=now,
        checked_in_by=actor,
        identity_confirmed_with=list(IDENTIFIERS_AT_CHECK_IN),
        assigned_nurse=nurse,
    )
    _audit(
        actor,
        session,
        f"Checked in: identity confirmed by full name and date of birth; the chair's nurse is "
        f"{nurse.display_name}",
        {"phase": session.phase},
        action=AuditAction.CREATE,
    )
    appointment_status_from_chair(
        actor=actor, appointment_id=session.appointment_id, status=AppointmentStatus.CHECKED_IN
    )
    return session


@transaction.atomic
def precheck_record(
    *,
    actor: User,
    session: TreatmentSession,
    data: dict[str, Any],
    now: datetime.datetime | None = None,
    precondition: Precondition | None = None,
) -> TreatmentSession:
    """Record any of the pre-check answers (`PRECHECK_FIELDS`); keys not given stay as they
    are. Only before dosing starts. Today's weight is also recorded in the chart."""
    now = _now(now)
    locked = _locked(
        actor,
        session,
        Capability.SESSION_RUN,
        phases=(SessionPhase.CHECKED_IN,),
        precondition=precondition,
    )
    unknown = sorted(set(data) - set(PRECHECK_FIELDS))
    if unknown:
        raise InvalidInput({unknown[0]: ["Not a pre-check."]})
    before = snapshot(locked, PRECHECK_FIELDS)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for field in ("last_food_at", "last_liquid_at"):
        if field in data:
            value = data[field]
            if value is not None:
                try:
                    value = event_moment(field, value, now=now)
                except InvalidInput as error:
                    errors.update(error.errors)
            values[field] = value
    for field, length in (
        ("escort_name", 120),
        ("escort_phone", 40),
        ("questionnaires_skip_reason", 300),
        ("suicidality_follow_up", 2000),
        ("intention", 2000),
        ("setting_music_choice", 200),
    ):
        if field in data:
            try:
                values[field] = clean_text(field, data[field], max_length=length)
            except InvalidInput as error:
                errors.update(error.errors)
    for field in ("escort_confirmed", "setting_eye_mask", "setting_headphones_music"):
        if field in data:
            values[field] = bool(data[field])
    for field, choices in (
        ("pregnancy_test", PregnancyTest),
        ("questionnaires", QuestionnaireStatus),
        ("setting_lighting", Lighting),
    ):
        if field in data:
            try:
                values[field] = _choice(field, data[field], choices, required=False)
            except InvalidInput as error:
                errors.update(error.errors)
    merged = {**before, **values}
    if merged["escort_confirmed"] and not merged["escort_name"]:
        errors.setdefault("escort_name", ["Name the escort taking the patient home."])
    if (
        merged["questionnaires"] == QuestionnaireStatus.SKIPPED
        and not merged["questionnaires_skip_reason"]
    ):
        errors.setdefault(
            "questionnaires_skip_reason", ["Say why the questionnaires were skipped."]
        )
    if (
        merged["pregnancy_test"] not in ("", PregnancyTest.NOT_APPLICABLE)
        and locked.patient.sex == Sex.MALE
    ):
        errors.setdefault("pregnancy_test", ["The patient's sex is recorded as male."])
    if errors:
        raise InvalidInput(errors)
    if "weight_today_kg" in data and data["weight_today_kg"] not in (None, ""):
        try:
            measurement = body_measurement_record(
                actor=actor,
                patient=locked.patient,
                measured_on=timezone.localdate(now),
                weight_kg=data["weight_today_kg"],
            )
        except InvalidInput as error:
            # The chart names it weight_kg; here it is today's weight.
            raise InvalidInput(
                {
                    ("weight_today_kg" if field == "weight_kg" else field): messages
                    for field, messages in error.errors.items()
                }
            ) from error
        values["weight_today_kg"] = measurement.weight_kg
    for field, value in values.items():
        setattr(locked, field, value)
    locked.save()
    changes = diff(before, snapshot(locked, PRECHECK_FIELDS))
    if changes:
        _audit(actor, locked, "Pre-checks recorded", changes)
    return locked


@transaction.atomic
def pre_dose_bp_confirm(
    *,
    actor: User,
    session: TreatmentSession,
    reason: str,
    precondition: Precondition | None = None,
) -> SessionOverride:
    """The prescriber confirms dosing despite a pre-dose BP over the policy limit."""
    locked = _locked(
        actor,
        session,
        Capability.SESSION_OVERRIDE,
        phases=(SessionPhase.CHECKED_IN,),
        precondition=precondition,
    )
    reason = required_text("reason", reason, "Say why dosing may go ahead.")
    reading = pre_dose_vitals(locked)
    if reading is None:
        raise Conflict("Take a pre-dose blood pressure first.", code="no_pre_dose_bp")
    result = rules.pre_dose_check(vitals_reading(reading), policy_of(locked))
    if not result.needs_prescriber_confirmation:
        raise Conflict("This blood pressure needs no confirmation.", code="not_needed")
    override = SessionOverride.objects.create(
        session=locked,
        kind=OverrideKind.PRE_DOSE_BP,
        prescriber=actor,
        reason=reason[:500],
        unmet=[{"key": str(reading.uuid), "messages": [f.message for f in result.reasons]}],
    )
    _audit(actor, locked, f"Pre-dose BP {reading.bp_text} confirmed: {reason}")
    prescriber_requests.requests_close(
        session=locked,
        kinds=[PrescriberRequestKind.PRE_DOSE_BP],
        status=PrescriberRequestStatus.ANSWERED,
        actor=actor,
        note=reason,
        override=override,
        now=timezone.now(),
    )
    return override


@transaction.atomic
def precheck_override(
    *,
    actor: User,
    session: TreatmentSession,
    reason: str,
    now: datetime.datetime | None = None,
    precondition: Precondition | None = None,
) -> SessionOverride:
    """A prescriber lets dosing start although some pre-checks are unmet (kept with the reason)."""
    locked = _locked(
        actor,
        session,
        Capability.SESSION_OVERRIDE,
        phases=(SessionPhase.CHECKED_IN,),
        precondition=precondition,
    )
    reason = required_text("reason", reason, "Say why dosing may go ahead.")
    status = precheck_status(locked, now)
    if status.passed:
        raise Conflict("Every pre-check has passed: nothing to override.", code="not_needed")
    override = SessionOverride.objects.create(
        session=locked,
        kind=OverrideKind.PRE_CHECKS,
        prescriber=actor,
        reason=reason[:500],
        unmet=[{"key": i.key, "messages": list(i.messages)} for i in status.unmet],
    )
    _audit(
        actor,
        locked,
        f"Pre-checks overridden ({', '.join(i.label for i in status.unmet)}): {reason}",
    )
    # The override covers an unconfirmed pre-dose BP among the unmet checks as well.
    prescriber_requests.requests_close(
        session=locked,
        kinds=_PRE_DOSE_KINDS,
        status=PrescriberRequestStatus.ANSWERED,
        actor=actor,
        note=reason,
        override=override,
        now=_now(now),
    )
    return override
