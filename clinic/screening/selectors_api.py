"""The front desk's consultation queue for the API, a cursor page at a time
(clinic/core/api_pages.py): the queue page's filter and checks (`consultation.manage`; one
audit event per page), newest first with the UUID to break ties, so a request that arrives
while a client pages never shifts the pages after it (it lands before the first)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.api_pages import Keyset, KeysetPage, keyset_page
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import InvalidInput
from clinic.screening.choices import ConsultationStatus
from clinic.screening.models import ConsultationRequest
from clinic.screening.selectors import (
    OBJECT_TYPE,
    OPEN_STATUSES,
    STATUS_FILTER_ALL,
    STATUS_FILTER_OPEN,
)

CONSULTATION_ORDER = Keyset(("-created_at",))


def consultation_request_cursor_page(
    *, actor: User, status: str, after: Sequence[Any] | None, limit: int
) -> KeysetPage[ConsultationRequest]:
    """One page of the queue, newest first. `status` is one of STATUS_FILTERS' values."""
    require(actor, Capability.CONSULTATION_MANAGE)
    queryset = ConsultationRequest.objects.select_related("patient")
    if status == STATUS_FILTER_OPEN:
        queryset = queryset.filter(status__in=OPEN_STATUSES)
    elif status in ConsultationStatus.values:
        queryset = queryset.filter(status=status)
    elif status != STATUS_FILTER_ALL:
        raise InvalidInput({"status": ["Choose one of the listed statuses."]})
    page = keyset_page(queryset, keyset=CONSULTATION_ORDER, after=after, limit=limit)
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type=OBJECT_TYPE,
        summary=f"Consultation requests ({status}) through the API: {len(page.items)} listed",
    )
    return page
