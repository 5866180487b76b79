"""The patient's own words around a session: an intention before it, a journal entry after it.

Both are written by the patient in the portal. An intention is for the care team that runs the
session (the chair-side pre-check shows it); a journal entry is private unless the patient
shares it with their care team, and can be unshared again at any time.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from clinic.core.models import ClinicModel

# The patient's own rating of their mood, a whole number on a 1–10 scale (1 = very low,
# 10 = very good). A self-report for reflection, not a scored instrument.
MOOD_MIN = 1
MOOD_MAX = 10


class Intention(ClinicModel):
    """What the patient wants to bring to one in-clinic session, in their own words. One per
    appointment; written and changed in the portal until the appointment starts."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="intentions"
    )
    appointment = models.OneToOneField(
        "scheduling.Appointment", on_delete=models.PROTECT, related_name="portal_intention"
    )
    text = models.TextField()
    # When the patient last saved it (created_at is when they first wrote it).
    written_at = models.DateTimeField()

    class Meta:
        ordering = ["-written_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "appointment"], name="intention_one_per_patient_appointment"
            ),
        ]

    def __str__(self) -> str:
        return f"Intention for {self.appointment_id}"


class JournalEntryQuerySet(models.QuerySet):
    def shared(self):
        return self.filter(shared_with_care_team=True)


class JournalEntry(ClinicModel):
    """An integration journal entry after a session (or on any day): mood before and after,
    reflections and insights. Never deleted; the patient may edit it and change its sharing."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="journal_entries"
    )
    # A past session of the patient's own, when the entry is about one.
    appointment = models.ForeignKey(
        "scheduling.Appointment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="journal_entries",
    )
    mood_before = models.PositiveSmallIntegerField()
    mood_after = models.PositiveSmallIntegerField()
    reflections = models.TextField(blank=True)
    insights = models.TextField(blank=True)
    shared_with_care_team = models.BooleanField(default=False)
    shared_at = models.DateTimeField(null=True, blank=True)
    # "Remind me to reflect later": one e-mail at this time (send_journal_reminders).
    remind_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    reminder_notification = models.ForeignKey(
        "notifications.Notification",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    objects = JournalEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "journal entries"
        indexes = [
            models.Index(fields=["patient", "-created_at"]),
            models.Index(
                fields=["remind_at"],
                condition=Q(remind_at__isnull=False, reminder_sent_at__isnull=True),
                name="journal_reminder_due",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(mood_before__gte=MOOD_MIN, mood_before__lte=MOOD_MAX),
                name="journal_mood_before_1_to_10",
            ),
            models.CheckConstraint(
                condition=Q(mood_after__gte=MOOD_MIN, mood_after__lte=MOOD_MAX),
                name="journal_mood_after_1_to_10",
            ),
            # One entry per session; more about the same session goes into that entry.
            models.UniqueConstraint(
                fields=["appointment"],
                condition=Q(appointment__isnull=False),
                name="journal_entry_one_per_appointment",
            ),
        ]

    def __str__(self) -> str:
        return f"Journal entry {self.created_at:%Y-%m-%d}"
