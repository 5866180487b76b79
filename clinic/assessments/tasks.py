"""Background work for measurement-based care, run by the database-backed worker
(`manage.py db_worker`, from django-tasks-db)."""

from __future__ import annotations

from django.tasks import task

from clinic.assessments.services import assessment_reminders_send

# Deliveries queued before the outbox moved to `clinic.notifications` name their task by this
# path, and scheduling still queues through `enqueue_delivery` here.
from clinic.notifications.delivery import (  # re-export: remove after the renovation
    deliver_notification as deliver_notification,
)
from clinic.notifications.delivery import (  # re-export: remove after the renovation
    enqueue_delivery as enqueue_delivery,
)


@task
def send_assessment_reminders() -> int:
    return assessment_reminders_send()
