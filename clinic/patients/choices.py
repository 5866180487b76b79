from django.db import models


class Sex(models.TextChoices):
    """Administrative sex as FHIR R4 codes it (AdministrativeGender)."""

    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class CareTeamRole(models.TextChoices):
    PRIMARY_PRESCRIBER = "primary_prescriber", "Primary prescriber"
    PRESCRIBER = "prescriber", "Prescriber"
    NURSE = "nurse", "Nurse"
    THERAPIST = "therapist", "Therapist"


# Which staff role may fill each care-team role.
CARE_TEAM_STAFF_ROLE = {
    CareTeamRole.PRIMARY_PRESCRIBER: "prescriber",
    CareTeamRole.PRESCRIBER: "prescriber",
    CareTeamRole.NURSE: "nurse",
    CareTeamRole.THERAPIST: "therapist",
}


class RecordsRequester(models.TextChoices):
    """Who asked for the record (45 CFR 164.524: the individual, their personal
    representative, or a person the individual directs the copy to)."""

    PATIENT = "patient", "The patient"
    REPRESENTATIVE = "representative", "The patient's personal representative"
    DIRECTED_BY_PATIENT = "directed_by_patient", "Someone the patient named (signed direction)"


class RecordsFormat(models.TextChoices):
    PDF = "pdf", "PDF (readable)"
    FHIR = "fhir", "FHIR (for another system)"
    PAPER = "paper", "Paper copy"


class RecordsRequestStatus(models.TextChoices):
    OPEN = "open", "Open"
    FULFILLED = "fulfilled", "Fulfilled"
    WITHDRAWN = "withdrawn", "Withdrawn"
