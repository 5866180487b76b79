"""Background work for measurement-based care, run by the database-backed worker
(`manage.py db_worker`, from django-tasks-db)."""

from __future__ import annotations

from django.tasks import task


@task
def deliver_notification(notification_id: int) -> str:
    from clinic.assessments.services import notification_deliver

    return notification_deliver(notification_id)


def enqueue_delivery(notification_id: int, *, run_after=None) -> None:
    """Queue a delivery; a retry waits until `run_after` where the backend can defer. Where it
    cannot (the immediate backend in tests), `deliver_due_notifications` picks the row up."""
    if run_after is not None:
        if not deliver_notification.get_backend().supports_defer:
            return
        deliver_notification.using(run_after=run_after).enqueue(notification_id)
    else:
        deliver_notification.enqueue(notification_id)


@task
def send_assessment_reminders() -> int:
    from clinic.assessments.services import assessment_reminders_send

    return assessment_reminders_send()
