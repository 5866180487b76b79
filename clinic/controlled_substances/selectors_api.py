"""The ledger's lists for the API, a cursor page at a time (clinic/core/api_pages.py): the same
checks as the pages' selectors (capability, location, audit: one event per page), read in a
fixed number of queries however long the page. Newest first, with the record's UUID to break
ties, so an entry written while a client pages through the ledger never shifts the pages after
it (it lands before the first page, which the client has read already)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.controlled_substances.choices import DiscrepancyStatus, EntryKind
from clinic.controlled_substances.models import (
    Container,
    InventoryCount,
    LedgerEntry,
    LossReport,
    Product,
)
from clinic.controlled_substances.registrants import ledger_location
from clinic.controlled_substances.selectors import (
    EntryRow,
    LossReportRow,
    Period,
    _entries,
    _loss_rows,
    _rows,
)
from clinic.core.access import require
from clinic.core.api_pages import Keyset, keyset_page
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import NotFound
from clinic.locations.models import Location

ENTRY_ORDER = Keyset(("-occurred_at",))
COUNT_ORDER = Keyset(("-counted_at",))
LOSS_ORDER = Keyset(("-discovered_at",))


@dataclass(frozen=True)
class ApiPage[RowT]:
    location: Location
    rows: Sequence[RowT]
    next_after: list[Any] | None


def entry_page(
    *,
    actor: User,
    location: Location | None,
    period: Period,
    kind: str,
    after: Sequence[Any] | None,
    limit: int,
) -> ApiPage[EntryRow]:
    """One location's ledger, newest first, by date, product and kind (as the ledger page)."""
    require(actor, Capability.LEDGER_VIEW)
    location = ledger_location(actor, location)
    entries = period.apply(
        LedgerEntry.objects.filter(container__location=location),
        "occurred_at",
        "container__lot__product",
    )
    if kind in EntryKind.values:
        entries = entries.filter(kind=kind)
    page = keyset_page(_entries(entries), keyset=ENTRY_ORDER, after=after, limit=limit)
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="cs_ledger",
        summary=(
            f"Controlled-substance ledger of {location.name} (API): {len(page.items)} "
            f"entr(ies), {period.describe()}"
        )[:300],
    )
    return ApiPage(location, _rows(page.items, actor=actor), page.next_after)


def count_page(
    *, actor: User, location: Location | None, after: Sequence[Any] | None, limit: int
) -> ApiPage[InventoryCount]:
    """One location's counts and inventories, newest first, each with how many containers it
    counted and how many discrepancies it opened (and how many of those are still open)."""
    require(actor, Capability.LEDGER_VIEW)
    location = ledger_location(actor, location)
    counts = (
        InventoryCount.objects.filter(location=location)
        .select_related("counted_by", "witness")
        .annotate(
            line_total=Count("lines", distinct=True),
            discrepancy_total=Count("lines__discrepancy", distinct=True),
            open_total=Count(
                "lines__discrepancy",
                filter=Q(lines__discrepancy__status=DiscrepancyStatus.OPEN),
                distinct=True,
            ),
        )
    )
    page = keyset_page(counts, keyset=COUNT_ORDER, after=after, limit=limit)
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="cs_count",
        summary=f"Counts of {location.name} (API): {len(page.items)}",
    )
    return ApiPage(location, page.items, page.next_after)


def loss_report_page(
    *, actor: User, location: Location | None, after: Sequence[Any] | None, limit: int
) -> ApiPage[LossReportRow]:
    """One location's theft and loss reports, newest discovery first, with their deadlines."""
    require(actor, Capability.LEDGER_VIEW)
    location = ledger_location(actor, location)
    reports = LossReport.objects.filter(location=location).select_related("product")
    page = keyset_page(reports, keyset=LOSS_ORDER, after=after, limit=limit)
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="cs_loss_report",
        summary=f"Theft and loss reports of {location.name} (API): {len(page.items)}",
    )
    rows = _loss_rows(page.items, timezone.localdate())  # type: ignore[arg-type]  # any iterable
    return ApiPage(location, rows, page.next_after)


def containers_named(*, location: Location, uuids: Sequence[uuid.UUID]) -> list[Container]:
    """The containers a count names, among those kept at `location` (one kept elsewhere reads
    like one that does not exist: the caller refuses the count when any is left out)."""
    return list(
        Container.objects.filter(location=location, uuid__in=list(uuids)).select_related(
            "lot__product"
        )
    )


def product_named(product_uuid: uuid.UUID) -> Product:
    """A product by its UUID (a list's filter), or NotFound."""
    product = Product.objects.filter(uuid=product_uuid).first()
    if product is None:
        raise NotFound("No such product.")
    return product


def transfer_out_of(container: Container) -> LedgerEntry:
    """The entry that took `container` off its location when it was transferred (a container
    the caller has reached; only a sealed one moves, so once)."""
    return _entries(container.entries.filter(kind=EntryKind.TRANSFER_OUT)).latest("id")
