"""The patients a plan needs: screened, with a signed eligibility decision and a weight."""

from __future__ import annotations

import pytest
from django.utils import timezone

from clinic.patients.services import body_measurement_record
from clinic.protocols import services
from clinic.screening import selectors as screening_selectors
from clinic.screening import services as screening_services
from clinic.screening.tests.test_eligibility import ANSWERED

# The other answers screening needs before "eligible" can be signed (issue 11: unanswered is
# never "no"): no history, no medicines, not pregnant or breastfeeding, a heart rate and the
# intake's weight (the chart's weight, for dosing, is recorded separately).
SCREENED = {
    **ANSWERED,
    "takes_medications": False,
    "heart_rate_bpm": 70,
    "weight_kg": "80",
    "height_cm": "170",
}

TWO_FAILED_TRIALS = [
    {"drug": "sertraline", "adequate": True, "outcome": "no_response", "current_episode": True},
    {"drug": "venlafaxine", "adequate": True, "outcome": "no_response", "current_episode": True},
]


def _weighed_and_screened(patient, nurse, **answers):
    """Weigh the patient (80 kg, 170 cm) and submit an intake with two failed trials."""
    body_measurement_record(
        actor=nurse,
        patient=patient,
        measured_on=timezone.localdate(),
        weight_kg="80",
        height_cm="170",
    )
    intake = screening_services.intake_start(actor=nurse, patient=patient)
    return screening_services.intake_save(
        actor=nurse,
        intake=intake,
        data={
            **SCREENED,
            "indication": "treatment_resistant_depression",
            "systolic_mmhg": 122,
            "diastolic_mmhg": 78,
            **answers,
        },
        trials=TWO_FAILED_TRIALS,
        submit=True,
    )


@pytest.fixture
def eligible(patient, nurse, prescriber):
    """`patient` (female, 80 kg, 170 cm) with a signed decision opening IV and esketamine."""
    intake = _weighed_and_screened(patient, nurse)
    screening_services.decision_sign(
        actor=prescriber, intake=intake, outcome="eligible", approved_routes=["iv", "esketamine"]
    )
    services.builtin_templates_ensure()
    return patient


@pytest.fixture
def cleared(patient, nurse, prescriber):
    """`patient` (female, 80 kg, 170 cm), every route opened, enrolled in the REMS today."""
    # At home: a named treatment monitor and a blood-pressure monitor [B9].
    intake = _weighed_and_screened(
        patient, nurse, home_treatment_monitor_name="Sam Rivera", home_bp_monitor=True
    )
    evaluation, _rules = screening_selectors.intake_evaluate(intake)
    screening_services.decision_sign(
        actor=prescriber,
        intake=intake,
        outcome="eligible",
        approved_routes=["iv", "im", "esketamine", "sublingual"],
        # The rule set's precautions for these routes (e.g. no treatment monitor at home yet),
        # each justified as the prescriber must.
        justifications={
            f.code: "Discussed with the patient."
            for f in evaluation.findings
            if f.level == "relative"
        },
    )
    screening_services.rems_record(
        actor=prescriber,
        patient=patient,
        enrolled_on=timezone.localdate(),
        signed_by_patient=True,
        prescriber=prescriber,
    )
    services.builtin_templates_ensure()
    return patient
