"""Appointment reminders: the text (when, and how to prepare for the route) and the sending of
those due through the outbox."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.clinic_phone import call_the_clinic
from clinic.notifications.services import notification_queue
from clinic.scheduling.choices import (
    AppointmentStatus,
)
from clinic.scheduling.models import (
    Appointment,
    AppointmentReminder,
)
from clinic.scheduling.policy import SchedulingPolicy, scheduling_policy
from clinic.scheduling.services._common import date_text, local
from clinic.screening.choices import Route


def _clock(moment: datetime.datetime, day: datetime.date) -> str:
    """ "05:00", or "22:00 on Monday 06/01/2031" when it falls on another day."""
    moment = local(moment)
    if moment.date() == day:
        return f"{moment:%H:%M}"
    return f"{moment:%H:%M} on {date_text(moment.date())}"


def reminder_text(
    appointment: Appointment, policy: SchedulingPolicy | None = None
) -> tuple[str, str]:
    """The subject and body of a reminder: when, and how to prepare for this route, with the
    fasting times worked out from the start in the clinic's time zone."""
    policy = policy or scheduling_policy()
    start = local(appointment.starts_at)
    day = start.date()
    route = appointment.route
    solids = appointment.starts_at - datetime.timedelta(minutes=policy.fasting_solids_min[route])
    liquids = appointment.starts_at - datetime.timedelta(minutes=policy.fasting_liquids_min[route])
    steps = []
    if route == Route.ESKETAMINE:
        nasal = appointment.starts_at - datetime.timedelta(
            minutes=policy.nasal_medication_min_before
        )
        steps.append(
            f"No food after {_clock(solids, day)}; no liquids after {_clock(liquids, day)}."
        )
        steps.append(
            "If you use a nasal corticosteroid or a nasal decongestant, use it no later than "
            f"{_clock(nasal, day)}."
        )
        driving = "Do not drive or use machinery until the next day, after a restful sleep."
    else:
        steps.append(
            f"No solid food after {_clock(solids, day)}; "
            f"clear liquids until {_clock(liquids, day)}."
        )
        driving = "Do not drive until the next day."
    if policy.escort_required:
        steps.append(f"An adult must take you home after the session. {driving}")
    steps.append("Bring " + "; ".join(policy.what_to_bring) + ".")
    minutes = appointment.duration_min
    stay = f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
    subject = f"{settings.CLINIC_NAME}: your appointment on {start:%A %m/%d} at {start:%H:%M}"
    body = (
        f"This is a reminder of your appointment at {settings.CLINIC_NAME}:\n\n"
        f"    {date_text(day)} at {start:%H:%M} (plan to stay about {stay})\n\n"
        "Before you come:\n"
        + "".join(f"- {step}\n" for step in steps)
        + f"\nTo change or cancel the appointment, please {call_the_clinic()}.\n"
    )
    return subject, body


def _due_hours(lead: datetime.timedelta, hours_before: tuple[int, ...]) -> int | None:
    """The reminder whose window `lead` (time until the start) is in: the smallest of the
    hours that is still ≥ the lead. A window missed (booked late) is not sent after its time."""
    due = [h for h in hours_before if lead <= datetime.timedelta(hours=h)]
    return min(due) if due else None


def appointment_reminders_send(now: datetime.datetime | None = None) -> int:
    """Queue the reminder e-mails that are due: one at each of the policy's hours before
    (48 h and 24 h by default) each booked appointment, once per appointment time. Returns how
    many were queued. Run every 15 minutes (`manage.py send_appointment_reminders`); the
    worker delivers the e-mail through the outbox, which retries failures."""
    policy = scheduling_policy()
    now = now or timezone.now()
    if not policy.reminder_hours_before:
        return 0
    horizon = now + datetime.timedelta(hours=max(policy.reminder_hours_before))
    appointments = (
        Appointment.objects.filter(
            status=AppointmentStatus.BOOKED, starts_at__gt=now, starts_at__lte=horizon
        )
        .select_related("patient")
        .prefetch_related("reminders")
    )
    queued = 0
    for appointment in appointments:
        hours = _due_hours(appointment.starts_at - now, policy.reminder_hours_before)
        if hours is None or any(
            r.hours_before == hours and r.starts_at == appointment.starts_at
            for r in appointment.reminders.all()
        ):
            continue
        queued += _reminder_queue(appointment, hours=hours, policy=policy)
    return queued


def _reminder_queue(appointment: Appointment, *, hours: int, policy: SchedulingPolicy) -> int:
    patient = appointment.patient
    try:
        with transaction.atomic():
            notification = None
            skipped = ""
            if patient.email:
                subject, body = reminder_text(appointment, policy)
                notification = notification_queue(
                    to_email=patient.email, patient_id=patient.pk, subject=subject, body=body
                )
            else:
                skipped = "The patient has no e-mail address on file."
            AppointmentReminder.objects.create(
                appointment=appointment,
                hours_before=hours,
                starts_at=appointment.starts_at,
                notification=notification,
                skipped_reason=skipped,
            )
            audit_record(
                actor=None,
                action=AuditAction.CREATE,
                object_type="appointment_reminder",
                object_id=appointment.uuid,
                patient=patient,
                summary=f"{hours} h reminder "
                + ("queued" if notification else f"not sent: {skipped}"),
            )
    except IntegrityError:
        return 0  # another run queued it first
    return 1 if notification else 0
