from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from clinic.assessments.choices import (
    AlertKind,
    AlertStatus,
    ResponseSource,
    Timepoint,
)
from clinic.core.models import ClinicModel, EnteredInErrorMixin


class AssessmentResponseQuerySet(models.QuerySet):
    def valid(self):
        return self.filter(entered_in_error_at__isnull=True)


class AssessmentResponse(EnteredInErrorMixin, ClinicModel):
    """One completed questionnaire or rating: every item answer, and the score the server
    computed from them with the instrument's code and version at the time."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="assessment_responses"
    )
    instrument_code = models.CharField(max_length=32)
    instrument_version = models.CharField(max_length=200)
    answers = models.JSONField(help_text="One value per item in item order; null if unanswered.")
    complete = models.BooleanField()
    total = models.IntegerField(null=True, blank=True)
    severity = models.CharField(max_length=32, blank=True)
    flags = models.JSONField(default=list, blank=True)
    subscales = models.JSONField(default=dict, blank=True)
    taken_at = models.DateTimeField(default=timezone.now)
    timepoint = models.CharField(
        max_length=32, choices=Timepoint.choices, default=Timepoint.UNSCHEDULED
    )
    source = models.CharField(max_length=16, choices=ResponseSource.choices)
    link = models.ForeignKey(
        "QuestionnaireLink",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="responses",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = AssessmentResponseQuerySet.as_manager()

    class Meta:
        ordering = ["-taken_at", "-id"]
        indexes = [models.Index(fields=["patient", "instrument_code", "taken_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(entered_in_error_at__isnull=True) | ~Q(entered_in_error_reason=""),
                name="response_error_needs_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_code} {self.total} on {self.taken_at:%Y-%m-%d}"

    def in_suicidality_alert(self) -> bool:
        """Did these answers raise a suicidality alert, or join one still waiting for a
        clinician? Either way the patient sees crisis resources and is asked for the C-SSRS."""
        return self.alerts.exists() or self.alert_follow_ups.exists()


class SuicidalityAlertQuerySet(models.QuerySet):
    def unresolved(self):
        return self.exclude(status=AlertStatus.RESOLVED)

    def open(self):
        return self.filter(status=AlertStatus.OPEN)


class SuicidalityAlert(ClinicModel):
    """Raised by a positive suicidality answer. Stays open until a clinician acknowledges it
    with a note; a high C-SSRS risk stays on the chart header until it is resolved."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="suicidality_alerts"
    )
    response = models.ForeignKey(
        AssessmentResponse, on_delete=models.PROTECT, related_name="alerts"
    )
    kind = models.CharField(max_length=32, choices=AlertKind.choices)
    trigger = models.CharField(max_length=200, help_text="What answer raised it, in words.")
    status = models.CharField(max_length=16, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    # The primary prescriber when the alert was raised; None when the care team had none,
    # in which case every prescriber on the team and the clinic admins see it.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledgement_note = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution_note = models.TextField(blank=True)
    # A follow-up answer showed a higher risk while the alert was still waiting for a
    # clinician: `kind` rose from `escalated_from_kind` at `escalated_at`, by the answers of
    # `escalated_by_response` (ADR 0004). Empty on an alert raised at its level.
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalated_from_kind = models.CharField(max_length=32, choices=AlertKind.choices, blank=True)
    escalated_by_response = models.ForeignKey(
        AssessmentResponse, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The e-mails sent about it (`Notification.objects.filter(alert=...)` reads them back).
    notifications = models.ManyToManyField(
        "notifications.Notification",
        through="AlertNotification",
        related_name="alerts",
        related_query_name="alert",
        blank=True,
    )

    objects = SuicidalityAlertQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The in-baskets read the unresolved alerts (`unresolved()`), a few among years of
            # resolved ones: a partial index holds only those (issue 14).
            models.Index(
                fields=["created_at", "id"],
                condition=~Q(status=AlertStatus.RESOLVED),
                name="alert_unresolved_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open")
                | (Q(acknowledged_at__isnull=False) & ~Q(acknowledgement_note="")),
                name="alert_acknowledged_with_note",
            ),
            models.UniqueConstraint(fields=["response", "kind"], name="alert_once_per_response"),
            # An escalation is recorded whole (when, from what, by which answers) or not at all.
            models.CheckConstraint(
                condition=Q(
                    escalated_at__isnull=True,
                    escalated_by_response__isnull=True,
                    escalated_from_kind="",
                )
                | (
                    Q(escalated_at__isnull=False, escalated_by_response__isnull=False)
                    & ~Q(escalated_from_kind="")
                ),
                name="alert_escalation_recorded_whole",
            ),
        ]

    @property
    def level_since(self):
        """When the alert reached its present level: escalated, or raised."""
        return self.escalated_at or self.created_at


class AlertFollowUp(ClinicModel):
    """A positive answer given while the patient's alert was still waiting for a clinician
    (open, not acknowledged): attached to that alert instead of raising another one, so the
    clinician reads every answer in one place and is e-mailed again only if the risk rose."""

    alert = models.ForeignKey(SuicidalityAlert, on_delete=models.PROTECT, related_name="follow_ups")
    response = models.ForeignKey(
        AssessmentResponse, on_delete=models.PROTECT, related_name="alert_follow_ups"
    )
    # The highest level these answers showed, and what was positive, in words.
    kind = models.CharField(max_length=32, choices=AlertKind.choices)
    trigger = models.CharField(max_length=200)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "response"], name="follow_up_once_per_alert"),
        ]


class AlertNotification(models.Model):
    """An e-mail sent about an alert. The link is kept on the alert's side: the outbox sits
    below this app and knows nothing of alerts. A notification is about one alert at most."""

    alert = models.ForeignKey(
        SuicidalityAlert, on_delete=models.PROTECT, related_name="notification_links"
    )
    notification = models.OneToOneField(
        "notifications.Notification", on_delete=models.PROTECT, related_name="alert_link"
    )

    def __str__(self) -> str:
        return f"Notification {self.notification_id} about alert {self.alert_id}"


class QuestionnaireLink(ClinicModel):
    """A secure, expiring, single-use link through which a patient completes questionnaires.
    Only a digest of the token is stored; the token itself goes to the patient once."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="questionnaire_links"
    )
    instrument_codes = models.JSONField()
    timepoint = models.CharField(
        max_length=32, choices=Timepoint.choices, default=Timepoint.UNSCHEDULED
    )
    token_digest = models.CharField(max_length=64, unique=True)
    kiosk = models.BooleanField(default=False)
    # None when the reminder job created the link.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    @property
    def usable(self) -> bool:
        return self.used_at is None and self.revoked_at is None and self.expires_at > timezone.now()
