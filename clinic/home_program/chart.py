"""What the at-home program adds to the patient chart: a header alert for each open blood
pressure alert (for clinicians who may see clinical data), and a section with the patient's
at-home logs and the open alerts with an acknowledge form (prescribers and nurses on the care
team, `home_program.review`)."""

from __future__ import annotations

from django.urls import reverse

from clinic.home_program import selectors
from clinic.home_program.forms import AcknowledgeForm
from clinic.home_program.models import HomeBpAlert
from clinic.patients.chart import ChartAlert, ChartSection


def header_alerts(*, actor, patient, clinical: bool) -> list[ChartAlert]:
    if not clinical:
        return []
    alerts = []
    for alert in HomeBpAlert.objects.open().filter(patient=patient).select_related("log"):
        url = (
            reverse("home_program:alert_acknowledge", args=[alert.uuid])
            if selectors.can_review(actor=actor, patient=patient)
            else ""
        )
        alerts.append(
            ChartAlert(
                "danger",
                f"At-home BP {alert.log.bp_text} on {alert.created_at:%m/%d/%Y} over the "
                f"{alert.log.limit_text} limit: told not to dose — not yet acknowledged",
                url,
            )
        )
    return alerts


def section_context(*, actor, patient, clinical: bool):
    if not clinical:
        return None
    context = selectors.home_chart(actor=actor, patient=patient)
    if context is None:
        return None
    context["form"] = AcknowledgeForm()
    context["next"] = reverse("patients:patient_chart", args=[patient.uuid])
    return context


SECTION = ChartSection(
    order=24, template="home_program/_chart_section.html", context=section_context
)
