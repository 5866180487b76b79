"""E-mail to staff from the accounts app (staff invitations).

`accounts` sits below `notifications` (the outbox's rows name their recipient, a User), so it
cannot import the outbox. The outbox registers its `notification_queue` here at start-up
(notifications' AppConfig.ready), as later stages of care register chart sections.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured

_queue: Callable[..., Any] | None = None


def register_outbox(queue: Callable[..., Any]) -> None:
    global _queue
    _queue = queue


def staff_email_queue(*, recipient: Any, subject: str, body: str) -> Any:
    """One outbox row for a staff member, in the caller's transaction."""
    if _queue is None:
        raise ImproperlyConfigured("The notifications app is not installed: no outbox.")
    return _queue(recipient=recipient, subject=subject, body=body)
