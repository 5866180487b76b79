"""Treatment plans: a course for one patient on one route, made only through the eligibility
gate, with every session's dose calculated from the latest weight and every change audited."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, InvalidInput, PermissionDenied
from clinic.core.records import required_text
from clinic.patients.models import Patient
from clinic.patients.selectors import CurrentBody, can_act_clinically
from clinic.patients.services import patient_lock
from clinic.protocols import selectors
from clinic.protocols.choices import Phase, PlanStatus
from clinic.protocols.dosing import DosingError, PlannedDose, planned_dose
from clinic.protocols.models import PlannedSession, ProtocolTemplate, TreatmentPlan
from clinic.protocols.policy import dosing_policy, plan_date_policy
from clinic.protocols.schedules import (
    BUILT_IN,
    Schedule,
    ScheduledSession,
    ScheduleError,
    plan_schedule,
    validate_definition,
)
from clinic.protocols.words import errors_in_words
from clinic.screening.choices import Route
from clinic.screening.selectors import latest_decision, planning_clearance

MAINTENANCE_CODE = "maintenance"


def builtin_templates_ensure() -> None:
    """The built-in protocols (label and trial schedules) as version 1 of their code."""
    have = set(ProtocolTemplate.objects.filter(built_in=True).values_list("code", flat=True))
    for code, definition in BUILT_IN.items():
        if code not in have:
            ProtocolTemplate.objects.get_or_create(
                code=code,
                version=1,
                defaults={
                    "name": definition.name or code,
                    "route": definition.route or "",
                    "definition": definition.as_dict(),
                    "built_in": True,
                },
            )


def _plan_schedule_error(error: ScheduleError) -> InvalidInput:
    """For the plan pages: the option at fault named in words."""
    return InvalidInput(errors_in_words({error.field or "schedule": [str(error)]}))


# A dosing refusal names the calculator's request field; on a plan it belongs to the choice the
# prescriber can change (a missing height or sex comes from choosing the ideal or adjusted
# weight; the weight itself is recorded on the chart).
_PLAN_FIELD_OF = {
    "dose_mg": "esketamine_dose_mg",
    "weight_kg": "weight",
    "height_cm": "weight_basis",
    "sex": "weight_basis",
}


def _day(value: datetime.date) -> str:
    return f"{value:%m/%d/%Y}"


def _check_start_date(*, patient: Patient, route: str, start_date: datetime.date) -> None:
    """A start date within the clinic's plausibility bounds (CLINIC_POLICY["plan_dates"]), not
    before the eligibility decision that opens the route nor, for esketamine, before the
    patient's REMS enrolment [C15]."""
    problem = plan_date_policy().start_problem(start_date, timezone.localdate())
    if not problem:
        decision = latest_decision(patient)
        signed_on = timezone.localdate(decision.signed_at) if decision else None
        if signed_on and start_date < signed_on:
            problem = (
                "A plan cannot start before the eligibility decision that opens its route "
                f"(signed {_day(signed_on)})."
            )
        elif route == Route.ESKETAMINE:
            enrolled = (
                patient.rems_enrollments.order_by("enrolled_on")
                .values_list("enrolled_on", flat=True)
                .first()
            )
            if enrolled and start_date < enrolled:
                problem = (
                    "An esketamine plan cannot start before the patient's REMS enrolment "
                    f"({_day(enrolled)})."
                )
    if problem:
        raise InvalidInput({"start_date": [problem]})


@dataclass(frozen=True)
class DoseChoice:
    """The prescriber's dose values for a session; None leaves it to the template's dose (or,
    for IV and IM, to the clinic's default). `dose_mg` is the esketamine or sublingual mg."""

    dose_mg_per_kg: Decimal | None = None
    weight_basis: str | None = None
    dose_mg: Decimal | int | None = None
    infusion_minutes: int | None = None


def session_dose(
    *,
    route: str,
    session: ScheduledSession | None,
    patient: Patient,
    body: CurrentBody,
    choice: DoseChoice,
) -> PlannedDose:
    """The calculated dose of one session (dosing.planned_dose): mg/kg × the weight basis for
    IV/IM (from the latest weight), a fixed mg dose for esketamine and sublingual. The plan's own
    choice wins over the template's dose for the session."""
    policy = dosing_policy()
    template_dose = session.dose if session is not None else None
    if route in (Route.IV, Route.IM) and body.weight_kg is None:
        raise InvalidInput(
            {"weight": ["Record the patient's weight first: IV and IM doses are per kg."]}
        )
    try:
        return planned_dose(
            route,
            weight_kg=body.weight_kg,
            height_cm=body.height_cm,
            sex=patient.sex,
            dose_mg_per_kg=choice.dose_mg_per_kg
            or (template_dose.dose_mg_per_kg if template_dose else None),
            weight_basis=choice.weight_basis,
            infusion_minutes=choice.infusion_minutes
            or (template_dose.infusion_minutes if template_dose else None),
            dose_mg=choice.dose_mg or (template_dose.dose_mg if template_dose else None),
            policy=policy,
        )
    except DosingError as error:
        field = _PLAN_FIELD_OF.get(error.field, error.field or "dose")
        raise InvalidInput(errors_in_words({field: [str(error)]})) from error


def _stored(dose: PlannedDose) -> dict[str, Decimal | int | None]:
    """A planned session's dose fields."""
    return {
        "dose_mg": dose.dose_mg,
        "dose_mg_per_kg": dose.dose_mg_per_kg,
        "weight_used_kg": dose.weight_used_kg,
        "infusion_minutes": dose.infusion_minutes,
    }


@dataclass(frozen=True)
class PlanPreview:
    """What the prescriber signs: the schedule, and each session with its dose on the latest
    weight (and that weight)."""

    schedule: Schedule
    rows: tuple[tuple[ScheduledSession, PlannedDose], ...]
    body: CurrentBody


def plan_preview(
    *,
    patient: Patient,
    template: ProtocolTemplate,
    start_date: datetime.date,
    options: dict[str, Any],
    dose_mg_per_kg: Decimal | None = None,
    weight_basis: str | None = None,
    esketamine_dose_mg: int | None = None,
    infusion_minutes: int | None = None,
) -> PlanPreview:
    """The schedule and each session's dose, without saving: what the prescriber signs. A start
    date outside the clinic's bounds is refused here too, so no preview shows such a plan."""
    _check_start_date(patient=patient, route=template.route, start_date=start_date)
    try:
        definition = validate_definition(template.definition, dosing_policy())
        schedule = plan_schedule(
            definition, start_date, options, protocol=template.code, policy=dosing_policy()
        )
    except ScheduleError as error:
        raise _plan_schedule_error(error) from error
    body = selectors.dosing_body(patient=patient)
    choice = DoseChoice(
        dose_mg_per_kg=dose_mg_per_kg,
        weight_basis=weight_basis,
        dose_mg=esketamine_dose_mg,
        infusion_minutes=infusion_minutes,
    )
    # The plan's own dose choice applies from session 2 for esketamine TRD (session 1 is the
    # label's 56 mg start [C2]); for IV/IM it applies to every session.
    first_esketamine = dataclasses.replace(choice, dose_mg=None)
    rows = tuple(
        (
            session,
            session_dose(
                route=template.route,
                session=session,
                patient=patient,
                body=body,
                choice=(
                    first_esketamine
                    if template.route == Route.ESKETAMINE and session.number == 1
                    else choice
                ),
            ),
        )
        for session in schedule.sessions
    )
    return PlanPreview(schedule=schedule, rows=rows, body=body)


@transaction.atomic
def plan_create(
    *,
    actor: User,
    patient: Patient,
    template: ProtocolTemplate,
    start_date: datetime.date,
    options: dict[str, Any] | None = None,
    dose_mg_per_kg: Decimal | None = None,
    weight_basis: str | None = None,
    esketamine_dose_mg: int | None = None,
    infusion_minutes: int | None = None,
    notes: str = "",
) -> TreatmentPlan:
    # One plan decision per patient at a time.
    locked = patient_lock(actor=actor, patient_id=patient.pk)
    if locked is None or not can_act_clinically(
        actor=actor, patient=locked, capability=Capability.PLAN_PRESCRIBE
    ):
        raise PermissionDenied("Only a prescriber on the care team makes a treatment plan.")
    clearance = planning_clearance(patient=locked, route=template.route)
    if not clearance.allowed:
        raise Conflict(clearance.reason, code="not_cleared")
    if not template.is_active:
        raise InvalidInput({"template": ["That template is retired."]})
    preview = plan_preview(
        patient=locked,
        template=template,
        start_date=start_date,
        options=options or {},
        dose_mg_per_kg=dose_mg_per_kg,
        weight_basis=weight_basis,
        esketamine_dose_mg=esketamine_dose_mg,
        infusion_minutes=infusion_minutes,
    )
    decision = latest_decision(locked)
    if decision is None:  # not reached: a cleared route was opened by a signed decision
        raise Conflict(clearance.reason, code="not_cleared")
    plan = TreatmentPlan.objects.create(
        patient=locked,
        template=template,
        route=template.route,
        eligibility_decision=decision,
        start_date=start_date,
        dose_mg_per_kg=dose_mg_per_kg,
        weight_basis=weight_basis or dosing_policy().default_weight_basis,
        esketamine_dose_mg=esketamine_dose_mg,
        infusion_minutes=infusion_minutes if template.route == Route.IV else None,
        session_count=len(preview.rows),
        notes=(notes or "").strip(),
        prescribed_by=actor,
    )
    PlannedSession.objects.bulk_create(
        [
            PlannedSession(
                plan=plan,
                number=session.number,
                planned_date=session.date,
                phase=session.phase,
                **_stored(dose),
            )
            for session, dose in preview.rows
        ]
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="treatment_plan",
        object_id=plan.uuid,
        patient=locked,
        summary=(
            f"Plan drafted: {template.name} v{template.version}, "
            f"{len(preview.rows)} sessions from {start_date}"
        ),
        changes={
            "doses_mg": {
                "before": None,
                "after": [str(dose.dose_mg) for _, dose in preview.rows],
            },
            "warnings": {"before": None, "after": list(preview.schedule.warnings)},
        },
    )
    return plan


# A check of the locked plan before it changes (the API's If-Match, core/api_versions.py).
Precondition = Callable[[TreatmentPlan], None]


def _lock_plan(
    actor: User, plan: TreatmentPlan, precondition: Precondition | None = None
) -> TreatmentPlan:
    locked = TreatmentPlan.objects.select_for_update().select_related("template").get(pk=plan.pk)
    patient = Patient.objects.prefetch_related("care_team_members").get(pk=locked.patient_id)
    if not can_act_clinically(actor=actor, patient=patient, capability=Capability.PLAN_PRESCRIBE):
        raise PermissionDenied("Only a prescriber on the care team changes a treatment plan.")
    locked.patient = patient
    if precondition is not None:
        precondition(locked)
    return locked


def _audit(
    actor: User,
    plan: TreatmentPlan,
    summary: str,
    changes: dict[str, Any] | None = None,
) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="treatment_plan",
        object_id=plan.uuid,
        patient=plan.patient,
        summary=summary[:300],
        changes=changes or {},
    )


@transaction.atomic
def plan_activate(
    *, actor: User, plan: TreatmentPlan, precondition: Precondition | None = None
) -> TreatmentPlan:
    locked = _lock_plan(actor, plan, precondition)
    if locked.status != PlanStatus.DRAFT:
        raise Conflict("Only a draft plan is activated.", code="plan_not_draft")
    clearance = planning_clearance(patient=locked.patient, route=locked.route)
    if not clearance.allowed:
        raise Conflict(clearance.reason, code="not_cleared")
    # Lock the patient: two activations at once must not both pass the one-active-plan check.
    patient_lock(actor=actor, patient_id=locked.patient_id)
    if (
        TreatmentPlan.objects.filter(
            patient_id=locked.patient_id, route=locked.route, status=PlanStatus.ACTIVE
        )
        .exclude(pk=locked.pk)
        .exists()
    ):
        raise Conflict(
            "The patient already has an active plan on this route: complete or discontinue "
            "it first.",
            code="plan_already_active",
        )
    locked.status = PlanStatus.ACTIVE
    locked.activated_at = timezone.now()
    locked.save(update_fields=["status", "activated_at", "updated_at"])
    _audit(
        actor,
        locked,
        "Plan signed and activated",
        {"status": {"before": "draft", "after": "active"}},
    )
    return locked


@transaction.atomic
def plan_titrate(
    *,
    actor: User,
    plan: TreatmentPlan,
    from_session: int,
    reason: str,
    dose_mg_per_kg: Decimal | None = None,
    esketamine_dose_mg: int | None = None,
    precondition: Precondition | None = None,
) -> TreatmentPlan:
    """A new dose for this and every later session (not cancelled ones), with a reason."""
    locked = _lock_plan(actor, plan, precondition)
    reason = required_text("reason", reason, "Say why the dose changes.")
    if locked.status not in (PlanStatus.DRAFT, PlanStatus.ACTIVE):
        raise Conflict("A finished plan cannot be titrated.", code="plan_finished")
    sessions = list(
        locked.sessions.select_for_update()
        .filter(number__gte=from_session, cancelled=False)
        .order_by("number")
    )
    if not sessions:
        raise InvalidInput({"from_session": ["No planned session from that number on."]})
    if locked.route in (Route.IV, Route.IM) and dose_mg_per_kg is None:
        raise InvalidInput({"dose_mg_per_kg": ["Enter the new dose in mg/kg."]})
    if locked.route in (Route.ESKETAMINE, Route.SUBLINGUAL) and esketamine_dose_mg is None:
        raise InvalidInput({"esketamine_dose_mg": ["Enter the new dose in mg."]})
    body = selectors.dosing_body(patient=locked.patient)
    before = [str(s.dose_mg) for s in sessions]
    for session in sessions:
        # A new dose, over the session's own infusion time.
        dose = session_dose(
            route=locked.route,
            session=None,
            patient=locked.patient,
            body=body,
            choice=DoseChoice(
                dose_mg_per_kg=dose_mg_per_kg,
                weight_basis=locked.weight_basis,
                dose_mg=esketamine_dose_mg,
                infusion_minutes=session.infusion_minutes or locked.infusion_minutes,
            ),
        )
        session.dose_mg = dose.dose_mg
        session.dose_mg_per_kg = dose.dose_mg_per_kg
        session.weight_used_kg = dose.weight_used_kg
        session.infusion_minutes = dose.infusion_minutes
        session.dose_change_reason = reason[:300]
    PlannedSession.objects.bulk_update(
        sessions,
        ["dose_mg", "dose_mg_per_kg", "weight_used_kg", "infusion_minutes", "dose_change_reason"],
    )
    _audit(
        actor,
        locked,
        f"Dose titrated from session {from_session}: {reason}",
        {"dose_mg": {"before": before, "after": [str(s.dose_mg) for s in sessions]}},
    )
    return locked


@transaction.atomic
def plan_set_maintenance(
    *,
    actor: User,
    plan: TreatmentPlan,
    interval_weeks: int,
    count: int,
    start_date: datetime.date,
    precondition: Precondition | None = None,
) -> TreatmentPlan:
    """After induction: maintenance every 2–8 weeks (founding documents), appended to the plan."""
    locked = _lock_plan(actor, plan, precondition)
    if locked.status != PlanStatus.ACTIVE:
        raise Conflict("Maintenance is set on an active plan.", code="plan_not_active")
    last = locked.sessions.aggregate(number=Max("number"), date=Max("planned_date"))
    if start_date <= (last["date"] or start_date - datetime.timedelta(days=1)):
        raise InvalidInput({"start_date": ["Maintenance starts after the last planned session."]})
    # The same plausibility bounds as a plan's start (CLINIC_POLICY["plan_dates"]), counted from
    # the later of today and the last planned session.
    bounds = plan_date_policy()
    today = timezone.localdate()
    if start_date < bounds.earliest_start(today):
        raise InvalidInput({"start_date": ["Maintenance cannot start in the past."]})
    latest = bounds.latest_start(max(today, last["date"] or today))
    if start_date > latest:
        raise InvalidInput(
            {
                "start_date": [
                    f"Maintenance starts on {_day(latest)} at the latest ("
                    f"{bounds.start_days_ahead} days after the later of today and the last "
                    "planned session, clinic policy): check the year."
                ]
            }
        )
    try:
        schedule = plan_schedule(
            BUILT_IN[MAINTENANCE_CODE],
            start_date,
            {"interval_weeks": interval_weeks, "count": count},
            protocol=MAINTENANCE_CODE,
            policy=dosing_policy(),
        )
    except ScheduleError as error:
        raise _plan_schedule_error(error) from error
    latest_dose = locked.sessions.filter(cancelled=False).order_by("-number").first()
    if locked.route in (Route.IV, Route.IM):
        # The latest session's mg/kg and infusion time, on today's weight.
        dose = session_dose(
            route=locked.route,
            session=None,
            patient=locked.patient,
            body=selectors.dosing_body(patient=locked.patient),
            choice=DoseChoice(
                dose_mg_per_kg=(
                    latest_dose.dose_mg_per_kg if latest_dose else locked.dose_mg_per_kg
                ),
                weight_basis=locked.weight_basis,
                infusion_minutes=(latest_dose.infusion_minutes if latest_dose else None)
                or locked.infusion_minutes,
            ),
        )
    else:
        # A fixed mg dose carries over as it is.
        dose = PlannedDose(dose_mg=latest_dose.dose_mg if latest_dose else None)
    new = [
        PlannedSession(
            plan=locked,
            number=(last["number"] or 0) + offset,
            planned_date=session.date,
            phase=Phase.MAINTENANCE,
            **_stored(dose),
        )
        for offset, session in enumerate(schedule.sessions, start=1)
    ]
    PlannedSession.objects.bulk_create(new)
    locked.maintenance_interval_weeks = interval_weeks
    locked.session_count = locked.sessions.count()
    locked.save(update_fields=["maintenance_interval_weeks", "session_count", "updated_at"])
    _audit(
        actor,
        locked,
        f"Maintenance every {interval_weeks} weeks: {count} sessions from {start_date}",
        {"maintenance_interval_weeks": {"before": None, "after": interval_weeks}},
    )
    return locked


@transaction.atomic
def plan_finish(
    *,
    actor: User,
    plan: TreatmentPlan,
    discontinued: bool,
    reason: str = "",
    precondition: Precondition | None = None,
) -> TreatmentPlan:
    locked = _lock_plan(actor, plan, precondition)
    if locked.status in (PlanStatus.COMPLETED, PlanStatus.DISCONTINUED):
        raise Conflict("This plan has already ended.", code="plan_ended")
    if discontinued:
        reason = required_text("reason", reason, "Say why the plan is discontinued.")
    before = locked.status
    locked.status = PlanStatus.DISCONTINUED if discontinued else PlanStatus.COMPLETED
    locked.ended_at = timezone.now()
    locked.end_reason = reason[:300]
    locked.save(update_fields=["status", "ended_at", "end_reason", "updated_at"])
    _audit(
        actor,
        locked,
        f"Plan {locked.status}" + (f": {reason}" if reason else ""),
        {"status": {"before": before, "after": locked.status}},
    )
    return locked
