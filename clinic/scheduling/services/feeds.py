"""Calendar feeds: a secret URL per member of staff for their appointments."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.accounts.services import staff_lock
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import PermissionDenied
from clinic.scheduling.models import (
    CalendarFeed,
)

FEED_TOKEN_BYTES = 32


def feed_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def calendar_feed_create(*, actor: User, user: User | None = None) -> tuple[CalendarFeed, str]:
    """A new secret feed URL token for `user` (default: the actor), replacing any live one.
    The token is returned once; only its digest is kept."""
    require(actor, Capability.SCHEDULE_VIEW)
    user = user or actor
    if user.pk != actor.pk:
        require(actor, Capability.SCHEDULE_MANAGE_RESOURCES)
    staff_lock(staff_id=user.pk)
    now = timezone.now()
    CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    token = secrets.token_urlsafe(FEED_TOKEN_BYTES)
    feed = CalendarFeed.objects.create(
        user=user, digest_sha256=feed_token_digest(token), created_by=actor
    )
    audit_record(
        actor=actor,
        action=AuditAction.TOKEN,
        object_type="calendar_feed",
        object_id=feed.uuid,
        summary=f"Calendar feed created for {user.username} (any earlier one revoked)",
    )
    return feed, token


@transaction.atomic
def calendar_feed_revoke(*, actor: User, feed: CalendarFeed) -> CalendarFeed:
    require(actor, Capability.SCHEDULE_VIEW)
    locked = CalendarFeed.objects.select_for_update().select_related("user").get(pk=feed.pk)
    if locked.user_id != actor.pk and not actor.can(Capability.SCHEDULE_MANAGE_RESOURCES):
        raise PermissionDenied("Only the feed's owner or a clinic administrator revokes it.")
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.TOKEN,
            object_type="calendar_feed",
            object_id=locked.uuid,
            summary=f"Calendar feed revoked for {locked.user.username}",
        )
    return locked


def calendar_feed_touch(feed: CalendarFeed) -> None:
    CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=timezone.now())
