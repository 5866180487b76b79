"""What billing adds to the patient chart: the problem list, near the top. Billing staff see
it too (they code claims from it), without the chart's clinical sections."""

from __future__ import annotations

from django.utils import timezone

from clinic.billing import selectors
from clinic.patients.chart import ChartSection


def section_context(*, actor, patient, clinical: bool):
    if not selectors.can_view_diagnoses(actor=actor, patient=patient):
        return None
    diagnoses = selectors.diagnosis_list(actor=actor, patient=patient)
    return {
        "patient": patient,
        "current": [d for d in diagnoses if d.is_current],
        "past": [d for d in diagnoses if not d.is_current],
        "can_record": selectors.can_record_diagnoses(actor=actor, patient=patient),
        "today": timezone.localdate(),
    }


SECTION = ChartSection(order=1, template="billing/_chart_section.html", context=section_context)
