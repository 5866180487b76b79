"""What treatment sessions add to the patient chart: the patient's sessions, newest first, with
their phase and whether the record is signed. Only for actors who may see clinical data."""

from __future__ import annotations

from clinic.patients.chart import ChartSection
from clinic.treatment_sessions.models import TreatmentSession

# The chart lists the latest sessions; a patient's full history is on their sessions' pages.
CHART_SESSIONS = 20


def section_context(*, actor, patient, clinical: bool):
    if not clinical:
        return None
    sessions = list(
        TreatmentSession.objects.filter(patient=patient)
        .select_related("appointment")
        # The columns the list shows: a session row is wide (the REMS form, the policy
        # values, the questionnaires), and twenty of them cost more to build than to read.
        .only("uuid", "checked_in_at", "phase", "signed_at", "appointment__route")
        .order_by("-checked_in_at", "-id")[: CHART_SESSIONS + 1]
    )
    return {
        "patient": patient,
        "sessions": sessions[:CHART_SESSIONS],
        "more": len(sessions) > CHART_SESSIONS,
    }


SECTION = ChartSection(
    order=22, template="treatment_sessions/_chart_section.html", context=section_context
)
