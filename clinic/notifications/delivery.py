"""Delivering the outbox: one attempt at a row, its retries, and the task the worker runs.

The attempt, the task and the queueing live in one module on purpose: a failed attempt queues
its own retry, so they call each other, and a cycle inside one module is not one between two.
"""

from __future__ import annotations

import datetime
import re

from django.core import mail
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from clinic.notifications.choices import NotificationStatus
from clinic.notifications.models import Notification

SENT_LINK_PATTERN = re.compile(r"https?://\S+")
SENT_LINK_REDACTED = "[link removed once sent]"

# Delivery back-off: attempt n waits RETRY_DELAYS_S[n-1] before the next; after the last, the
# notification is marked "needs attention" on the admin's outbox page (never dropped).
RETRY_DELAYS_S = (60, 300, 900, 3600, 6 * 3600)


def notification_deliver(notification_id: int) -> str:
    """Send one notification if it is due. Returns its status. Safe to run twice at once."""
    with transaction.atomic():
        notification = (
            # Lock only the notification row: PostgreSQL cannot lock the nullable side of the
            # outer join to the (optional) recipient.
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None:
            return "locked"
        if notification.status in (NotificationStatus.SENT, NotificationStatus.GAVE_UP):
            return notification.status
        if not notification.address:
            error = "The recipient has no e-mail address on file."
        else:
            try:
                # Looked up at call time, so a test can stand in for the mail server.
                mail.send_mail(
                    notification.subject,
                    notification.body,
                    None,
                    [notification.address],
                )
            except Exception as caught:  # any transport failure is retried, not raised
                error = f"{type(caught).__name__}: {caught}"[:300]
            else:
                notification.status = NotificationStatus.SENT
                notification.sent_at = timezone.now()
                notification.attempts += 1
                notification.last_error = ""
                # A sent e-mail's links (activation, questionnaire, reset) must not stay usable
                # from the database or the outbox page: keep the words, drop the links.
                notification.body = SENT_LINK_PATTERN.sub(SENT_LINK_REDACTED, notification.body)
                notification.save(
                    update_fields=[
                        "status",
                        "sent_at",
                        "attempts",
                        "last_error",
                        "body",
                        "updated_at",
                    ]
                )
                return notification.status
        notification.attempts += 1
        notification.last_error = error
        if notification.attempts > len(RETRY_DELAYS_S):
            notification.status = NotificationStatus.GAVE_UP
        else:
            notification.status = NotificationStatus.FAILED
            delay = RETRY_DELAYS_S[notification.attempts - 1]
            notification.next_attempt_at = timezone.now() + datetime.timedelta(seconds=delay)
        notification.save(
            update_fields=["attempts", "last_error", "status", "next_attempt_at", "updated_at"]
        )
        if notification.status == NotificationStatus.FAILED:
            run_after = notification.next_attempt_at
            transaction.on_commit(lambda: enqueue_delivery(notification.pk, run_after=run_after))
        return notification.status


@task
def deliver_notification(notification_id: int) -> str:
    return notification_deliver(notification_id)


def enqueue_delivery(notification_id: int, *, run_after: datetime.datetime | None = None) -> None:
    """Queue a delivery; a retry waits until `run_after` where the backend can defer. Where it
    cannot (the immediate backend in tests), `deliver_due_notifications` picks the row up."""
    if run_after is not None:
        if not deliver_notification.get_backend().supports_defer:
            return
        deliver_notification.using(run_after=run_after).enqueue(notification_id)
    else:
        deliver_notification.enqueue(notification_id)
