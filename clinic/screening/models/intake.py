from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from clinic.core.models import ClinicModel
from clinic.screening.choices import Condition, IntakeStatus, MedicationClass, TrialOutcome


class Intake(ClinicModel):
    """The screening intake: what the rules engine evaluates and the prescriber reviews.

    Every change after submission bumps `revision`, so a decision signed on an older revision
    is visibly out of date and must be re-signed.

    Yes/no answers are stored as True/False and an unanswered one as null (or, for the
    medical-history conditions, as a missing key): unanswered is unknown, never "no"
    (docs/adr/0010-unanswered-is-unknown.md).
    """

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="intakes"
    )
    status = models.CharField(
        max_length=16, choices=IntakeStatus.choices, default=IntakeStatus.DRAFT
    )
    revision = models.PositiveIntegerField(default=1)
    indication = models.CharField(max_length=64, blank=True)
    condition_answers = models.JSONField(
        default=dict,
        blank=True,
        help_text="Condition code → true (yes) or false (no); a condition not here is unanswered.",
    )
    history_detail = models.TextField("medical history, in the patient's words", blank=True)
    allergies = models.TextField(blank=True)
    psychiatric_history = models.TextField(blank=True)
    substance_use = models.TextField(blank=True)
    pregnant = models.BooleanField(null=True, blank=True)
    breastfeeding = models.BooleanField(null=True, blank=True)
    systolic_mmhg = models.PositiveSmallIntegerField(null=True, blank=True)
    diastolic_mmhg = models.PositiveSmallIntegerField(null=True, blank=True)
    heart_rate_bpm = models.PositiveSmallIntegerField(null=True, blank=True)
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    height_cm = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    # At-home (sublingual) program: a named adult treatment monitor and a home BP monitor.
    home_treatment_monitor_name = models.CharField(max_length=200, blank=True)
    home_bp_monitor = models.BooleanField(null=True, blank=True)
    # "Takes any medicines now?" and "Tried any antidepressants?": the rows alone cannot tell
    # "none" from "not asked".
    takes_medications = models.BooleanField(null=True, blank=True)
    tried_antidepressants = models.BooleanField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(max_length=16, default="staff")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(systolic_mmhg__isnull=True)
                | Q(diastolic_mmhg__isnull=True)
                | Q(diastolic_mmhg__lt=models.F("systolic_mmhg")),
                name="intake_diastolic_below_systolic",
            )
        ]

    @property
    def conditions(self) -> list[str]:
        """The conditions answered yes, in the vocabulary's order."""
        return [code for code in Condition.values if self.condition_answers.get(code) is True]

    @property
    def conditions_unanswered(self) -> list[str]:
        return [code for code in Condition.values if code not in self.condition_answers]

    @property
    def conditions_known(self) -> bool:
        """The history counts as asked only when every condition has a yes or a no."""
        return not self.conditions_unanswered


class IntakeMedication(models.Model):
    intake = models.ForeignKey(Intake, on_delete=models.CASCADE, related_name="medications")
    name = models.CharField(max_length=120)
    medication_class = models.CharField(max_length=32, choices=MedicationClass.choices)
    dose = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.medication_class})"


class AntidepressantTrial(models.Model):
    intake = models.ForeignKey(Intake, on_delete=models.CASCADE, related_name="trials")
    drug = models.CharField(max_length=120)
    dose = models.CharField(max_length=120, blank=True)
    duration_weeks = models.PositiveSmallIntegerField(null=True, blank=True)
    adequate = models.BooleanField(help_text="Adequate dose and duration")
    outcome = models.CharField(max_length=32, choices=TrialOutcome.choices)
    current_episode = models.BooleanField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.drug}: {self.outcome}"


class IntakeLink(ClinicModel):
    """A secure, expiring, single-use link through which the patient fills in the intake.
    Only a digest of the token is stored; the token goes to the patient once."""

    intake = models.ForeignKey(Intake, on_delete=models.PROTECT, related_name="links")
    token_digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Intake link for intake {self.intake_id}"
