"""What treatment plans add to the patient chart."""

from __future__ import annotations

from clinic.accounts.permissions import Capability
from clinic.patients.chart import ChartSection
from clinic.patients.selectors import can_act_clinically
from clinic.protocols import selectors


def section_context(*, actor, patient, clinical: bool):
    if not clinical:
        return None
    return {
        "patient": patient,
        "plans": selectors.plan_list(actor=actor, patient=patient),
        "can_prescribe": can_act_clinically(
            actor=actor, patient=patient, capability=Capability.PLAN_PRESCRIBE
        ),
    }


SECTION = ChartSection(order=8, template="protocols/_chart_section.html", context=section_context)
