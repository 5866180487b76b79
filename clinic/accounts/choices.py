from django.db import models


class Role(models.TextChoices):
    CLINIC_ADMIN = "clinic_admin", "Clinic administrator"
    PRESCRIBER = "prescriber", "Prescriber"
    NURSE = "nurse", "Nurse"
    THERAPIST = "therapist", "Therapist"
    FRONT_DESK = "front_desk", "Front desk"
    BILLING = "billing", "Billing"
    # Patients sign in to the portal; they are principals, never staff.
    PATIENT = "patient", "Patient"


STAFF_ROLES = frozenset(
    {
        Role.CLINIC_ADMIN,
        Role.PRESCRIBER,
        Role.NURSE,
        Role.THERAPIST,
        Role.FRONT_DESK,
        Role.BILLING,
    }
)

# Roles that sit on a patient's care team and see clinical records of those patients.
CLINICAL_ROLES = frozenset({Role.PRESCRIBER, Role.NURSE, Role.THERAPIST})


class TokenAudience(models.TextChoices):
    """Whom an API token speaks for: a staff member on the staff API, or a patient on their own
    operations under /api/v1/me. A token only ever opens the doors of its own audience."""

    STAFF = "staff", "Clinic staff"
    PATIENT = "patient", "Patient"
