"""Fixtures shared by the assessments pages' tests."""

from __future__ import annotations

import pytest

from clinic.assessments import services
from clinic.assessments.instruments import get_instrument
from clinic.assessments.models import AssessmentResponse, SuicidalityAlert
from clinic.assessments.tests.pages import CSSRS_HIGH, PHQ9_ITEM9


@pytest.fixture
def phq9_response(patient, nurse):
    """A positive PHQ-9 (item 9 = 1) entered by the nurse: one open ideation alert."""
    return services.response_record(
        actor=nurse, patient=patient, instrument_code="phq9", answers=PHQ9_ITEM9
    )


@pytest.fixture
def high_risk_alert(patient, nurse, prescriber):
    """A C-SSRS with intent (Q4 yes) and the high-risk alert it raises, assigned to the
    primary prescriber. Built row by row rather than through `services.response_record`, so
    that the permission matrix does not hinge on storing a C-SSRS; the flows below store
    C-SSRS answers through the pages and the service."""
    instrument = get_instrument("cssrs-screen")
    result = instrument.score(CSSRS_HIGH)
    response = AssessmentResponse.objects.create(
        patient=patient,
        instrument_code=instrument.code,
        instrument_version="C-SSRS screen",
        answers=CSSRS_HIGH,
        complete=result.complete,
        total=result.total,
        severity=result.severity,
        flags=list(result.flags),
        source="staff",
        recorded_by=nurse,
    )
    return SuicidalityAlert.objects.create(
        patient=patient,
        response=response,
        kind="high_suicide_risk",
        trigger="C-SSRS screen: high risk",
        assigned_to=prescriber,
    )
