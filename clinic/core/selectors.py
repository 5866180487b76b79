from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth.models import AbstractUser
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils import timezone

from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.models import AuditEvent


@dataclass(frozen=True)
class AuditFilter:
    mrn: str = ""
    username: str = ""
    action: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None

    def as_form_data(self) -> dict[str, str]:
        """The filter as form values, to carry it across pages."""
        return {
            k: (v.isoformat() if isinstance(v, datetime.date) else str(v))
            for k, v in self.__dict__.items()
            if v
        }

    def describe(self) -> str:
        parts = [f"{k}={v}" for k, v in self.__dict__.items() if v]
        return ", ".join(parts) or "no filter"


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def audit_event_queryset(*, actor: AbstractUser, filters: AuditFilter) -> QuerySet[AuditEvent]:
    require(actor, "audit.view")
    events = AuditEvent.objects.select_related("patient", "actor")
    if filters.mrn:
        events = events.filter(patient__mrn=filters.mrn)
    if filters.username:
        events = events.filter(actor_username__iexact=filters.username)
    if filters.action:
        events = events.filter(action=filters.action)
    # Dates are the clinic's calendar days.
    if filters.date_from:
        events = events.filter(occurred_at__gte=_day_start(filters.date_from))
    if filters.date_to:
        events = events.filter(
            occurred_at__lt=_day_start(filters.date_to + datetime.timedelta(days=1))
        )
    return events


def audit_event_page(
    *,
    actor: AbstractUser,
    filters: AuditFilter,
    page_number: int | str = 1,
    page_size: int = 50,
) -> Page[AuditEvent]:
    page = Paginator(audit_event_queryset(actor=actor, filters=filters), page_size).get_page(
        page_number
    )
    audit_record(
        actor=actor,
        action=AuditAction.VIEW,
        object_type="audit_log",
        summary=f"Audit log page {page.number} ({filters.describe()})",
    )
    return page
