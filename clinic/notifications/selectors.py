"""Reads of the outbox: the admin's page, the dashboard's count and the sweep."""

from __future__ import annotations

from django.utils import timezone

from clinic.accounts.models import User
from clinic.core.access import require
from clinic.notifications.choices import NotificationStatus
from clinic.notifications.models import Notification


def notification_outbox(*, actor: User, limit: int = 200) -> list[Notification]:
    require(actor, "notification.view")
    return list(Notification.objects.select_related("recipient")[:limit])


def notifications_failing_count() -> int:
    """Messages whose last attempt failed, retrying or given up: for the admin's home page."""
    return Notification.objects.filter(
        status__in=[NotificationStatus.FAILED, NotificationStatus.GAVE_UP]
    ).count()


def notifications_due() -> list[int]:
    """Rows whose delivery is due: the sweep (`deliver_due_notifications`) re-queues them, so a
    lost queue entry or a worker restart delays a message but never drops it."""
    return list(
        Notification.objects.filter(
            status__in=[NotificationStatus.PENDING, NotificationStatus.FAILED],
            next_attempt_at__lte=timezone.now(),
        ).values_list("pk", flat=True)
    )
