"""Rooms, chairs, opening hours, staff shifts, appointments and their reminders.

No double booking: on PostgreSQL exclusion constraints (migration 0002) refuse two active
appointments that overlap on one chair or one patient; on every database the booking service
locks the chair, nurse and patient rows and checks first. A nurse may hold up to the clinic's
`nurse_max_concurrent_chairs` overlapping appointments, counted under the nurse's row lock
(migration 0003 dropped the nurse's constraint; ADR 0006).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from clinic.core.models import ClinicModel
from clinic.locations.models import location_field
from clinic.scheduling.choices import (
    ACTIVE_STATUSES,
    BOOKED_SESSION_STATUSES,
    AppointmentStatus,
    ChairCapability,
    Weekday,
)
from clinic.screening.choices import Route


class Room(ClinicModel):
    location = location_field("rooms")
    name = models.CharField(max_length=100)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["location", "name"], name="room_name_once_per_location")
        ]

    def __str__(self) -> str:
        return self.name


class Chair(ClinicModel):
    """A treatment chair and the equipment at it (a list of ChairCapability values)."""

    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="chairs")
    name = models.CharField(max_length=100)
    capabilities = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["room__name", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["room", "name"], name="chair_name_once_per_room")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.room.name})"

    def has(self, capabilities) -> bool:
        return set(capabilities) <= set(self.capabilities)

    @property
    def capability_labels(self) -> list[str]:
        return [ChairCapability(c).label for c in self.capabilities if c in ChairCapability]


class OpeningHours(models.Model):
    """When a location is open on a weekday, in its time zone. A weekday without a row is
    closed. Set through `services.opening_hours_set`."""

    location = location_field("opening_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["location", "weekday"]
        constraints = [
            models.UniqueConstraint(
                fields=["location", "weekday"], name="opening_hours_once_per_location_weekday"
            ),
            models.CheckConstraint(
                condition=Q(closes__gt=F("opens")), name="opening_hours_close_after_opening"
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="opening_hours_weekday_0_to_6"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class StaffShift(ClinicModel):
    """A staff member at work at a location on a date, from `start` to `end` in its time zone."""

    location = location_field("shifts")
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="shifts"
    )
    date = models.DateField()
    start = models.TimeField()
    end = models.TimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["date", "start", "id"]
        indexes = [models.Index(fields=["date", "staff"])]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="shift_ends_after_start")
        ]

    def __str__(self) -> str:
        return f"{self.staff} {self.date} {self.start:%H:%M}–{self.end:%H:%M}"


class AppointmentQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status__in=ACTIVE_STATUSES)

    def overlapping(self, starts_at, ends_at):
        """Half-open intervals: one ending at 10:10 and the next starting at 10:10 do not
        overlap (the exclusion constraints use the same '[)' ranges)."""
        return self.filter(starts_at__lt=ends_at, ends_at__gt=starts_at)


class Appointment(ClinicModel):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="appointments"
    )
    chair = models.ForeignKey(Chair, on_delete=models.PROTECT, related_name="appointments")
    nurse = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="nurse_appointments"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    route = models.CharField(max_length=16, choices=Route.choices)
    planned_session = models.ForeignKey(
        "protocols.PlannedSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    status = models.CharField(
        max_length=16, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    status_reason = models.CharField(max_length=300, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["starts_at"]),
            models.Index(fields=["chair", "starts_at"]),
            models.Index(fields=["nurse", "starts_at"]),
            models.Index(fields=["patient", "starts_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="appointment_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(status__in=list(BOOKED_SESSION_STATUSES)) | ~Q(status_reason=""),
                name="appointment_cancel_or_no_show_with_reason",
            ),
            models.UniqueConstraint(
                fields=["planned_session"],
                condition=Q(status__in=list(BOOKED_SESSION_STATUSES)),
                name="appointment_one_per_planned_session",
            ),
        ]

    def __str__(self) -> str:
        return f"Appointment {self.starts_at:%Y-%m-%d %H:%M} ({self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def duration_min(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


class AppointmentReminder(ClinicModel):
    """One reminder e-mail for one appointment time, `hours_before` its start. Unique, so a
    reminder goes once even when two runs of the job overlap; a rescheduled appointment (a
    new `starts_at`) gets its own. With no e-mail address on file nothing is queued and
    `skipped_reason` says why."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="reminders")
    hours_before = models.PositiveSmallIntegerField()
    starts_at = models.DateTimeField()
    notification = models.ForeignKey(
        "notifications.Notification",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    skipped_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-hours_before", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "hours_before", "starts_at"],
                name="appointment_reminder_once",
            )
        ]


class CalendarFeed(ClinicModel):
    """A clinician's iCalendar feed. The URL carries a secret token; only its SHA-256 digest
    is stored, and a revoked feed answers 404."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    digest_sha256 = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(revoked_at__isnull=True),
                name="calendar_feed_one_live_per_user",
            )
        ]
