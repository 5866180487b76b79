"""The e-mail outbox: infrastructure every stage of care writes to, so it sits low (above
accounts, below patients) and knows nothing of the records a message is about. An app that
needs to find its messages again keeps the link on its own side (an alert's notifications are
`assessments.AlertNotification`)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from clinic.core.models import ClinicModel
from clinic.notifications.choices import NotificationStatus


class Notification(ClinicModel):
    """An outbox row per message: written in the same transaction as the event, delivered by
    the background worker, retried on failure, and visible to admins until sent."""

    # Staff are reached through their account; a patient (no account yet) by address.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notifications",
    )
    to_email = models.EmailField(blank=True)
    # By name, not by import: patients sends e-mail through this app, so it cannot be below.
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    subject = models.CharField(max_length=200)
    body = models.TextField()
    status = models.CharField(
        max_length=16, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # The table was created by the assessments app, where the outbox began; it keeps its
        # name (and its rows) so the move needed no copy.
        db_table = "assessments_notification"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(recipient__isnull=False) | ~Q(to_email=""),
                name="notification_has_an_addressee",
            )
        ]

    @property
    def address(self) -> str:
        recipient = self.recipient  # None without a query when there is no recipient
        return recipient.email if recipient is not None else self.to_email

    @property
    def addressee(self) -> str:
        recipient = self.recipient
        return recipient.display_name if recipient is not None else "Patient (by e-mail)"
