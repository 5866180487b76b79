from clinic.screening.models.consultation import ConsultationRequest
from clinic.screening.models.eligibility import EligibilityDecision, RemsEnrollment, RuleSetVersion
from clinic.screening.models.intake import (
    AntidepressantTrial,
    Intake,
    IntakeLink,
    IntakeMedication,
)

__all__ = [
    "AntidepressantTrial",
    "ConsultationRequest",
    "EligibilityDecision",
    "Intake",
    "IntakeLink",
    "IntakeMedication",
    "RemsEnrollment",
    "RuleSetVersion",
]
