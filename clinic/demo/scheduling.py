"""Demo scheduling: a clinic open on weekdays, an infusion suite and an esketamine room, nurse
shifts for the coming weeks, and one active IV induction plan with its sessions booked.
The hours are demo settings a clinic replaces with its own."""

from __future__ import annotations

import datetime

from django.utils import timezone

from clinic.protocols import services as protocol_services
from clinic.protocols.models import ProtocolTemplate, TreatmentPlan
from clinic.scheduling import services as scheduling
from clinic.scheduling.models import Chair, Room
from clinic.screening.eligibility import planning_clearance

OPENS, CLOSES = datetime.time(8, 0), datetime.time(18, 0)
SHIFT_DAYS = 42
IV_CHAIR = ["iv_pump", "cardiac_monitor", "pulse_oximeter"]


def seed_clinic_resources(*, admin, nurses) -> None:
    if Room.objects.exists():
        return
    scheduling.opening_hours_set(
        actor=admin, hours={day: (OPENS, CLOSES) if day < 5 else None for day in range(7)}
    )
    suite = scheduling.room_create(actor=admin, name="Infusion suite")
    for name in ("Chair 1", "Chair 2", "Chair 3"):
        scheduling.chair_create(actor=admin, room=suite, name=name, capabilities=IV_CHAIR)
    spravato = scheduling.room_create(actor=admin, name="Esketamine room")
    scheduling.chair_create(
        actor=admin, room=spravato, name="Recliner A", capabilities=["pulse_oximeter"]
    )
    today = timezone.localdate()
    for offset in range(SHIFT_DAYS):
        day = today + datetime.timedelta(days=offset)
        if day.weekday() < 5:
            for nurse in nurses:
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
