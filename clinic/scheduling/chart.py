"""What the schedule adds to the patient chart: upcoming appointments, and the patient's
active plans with sessions still to book."""

from __future__ import annotations

from django.utils import timezone

from clinic.accounts.permissions import Capability
from clinic.patients.chart import ChartSection
from clinic.protocols.choices import PlanStatus
from clinic.scheduling.choices import ACTIVE_STATUSES
from clinic.scheduling.models import Appointment
from clinic.screening.choices import Route


def section_context(*, actor, patient, clinical: bool):
    if not actor.can(Capability.SCHEDULE_VIEW):
        return None
    upcoming = list(
        Appointment.objects.filter(
            patient=patient, status__in=ACTIVE_STATUSES, ends_at__gt=timezone.now()
        )
        .select_related("chair__room", "nurse")
        .order_by("starts_at")[:10]
    )
    can_book = actor.can(Capability.SCHEDULE_BOOK)
    plans = (
        [
            (plan, Route(plan.route).label if plan.route in Route.values else plan.route)
            for plan in patient.treatment_plans.filter(status=PlanStatus.ACTIVE).order_by(
                "start_date"
            )
        ]
        if can_book
        else []
    )
    return {"patient": patient, "upcoming": upcoming, "can_book": can_book, "plans": plans}


SECTION = ChartSection(order=20, template="scheduling/_chart_section.html", context=section_context)
