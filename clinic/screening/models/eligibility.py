from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from clinic.core.models import ClinicModel
from clinic.screening.choices import DecisionOutcome


class RuleSetVersion(models.Model):
    """A version of the clinic's screening rule set: the policy values a clinic admin set
    (label rules cannot change). Version 1 is the default set from screening-rules.md."""

    version = models.PositiveIntegerField(unique=True)
    policy = models.JSONField(default=dict, blank=True)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"Rule set v{self.version}"


class EligibilityDecision(ClinicModel):
    """A prescriber's signed decision on an intake. Signed decisions are never edited: a new
    decision supersedes an old one. `intake_revision` and `rule_set` pin what was reviewed."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="eligibility_decisions"
    )
    intake = models.ForeignKey(
        "screening.Intake", on_delete=models.PROTECT, related_name="decisions"
    )
    intake_revision = models.PositiveIntegerField()
    rule_set = models.ForeignKey(RuleSetVersion, on_delete=models.PROTECT, related_name="+")
    evaluation = models.JSONField(help_text="The findings and route verdicts that were reviewed.")
    outcome = models.CharField(max_length=16, choices=DecisionOutcome.choices)
    approved_routes = models.JSONField(default=list, blank=True)
    justifications = models.JSONField(
        default=dict, blank=True, help_text="Finding code → the prescriber's written justification."
    )
    awaiting = models.TextField("deferred: what is awaited", blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField()
    content_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["-signed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(outcome="deferred") | ~Q(awaiting=""),
                name="deferred_decision_says_what_is_awaited",
            ),
        ]


class RemsEnrollment(ClinicModel):
    """Spravato REMS enrolment, required before any esketamine treatment is planned [C15]."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="rems_enrollments"
    )
    enrolled_on = models.DateField()
    # The patient's ID in the Spravato REMS, once the REMS has issued it: printed on every
    # patient monitoring form [C16]. Blank until the clinic has it.
    rems_patient_id = models.CharField("REMS patient ID", max_length=40, blank=True)
    signed_by_patient = models.BooleanField()
    signed_by_prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-enrolled_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(signed_by_patient=True), name="rems_signed_by_patient"
            )
        ]
