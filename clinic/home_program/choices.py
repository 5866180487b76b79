from django.db import models


class HomeSessionStatus(models.TextChoices):
    """Where one at-home dose attempt stands, in the words the patient and the team read."""

    WAITING = "waiting", "Waiting for the dose"
    DO_NOT_DOSE = "do_not_dose", "Do not dose (blood pressure)"
    DOSED = "dosed", "Dosed"
    CHECKED_IN = "checked_in", "Checked in"
    # The patient chose not to take the dose, or started again with a new blood pressure
    # reading (a dose always follows the reading just taken).
    NOT_TAKEN = "not_taken", "Dose not taken"


class HomeBpAlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"


# Side effects, in the same words at home as in the chair: the in-clinic session records
# (clinic.treatment_sessions, above this app) use this vocabulary too.
class SideEffectKind(models.TextChoices):
    NAUSEA = "nausea", "Nausea"
    VOMITING = "vomiting", "Vomiting"
    DIZZINESS = "dizziness", "Dizziness"
    BLURRED_VISION = "blurred_vision", "Blurred vision"
    HEADACHE = "headache", "Headache"
    ANXIETY = "anxiety", "Anxiety"
    CONFUSION = "confusion", "Confusion"
    OTHER = "other", "Other"


class Severity(models.TextChoices):
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"
