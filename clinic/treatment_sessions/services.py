"""Writes of the chair-side session: check-in, pre-checks, dosing through the ledger, the vitals
flowsheet and its alerts, scores, side effects, discharge, notes, signature and the esketamine
REMS monitoring form.

Every service is keyword-only with `actor` first, atomic, checks the role and the care team,
locks the session row, and writes an AuditEvent. The clinical rules are those of `rules.py`
(pure), under the policy the session recorded at check-in.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from clinic.accounts.permissions import Capability
from clinic.assessments.choices import Timepoint
from clinic.assessments.models import AssessmentResponse
from clinic.assessments.services import response_record
from clinic.controlled_substances.choices import ProductKind
from clinic.controlled_substances.models import Container, LedgerEntry
from clinic.controlled_substances.services import (
    administration_record,
    residual_outstanding_mg,
    waste_record,
)
from clinic.core.access import require
from clinic.core.audit import audit_record, diff, snapshot
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, InvalidInput, NotFound
from clinic.core.records import mark_entered_in_error, required_text
from clinic.core.text import CONTROL_CHARACTER_MESSAGE, has_control_characters
from clinic.patients.models import Patient
from clinic.patients.services import body_measurement_record
from clinic.protocols.dosing import DosingError, esketamine_dose, im_dose, iv_dose
from clinic.protocols.policy import dosing_policy
from clinic.scheduling.choices import IN_CLINIC_ROUTES, AppointmentStatus
from clinic.scheduling.models import Appointment
from clinic.treatment_sessions import prescriber_requests, rules
from clinic.treatment_sessions.choices import (
    IDENTIFIERS_AT_CHECK_IN,
    OPEN_PHASES,
    AdministrationKind,
    AdverseEventOutcome,
    AlertAction,
    ImSite,
    InfusionEventKind,
    Lighting,
    OverrideKind,
    PregnancyTest,
    PrescriberRequestKind,
    PrescriberRequestStatus,
    QuestionnaireStatus,
    Seriousness,
    SessionPhase,
    SessionScoreKind,
    Severity,
    SideEffectKind,
)
from clinic.treatment_sessions.models import (
    AdverseEvent,
    DoseAdministration,
    InfusionEvent,
    IntegrationNote,
    SessionAddendum,
    SessionAlert,
    SessionOverride,
    SessionScore,
    SideEffect,
    TreatmentSession,
    VitalsEntry,
)
from clinic.treatment_sessions.policy import (
    policy_as_json,
    policy_from_json,
    rems_setting_id,
    session_policy,
)

ALL_PHASES = tuple(SessionPhase.values)
# A time entered at the chair may run a little ahead of the server's clock (a tablet's clock).
CLOCK_SKEW = datetime.timedelta(minutes=5)
MG_PER_ESKETAMINE_DEVICE = Decimal(28)


# --------------------------------------------------------------------------- helpers


def _now(now: datetime.datetime | None) -> datetime.datetime:
    return now or timezone.now()


def policy_of(session: TreatmentSession) -> rules.SessionPolicy:
    return policy_from_json(session.policy_values)


def _visible(actor, patient_id: int) -> bool:
    return Patient.objects.visible_to(actor).filter(pk=patient_id).exists()


def _locked(
    actor,
    session: TreatmentSession,
    capability: str,
    *,
    phases: tuple[str, ...] | None = None,
    signed_ok: bool = False,
) -> TreatmentSession:
    """The session row, locked, after the role, care-team, signature and phase checks."""
    require(actor, capability)
    locked = (
        TreatmentSession.objects.select_for_update(of=("self",))
        .select_related("patient", "appointment", "planned_session__plan")
        .filter(pk=session.pk)
        .first()
    )
    if locked is None or not _visible(actor, locked.patient_id):
        raise NotFound("No such session, or the patient is not on your care team.")
    if locked.is_signed and not signed_ok:
        raise Conflict(
            "This session record is signed and locked: add an addendum instead.",
            code="session_signed",
        )
    if phases is not None and locked.phase not in phases:
        wanted = ", ".join(SessionPhase(p).label.lower() for p in phases)
        raise Conflict(
            f"The session is {locked.get_phase_display().lower()}; this needs it {wanted}.",
            code="wrong_phase",
        )
    return locked


def _moment(field: str, value, now: datetime.datetime, *, not_before=None) -> datetime.datetime:
    if value is None:
        return now
    if not isinstance(value, datetime.datetime) or timezone.is_naive(value):
        raise InvalidInput({field: ["Enter a date and time."]})
    if value > now + CLOCK_SKEW:
        raise InvalidInput({field: ["This time is in the future."]})
    if not_before is not None and value < not_before:
        raise InvalidInput(
            {field: [f"This time is before {timezone.localtime(not_before):%H:%M}."]}
        )
    return value


def _text(field: str, value: str | None, *, max_length: int) -> str:
    text = (value or "").strip()
    if has_control_characters(text):
        raise InvalidInput({field: [CONTROL_CHARACTER_MESSAGE]})
    if len(text) > max_length:
        raise InvalidInput({field: [f"Keep this to {max_length} characters."]})
    return text


def _choice(field: str, value: str | None, choices, *, required: bool = True) -> str:
    value = value or ""
    if not value and not required:
        return ""
    if value not in choices.values:
        raise InvalidInput({field: ["Choose one of the options."]})
    return value


def _audit(actor, session: TreatmentSession, summary: str, changes=None, *, action=None):
    audit_record(
        actor=actor,
        action=action or AuditAction.UPDATE,
        object_type="treatment_session",
        object_id=session.uuid,
        patient=session.patient,
        summary=summary,
        changes=changes or {},
    )


def _session_ref(session: TreatmentSession) -> str:
    return str(session.uuid)


def _mg(value: Decimal | None) -> str:
    return "—" if value is None else f"{Decimal(value).normalize():f} mg"


# --------------------------------------------------------------------------- check-in


def _set_appointment_status(actor, session: TreatmentSession, status: str) -> None:
    appointment = Appointment.objects.select_for_update(of=("self",)).get(pk=session.appointment_id)
    before = snapshot(appointment, ["status"])
    appointment.status = status
    appointment.status_changed_at = timezone.now()
    appointment.status_changed_by = actor
    appointment.save(
        update_fields=["status", "status_changed_at", "status_changed_by", "updated_at"]
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="appointment",
        object_id=appointment.uuid,
        patient=session.patient,
        summary=AppointmentStatus(status).label,
        changes=diff(before, snapshot(appointment, ["status"])),
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


def _nurse_for_the_chair(actor, appointment: Appointment, nurse) -> Any:
    """The nurse who runs the chair today: the one chosen, else the booked nurse. A nurse on the
    patient's care team (they must be able to open the session)."""
    nurse = nurse if nurse is not None else appointment.nurse
    if (
        nurse is None
        or not nurse.is_active
        or nurse.role != "nurse"
        or not _visible(nurse, appointment.patient_id)
    ):
        raise InvalidInput(
            {"assigned_nurse": ["Choose a nurse on the patient's care team to run the chair."]}
        )
    return nurse


@transaction.atomic
def session_check_in(
    *,
    actor,
    appointment: Appointment,
    identity: IdentityCheck,
    assigned_nurse=None,
    now: datetime.datetime | None = None,
) -> TreatmentSession:
    """Start the session of today's booked appointment once the patient's two identifiers
    match the record; the appointment becomes checked in. `assigned_nurse` runs the chair (the
    booked nurse when not given)."""
    require(actor, Capability.SESSION_RUN)
    now = _now(now)
    locked = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("patient", "planned_session__plan")
        .filter(pk=appointment.pk)
        .first()
    )
    if locked is None or not _visible(actor, locked.patient_id):
        raise NotFound("No such appointment, or the patient is not on your care team.")
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
    _set_appointment_status(actor, session, AppointmentStatus.CHECKED_IN)
    return session


# --------------------------------------------------------------------------- pre-checks

PRECHECK_FIELDS = [
    "last_food_at",
    "last_liquid_at",
    "escort_name",
    "escort_phone",
    "escort_confirmed",
    "pregnancy_test",
    "questionnaires",
    "questionnaires_skip_reason",
    "suicidality_follow_up",
    "intention",
    "setting_eye_mask",
    "setting_headphones_music",
    "setting_music_choice",
    "setting_lighting",
    "weight_today_kg",
]


@transaction.atomic
def precheck_record(
    *, actor, session: TreatmentSession, data: dict[str, Any], now=None
) -> TreatmentSession:
    """Record any of the pre-check answers (`PRECHECK_FIELDS`); keys not given stay as they
    are. Only before dosing starts. Today's weight is also recorded in the chart."""
    now = _now(now)
    locked = _locked(actor, session, Capability.SESSION_RUN, phases=(SessionPhase.CHECKED_IN,))
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
                    value = _moment(field, value, now)
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
                values[field] = _text(field, data[field], max_length=length)
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
        and locked.patient.sex == "male"
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


@dataclass(frozen=True)
class CheckItem:
    key: str
    label: str
    ok: bool
    messages: tuple[str, ...] = ()


@dataclass(frozen=True)
class PreCheckStatus:
    items: tuple[CheckItem, ...]
    overridden: bool
    bp_confirmed: bool
    dose: dict[str, Any] | None
    dose_problem: str

    @property
    def unmet(self) -> list[CheckItem]:
        return [item for item in self.items if not item.ok]

    @property
    def passed(self) -> bool:
        return not self.unmet

    @property
    def cleared(self) -> bool:
        """Dosing may start: every check passed, or a prescriber overrode the rest."""
        return self.dose is not None and (self.passed or self.overridden)


def _valid_vitals(session: TreatmentSession) -> list[VitalsEntry]:
    return [v for v in session.vitals.all() if v.entered_in_error_at is None]


def vitals_reading(entry: VitalsEntry) -> rules.VitalsReading:
    """A flowsheet row as the rules read it."""
    return rules.VitalsReading(
        taken_at=entry.taken_at,
        systolic_mmhg=entry.systolic_mmhg,
        diastolic_mmhg=entry.diastolic_mmhg,
        heart_rate_bpm=entry.heart_rate_bpm,
        spo2_percent=entry.spo2_percent,
        respiratory_rate_per_min=entry.respiratory_rate_per_min,
        temperature_c=entry.temperature_c,
    )


def pre_dose_vitals(session: TreatmentSession) -> VitalsEntry | None:
    """The latest valid reading with a blood pressure taken before dosing."""
    readings = [
        v for v in _valid_vitals(session) if v.phase == SessionPhase.CHECKED_IN and v.has_bp
    ]
    return readings[-1] if readings else None


def bp_confirmation_reasons(session: TreatmentSession) -> list[str]:
    """Why the latest pre-dose reading needs a prescriber's confirmation to dose, in words; empty
    when it needs none or a prescriber confirmed it."""
    reading = pre_dose_vitals(session)
    if reading is None:
        return []
    result = rules.pre_dose_check(vitals_reading(reading), policy_of(session))
    if not result.needs_prescriber_confirmation:
        return []
    if any(
        o.kind == OverrideKind.PRE_DOSE_BP and str(reading.uuid) in _unmet_codes(o)
        for o in session.overrides.all()
    ):
        return []
    taken = timezone.localtime(reading.taken_at)
    return [f"Pre-dose BP {reading.bp_text} mmHg at {taken:%H:%M}."] + [
        f.message for f in result.reasons
    ]


_PRE_DOSE_KINDS = (PrescriberRequestKind.PRE_DOSE_BP, PrescriberRequestKind.PRE_CHECKS)


def _requests_withdraw(session: TreatmentSession, kinds, note: str, now) -> None:
    """Requests the record itself has made moot (dosing started, the session ended)."""
    prescriber_requests.requests_close(
        session=session, kinds=kinds, status=PrescriberRequestStatus.WITHDRAWN, note=note, now=now
    )


def dose_for_today(session: TreatmentSession) -> dict[str, Any]:
    """The planned session's dose, recalculated with the patient's latest weight (IV/IM)."""
    planned = session.planned_session
    if planned is None:
        raise InvalidInput(
            {
                "dose": [
                    "No planned session is linked to this appointment: the prescriber plans "
                    "the dose first."
                ]
            }
        )
    plan = planned.plan
    policy = dosing_policy()
    try:
        if session.route == "esketamine":
            mg = int(planned.dose_mg or plan.esketamine_dose_mg or 0)
            dose = esketamine_dose(mg, policy)
            return {
                "dose_mg": Decimal(dose.dose_mg),
                "devices": dose.devices,
                "dose_mg_per_kg": None,
                "weight_used_kg": None,
                "infusion_minutes": None,
            }
        from clinic.patients.models import BodyMeasurement
        from clinic.patients.selectors import current_body

        body = current_body(
            measurements=list(BodyMeasurement.objects.filter(patient=session.patient))
        )
        if body.weight_kg is None:
            raise InvalidInput({"weight_today_kg": ["Weigh the patient: the dose is per kg."]})
        common = {
            "weight_kg": body.weight_kg,
            "dose_mg_per_kg": planned.dose_mg_per_kg or plan.dose_mg_per_kg,
            "weight_basis": plan.weight_basis or None,
            "height_cm": body.height_cm,
            "sex": session.patient.sex if session.patient.sex in ("female", "male") else None,
            "policy": policy,
        }
        if session.route == "iv":
            dose = iv_dose(infusion_minutes=planned.infusion_minutes, **common)
            minutes = dose.infusion_minutes
        else:
            dose = im_dose(**common)
            minutes = None
        return {
            "dose_mg": dose.dose_mg,
            "devices": None,
            "dose_mg_per_kg": dose.dose_mg_per_kg,
            "weight_used_kg": dose.weight_used_kg,
            "weight_kg": body.weight_kg,
            "weight_measured_on": body.weight_measured_on,
            "infusion_minutes": minutes,
        }
    except DosingError as error:
        raise InvalidInput({error.field or "dose": [str(error)]}) from error


def precheck_status(session: TreatmentSession, now=None) -> PreCheckStatus:
    """Where each pre-check stands. Reads the session's related rows (prefetch them)."""
    now = _now(now)
    policy = policy_of(session)
    items: list[CheckItem] = []
    fasting = rules.fasting_check(
        session.route,
        session.appointment.starts_at,
        session.last_food_at,
        session.last_liquid_at,
        policy,
    )
    items.append(
        CheckItem("fasting", "Fasting", fasting.ok, tuple(p.message for p in fasting.problems))
    )
    escort_ok = session.escort_confirmed or not policy.escort_required
    items.append(
        CheckItem(
            "escort",
            "Escort home",
            escort_ok,
            () if escort_ok else ("Confirm who takes the patient home (no driving today).",),
        )
    )
    overrides = list(session.overrides.all())
    reading = pre_dose_vitals(session)
    bp_confirmed = False
    if reading is None:
        items.append(
            CheckItem("pre_dose_vitals", "Pre-dose vitals", False, ("Take a blood pressure.",))
        )
    else:
        result = rules.pre_dose_check(vitals_reading(reading), policy)
        bp_confirmed = any(
            o.kind == OverrideKind.PRE_DOSE_BP and str(reading.uuid) in _unmet_codes(o)
            for o in overrides
        )
        ok = not result.needs_prescriber_confirmation or bp_confirmed
        messages = tuple(f.message for f in result.reasons) if not bp_confirmed else ()
        if bp_confirmed:
            messages = (f"BP {reading.bp_text} mmHg confirmed by the prescriber.",)
        items.append(CheckItem("pre_dose_vitals", "Pre-dose vitals", ok, messages))
    pregnancy = session.pregnancy_test
    if session.patient.sex == "male":
        items.append(CheckItem("pregnancy", "Pregnancy test", True, ("Not applicable.",)))
    elif pregnancy in (PregnancyTest.NEGATIVE, PregnancyTest.NOT_APPLICABLE):
        items.append(CheckItem("pregnancy", "Pregnancy test", True))
    else:
        message = {
            "": "Record the pregnancy test, or that it does not apply.",
            PregnancyTest.POSITIVE: "Positive pregnancy test: do not dose without the prescriber.",
            PregnancyTest.DECLINED: "Pregnancy test declined: the prescriber decides.",
        }[pregnancy]
        items.append(CheckItem("pregnancy", "Pregnancy test", False, (message,)))
    items.append(_questionnaire_item(session, now))
    items.append(_suicidality_item(session))
    intention_ok = bool(session.intention.strip())
    items.append(
        CheckItem(
            "intention",
            "Intention",
            intention_ok,
            () if intention_ok else ("Ask the patient for their intention, in their own words.",),
        )
    )
    setting_ok = bool(session.setting_lighting)
    items.append(
        CheckItem(
            "setting",
            "Setting",
            setting_ok,
            () if setting_ok else ("Record the setting: eye mask, music, lighting.",),
        )
    )
    alerts_open = [a for a in session.alerts.all() if a.acknowledged_at is None]
    if alerts_open:
        items.append(
            CheckItem(
                "alerts",
                "Vitals alerts",
                False,
                tuple(f"Acknowledge: {a.message}" for a in alerts_open),
            )
        )
    dose, dose_problem = None, ""
    try:
        dose = dose_for_today(session)
    except InvalidInput as error:
        dose_problem = " ".join(m for messages in error.errors.values() for m in messages)
    return PreCheckStatus(
        items=tuple(items),
        overridden=_overridden(items, overrides),
        bp_confirmed=bp_confirmed,
        dose=dose,
        dose_problem=dose_problem,
    )


def _overridden(items: list[CheckItem], overrides: list[SessionOverride]) -> bool:
    """A prescriber's pre-check override covers the problems it was given for: every unmet
    item now must have been unmet, with the same findings, when an override was made. A problem
    found after the override (a new high pre-dose BP, a new alert) needs a decision of its own."""
    pre_checks = [o for o in overrides if o.kind == OverrideKind.PRE_CHECKS]
    if not pre_checks:
        return False
    covered = {
        (str(entry.get("key")), tuple(entry.get("messages") or ()))
        for override in pre_checks
        for entry in override.unmet
        if isinstance(entry, dict)
    }
    return all((item.key, tuple(item.messages)) in covered for item in items if not item.ok)


def _unmet_codes(override: SessionOverride) -> set[str]:
    return {str(item.get("key")) for item in override.unmet if isinstance(item, dict)}


def _questionnaire_item(session: TreatmentSession, now) -> CheckItem:
    status = session.questionnaires
    if status == QuestionnaireStatus.DONE:
        today = timezone.localdate(now)
        # The session's own clinician-rated scores (MOAA/S, CADSS, Aldrete) are not
        # "today's questionnaires".
        done = (
            AssessmentResponse.objects.filter(
                patient=session.patient,
                entered_in_error_at__isnull=True,
                taken_at__date=today,
            )
            .exclude(instrument_code__in=SessionScoreKind.values)
            .exists()
        )
        if not done:
            return CheckItem(
                "questionnaires",
                "Today's questionnaires",
                False,
                ("Marked done, but no questionnaire is recorded today.",),
            )
        return CheckItem("questionnaires", "Today's questionnaires", True)
    if status in (QuestionnaireStatus.SKIPPED, QuestionnaireStatus.NONE_DUE):
        return CheckItem("questionnaires", "Today's questionnaires", True)
    return CheckItem(
        "questionnaires",
        "Today's questionnaires",
        False,
        ("Record today's questionnaires as done, or skipped with a reason.",),
    )


def _suicidality_item(session: TreatmentSession) -> CheckItem:
    from clinic.assessments.models import SuicidalityAlert

    flagged = SuicidalityAlert.objects.filter(patient=session.patient).unresolved().exists()
    if not flagged:
        return CheckItem("suicidality", "Suicidality follow-up", True, ("None flagged.",))
    if session.suicidality_follow_up.strip():
        return CheckItem("suicidality", "Suicidality follow-up", True)
    return CheckItem(
        "suicidality",
        "Suicidality follow-up",
        False,
        ("Suicidality is flagged on the chart: record today's follow-up.",),
    )


@transaction.atomic
def pre_dose_bp_confirm(*, actor, session: TreatmentSession, reason: str) -> SessionOverride:
    """The prescriber confirms dosing despite a pre-dose BP over the policy limit."""
    locked = _locked(actor, session, Capability.SESSION_OVERRIDE, phases=(SessionPhase.CHECKED_IN,))
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
    *, actor, session: TreatmentSession, reason: str, now=None
) -> SessionOverride:
    """A prescriber lets dosing start although some pre-checks are unmet (kept with the reason)."""
    locked = _locked(actor, session, Capability.SESSION_OVERRIDE, phases=(SessionPhase.CHECKED_IN,))
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


def _require_cleared(session: TreatmentSession, now) -> dict[str, Any]:
    status = precheck_status(session, now)
    if status.dose is None:
        raise Conflict(status.dose_problem or "The dose cannot be calculated.", code="no_dose")
    if not status.cleared:
        raise Conflict(
            "Dosing cannot start until the pre-checks pass or a prescriber overrides them: "
            + "; ".join(i.label for i in status.unmet)
            + ".",
            code="pre_checks_unmet",
        )
    return status.dose


def _dose_time(field: str, value, session: TreatmentSession, now) -> datetime.datetime:
    """When a dose was given, as the nurse charts it: now when blank; never in the future, and
    never before the patient was checked in or before the pre-dose reading (a dose follows it)."""
    floor = session.checked_in_at
    reading = pre_dose_vitals(session)
    if reading is not None and reading.taken_at > floor:
        floor = reading.taken_at
    return _moment(field, value, now, not_before=floor)


def _store_dose(session: TreatmentSession, dose: dict[str, Any]) -> None:
    session.dose_planned_mg = dose["dose_mg"]
    session.dose_mg_per_kg = dose["dose_mg_per_kg"]
    session.dose_weight_used_kg = dose["weight_used_kg"]
    session.infusion_minutes = dose["infusion_minutes"]


# --------------------------------------------------------------------------- dosing


def _container(container: Container, *, route: str) -> Container:
    found = Container.objects.select_related("lot__product").filter(pk=container.pk).first()
    if found is None:
        raise InvalidInput({"container": ["Choose a vial or device from the inventory."]})
    wanted = (
        ProductKind.ESKETAMINE_DEVICE
        if route == "esketamine"
        else ProductKind.RACEMIC_KETAMINE_VIAL
    )
    if found.lot.product.kind != wanted:
        what = ProductKind(wanted).label.lower()
        article = "an" if what[0] in "aeiou" else "a"
        raise InvalidInput({"container": [f"This session needs {article} {what}."]})
    return found


def _administer(
    actor,
    session: TreatmentSession,
    *,
    kind: str,
    container: Container,
    drawn_mg,
    given_mg,
    given_at,
    im_site: str = "",
    device_number: int | None = None,
    witness=None,
    waste_reason: str = "",
    expected_max_mg: Decimal | None = None,
    given_above_expected_reason: str = "",
) -> DoseAdministration:
    entry = administration_record(
        actor=actor,
        container=container,
        patient=session.patient,
        drawn_mg=drawn_mg,
        given_mg=given_mg,
        session_ref=_session_ref(session),
        occurred_at=given_at,
    )
    administration = DoseAdministration.objects.create(
        session=session,
        kind=kind,
        ledger_entry=entry,
        container=entry.container,
        drawn_mg=entry.drawn_mg,
        given_mg=entry.given_mg,
        given_at=given_at,
        im_site=im_site,
        device_number=device_number,
        expected_max_mg=expected_max_mg,
        given_above_expected_reason=given_above_expected_reason,
        recorded_by=actor,
    )
    residual = entry.drawn_mg - entry.given_mg
    if residual > 0 and witness is not None:
        waste_record(
            actor=actor,
            container=entry.container,
            quantity_mg=residual,
            witness=witness,
            reason=waste_reason or "Residual of the session's dose",
            administration=entry,
            occurred_at=given_at,
        )
    return administration


@transaction.atomic
def infusion_start(
    *,
    actor,
    session: TreatmentSession,
    container: Container,
    drawn_mg,
    rate_ml_per_h=None,
    now=None,
) -> TreatmentSession:
    """Start the IV infusion: today's dose, the vial the bag was prepared from and how much
    was drawn. The ledger entry is written when the infusion stops (drawn and given)."""
    now = _now(now)
    locked = _locked(actor, session, Capability.SESSION_RUN, phases=(SessionPhase.CHECKED_IN,))
    if locked.route != "iv":
        raise Conflict("Only an IV session has an infusion.", code="route")
    dose = _require_cleared(locked, now)
    container = _container(container, route="iv")
    try:
        drawn = Decimal(str(drawn_mg))
    except Exception as error:  # noqa: BLE001 — any unparsable amount is an entry error
        raise InvalidInput({"drawn_mg": ["Enter the mg drawn."]}) from error
    if drawn <= 0:
        raise InvalidInput({"drawn_mg": ["Enter the mg drawn."]})
    if drawn < dose["dose_mg"]:
        raise InvalidInput(
            {"drawn_mg": [f"Today's dose is {_mg(dose['dose_mg'])}: draw at least that."]}
        )
    # The ledger entry of an infusion is written when it stops: what other infusions in
    # progress drew from this vial is not on its balance yet, but is not in it either.
    container = (
        Container.objects.select_for_update(of=("self",))
        .select_related("lot__product")
        .get(pk=container.pk)
    )
    pending = TreatmentSession.objects.filter(
        infusion_container=container, phase=SessionPhase.DOSING
    ).exclude(pk=locked.pk).aggregate(total=Sum("infusion_drawn_mg"))["total"] or Decimal(0)
    if drawn > container.balance_mg - pending:
        held = f"{container.label} holds {_mg(container.balance_mg)}"
        if pending:
            held += f", {_mg(pending)} of it drawn for another infusion in progress"
        raise InvalidInput({"drawn_mg": [f"{held}."]})
    if container.lot.expiry < timezone.localdate(now):
        raise InvalidInput({"container": [f"Lot {container.lot.lot_number} has expired."]})
    rate = _rate(rate_ml_per_h)
    _store_dose(locked, dose)
    locked.infusion_container = container
    locked.infusion_drawn_mg = drawn
    locked.infusion_rate_ml_per_h = rate
    locked.dose_started_at = now
    locked.phase = SessionPhase.DOSING
    locked.save()
    InfusionEvent.objects.create(
        session=locked,
        kind=InfusionEventKind.START,
        occurred_at=now,
        rate_ml_per_h=rate,
        recorded_by=actor,
    )
    _requests_withdraw(locked, _PRE_DOSE_KINDS, "Dosing started.", now)
    _audit(
        actor,
        locked,
        f"Infusion started: {_mg(dose['dose_mg'])} planned, {_mg(drawn)} drawn from "
        f"{container.label}",
        {"phase": {"before": SessionPhase.CHECKED_IN, "after": SessionPhase.DOSING}},
    )
    return locked


def _rate(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        rate = Decimal(str(value))
    except Exception as error:  # noqa: BLE001
        raise InvalidInput({"rate_ml_per_h": ["Enter the rate in mL/h."]}) from error
    if rate <= 0 or rate > 2000:
        raise InvalidInput({"rate_ml_per_h": ["Enter a rate between 0 and 2000 mL/h."]})
    return rate.quantize(Decimal("0.1"))


def infusion_running(session: TreatmentSession) -> bool:
    """True while the infusion is started and not paused or stopped."""
    events = [e.kind for e in session.infusion_events.all()]
    return bool(events) and events[-1] in (
        InfusionEventKind.START,
        InfusionEventKind.RESUME,
        InfusionEventKind.RATE,
    )


def _infusion_event(actor, session, kind, now, *, reason="", rate=None) -> InfusionEvent:
    last = session.infusion_events.order_by("-occurred_at", "-id").first()
    if last is not None and now < last.occurred_at:
        raise InvalidInput({"occurred_at": ["This is before the infusion's last event."]})
    event = InfusionEvent.objects.create(
        session=session,
        kind=kind,
        occurred_at=now,
        reason=reason,
        rate_ml_per_h=rate,
        recorded_by=actor,
    )
    _audit(
        actor,
        session,
        f"Infusion {InfusionEventKind(kind).label.lower()}" + (f": {reason}" if reason else ""),
    )
    return event


@transaction.atomic
def infusion_pause(*, actor, session: TreatmentSession, reason: str, now=None) -> InfusionEvent:
    now = _now(now)
    locked = _locked(actor, session, Capability.SESSION_RUN, phases=(SessionPhase.DOSING,))
    if locked.route != "iv" or not infusion_running(locked):
        raise Conflict("The infusion is not running.", code="not_running")
    reason = required_text("reason", reason, "Say why the infusion is paused.")
    return _infusion_event(actor, locked, InfusionEventKind.PAUSE, now, reason=reason[:300])


@transaction.atomic
def infusion_resume(*, actor, session: TreatmentSession, now=None) -> InfusionEvent:
    now = _now(now)
    locked = _locked(actor, session, Capability.SESSION_RUN, phases=(SessionPhase.DOSING,))
    if locked.route != "iv" or infusion_running(locked):
        raise Conflict("The infusion is not paused.", code="not_paused")
    return _infusion_event(actor, locked, InfusionEventKind.RESUME, now)


@transaction.atomic
def infusion_rate_change(
    *, actor, session: TreatmentSession, rate_ml_per_h, reason: str = "", now=None
) -> InfusionEvent:
    now = _now(now)
    locked = _locked(actor, session, Capability.SESSION_RUN, phases=(SessionPhase.DOSING,))
    if locked.route != "iv" or not infusion_running(locked):
        raise Conflict("The infusion is not running.", code="not_running")
    rate = _rate(rate_ml_per_h)
    if rate is None:
        raise InvalidInput({"rate_ml_per_h": ["Enter the new rate in mL/h."]})
    locked.infusion_rate_ml_per_h = rate
    locked.save(update_fields=["infusion_rate_ml_per_h", "updated_at"])
    return _infusion_event(
        actor,
        locked,
        InfusionEventKind.RATE,
        now,
        reason=_text("reason", reason, max_length=300),
        rate=rate,
    )


def infusion_delivery(
    session: TreatmentSession, until: datetime.datetime
) -> rules.InfusionDelivery:
    """What the pump could have delivered by `until` (rules.infusion_deliverable), from the
    session's recorded pump events. Reads the prefetched events."""
    return rules.infusion_deliverable(
        planned_mg=session.dose_planned_mg,
        planned_minutes=session.infusion_minutes,
        events=[
            rules.InfusionEvent(kind=e.kind, at=e.occurred_at, rate_ml_per_h=e.rate_ml_per_h)
            for e in session.infusion_events.all()
        ],
        until=until,
    )


@transaction.atomic
def infusion_stop(
    *,
    actor,
    session: TreatmentSession,
    given_mg,
    reason: str = "",
    given_above_expected_reason: str = "",
    witness=None,
    waste_reason: str = "",
    now=None,
) -> DoseAdministration | None:
    """Stop the infusion: the ledger records the mg drawn and the mg given; the residual is
    wasted now (with a witness) or later from the session page. Stopping short of the planned
    dose needs a reason; stopping with nothing given wastes the whole draw at once (witnessed)
    and records no administration (None). An amount above what the pump could have run in its
    running time (pauses excluded) is an entry the nurse must correct, or explain."""
    now = _now(now)
    locked = _locked(actor, session, Capability.SESSION_RUN, phases=(SessionPhase.DOSING,))
    if locked.route != "iv":
        raise Conflict("Only an IV session has an infusion.", code="route")
    try:
        given = Decimal(str(given_mg))
    except Exception as error:  # noqa: BLE001
        raise InvalidInput({"given_mg": ["Enter the mg the patient received."]}) from error
    if not given.is_finite() or given < 0 or given > locked.infusion_drawn_mg:
        raise InvalidInput(
            {"given_mg": [f"Between 0 and the {_mg(locked.infusion_drawn_mg)} drawn."]}
        )
    reason = _text("reason", reason, max_length=300)
    above_reason = _text("given_above_expected_reason", given_above_expected_reason, max_length=300)
    delivery = infusion_delivery(locked, now)
    if given > delivery.max_mg and not above_reason:
        raise InvalidInput(
            {
                "given_mg": [
                    f"The pump ran {delivery.running_minutes} min (pauses excluded): at the set "
                    f"rate at most {_mg(delivery.max_mg)} could have run in. Record what the "
                    "pump shows, or say below why more was given."
                ]
            }
        )
    if given <= delivery.max_mg:
        above_reason = ""  # nothing to explain: keep the record free of a stray reason
    if given < locked.dose_planned_mg and not reason:
        raise InvalidInput(
            {"reason": [f"Less than the planned {_mg(locked.dose_planned_mg)}: say why."]}
        )
    if given == 0:
        # Nothing ran in: no administration to record. The whole bag is wasted from the vial
        # at once, witnessed, so the ledger still accounts for the drawn mg.
        if witness is None:
            raise InvalidInput(
                {"witness": ["Nothing was given: waste the whole draw now, with a witness."]}
            )
        waste_record(
            actor=actor,
            container=locked.infusion_container,
            quantity_mg=locked.infusion_drawn_mg,
            witness=witness,
            reason=_text("waste_reason", waste_reason, max_length=300)
            or "Infusion stopped before any was given",
            patient=locked.patient,
            session_ref=_session_ref(locked),
            occurred_at=now,
        )
        administration = None
    else:
        administration = _administer(
            actor,
            locked,
            kind=AdministrationKind.IV_INFUSION,
            container=locked.infusion_container,
            drawn_mg=locked.infusion_drawn_mg,
            given_mg=given,
            given_at=now,
            witness=witness,
            waste_reason=waste_reason,
            expected_max_mg=delivery.max_mg,
            given_above_expected_reason=above_reason,
        )
        if above_reason:
            _audit(
                actor,
                locked,
                f"Infusion: {_mg(given)} recorded as given, above the {_mg(delivery.max_mg)} the "
                f"pump could have run in {delivery.running_minutes} min: {above_reason}",
            )
    _infusion_event(actor, locked, InfusionEventKind.STOP, now, reason=reason)
    locked.dose_completed_at = now
    locked.phase = SessionPhase.MONITORING
    locked.save()
    return administration


@transaction.atomic
def im_injection_record(
    *,
    actor,
    session: TreatmentSession,
    container: Container,
    drawn_mg,
    given_mg,
    site: str,
    witness=None,
    waste_reason: str = "",
    given_at=None,
    now=None,
) -> DoseAdministration:
    """The IM injection, at `given_at` (charted later than it was given) or now."""
    now = _now(now)
    locked = _locked(actor, session, Capability.SESSION_RUN, phases=(SessionPhase.CHECKED_IN,))
    if locked.route != "im":
        raise Conflict("Only an IM session has an injection.", code="route")
    dose = _require_cleared(locked, now)
    given_at = _dose_time("given_at", given_at, locked, now)
    site = _choice("site", site, ImSite)
    container = _container(container, route="im")
    try:
        given = Decimal(str(given_mg))
    except Exception as error:  # noqa: BLE001
        raise InvalidInput({"given_mg": ["Enter the mg injected."]}) from error
    if given != dose["dose_mg"]:
        raise InvalidInput(
            {
                "given_mg": [
                    f"Today's dose is {_mg(dose['dose_mg'])}; the prescriber changes "
                    "doses in the plan."
                ]
            }
        )
    _store_dose(locked, dose)
    administration = _administer(
        actor,
        locked,
        kind=AdministrationKind.IM_INJECTION,
        container=container,
        drawn_mg=drawn_mg,
        given_mg=given,
        given_at=given_at,
        im_site=site,
        witness=witness,
        waste_reason=waste_reason,
    )
    locked.dose_started_at = given_at
    locked.dose_completed_at = given_at
    locked.phase = SessionPhase.MONITORING
    locked.save()
    _requests_withdraw(locked, _PRE_DOSE_KINDS, "Dosing started.", now)
    _audit(actor, locked, f"IM injection {_mg(given)} ({ImSite(site).label})")
    return administration


def devices_needed(session: TreatmentSession) -> int | None:
    dose = session.dose_planned_mg
    return int(dose / MG_PER_ESKETAMINE_DEVICE) if dose else None


@transaction.atomic
def esketamine_device_record(
    *, actor, session: TreatmentSession, container: Container, given_at=None, now=None
) -> DoseAdministration:
    """One device, used whole, at `given_at` (charted later than it was given) or now. The
    next may not be given until 5 minutes after the last (label [C2]), judged on the times
    given; the last device of the dose completes dosing."""
    now = _now(now)
    locked = _locked(
        actor,
        session,
        Capability.SESSION_RUN,
        phases=(SessionPhase.CHECKED_IN, SessionPhase.DOSING),
    )
    if locked.route != "esketamine":
        raise Conflict("Only an esketamine session uses devices.", code="route")
    policy = policy_of(locked)
    if locked.phase == SessionPhase.CHECKED_IN:
        dose = _require_cleared(locked, now)
        _store_dose(locked, dose)
    given = list(locked.administrations.all())
    needed = devices_needed(locked)
    if len(given) >= needed:
        raise Conflict(f"All {needed} devices are given.", code="dose_complete")
    given_at = _dose_time("given_at", given_at, locked, now)
    if given and given_at < given[-1].given_at:
        raise InvalidInput(
            {
                "given_at": [
                    f"Device {len(given)} was given at "
                    f"{timezone.localtime(given[-1].given_at):%H:%M}: the next one comes after it."
                ]
            }
        )
    check = rules.esketamine_device_check([a.given_at for a in given], given_at, policy)
    if not check.allowed:
        wait = check.next_allowed_at - given_at
        seconds = int(wait.total_seconds())
        raise Conflict(
            f"Wait {seconds // 60} min {seconds % 60:02d} s more: devices are "
            f"{policy.esketamine_minutes_between_devices} minutes apart (label).",
            code="device_too_soon",
        )
    container = _container(container, route="esketamine")
    administration = _administer(
        actor,
        locked,
        kind=AdministrationKind.ESKETAMINE_DEVICE,
        container=container,
        drawn_mg=container.balance_mg,
        given_mg=container.balance_mg,
        given_at=given_at,
        device_number=len(given) + 1,
    )
    before = locked.phase
    if locked.dose_started_at is None:
        locked.dose_started_at = given_at
        locked.phase = SessionPhase.DOSING
        _requests_withdraw(locked, _PRE_DOSE_KINDS, "Dosing started.", now)
    if len(given) + 1 == needed:
        locked.dose_completed_at = given_at
        locked.phase = SessionPhase.MONITORING
    locked.save()
    _audit(
        actor,
        locked,
        f"Esketamine device {len(given) + 1} of {needed} given ({container.label})",
        {"phase": {"before": before, "after": locked.phase}} if before != locked.phase else {},
    )
    return administration


@transaction.atomic
def residual_waste(
    *,
    actor,
    session: TreatmentSession,
    administration: DoseAdministration,
    witness,
    reason: str = "",
    now=None,
) -> LedgerEntry:
    """Waste what is left of a draw, witnessed (the witness's password is checked by the page
    or API before this is called)."""
    now = _now(now)
    locked = _locked(actor, session, Capability.SESSION_RUN, signed_ok=False)
    if administration.session_id != locked.pk:
        raise NotFound("No such administration in this session.")
    outstanding = residual_outstanding_mg(administration.ledger_entry)
    if outstanding <= 0:
        raise Conflict("Nothing is left of this draw to waste.", code="nothing_to_waste")
    return waste_record(
        actor=actor,
        container=administration.container,
        quantity_mg=outstanding,
        witness=witness,
        reason=_text("reason", reason, max_length=300) or "Residual of the session's dose",
        administration=administration.ledger_entry,
        occurred_at=now,
    )


def residual_outstanding(session: TreatmentSession) -> list[tuple[DoseAdministration, Decimal]]:
    out = []
    for administration in session.administrations.all():
        outstanding = residual_outstanding_mg(administration.ledger_entry)
        if outstanding > 0:
            out.append((administration, outstanding))
    return out


# --------------------------------------------------------------------------- vitals


VITALS_FIELDS = [
    "systolic_mmhg",
    "diastolic_mmhg",
    "heart_rate_bpm",
    "spo2_percent",
    "respiratory_rate_per_min",
    "temperature_c",
]


@transaction.atomic
def vitals_record(
    *, actor, session: TreatmentSession, taken_at=None, now=None, **values
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
    taken_at = _moment("taken_at", taken_at, now, not_before=locked.checked_in_at)
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
    previous = [vitals_reading(v) for v in _valid_vitals(locked) if v.taken_at < taken_at]
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


def _mark_in_error(actor, record, reason: str, *, object_type: str, what: str):
    locked_session = _locked(actor, record.session, Capability.SESSION_RUN, phases=ALL_PHASES)
    reason = required_text("reason", reason, f"Say why the {what} is wrong.")
    row = type(record).objects.select_for_update().get(pk=record.pk)
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
def vitals_mark_entered_in_error(*, actor, vitals: VitalsEntry, reason: str) -> VitalsEntry:
    """A wrong reading stays on the flowsheet, struck through. Its alerts stay until
    acknowledged (the acknowledgement can say the reading was wrong)."""
    row = _mark_in_error(actor, vitals, reason, object_type="session_vitals", what="reading")
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
    *, actor, alert: SessionAlert, action: str, note: str = "", now=None
) -> SessionAlert:
    """Acknowledge an alert with what was done. "Pause" also pauses a running infusion."""
    now = _now(now)
    locked_session = _locked(actor, alert.session, Capability.SESSION_RUN, phases=ALL_PHASES)
    locked = SessionAlert.objects.select_for_update().get(pk=alert.pk)
    if locked.acknowledged_at is not None:
        raise Conflict("This alert is acknowledged already.", code="already_acknowledged")
    action = _choice("action", action, AlertAction)
    note = _text("note", note, max_length=500)
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
        and locked_session.route == "iv"
        and locked_session.phase == SessionPhase.DOSING
        and infusion_running(locked_session)
    ):
        _infusion_event(
            actor,
            locked_session,
            InfusionEventKind.PAUSE,
            max(now, locked_session.infusion_events.last().occurred_at),
            reason=f"Alert: {locked.message}"[:300],
        )
    return locked


# --------------------------------------------------------------------------- scores, side effects


@transaction.atomic
def session_score_record(
    *, actor, session: TreatmentSession, kind: str, answers: list, taken_at=None, now=None
) -> SessionScore:
    """MOAA/S, CADSS or modified Aldrete, stored as an assessment response of the patient."""
    now = _now(now)
    locked = _locked(actor, session, Capability.SESSION_RUN, phases=OPEN_PHASES)
    kind = _choice("kind", kind, SessionScoreKind)
    taken_at = _moment("taken_at", taken_at, now, not_before=locked.checked_in_at)
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
    actor,
    session: TreatmentSession,
    kind: str,
    severity: str,
    other_text: str = "",
    intervention: str = "",
    noticed_at=None,
    now=None,
) -> SideEffect:
    now = _now(now)
    locked = _locked(actor, session, Capability.SESSION_RUN, phases=OPEN_PHASES)
    kind = _choice("kind", kind, SideEffectKind)
    severity = _choice("severity", severity, Severity)
    other_text = _text("other_text", other_text, max_length=200)
    if kind == SideEffectKind.OTHER and not other_text:
        raise InvalidInput({"other_text": ["Describe the side effect."]})
    effect = SideEffect.objects.create(
        session=locked,
        kind=kind,
        other_text=other_text if kind == SideEffectKind.OTHER else "",
        severity=severity,
        intervention=_text("intervention", intervention, max_length=300),
        noticed_at=_moment("noticed_at", noticed_at, now, not_before=locked.checked_in_at),
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
    actor,
    session: TreatmentSession,
    description: str,
    seriousness: str,
    outcome: str,
    action_taken: str = "",
    onset_at=None,
    now=None,
) -> AdverseEvent:
    now = _now(now)
    locked = _locked(actor, session, Capability.SESSION_RUN, phases=ALL_PHASES)
    event = AdverseEvent.objects.create(
        session=locked,
        description=required_text("description", description, "Describe the event."),
        seriousness=_choice("seriousness", seriousness, Seriousness),
        outcome=_choice("outcome", outcome, AdverseEventOutcome),
        action_taken=_text("action_taken", action_taken, max_length=500),
        onset_at=_moment("onset_at", onset_at, now, not_before=locked.checked_in_at),
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
def session_record_mark_entered_in_error(*, actor, record, reason: str):
    """A side effect or adverse event entered by mistake (stays visible, struck through)."""
    if not isinstance(record, SideEffect | AdverseEvent):
        raise InvalidInput({"record": ["Only side effects and adverse events."]})
    return _mark_in_error(
        actor,
        record,
        reason,
        object_type=f"session_{type(record).__name__.lower()}",
        what="entry",
    )


# --------------------------------------------------------------------------- recovery, discharge


@transaction.atomic
def recovery_start(*, actor, session: TreatmentSession, now=None) -> TreatmentSession:
    now = _now(now)
    locked = _locked(actor, session, Capability.SESSION_RUN, phases=(SessionPhase.MONITORING,))
    locked.phase = SessionPhase.RECOVERY
    locked.recovery_started_at = now
    locked.save()
    _audit(
        actor, locked, "Recovery started", {"phase": {"before": "monitoring", "after": "recovery"}}
    )
    return locked


def latest_aldrete(session: TreatmentSession) -> AssessmentResponse | None:
    """The latest valid modified Aldrete scored after dosing was complete."""
    scores = [
        s.response
        for s in session.scores.all()
        if s.kind == SessionScoreKind.MODIFIED_ALDRETE
        and s.response.entered_in_error_at is None
        and session.dose_completed_at is not None
        and s.response.taken_at >= session.dose_completed_at
    ]
    scores.sort(key=lambda r: r.taken_at)
    return scores[-1] if scores else None


def discharge_status(
    session: TreatmentSession, *, escort_present: bool, now=None
) -> rules.DischargeResult:
    now = _now(now)
    if session.dose_completed_at is None:
        return rules.DischargeResult(
            allowed=False,
            blocking_reasons=(rules.Finding("dose_not_complete", "Dosing is not complete."),),
            observation_ends_at=now,
        )
    aldrete = latest_aldrete(session)
    total = aldrete.total if aldrete is not None and aldrete.complete else None
    return rules.discharge_check(
        session.route, total, session.dose_completed_at, escort_present, now, policy_of(session)
    )


def discharge_override_covering(
    session: TreatmentSession, result: rules.DischargeResult
) -> SessionOverride | None:
    """A prescriber's discharge override already given for this session that covers every
    criterion unmet now (by code: the observation time running on is the same criterion; a
    missing escort is not covered unless it was missing when the prescriber decided)."""
    if result.allowed:
        return None
    unmet = {f.code for f in result.blocking_reasons}
    for override in reversed(list(session.overrides.all())):
        if override.kind == OverrideKind.DISCHARGE and unmet <= _unmet_codes(override):
            return override
    return None


@transaction.atomic
def session_discharge(
    *,
    actor,
    session: TreatmentSession,
    escort_present: bool,
    instructions_given: bool,
    instructions_text: str = "",
    override_reason: str = "",
    now=None,
) -> TreatmentSession:
    """Discharge when the criteria are met; otherwise only a prescriber's override with a
    reason lets the patient go. Open vitals alerts must be acknowledged first, and the
    post-session instructions recorded as given."""
    now = _now(now)
    locked = _locked(
        actor,
        session,
        Capability.SESSION_RUN,
        phases=(SessionPhase.MONITORING, SessionPhase.RECOVERY),
    )
    if locked.alerts.unacknowledged().exists():
        raise Conflict("Acknowledge every vitals alert before discharge.", code="alerts_open")
    if not instructions_given:
        raise InvalidInput(
            {"instructions_given": ["Give the post-session instructions and tick this."]}
        )
    result = discharge_status(locked, escort_present=escort_present, now=now)
    override_reason = _text("override_reason", override_reason, max_length=500)
    override = None
    granted = discharge_override_covering(locked, result)
    if not result.allowed and granted is not None and not override_reason:
        # A prescriber decided from their in-basket (discharge_override_grant): the nurse
        # completes the discharge under that decision.
        override_reason = granted.reason
        override = granted
    elif not result.allowed:
        if not override_reason:
            raise Conflict(
                "Discharge is blocked: " + " ".join(f.message for f in result.blocking_reasons),
                code="discharge_blocked",
            )
        require(actor, Capability.SESSION_OVERRIDE)
        override = SessionOverride.objects.create(
            session=locked,
            kind=OverrideKind.DISCHARGE,
            prescriber=actor,
            reason=override_reason,
            unmet=[{"key": f.code, "messages": [f.message]} for f in result.blocking_reasons],
        )
    prescriber_requests.requests_close(
        session=locked,
        kinds=[PrescriberRequestKind.DISCHARGE],
        status=PrescriberRequestStatus.ANSWERED if override else PrescriberRequestStatus.WITHDRAWN,
        actor=actor if override else None,
        note=override_reason if override else "Discharged: the criteria were met.",
        override=override,
        now=now,
    )
    before = locked.phase
    locked.phase = SessionPhase.DISCHARGED
    locked.discharged_at = now
    locked.discharged_by = actor
    locked.escort_present_at_discharge = escort_present
    locked.instructions_given = True
    locked.instructions_text = _text("instructions_text", instructions_text, max_length=4000)
    locked.save()
    _audit(
        actor,
        locked,
        "Discharged" + (f" by override: {override_reason}" if not result.allowed else ""),
        {"phase": {"before": before, "after": SessionPhase.DISCHARGED}},
    )
    _set_appointment_status(actor, locked, AppointmentStatus.COMPLETED)
    return locked


@transaction.atomic
def esketamine_dosing_end(
    *, actor, session: TreatmentSession, reason: str, now=None
) -> TreatmentSession:
    """Give no more devices (e.g. the patient cannot tolerate the next one): dosing is complete
    at the last device given, and observation and discharge run from it as usual."""
    locked = _locked(actor, session, Capability.SESSION_RUN, phases=(SessionPhase.DOSING,))
    if locked.route != "esketamine":
        raise Conflict("Only esketamine dosing is ended this way.", code="route")
    reason = required_text("reason", reason, "Say why no more devices are given.")
    last = locked.administrations.order_by("-given_at").first()
    locked.dose_completed_at = last.given_at
    locked.dosing_ended_early_reason = reason[:300]
    locked.phase = SessionPhase.MONITORING
    locked.save()
    _audit(
        actor,
        locked,
        f"Esketamine dosing ended after device {last.device_number}: {reason}",
        {"phase": {"before": SessionPhase.DOSING, "after": SessionPhase.MONITORING}},
    )
    return locked


@transaction.atomic
def session_stop(*, actor, session: TreatmentSession, reason: str, now=None) -> TreatmentSession:
    """End the session early, with the reason. Once a dose was given only a prescriber may
    (the discharge criteria are not checked)."""
    now = _now(now)
    locked = _locked(
        actor,
        session,
        Capability.SESSION_RUN,
        phases=OPEN_PHASES,
    )
    reason = required_text("reason", reason, "Say why the session is stopped.")
    if locked.route == "iv" and locked.phase == SessionPhase.DOSING:
        raise Conflict(
            "Stop the infusion first, with the mg the patient received.", code="infusion_running"
        )
    if locked.dose_started_at is not None:
        # After a dose, ending the session skips the discharge criteria (observation, Aldrete,
        # escort): a prescriber's decision, as a discharge override is.
        require(actor, Capability.SESSION_OVERRIDE)
    before = locked.phase
    locked.phase = SessionPhase.STOPPED
    locked.stopped_at = now
    locked.stopped_by = actor
    locked.stop_reason = reason[:300]
    if locked.route == "esketamine" and locked.dose_started_at and not locked.dose_completed_at:
        locked.dose_completed_at = locked.administrations.order_by("-given_at").first().given_at
    locked.save()
    _requests_withdraw(locked, PrescriberRequestKind.values, "The session was stopped.", now)
    _audit(
        actor,
        locked,
        f"Session stopped: {reason}",
        {"phase": {"before": before, "after": "stopped"}},
    )
    _set_appointment_status(actor, locked, AppointmentStatus.COMPLETED)
    return locked


# --------------------------------------------------------------------------- notes, signature


@transaction.atomic
def nurse_note_save(*, actor, session: TreatmentSession, text: str, now=None) -> TreatmentSession:
    locked = _locked(actor, session, Capability.SESSION_RUN, phases=ALL_PHASES)
    before = snapshot(locked, ["nurse_note"])
    locked.nurse_note = required_text("text", text, "Write the session note.")
    if len(locked.nurse_note) > 20000:
        raise InvalidInput({"text": ["Keep the note under 20,000 characters."]})
    locked.nurse_note_by = actor
    locked.nurse_note_at = _now(now)
    locked.save()
    _audit(actor, locked, "Session note saved", diff(before, snapshot(locked, ["nurse_note"])))
    return locked


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def session_content(session: TreatmentSession) -> dict[str, Any]:
    """The signed record: everything the session says, in a stable order."""
    fields = [
        "route",
        "phase",
        "checked_in_at",
        *PRECHECK_FIELDS,
        "dose_planned_mg",
        "dose_mg_per_kg",
        "dose_weight_used_kg",
        "infusion_minutes",
        "dose_started_at",
        "dose_completed_at",
        "dosing_ended_early_reason",
        "recovery_started_at",
        "discharged_at",
        "escort_present_at_discharge",
        "instructions_given",
        "instructions_text",
        "stopped_at",
        "stop_reason",
        "nurse_note",
        "rems_form",
    ]
    content: dict[str, Any] = {"session": str(session.uuid), "patient": str(session.patient.uuid)}
    for field in fields:
        value = getattr(session, field)
        if isinstance(value, datetime.datetime):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        content[field] = value
    content["administrations"] = [
        {
            "kind": a.kind,
            "container": a.container.label,
            "lot": a.container.lot.lot_number,
            "drawn_mg": str(a.drawn_mg),
            "given_mg": str(a.given_mg),
            "given_at": _iso(a.given_at),
            "im_site": a.im_site,
            "device_number": a.device_number,
            "expected_max_mg": str(a.expected_max_mg) if a.expected_max_mg is not None else None,
            "given_above_expected_reason": a.given_above_expected_reason,
            "by": a.recorded_by.username,
        }
        for a in session.administrations.select_related("container__lot", "recorded_by")
    ]
    content["infusion_events"] = [
        {
            "kind": e.kind,
            "at": _iso(e.occurred_at),
            "rate_ml_per_h": str(e.rate_ml_per_h or ""),
            "reason": e.reason,
        }
        for e in session.infusion_events.all()
    ]
    content["vitals"] = [
        {
            "taken_at": _iso(v.taken_at),
            **{
                f: (str(getattr(v, f)) if getattr(v, f) is not None else None)
                for f in VITALS_FIELDS
            },
            "entered_in_error": v.entered_in_error_reason if v.entered_in_error_at else None,
        }
        for v in session.vitals.all()
    ]
    content["alerts"] = [
        {
            "code": a.code,
            "message": a.message,
            "action": a.action,
            "note": a.action_note,
            "by": a.acknowledged_by.username if a.acknowledged_by_id else None,
        }
        for a in session.alerts.select_related("acknowledged_by")
    ]
    content["scores"] = [
        {
            "kind": s.kind,
            "taken_at": _iso(s.response.taken_at),
            "answers": s.response.answers,
            "total": s.response.total,
        }
        for s in session.scores.select_related("response")
    ]
    content["side_effects"] = [
        {
            "kind": e.kind,
            "label": e.label,
            "severity": e.severity,
            "at": _iso(e.noticed_at),
            "intervention": e.intervention,
            "entered_in_error": bool(e.entered_in_error_at),
        }
        for e in session.side_effects.all()
    ]
    content["adverse_events"] = [
        {
            "description": e.description,
            "seriousness": e.seriousness,
            "at": _iso(e.onset_at),
            "action_taken": e.action_taken,
            "outcome": e.outcome,
            "entered_in_error": bool(e.entered_in_error_at),
        }
        for e in session.adverse_events.all()
    ]
    content["overrides"] = [
        {"kind": o.kind, "by": o.prescriber.username, "reason": o.reason, "unmet": o.unmet}
        for o in session.overrides.select_related("prescriber")
    ]
    return content


def content_sha256(content: Any) -> str:
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def sign_blockers(session: TreatmentSession) -> list[str]:
    """What stops the prescriber signing the session record."""
    problems = []
    if session.is_open:
        problems.append("The session is still open: discharge or stop it first.")
    if not session.nurse_note.strip():
        problems.append("The nurse's session note is not written.")
    if session.alerts.unacknowledged().exists():
        problems.append("A vitals alert is not acknowledged.")
    for administration, outstanding in residual_outstanding(session):
        problems.append(
            f"{_mg(outstanding)} left in {administration.container.label} awaits witnessed waste."
        )
    if session.route == "esketamine" and session.dose_started_at is not None:
        missing = rules.rems_form_missing(session.rems_form or {})
        if missing:
            labels = {f.key: f.label for f in rules.REMS_MONITORING_FIELDS}
            problems.append(
                "The REMS monitoring form is incomplete: "
                + ", ".join(labels[k] for k in missing)
                + "."
            )
    return problems


@transaction.atomic
def session_sign(*, actor, session: TreatmentSession, now=None) -> TreatmentSession:
    locked = _locked(actor, session, Capability.SESSION_SIGN)
    problems = sign_blockers(locked)
    if problems:
        raise Conflict(" ".join(problems), code="cannot_sign")
    content = session_content(locked)
    locked.signed_content = content
    locked.signed_sha256 = content_sha256(content)
    locked.signed_at = _now(now)
    locked.signed_by = actor
    locked.save()
    _audit(actor, locked, "Session record signed", {"sha256": locked.signed_sha256})
    return locked


@transaction.atomic
def session_addendum_add(*, actor, session: TreatmentSession, text: str) -> SessionAddendum:
    """Add to a signed record (care-team prescribers and nurses)."""
    locked = _locked(actor, session, Capability.SESSION_RUN, signed_ok=True)
    if not locked.is_signed:
        raise Conflict("The record is not signed yet: edit the note instead.", code="not_signed")
    text = required_text("text", text, "Write the addendum.")
    addendum = SessionAddendum.objects.create(
        session=locked,
        text=text,
        author=actor,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
    )
    _audit(actor, locked, "Addendum added", action=AuditAction.CREATE)
    return addendum


@transaction.atomic
def integration_note_add(*, actor, session: TreatmentSession, text: str) -> IntegrationNote:
    """The therapist's integration note (after or around the session); notes are only added."""
    locked = _locked(actor, session, Capability.SESSION_INTEGRATION_NOTE, signed_ok=True)
    text = required_text("text", text, "Write the integration note.")
    if len(text) > 20000:
        raise InvalidInput({"text": ["Keep the note under 20,000 characters."]})
    note = IntegrationNote.objects.create(
        session=locked, text=text, author=actor, sha256=hashlib.sha256(text.encode()).hexdigest()
    )
    _audit(actor, locked, "Integration note added", action=AuditAction.CREATE)
    return note


# --------------------------------------------------------------------------- REMS monitoring form


def rems_form_prefill(session: TreatmentSession) -> dict[str, Any]:
    """Suggestions for the monitoring form from the session's own record; staff confirm each."""
    vitals = [v for v in _valid_vitals(session) if v.has_bp]
    policy = policy_of(session)
    pre = [v for v in vitals if v.phase == SessionPhase.CHECKED_IN]
    completed = session.dose_completed_at
    about_40 = None
    discharge = None
    if completed is not None:
        recheck = completed + datetime.timedelta(minutes=policy.esketamine_bp_recheck_minutes)
        after = [v for v in vitals if v.taken_at >= recheck]
        about_40 = after[0] if after else None
        observation_end = rules.minimum_observation_end(session.route, completed, policy)
        late = [v for v in vitals if v.taken_at >= observation_end]
        discharge = late[-1] if late else None
    administrations = list(session.administrations.all())
    end = session.discharged_at or session.stopped_at
    scores = list(session.scores.all())
    moaas = [s.response.total for s in scores if s.kind == SessionScoreKind.MOAAS]
    cadss = [s.response.total for s in scores if s.kind == SessionScoreKind.CADSS]
    # The dose the patient received (devices given), which is the planned dose unless dosing
    # ended early.
    dose = sum((a.given_mg for a in administrations), Decimal(0)) or None
    enrollment = session.patient.rems_enrollments.exclude(rems_patient_id="").first()
    intake = (
        session.patient.intakes.filter(submitted_at__isnull=False)
        .order_by("-submitted_at")
        .prefetch_related("medications")
        .first()
    )
    concomitant = (
        sorted(
            {
                REMS_MEDICATION_CLASSES[m.medication_class]
                for m in intake.medications.all()
                if m.medication_class in REMS_MEDICATION_CLASSES
            },
            key=_REMS_CHOICE["concomitant_medications"].index,
        )
        if intake is not None
        else None
    )
    values: dict[str, Any] = {
        "patient_id": enrollment.rems_patient_id if enrollment else None,
        "setting_id": rems_setting_id(),
        "session_date": timezone.localdate(session.checked_in_at).isoformat(),
        "dose": (
            f"{int(dose)} mg" if dose in (Decimal(56), Decimal(84)) else ("other" if dose else None)
        ),
        # From the latest submitted intake's medication list (the nurse checks it is current).
        "concomitant_medications": concomitant,
        "lot_number": ", ".join(sorted({a.container.lot.lot_number for a in administrations}))
        or None,
        "bp_pre_dose": f"{pre[-1].bp_text} mmHg" if pre else None,
        "bp_about_40_min": f"{about_40.bp_text} mmHg" if about_40 else None,
        "bp_pre_discharge": f"{discharge.bp_text} mmHg" if discharge else None,
        "total_monitoring_minutes": (
            int((end - session.dose_started_at).total_seconds() // 60)
            if end and session.dose_started_at
            else None
        ),
        # MOAA/S below 5 is some sedation; a CADSS total above 0 some dissociation (suggestions
        # only: the nurse answers the form).
        "sedation_occurred": (any(t is not None and t < 5 for t in moaas) if moaas else None),
        "dissociation_occurred": (any(t is not None and t > 0 for t in cadss) if cadss else None),
        "serious_adverse_events": [
            e.description
            for e in session.adverse_events.all()
            if e.entered_in_error_at is None and e.seriousness == Seriousness.SERIOUS
        ],
    }
    return {k: v for k, v in values.items() if v not in (None, "")}


_REMS_CHOICE = {f.key: f.choices for f in rules.REMS_MONITORING_FIELDS}
# The intake's medication classes as the monitoring form names them (clinical-reference §3.6).
REMS_MEDICATION_CLASSES = {
    "benzodiazepine": "benzodiazepines",
    "sedative_hypnotic": "non-benzodiazepine sedative-hypnotics",
    "psychostimulant": "psychostimulants",
    "maoi": "MAOIs",
    "opioid": "opioids",
}
_REMS_BOOLEANS = {
    "vitals_acceptable_pre_dose",
    "vitals_acceptable_at_completion",
    "sedation_occurred",
    "dissociation_occurred",
    "respiratory_depression_occurred",
}


@transaction.atomic
def rems_form_save(*, actor, session: TreatmentSession, values: dict[str, Any]) -> TreatmentSession:
    """Save (part of) the monitoring form. Only esketamine sessions, before signing."""
    locked = _locked(actor, session, Capability.SESSION_RUN)
    if locked.route != "esketamine":
        raise Conflict("The REMS monitoring form is for esketamine sessions.", code="route")
    known = {f.key for f in rules.REMS_MONITORING_FIELDS}
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            errors[key] = ["Not a field of the monitoring form."]
            continue
        if key == "concomitant_medications":
            # None takes the answer back (unanswered); an empty list answers "none of these".
            allowed = _REMS_CHOICE[key]
            items = None if value is None else list(value)
            if items is not None and any(item not in allowed for item in items):
                errors[key] = ["Choose from the form's list."]
            cleaned[key] = items
        elif key in _REMS_BOOLEANS:
            # `1 in (True, False)` is true in Python: check the type, not equality.
            if value is not None and not isinstance(value, bool):
                errors[key] = ["Answer yes or no."]
            cleaned[key] = value
        elif key == "total_monitoring_minutes":
            if value in (None, ""):
                cleaned[key] = None
            elif isinstance(value, bool) or not str(value).isdigit() or int(value) > 24 * 60:
                errors[key] = ["Enter whole minutes."]
            else:
                cleaned[key] = int(value)
        elif key == "serious_adverse_events":
            if isinstance(value, str):
                value = [line.strip() for line in value.splitlines() if line.strip()]
            if value is not None and not isinstance(value, list | tuple):
                errors[key] = ["List the serious adverse events, one a line."]
                continue
            cleaned[key] = (
                None if value is None else [_text(key, str(v), max_length=300) for v in value]
            )
        else:
            text = _text(key, "" if value is None else str(value), max_length=200)
            if _REMS_CHOICE.get(key) and text and text not in _REMS_CHOICE[key]:
                errors[key] = ["Choose one of the form's answers."]
            cleaned[key] = text or None
    if errors:
        raise InvalidInput(errors)
    before = dict(locked.rems_form or {})
    locked.rems_form = {**before, **cleaned}
    locked.save(update_fields=["rems_form", "updated_at"])
    _audit(
        actor,
        locked,
        "REMS monitoring form saved",
        {"rems_form": {"before": before, "after": locked.rems_form}},
    )
    return locked


@transaction.atomic
def rems_form_mark_submitted(*, actor, session: TreatmentSession, now=None) -> TreatmentSession:
    """Record that the completed form went to the REMS (allowed after signing)."""
    locked = _locked(actor, session, Capability.SESSION_REMS, signed_ok=True)
    if locked.route != "esketamine" or locked.dose_started_at is None:
        raise Conflict("Only a dosed esketamine session has a monitoring form.", code="route")
    if locked.rems_submitted_at is not None:
        raise Conflict("The form is recorded as submitted already.", code="already_submitted")
    missing = rules.rems_form_missing(locked.rems_form or {})
    if missing:
        raise Conflict("Complete the form first.", code="rems_incomplete")
    locked.rems_submitted_at = _now(now)
    locked.rems_submitted_by = actor
    locked.save(update_fields=["rems_submitted_at", "rems_submitted_by", "updated_at"])
    _audit(actor, locked, "REMS monitoring form submitted")
    return locked
