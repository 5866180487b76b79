from django.db import models


class ResponseSource(models.TextChoices):
    STAFF = "staff", "Entered by staff"
    PATIENT_LINK = "patient_link", "Patient, by secure link"
    KIOSK = "kiosk", "Patient, on the clinic tablet"
    PORTAL = "portal", "Patient, in the portal"
    # A total from a previous system, without its item answers (clinic/fhir/import_run.py).
    IMPORTED = "imported", "Imported total (no item answers)"


class Timepoint(models.TextChoices):
    """When in the course an assessment was taken (policy-defaults.md, assessment schedule)."""

    BASELINE = "baseline", "Baseline (screening)"
    PRE_SESSION = "pre_session", "Before a session"
    AFTER_FIRST_SESSION = "after_first_session", "About 24 h after the first session"
    END_OF_INDUCTION = "end_of_induction", "End of induction"
    MAINTENANCE = "maintenance", "Maintenance check"
    UNSCHEDULED = "unscheduled", "Unscheduled"


class AlertKind(models.TextChoices):
    SUICIDAL_IDEATION = "suicidal_ideation", "Suicidal ideation reported"
    HIGH_SUICIDE_RISK = "high_suicide_risk", "High suicide risk (C-SSRS)"


# How serious each kind is: a follow-up answer of a higher level escalates an alert waiting
# for a clinician (ADR 0004). A high C-SSRS risk is above any ideation answer [G13].
ALERT_LEVELS: dict[str, int] = {
    AlertKind.SUICIDAL_IDEATION: 1,
    AlertKind.HIGH_SUICIDE_RISK: 2,
}


def alert_level(kind: str) -> int:
    return ALERT_LEVELS[kind]


class AlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"
