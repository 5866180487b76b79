"""Demo chair side: controlled-substance stock to dose from, and today's appointments to check
in (two IV infusions and one esketamine session), so a nurse can run a session start to finish
on the day `seed_demo` runs.

Idempotent. Stock is received once per product. Today's appointments are added only until the
day holds the wanted number per route (whatever booked them), so running the command again the
same day adds nothing, and running it on a later day books that day.

Plans, eligibility and REMS enrolment go through the services. Today's appointments are written
directly (and audited as the front desk's bookings): the booking service rightly refuses a time
that has passed, and the demo must work whenever it is run (at 17:00, on a Sunday). They still
fall within today's opening hours and the nurse's shift, which the demo sets for every day
(clinic/demo/scheduling.py), so the calendar, the day list and the chair board agree; chair and
patient overlaps are avoided, as the database's exclusion constraints require on PostgreSQL, and
a nurse gets no more chairs at once than the clinic's limit (`nurse_max_concurrent_chairs`).

The stock is demo data: a clinic enters its own products from their labels. The esketamine
device is 28 mg (label [C1], [C2]); the racemic vial is a common presentation of ketamine
hydrochloride injection (50 mg/mL, 10 mL).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from clinic.controlled_substances import services as stock
from clinic.controlled_substances.choices import ProductKind
from clinic.controlled_substances.models import Product
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.patients.choices import CareTeamRole
from clinic.protocols import services as protocol_services
from clinic.protocols.choices import PlanStatus
from clinic.protocols.models import PlannedSession, ProtocolTemplate
from clinic.scheduling import services as scheduling
from clinic.scheduling.choices import ACTIVE_STATUSES, BOOKED_SESSION_STATUSES, AppointmentStatus
from clinic.scheduling.models import Appointment, Chair, OpeningHours, StaffShift
from clinic.scheduling.policy import scheduling_policy
from clinic.screening import selectors as screening_selectors
from clinic.screening import services as screening_services
from clinic.screening.choices import Route


@dataclass(frozen=True)
class DemoProduct:
    """A product as its label states it (a vial's strength and volume, or a device's mg)."""

    name: str
    kind: str
    strength_mg_per_ml: Decimal | None = None
    volume_ml: Decimal | None = None
    mg_per_device: Decimal | None = None


VIAL = DemoProduct(
    name="Ketamine HCl injection 50 mg/mL, 10 mL vial",
    kind=ProductKind.RACEMIC_KETAMINE_VIAL,
    strength_mg_per_ml=Decimal("50"),
    volume_ml=Decimal("10"),
)
DEVICE = DemoProduct(
    name="Spravato (esketamine) 28 mg nasal spray device",
    kind=ProductKind.ESKETAMINE_DEVICE,
    mg_per_device=Decimal("28"),
)
# (product, containers, lot number): enough for a demo week (84 mg = 3 devices [C2]).
RECEIPTS = ((VIAL, 6, "DEMO-K501"), (DEVICE, 12, "DEMO-E281"))
EXPIRY_DAYS = 540
# Today's appointments per route, and the protocol a new plan for them follows.
TODAY_WANTED = (("iv", 2), ("esketamine", 1))
TEMPLATES = {"iv": "iv-induction-2x-weekly", "esketamine": "esketamine-trd"}
# The day's first possible start, and the step between candidate starts (demo settings).
DAY_START = datetime.time(8, 0)
SLOT_STEP = datetime.timedelta(minutes=15)


# --------------------------------------------------------------------------- stock


def seed_session_stock(*, prescriber) -> int:
    """Receive the demo products once (the prescriber is a registrant's agent)."""
    received = 0
    for spec, containers, lot_number in RECEIPTS:
        if Product.objects.filter(name__iexact=spec.name).exists():
            continue
        product = stock.product_create(
            actor=prescriber,
            name=spec.name,
            kind=spec.kind,
            strength_mg_per_ml=spec.strength_mg_per_ml,
            volume_ml=spec.volume_ml,
            mg_per_device=spec.mg_per_device,
        )
        stock.receipt_record(
            actor=prescriber,
            product=product,
            supplier="Example Pharma Distribution (demo)",
            supplier_address="100 Demo Way, Newark, NJ 07102",
            supplier_dea_number="RX0000000",
            invoice="DEMO-INV-1",
            lot_number=lot_number,
            expiry=timezone.localdate() + datetime.timedelta(days=EXPIRY_DAYS),
            containers=containers,
        )
        received += 1
    return received


# --------------------------------------------------------------------------- today's patients


def _on_team(patient, *, nurse, prescriber) -> bool:
    members = {(m.staff_id, m.team_role) for m in patient.care_team_members.all()}
    return (prescriber.pk, CareTeamRole.PRIMARY_PRESCRIBER) in members and any(
        staff_id == nurse.pk for staff_id, _role in members
    )


def _weighed(patient) -> bool:
    return patient.measurements.filter(
        weight_kg__isnull=False, entered_in_error_at__isnull=True
    ).exists()


def _next_session(plan) -> PlannedSession | None:
    booked = Appointment.objects.filter(
        planned_session__plan=plan, status__in=BOOKED_SESSION_STATUSES
    ).values_list("planned_session_id", flat=True)
    return (
        plan.sessions.filter(cancelled=False)
        .exclude(pk__in=list(booked))
        .order_by("number")
        .first()
    )


def _clear_for_esketamine(patient, *, prescriber) -> bool:
    """Open esketamine on the patient's current decision (re-signed with the same findings'
    justifications) and record the REMS enrolment, through the screening services."""
    decision = screening_selectors.latest_decision(patient)
    if (
        decision is None
        or screening_selectors.needs_review(decision)
        or decision.outcome != "eligible"
    ):
        return False
    if Route.ESKETAMINE not in decision.approved_routes:
        screening_services.decision_sign(
            actor=prescriber,
            intake=decision.intake,
            outcome="eligible",
            approved_routes=[*decision.approved_routes, Route.ESKETAMINE],
            justifications=dict(decision.justifications),
        )
    if not patient.rems_enrollments.exists():
        screening_services.rems_record(
            actor=prescriber,
            patient=patient,
            enrolled_on=timezone.localdate(),
            signed_by_patient=True,
            prescriber=prescriber,
        )
    return screening_selectors.planning_clearance(patient=patient, route=Route.ESKETAMINE).allowed


def _session_for_today(patient, route: str, *, prescriber) -> PlannedSession | None:
    """The patient's next unbooked session on the route: from their active plan, or from a
    new plan starting today. None when the patient is not a fit for the demo."""
    plans = list(patient.treatment_plans.all())
    active = [p for p in plans if p.status == PlanStatus.ACTIVE and p.route == route]
    if active:
        return _next_session(active[0])
    if plans:  # a patient with another course is left to it
        return None
    if route == Route.ESKETAMINE:
        if not _clear_for_esketamine(patient, prescriber=prescriber):
            return None
    elif not screening_selectors.planning_clearance(patient=patient, route=route).allowed:
        return None
    protocol_services.builtin_templates_ensure()
    template = ProtocolTemplate.objects.get(code=TEMPLATES[route], version=1)
    plan = protocol_services.plan_create(
        actor=prescriber, patient=patient, template=template, start_date=timezone.localdate()
    )
    plan = protocol_services.plan_activate(actor=prescriber, plan=plan)
    return _next_session(plan)


def _slot(*, route: str, length: datetime.timedelta, patient, nurses, today: datetime.date):
    """The first (start, chair, nurse) today from the next quarter hour (else from the
    morning) within the clinic's opening hours and the nurse's shift, where the chair, the
    nurse and the patient are all free. None when today is closed."""
    policy = scheduling_policy()
    needs = set(policy.capabilities_for(route))
    chairs = [
        c
        for c in Chair.objects.filter(active=True, room__active=True).select_related("room")
        if needs <= set(c.capabilities)
    ]
    hours = OpeningHours.objects.filter(weekday=today.weekday()).first()
    if hours is None:
        return None
    day_start = scheduling.at(today, max(DAY_START, hours.opens))
    day_end = scheduling.at(today, hours.closes)
    on_shift = {
        shift.staff_id: (scheduling.at(today, shift.start), scheduling.at(today, shift.end))
        for shift in StaffShift.objects.filter(staff__in=nurses, date=today)
    }
    now = timezone.now().replace(second=0, microsecond=0)
    first = day_start
    while first < now:
        first += SLOT_STEP
    later = []
    start = first
    while start + length <= day_end:
        later.append(start)
        start += SLOT_STEP
    earlier = []
    start = day_start
    while start < first and start + length <= day_end:
        earlier.append(start)
        start += SLOT_STEP
    busy = list(
        Appointment.objects.filter(
            status__in=ACTIVE_STATUSES, starts_at__lt=day_end, ends_at__gt=day_start
        )
    )
    for start in later + earlier:
        end = start + length
        clashes = [a for a in busy if a.starts_at < end and a.ends_at > start]
        if any(a.patient_id == patient.pk for a in clashes):
            continue
        for nurse in nurses:
            shift = on_shift.get(nurse.pk)
            if shift is None or not (shift[0] <= start and end <= shift[1]):
                continue
            held = [(a.starts_at, a.ends_at) for a in clashes if a.nurse_id == nurse.pk]
            if (
                scheduling.peak_concurrency(held, start, end).count
                >= policy.nurse_max_concurrent_chairs
            ):
                continue
            for chair in chairs:
                if not any(a.chair_id == chair.pk for a in clashes):
                    return start, chair, nurse
    return None


def _book_today(*, patient, session: PlannedSession, route: str, nurses, front_desk, today):
    length = datetime.timedelta(
        minutes=scheduling.appointment_length_min(route=route, planned_session=session)
    )
    found = _slot(route=route, length=length, patient=patient, nurses=nurses, today=today)
    if found is None:
        return None
    start, chair, nurse = found
    appointment = Appointment.objects.create(
        patient=patient,
        chair=chair,
        nurse=nurse,
        starts_at=start,
        ends_at=start + length,
        route=route,
        planned_session=session,
        created_by=front_desk,
    )
    audit_record(
        actor=front_desk,
        action=AuditAction.CREATE,
        object_type="appointment",
        object_id=appointment.uuid,
        patient=patient,
        summary=(
            f"Demo data: booked {Route(route).label} today "
            f"{scheduling.span(appointment.starts_at, appointment.ends_at)}, {chair.name}, "
            f"session {session.number}"
        ),
    )
    return appointment


def seed_todays_appointments(*, prescriber, nurses, front_desk, patients) -> int:
    """Book today's demo sessions (two IV, one esketamine) for patients whose care team has
    the demo prescriber and nurse (`nurses[0]`). Returns how many were booked."""
    if not Chair.objects.exists():
        return 0
    today = timezone.localdate()
    day_start = scheduling.at(today, datetime.time.min)
    todays = Appointment.objects.filter(
        starts_at__gte=day_start, starts_at__lt=day_start + datetime.timedelta(days=1)
    ).exclude(status__in=[AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW])
    taken = set(todays.values_list("patient_id", flat=True))
    booked = 0
    for route, wanted in TODAY_WANTED:
        missing = wanted - todays.filter(route=route).count()
        for patient in patients:
            if missing <= 0:
                break
            if (
                patient.pk in taken
                or not _on_team(patient, nurse=nurses[0], prescriber=prescriber)
                or not _weighed(patient)
            ):
                continue
            session = _session_for_today(patient, route, prescriber=prescriber)
            if session is None:
                continue
            appointment = _book_today(
                patient=patient,
                session=session,
                route=route,
                nurses=nurses,
                front_desk=front_desk,
                today=today,
            )
            if appointment is None:
                break  # no room left today on this route
            taken.add(patient.pk)
            missing -= 1
            booked += 1
    return booked
