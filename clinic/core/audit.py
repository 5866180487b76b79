"""Writing the audit trail. Every read and write of a patient's record calls `audit_record`.

One audit write per request (docs/adr/0002-append-only-audit-trail.md, amended for issue 14):
while a request is served (RequestContextMiddleware), the events that record what someone saw
or was refused -- views, lists, searches, exports, denials -- are kept in the request's buffer
and written when the request has been answered, in one sealed multi-row INSERT (`audit_flush`),
whatever the view did: returned a page, raised (a 500), or was refused. The events of a write
(create, update, sign-in, emergency access, ...) are written at once, inside the service's
transaction, so they commit and roll back with the write. Outside a request (management
commands, background jobs, tests that call services directly) every event is written at once.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any

from django.db import models

from clinic.core.choices import AuditAction
from clinic.core.models import AuditEvent
from clinic.core.request_context import current_audit_buffer, current_request_context


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(getattr(value, "uuid", value.pk))
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    return {name: _plain(getattr(instance, name)) for name in fields}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Only the fields that changed, each as {"before": ..., "after": ...}."""
    return {
        name: {"before": before.get(name), "after": after.get(name)}
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }


# What someone saw or was refused: these wait for the end of the request (see above). A
# denial is written even when the transaction it was raised in rolls back.
DEFERRED_ACTIONS = frozenset(
    {
        AuditAction.VIEW,
        AuditAction.LIST,
        AuditAction.SEARCH,
        AuditAction.EXPORT,
        AuditAction.DENIED,
    }
)


def audit_record(
    *,
    actor,
    action: AuditAction | str,
    object_type: str = "",
    object_id: str | uuid.UUID = "",
    patient=None,
    summary: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    context = current_request_context()
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    event = AuditEvent(
        actor=actor if authenticated else None,
        actor_username=actor.get_username() if authenticated else "",
        actor_role=getattr(actor, "role", "") if authenticated else "",
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id else "",
        patient=patient,
        summary=summary[:300],
        changes={k: _plain(v) for k, v in (changes or {}).items()},
        ip_address=context.ip_address,
        user_agent=context.user_agent,
        request_id=context.request_id,
        channel=context.channel,
    )
    buffer = current_audit_buffer()
    if buffer is not None and action in DEFERRED_ACTIONS:
        # occurred_at is already set: the event keeps the moment it happened.
        buffer.append(event)
    else:
        event.save(force_insert=True)
    return event


def audit_flush(events: list[AuditEvent]) -> None:
    """Write a request's buffered events, in the order they happened, in one sealed batch."""
    pending, events[:] = list(events), []
    AuditEvent.objects.append_batch(pending)
