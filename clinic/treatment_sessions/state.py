"""The chair-side session as the page, the chair board and the REMS form read it: where the
pre-checks stand and today's dose, the infusion's delivery, what is left to waste, the
discharge criteria, what stops signing, the signed record's content and the REMS form's
suggestions.

Read-only: nothing here writes. The write services (`services/`) read the same state to decide
(dosing waits for `precheck_status(...).cleared`, signing for `sign_blockers`). Functions read
the session's prefetched rows (`selectors.session_queryset()`) where they can.

Long because: it is the one read model of the chair side, by design: pre-checks and today's
dose, dosing, discharge, signing and the REMS form read the same rows and lean on each other
(the pre-check status carries the dose, signing reads the residuals and the REMS form), and
splitting it would scatter the page's reads across modules again.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from clinic.assessments.models import AssessmentResponse
from clinic.controlled_substances.services import residual_outstanding_mg
from clinic.core.exceptions import InvalidInput
from clinic.patients.choices import Sex
from clinic.patients.selectors import body_measurements_for_dosing, current_body
from clinic.protocols.dosing import DosingError, planned_dose
from clinic.protocols.policy import dosing_policy
from clinic.screening.choices import Route
from clinic.treatment_sessions import rules
from clinic.treatment_sessions.choices import (
    InfusionEventKind,
    OverrideKind,
    PregnancyTest,
    QuestionnaireStatus,
    Seriousness,
    SessionPhase,
    SessionScoreKind,
)
from clinic.treatment_sessions.models import (
    DoseAdministration,
    SessionOverride,
    TreatmentSession,
    VitalsEntry,
)
from clinic.treatment_sessions.policy import (
    policy_from_json,
    rems_setting_id,
)

MG_PER_ESKETAMINE_DEVICE = Decimal(28)


def policy_of(session: TreatmentSession) -> rules.SessionPolicy:
    return policy_from_json(session.policy_values)


def mg_text(value: Decimal | int | None) -> str:
    """An amount of ketamine as the chair reads it ("28 mg"), or a dash when there is none."""
    return "—" if value is None else f"{Decimal(value).normalize():f} mg"


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
    dose: TodaysDose | None
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


def valid_vitals(session: TreatmentSession) -> list[VitalsEntry]:
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
    readings = [v for v in valid_vitals(session) if v.phase == SessionPhase.CHECKED_IN and v.has_bp]
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


@dataclass(frozen=True)
class TodaysDose:
    """Today's dose at the chair: the planned session's, recalculated with the latest weight for
    IV and IM (and that weight with its date); devices for esketamine; minutes for IV."""

    dose_mg: Decimal
    devices: int | None = None
    dose_mg_per_kg: Decimal | None = None
    weight_used_kg: Decimal | None = None
    weight_kg: Decimal | None = None
    weight_measured_on: datetime.date | None = None
    infusion_minutes: int | None = None


def dose_for_today(session: TreatmentSession) -> TodaysDose:
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
    body = None
    if session.route != Route.ESKETAMINE:
        body = current_body(measurements=body_measurements_for_dosing(patient=session.patient))
        if body.weight_kg is None:
            raise InvalidInput({"weight_today_kg": ["Weigh the patient: the dose is per kg."]})
    try:
        # The same planned_dose the plan was written with, fed today's weight.
        dose = planned_dose(
            session.route,
            weight_kg=body.weight_kg if body else None,
            height_cm=body.height_cm if body else None,
            sex=session.patient.sex,
            dose_mg_per_kg=planned.dose_mg_per_kg or plan.dose_mg_per_kg,
            weight_basis=plan.weight_basis or None,
            infusion_minutes=planned.infusion_minutes,
            dose_mg=planned.dose_mg or plan.esketamine_dose_mg,
            policy=dosing_policy(),
        )
    except DosingError as error:
        raise InvalidInput({error.field or "dose": [str(error)]}) from error
    assert dose.dose_mg is not None  # only a sublingual plan may leave its mg unset
    return TodaysDose(
        dose_mg=dose.dose_mg,
        devices=dose.devices,
        dose_mg_per_kg=dose.dose_mg_per_kg,
        weight_used_kg=dose.weight_used_kg,
        weight_kg=body.weight_kg if body else None,
        weight_measured_on=body.weight_measured_on if body else None,
        infusion_minutes=dose.infusion_minutes,
    )


def precheck_status(session: TreatmentSession, now=None) -> PreCheckStatus:
    """Where each pre-check stands. Reads the session's related rows (prefetch them)."""
    now = now or timezone.now()
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
    if session.patient.sex == Sex.MALE:
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


def infusion_running(session: TreatmentSession) -> bool:
    """True while the infusion is started and not paused or stopped."""
    events = [e.kind for e in session.infusion_events.all()]
    return bool(events) and events[-1] in (
        InfusionEventKind.START,
        InfusionEventKind.RESUME,
        InfusionEventKind.RATE,
    )


def infusion_delivery(
    session: TreatmentSession, until: datetime.datetime
) -> rules.InfusionDelivery:
    """What the pump could have delivered by `until` (rules.infusion_deliverable), from the
    session's recorded pump events. Reads the prefetched events."""
    # Stored when the infusion started; only an infusion under way or stopped is asked about.
    assert session.dose_planned_mg is not None and session.infusion_minutes is not None
    return rules.infusion_deliverable(
        planned_mg=session.dose_planned_mg,
        planned_minutes=session.infusion_minutes,
        events=[
            rules.InfusionEvent(kind=e.kind, at=e.occurred_at, rate_ml_per_h=e.rate_ml_per_h)
            for e in session.infusion_events.all()
        ],
        until=until,
    )


def devices_needed(session: TreatmentSession) -> int | None:
    dose = session.dose_planned_mg
    return int(dose / MG_PER_ESKETAMINE_DEVICE) if dose else None


def residual_outstanding(session: TreatmentSession) -> list[tuple[DoseAdministration, Decimal]]:
    out = []
    for administration in session.administrations.all():
        outstanding = residual_outstanding_mg(administration.ledger_entry)
        if outstanding > 0:
            out.append((administration, outstanding))
    return out


VITALS_FIELDS = [
    "systolic_mmhg",
    "diastolic_mmhg",
    "heart_rate_bpm",
    "spo2_percent",
    "respiratory_rate_per_min",
    "temperature_c",
]


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
    now = now or timezone.now()
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


def _iso(value) -> str | None:
    return value.astimezone(datetime.UTC).isoformat() if value is not None else None


@dataclass(frozen=True)
class RecordRows:
    """The rows a signed record names: model instances (saved or not), each list in its
    model's order (Meta.ordering)."""

    administrations: Sequence[Any] = ()
    infusion_events: Sequence[Any] = ()
    vitals: Sequence[Any] = ()
    alerts: Sequence[Any] = ()
    scores: Sequence[Any] = ()
    side_effects: Sequence[Any] = ()
    adverse_events: Sequence[Any] = ()
    overrides: Sequence[Any] = ()


def _decimal_text(row: Any, name: str) -> str | None:
    """A decimal as its column stores it (to the field's places): the same text whether the
    value came from the database or was built in memory."""
    value = getattr(row, name)
    if value is None:
        return None
    places = getattr(row._meta.get_field(name), "decimal_places", None)
    if isinstance(value, Decimal) and places is not None:
        return str(value.quantize(Decimal(1).scaleb(-places)))
    return str(value)


def session_content(session: TreatmentSession) -> dict[str, Any]:
    """The signed record: everything the session says, in a stable order."""
    rows = RecordRows(
        administrations=list(
            session.administrations.select_related("container__lot", "recorded_by")
        ),
        infusion_events=list(session.infusion_events.all()),
        vitals=list(session.vitals.all()),
        alerts=list(session.alerts.select_related("acknowledged_by")),
        scores=list(session.scores.select_related("response")),
        side_effects=list(session.side_effects.all()),
        adverse_events=list(session.adverse_events.all()),
        overrides=list(session.overrides.select_related("prescriber")),
    )
    return signed_record(session, patient_uuid=session.patient.uuid, rows=rows)


def signed_record(
    session: TreatmentSession, *, patient_uuid: uuid.UUID, rows: RecordRows
) -> dict[str, Any]:
    """The signed record of `session` and its `rows` (each list in its model's order): what
    `session_content` reads from the database, or what a bulk load holds in memory (the demo
    history). Datetimes are written in UTC and decimals to their field's places, so the same
    record gives the same content from either."""
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
    content: dict[str, Any] = {"session": str(session.uuid), "patient": str(patient_uuid)}
    for field in fields:
        value = getattr(session, field)
        if isinstance(value, datetime.datetime):
            value = _iso(value)
        elif isinstance(value, Decimal):
            value = _decimal_text(session, field)
        content[field] = value
    content["administrations"] = [
        {
            "kind": a.kind,
            "container": a.container.label,
            "lot": a.container.lot.lot_number,
            "drawn_mg": _decimal_text(a, "drawn_mg"),
            "given_mg": _decimal_text(a, "given_mg"),
            "given_at": _iso(a.given_at),
            "im_site": a.im_site,
            "device_number": a.device_number,
            "expected_max_mg": _decimal_text(a, "expected_max_mg"),
            "given_above_expected_reason": a.given_above_expected_reason,
            "by": a.recorded_by.username,
        }
        for a in rows.administrations
    ]
    content["infusion_events"] = [
        {
            "kind": e.kind,
            "at": _iso(e.occurred_at),
            "rate_ml_per_h": _decimal_text(e, "rate_ml_per_h") or "",
            "reason": e.reason,
        }
        for e in rows.infusion_events
    ]
    content["vitals"] = [
        {
            "taken_at": _iso(v.taken_at),
            **{
                f: (_decimal_text(v, f) if getattr(v, f) is not None else None)
                for f in VITALS_FIELDS
            },
            "entered_in_error": v.entered_in_error_reason if v.entered_in_error_at else None,
        }
        for v in rows.vitals
    ]
    content["alerts"] = [
        {
            "code": a.code,
            "message": a.message,
            "action": a.action,
            "note": a.action_note,
            "by": a.acknowledged_by.username if a.acknowledged_by is not None else None,
        }
        for a in rows.alerts
    ]
    content["scores"] = [
        {
            "kind": s.kind,
            "taken_at": _iso(s.response.taken_at),
            "answers": s.response.answers,
            "total": s.response.total,
        }
        for s in rows.scores
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
        for e in rows.side_effects
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
        for e in rows.adverse_events
    ]
    content["overrides"] = [
        {"kind": o.kind, "by": o.prescriber.username, "reason": o.reason, "unmet": o.unmet}
        for o in rows.overrides
    ]
    return content


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
            f"{mg_text(outstanding)} left in {administration.container.label} awaits "
            "witnessed waste."
        )
    if session.route == Route.ESKETAMINE and session.dose_started_at is not None:
        missing = rules.rems_form_missing(session.rems_form or {})
        if missing:
            labels = {f.key: f.label for f in rules.REMS_MONITORING_FIELDS}
            problems.append(
                "The REMS monitoring form is incomplete: "
                + ", ".join(labels[k] for k in missing)
                + "."
            )
    return problems


def rems_form_prefill(session: TreatmentSession) -> dict[str, Any]:
    """Suggestions for the monitoring form from the session's own record; staff confirm each."""
    vitals = [v for v in valid_vitals(session) if v.has_bp]
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
            key=REMS_FORM_CHOICES["concomitant_medications"].index,
        )
        if intake is not None
        else None
    )
    values: dict[str, Any] = {
        "patient_id": enrollment.rems_patient_id if enrollment else None,
        # The session's location is its chair's (appointment → chair → room → location).
        "setting_id": rems_setting_id(session.appointment.chair.room.location),
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


REMS_FORM_CHOICES = {f.key: f.choices for f in rules.REMS_MONITORING_FIELDS}


# The intake's medication classes as the monitoring form names them (clinical-reference §3.6).
REMS_MEDICATION_CLASSES = {
    "benzodiazepine": "benzodiazepines",
    "sedative_hypnotic": "non-benzodiazepine sedative-hypnotics",
    "psychostimulant": "psychostimulants",
    "maoi": "MAOIs",
    "opioid": "opioids",
}
