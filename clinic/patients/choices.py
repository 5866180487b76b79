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
