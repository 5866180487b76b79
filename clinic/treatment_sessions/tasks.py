"""Background work for the chair side, run by the database-backed worker (`manage.py db_worker`).
Reminder e-mail goes through the outbox (`Notification`), which retries failures."""

from __future__ import annotations

import datetime

from django.tasks import task


@task
def send_prescriber_reminders() -> int:
    from clinic.treatment_sessions.prescriber_requests import prescriber_reminders_send

    return prescriber_reminders_send()


def enqueue_prescriber_reminders(*, run_after: datetime.datetime) -> None:
    """Look for requests that waited too long at `run_after` (when a new one's delay runs out).
    A backend that cannot defer (the immediate one in tests) relies on the cron command
    `send_prescriber_reminders`, which a clinic runs every minute as well."""
    if not send_prescriber_reminders.get_backend().supports_defer:
        return
    send_prescriber_reminders.using(run_after=run_after).enqueue()
