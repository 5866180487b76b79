"""What screening adds to the patient chart."""

from __future__ import annotations

from django.urls import reverse

from clinic.accounts.permissions import Capability
from clinic.patients.chart import ChartAlert, ChartSection, read_once_per_chart
from clinic.patients.selectors import can_act_clinically
from clinic.screening.models import EligibilityDecision, Intake
from clinic.screening.selectors import latest_decision, latest_intake, needs_review


def _standing(patient) -> tuple[Intake | None, EligibilityDecision | None, bool]:
    """The latest intake, the latest signed decision, and whether it needs re-review: two
    queries, shared by the header alert and the section."""

    def read():
        intake, decision = latest_intake(patient), latest_decision(patient)
        return intake, decision, decision is not None and needs_review(decision, newest=intake)

    return read_once_per_chart(patient, "screening", read)


def header_alerts(*, actor, patient, clinical: bool) -> list[ChartAlert]:
    if not clinical:
        return []
    _, _, review = _standing(patient)
    if review:
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
    intake, decision, review = _standing(patient)
    return {
        "patient": patient,
        "intake": intake,
        "decision": decision,
        "needs_review": review,
        "can_edit": can_act_clinically(
            actor=actor, patient=patient, capability=Capability.INTAKE_EDIT
        ),
        "can_sign": can_act_clinically(
            actor=actor, patient=patient, capability=Capability.ELIGIBILITY_SIGN
        ),
    }


SECTION = ChartSection(order=5, template="screening/_chart_section.html", context=section_context)
