"""Screening's writes: consultation requests, intake, and the eligibility decision.

One module per record the front desk or the prescriber writes; import from here."""

from clinic.screening.services.consultations import (
    NOTE_MAX_LENGTH,
    REQUEST_FIELDS,
    TEXT_LIMITS,
    clean_consultation_request,
    consultation_request_convert,
    consultation_request_create,
    consultation_request_link_patient,
    consultation_request_set_status,
)
from clinic.screening.services.eligibility import check_decision, decision_sign, rems_record
from clinic.screening.services.intake import (
    INTAKE_FIELDS,
    PATIENT_FIELDS,
    clean_intake,
    intake_link_create,
    intake_link_used,
    intake_save,
    intake_start,
    row_key,
)
from clinic.screening.services.rule_set import rule_set_policy_update

__all__ = [
    "INTAKE_FIELDS",
    "NOTE_MAX_LENGTH",
    "PATIENT_FIELDS",
    "REQUEST_FIELDS",
    "TEXT_LIMITS",
    "check_decision",
    "clean_consultation_request",
    "clean_intake",
    "consultation_request_convert",
    "consultation_request_create",
    "consultation_request_link_patient",
    "consultation_request_set_status",
    "decision_sign",
    "intake_link_create",
    "intake_link_used",
    "intake_save",
    "intake_start",
    "rems_record",
    "row_key",
    "rule_set_policy_update",
]
