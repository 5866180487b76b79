from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models, router, transaction
from django.utils import timezone

from clinic.core.choices import AuditAction
from clinic.core.integrity import chain_seal, chain_seal_batch


class ClinicModel(models.Model):
    """Every record has a UUID as its public id (URLs, API, FHIR) and timestamps."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class EnteredInErrorMixin(models.Model):
    """Amend, never erase: a wrong entry stays in the chart, marked with who found it wrong,
    when and why (clinic/core/records.py marks it)."""

    entered_in_error_at = models.DateTimeField(null=True, blank=True)
    entered_in_error_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    entered_in_error_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        abstract = True

    @property
    def is_valid(self) -> bool:
        return self.entered_in_error_at is None


class AppendOnlyError(Exception):
    pass


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("The audit trail is append-only.")

    def delete(self):
        raise AppendOnlyError("The audit trail is append-only.")

    def bulk_create(self, *args, **kwargs):
        # Each event links to the one before it (clinic/core/integrity.py): one at a time, or
        # as one sealed batch through append_batch.
        raise AppendOnlyError("Audit events are written through audit_record, never in bulk.")

    def append_batch(self, events: list[AuditEvent]) -> list[AuditEvent]:
        """Append new events in one multi-row INSERT, each linked to the one before it in the
        order given (a request's buffered events, clinic/core/audit.py): the whole batch is
        sealed and inserted under the chain lock, in one transaction."""
        if any(event.pk is not None for event in events):
            raise AppendOnlyError("An audit event cannot be changed once written.")
        if not events:
            return []
        using = router.db_for_write(self.model)
        with transaction.atomic(using=using):
            chain_seal_batch(events, using=using)
            queryset: models.QuerySet[AuditEvent] = self.using(using)  # type: ignore[assignment]
            return models.QuerySet.bulk_create(queryset, events)

    def for_patient(self, patient):
        return self.filter(patient=patient)


class AuditEvent(models.Model):
    """Who did what to which record, when and from where. Rows are only ever inserted.

    Database triggers (migrations 0002, 0003) refuse UPDATE, DELETE and SQLite's INSERT OR
    REPLACE as well, so the guarantee does not rest on application code alone; `digest` chains
    each event to the one before it (clinic/core/integrity.py), so a change made round the
    triggers shows in `manage.py verify_integrity`.
    """

    # The chained content, frozen: a field added later is not in older events' digests.
    chained_fields = (
        "occurred_at",
        "actor",
        "actor_username",
        "actor_role",
        "action",
        "object_type",
        "object_id",
        "patient",
        "summary",
        "changes",
        "ip_address",
        "user_agent",
        "request_id",
        "channel",
    )

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Snapshots: the event must read the same even if the account changes later.
    actor_username = models.CharField(max_length=150, blank=True)
    actor_role = models.CharField(max_length=32, blank=True)
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    patient = models.ForeignKey(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    summary = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    request_id = models.CharField(max_length=32, blank=True)
    channel = models.CharField(max_length=16, blank=True)
    digest = models.CharField(max_length=64, blank=True, default="", editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "-occurred_at"]),
            models.Index(fields=["actor", "-occurred_at"]),
        ]

    def __str__(self) -> str:
        when = f"{self.occurred_at:%Y-%m-%d %H:%M}"
        return f"{when} {self.actor_username} {self.action} {self.object_type}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("An audit event cannot be changed once written.")
        with transaction.atomic(using=kwargs.get("using")):
            chain_seal(self, using=kwargs.get("using"))
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("An audit event cannot be deleted.")
