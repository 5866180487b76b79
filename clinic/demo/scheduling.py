"""Demo scheduling: an infusion suite and an esketamine room, opening hours and nurse shifts that
cover every day the demo books, and one active IV induction plan with its sessions booked.

The demo clinic opens every day, 08:00–18:00, with both demo nurses on shift from today for six
weeks: whatever day `seed_demo` runs (a Sunday, say), the calendar shows today open with its
shifts, and today's appointments (clinic/demo/sessions.py) fall inside them, so the schedule, the
day list and the chair board agree. Running it again adds only what is missing (a later day's
shifts). The hours are demo settings a clinic replaces with its own."""

from __future__ import annotations

import datetime

from django.utils import timezone

from clinic.protocols import services as protocol_services
from clinic.protocols.models import ProtocolTemplate, TreatmentPlan
from clinic.scheduling import services as scheduling
from clinic.scheduling.models import Chair, OpeningHours, Room, StaffShift
from clinic.screening.selectors import planning_clearance

OPENS, CLOSES = datetime.time(8, 0), datetime.time(18, 0)
SHIFT_DAYS = 42
IV_CHAIR = ["iv_pump", "cardiac_monitor", "pulse_oximeter"]


def seed_clinic_resources(*, admin, nurses) -> None:
    """The rooms and chairs once; the opening hours and shifts of the days ahead every run."""
    if not Room.objects.exists():
        suite = scheduling.room_create(actor=admin, name="Infusion suite")
        for name in ("Chair 1", "Chair 2", "Chair 3"):
            scheduling.chair_create(actor=admin, room=suite, name=name, capabilities=IV_CHAIR)
        spravato = scheduling.room_create(actor=admin, name="Esketamine room")
        scheduling.chair_create(
            actor=admin, room=spravato, name="Recliner A", capabilities=["pulse_oximeter"]
        )
    seed_hours_and_shifts(admin=admin, nurses=nurses, today=timezone.localdate())


def seed_hours_and_shifts(*, admin, nurses, today: datetime.date) -> None:
    """Open every weekday the clinic is closed on (a day a clinic administrator opened keeps its
    hours), and give each demo nurse a shift on each of the next SHIFT_DAYS days that has none:
    nothing is written when all of it is there already."""
    closed = set(range(7)) - set(OpeningHours.objects.values_list("weekday", flat=True))
    if closed:
        scheduling.opening_hours_set(actor=admin, hours={day: (OPENS, CLOSES) for day in closed})
    days = [today + datetime.timedelta(days=offset) for offset in range(SHIFT_DAYS)]
    have = set(
        StaffShift.objects.filter(staff__in=nurses, date__in=days).values_list("staff_id", "date")
    )
    for day in days:
        for nurse in nurses:
            if (nurse.pk, day) not in have:
                scheduling.staff_shift_add(
                    actor=admin, staff=nurse, date=day, start=OPENS, end=CLOSES
                )


def seed_active_plan(*, prescriber, front_desk, patients) -> None:
    """The first patient cleared for IV gets an active twice-weekly induction, fully booked."""
    if not Chair.objects.exists() or TreatmentPlan.objects.exists():
        return
    protocol_services.builtin_templates_ensure()
    template = ProtocolTemplate.objects.get(code="iv-induction-2x-weekly", version=1)
    for patient in patients:
        if (
            patient.treatment_plans.exists()
            or not planning_clearance(patient=patient, route="iv").allowed
        ):
            continue
        if not patient.measurements.filter(
            weight_kg__isnull=False, entered_in_error_at__isnull=True
        ).exists():
            continue
        start = timezone.localdate() + datetime.timedelta(days=1)
        while start.weekday() >= 5:
            start += datetime.timedelta(days=1)
        plan = protocol_services.plan_create(
            actor=prescriber, patient=patient, template=template, start_date=start
        )
        plan = protocol_services.plan_activate(actor=prescriber, plan=plan)
        for proposal in scheduling.appointment_propose(actor=front_desk, plan=plan):
            if proposal.found:
                # A proposal that found a slot names its chair, nurse and start.
                assert proposal.chair is not None and proposal.nurse is not None
                assert proposal.starts_at is not None
                scheduling.appointment_book(
                    actor=front_desk,
                    patient=patient,
                    chair=proposal.chair,
                    nurse=proposal.nurse,
                    starts_at=proposal.starts_at,
                    route=plan.route,
                    planned_session=proposal.session,
                )
        return
