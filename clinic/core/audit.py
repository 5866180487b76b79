"""Writing the audit trail. Every read and write of a patient's record calls `audit_record`."""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any

from django.db import models

from clinic.core.choices import AuditAction
from clinic.core.models import AuditEvent
from clinic.core.request_context import current_request_context


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
    return AuditEvent.objects.create(
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
