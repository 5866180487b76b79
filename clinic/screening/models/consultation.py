from __future__ import annotations

from django.conf import settings
from django.db import models

from clinic.core.models import ClinicModel
from clinic.screening.choices import ConsultationStatus, ContactMethod


class ConsultationRequest(ClinicModel):
    """Someone asking for a consultation through the public site: a lead for the front desk."""

    given_name = models.CharField("first name", max_length=100)
    family_name = models.CharField("last name", max_length=100)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    preferred_contact = models.CharField(max_length=16, choices=ContactMethod.choices)
    date_of_birth = models.DateField(null=True, blank=True)
    seeking_help_with = models.CharField(max_length=64)
    message = models.TextField(blank=True)
    heard_about = models.CharField("how they heard of us", max_length=200, blank=True)
    consent_to_contact = models.BooleanField()
    status = models.CharField(
        max_length=16, choices=ConsultationStatus.choices, default=ConsultationStatus.NEW
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    front_desk_note = models.TextField(blank=True)
    patient = models.ForeignKey(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consultation_requests",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-created_at"]),
            # The front desk's counts by status: one index-only pass over a narrow index
            # instead of reading every request's row (issue 14).
            models.Index(fields=["status", "id"], name="consultation_status_count_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(consent_to_contact=True), name="consultation_has_consent"
            ),
            models.CheckConstraint(
                condition=~models.Q(email="") | ~models.Q(phone=""),
                name="consultation_has_a_contact",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.given_name} {self.family_name} ({self.get_status_display()})"
