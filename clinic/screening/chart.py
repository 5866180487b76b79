"""What screening adds to the patient chart."""

from __future__ import annotations

from django.urls import reverse

from clinic.accounts.permissions import Capability
from clinic.patients.chart import ChartAlert, ChartSection
from clinic.patients.selectors import can_act_clinically
from clinic.screening.models import Intake
from clinic.screening.selectors import latest_decision, needs_review


def header_alerts(*, actor, patient, clinical: bool) -> list[ChartAlert]:
    if not clinical:
        return []
    decision = latest_decision(patient)
    if decision is not None and needs_review(decision):
        return [
            ChartAlert(
                "warning",
                "Eligibility decision needs re-review: the intake changed after it was signed",
                reverse("intake:eligibility_review", args=[patient.uuid]),
            )
        ]
    return []


def section_context(*, actor, patient, clinical: bool):
    if not clinical:
        return None
    decision = latest_decision(patient)
    return {
        "patient": patient,
        "intake": Intake.objects.filter(patient=patient).order_by("-created_at", "-id").first(),
        "decision": decision,
        "needs_review": decision is not None and needs_review(decision),
        "can_edit": can_act_clinically(
            actor=actor, patient=patient, capability=Capability.INTAKE_EDIT
        ),
        "can_sign": can_act_clinically(
            actor=actor, patient=patient, capability=Capability.ELIGIBILITY_SIGN
        ),
    }


SECTION = ChartSection(order=5, template="screening/_chart_section.html", context=section_context)
