"""What measurement-based care adds to the patient chart: header alerts and a course section."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from clinic.accounts.permissions import Capability
from clinic.assessments import selectors
from clinic.assessments.choices import AlertKind
from clinic.assessments.course import course_for
from clinic.assessments.instruments import ALL_CODES, get_instrument
from clinic.patients.chart import ChartAlert, ChartSection
from clinic.patients.selectors import can_act_clinically


def header_alerts(*, actor, patient, clinical: bool) -> list[ChartAlert]:
    if not clinical:
        return []
    alerts = []
    for alert in selectors.unresolved_alerts_for_patient(patient=patient):
        url = reverse("assessments:alert_detail", args=[alert.uuid])
        if alert.kind == AlertKind.HIGH_SUICIDE_RISK:
            # The date the risk was found: an escalated alert was raised earlier, lower.
            moment = timezone.localtime(alert.level_since)
            text = f"HIGH SUICIDE RISK (C-SSRS {moment:%m/%d/%Y}) — until resolved"
        else:
            text = f"Suicidality alert, {alert.get_status_display().lower()}: {alert.trigger}"
        alerts.append(ChartAlert("danger", text, url))
    return alerts


def section_context(*, actor, patient, clinical: bool):
    can_send = actor.can(Capability.ASSESSMENT_SEND_LINK)
    if not clinical and not can_send:
        return None
    context = {
        "patient": patient,
        "clinical": clinical,
        "can_send": can_send,
        "can_record": clinical
        and can_act_clinically(
            actor=actor, patient=patient, capability=Capability.ASSESSMENT_RECORD
        ),
        "instruments": [get_instrument(code) for code in ALL_CODES],
    }
    if clinical:
        responses = selectors.response_list(actor=actor, patient=patient, purpose="chart")
        context["responses"] = [_in_words(r) for r in responses[:20]]
        context["response_count"] = len(responses)
        context["courses"] = course_for(patient=patient, responses=responses)
    return context


def _words(slug: str) -> str:
    return slug.replace("_", " ").capitalize()


def _in_words(response):
    """The chart's row in words: the instrument's name, its severity band's label (the C-SSRS
    screen's risk level), and the flags, never their codes."""
    instrument = get_instrument(response.instrument_code)
    band = next((b for b in instrument.bands if b.slug == response.severity), None)
    response.instrument_name = instrument.name
    if band is not None:
        response.severity_label = band.label
    elif response.severity and instrument.code == "cssrs-screen":
        response.severity_label = f"{_words(response.severity)} risk"
    else:
        response.severity_label = _words(response.severity) if response.severity else ""
    response.flag_labels = [_words(flag) for flag in response.flags]
    return response


SECTION = ChartSection(
    order=10, template="assessments/_chart_section.html", context=section_context
)
