"""Writing to the outbox: the one way any app sends an e-mail."""

from __future__ import annotations

from django.db import transaction

from clinic.accounts.models import User
from clinic.notifications.delivery import enqueue_delivery
from clinic.notifications.models import Notification


def notification_queue(
    *,
    subject: str,
    body: str,
    recipient: User | None = None,
    to_email: str = "",
    patient_id: int | None = None,
) -> Notification:
    """One outbox row, written in the caller's transaction (so the message exists exactly when
    the event that sends it does) and handed to the worker once that transaction commits.

    Staff are addressed as `recipient` (their account's address at delivery time); a patient
    by `to_email`, with `patient_id` naming whose record the message concerns. There is no
    actor: the event that sends the message was audited by its own service.
    """
    notification = Notification.objects.create(
        recipient=recipient,
        to_email=to_email,
        patient_id=patient_id,
        subject=subject,
        body=body,
    )
    transaction.on_commit(lambda: enqueue_delivery(notification.pk))
    return notification
