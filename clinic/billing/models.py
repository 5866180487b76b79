"""Billing's records. First: the problem list, each diagnosis an ICD-10-CM code that claims and
prior authorizations will point to (issue 15)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from clinic.core.models import ClinicModel, EnteredInErrorMixin


class DiagnosisStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    RESOLVED = "resolved", "Resolved"


class Diagnosis(EnteredInErrorMixin, ClinicModel):
    """One entry on a patient's problem list.

    Amend, never erase: a diagnosis is resolved (with the date) or marked entered in error
    (with the reason), and stays on the list. The code's words are kept as the code set printed
    them when the entry was made, with the code set's name, so a later release cannot change
    what was recorded. The primary diagnosis for treatment is the one claims list first.
    """

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="diagnoses"
    )
    icd10_code = models.CharField("ICD-10-CM code", max_length=8)
    description = models.CharField(max_length=250)
    code_set = models.CharField(max_length=40)
    onset_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=DiagnosisStatus.choices, default=DiagnosisStatus.ACTIVE
    )
    resolved_on = models.DateField(null=True, blank=True)
    is_primary = models.BooleanField("primary diagnosis for treatment", default=False)
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-is_primary", "status", "icd10_code", "id"]
        verbose_name_plural = "diagnoses"
        constraints = [
            # A code is on the active list once (two at once are refused by the database).
            models.UniqueConstraint(
                fields=["patient", "icd10_code"],
                condition=Q(status="active", entered_in_error_at__isnull=True),
                name="diagnosis_active_code_once",
            ),
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(is_primary=True, entered_in_error_at__isnull=True),
                name="diagnosis_one_primary",
            ),
            models.CheckConstraint(
                condition=Q(status="active", resolved_on__isnull=True)
                | Q(status="resolved", resolved_on__isnull=False),
                name="diagnosis_resolved_has_date",
            ),
            # The primary diagnosis is an active one.
            models.CheckConstraint(
                condition=Q(is_primary=False) | Q(status="active"),
                name="diagnosis_primary_is_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.icd10_code} {self.description}"

    @property
    def is_current(self) -> bool:
        return self.status == DiagnosisStatus.ACTIVE and self.entered_in_error_at is None
