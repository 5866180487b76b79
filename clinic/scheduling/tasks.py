"""Background work for the schedule, run by the database-backed worker (`manage.py db_worker`).
Reminder e-mail is delivered through the assessments outbox (`Notification`), which retries
failures and shows them to clinic admins."""

from __future__ import annotations

from django.tasks import task


@task
def send_appointment_reminders() -> int:
    from clinic.scheduling.services import appointment_reminders_send

    return appointment_reminders_send()
