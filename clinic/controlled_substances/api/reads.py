"""Ledger reads, one location at a time (issue 14; ADR 0007, "Locations"): the stock on hand,
the ledger's entries, counts with their lines and discrepancies, theft and loss reports. The
pages' selectors, so the same checks and audit: `ledger.view`, and the location —
`?location=<uuid>` (refused with 403 unless the caller works there, or is the clinic
administrator), by default the caller's current location. One record kept at a location out
of reach is 404. Patients appear by MRN only. Lists are cursor-paged, newest first."""

from __future__ import annotations

import uuid

from django.http import HttpResponse
from django.utils import timezone
from ninja import Query

from clinic.controlled_substances import selectors, selectors_api
from clinic.controlled_substances.api.common import (
    count_read,
    count_summary,
    discrepancy_etag,
    discrepancy_read,
    loss_report_etag,
    loss_report_read,
    registrant,
    router,
    row_read,
)
from clinic.controlled_substances.schemas import (
    CountPage,
    CountRead,
    DiscrepancyRead,
    EntryListQuery,
    EntryPage,
    LocationQuery,
    LossReportPage,
    LossReportRead,
    PagedLocationQuery,
    StockRead,
)
from clinic.controlled_substances.selectors import LossReportRow, Period
from clinic.core.api_pages import cursor_decode, cursor_encode
from clinic.core.api_schemas import ApiError
from clinic.core.api_versions import etag_openapi
from clinic.core.exceptions import InvalidInput

PAGE_NUMBERS_GONE = (
    "The ledger is paged by cursor now: leave out `page` and send `next_cursor` back as `cursor`."
)


def _next(after, *, scope: str, filters: dict) -> str | None:
    return cursor_encode(after, scope=scope, filters=filters) if after else None


@router.get(
    "/stock",
    response=StockRead,
    summary="A location's controlled-substance stock on hand",
    operation_id="ledger_stock",
)
def ledger_stock(request, params: Query[LocationQuery]):
    location = selectors.ledger_location(request.auth, params.location)
    inventory = selectors.inventory_get(actor=request.auth, location=location)
    return {
        "location": registrant(location),
        "containers": [
            {
                "uuid": c.uuid,
                "label": c.label,
                "product": stock.product.name,
                "lot_number": c.lot.lot_number,
                "expiry": c.lot.expiry.isoformat(),
                "content_mg": c.content_mg,
                "balance_mg": c.balance_mg,
                "status": c.status,
            }
            for stock in inventory.stock
            for c in stock.on_hand
        ],
    }


@router.get(
    "/entries",
    response={200: EntryPage, 404: ApiError},
    summary="A location's ledger, newest first",
    description=(
        "By kind, days (the clinic's time zone) and product, as the ledger page, a page at a "
        "time: send `next_cursor` back as `cursor` (null: the last page). An entry recorded "
        "while you page comes before the first page and never shifts the others. `page` (the "
        "page numbers of before) is refused with 422. 404 for an unknown product."
    ),
    operation_id="ledger_entries",
)
def ledger_entries(request, params: Query[EntryListQuery]):
    if "page" in request.GET:
        # A client still sending page numbers would otherwise read page 1 over and over.
        raise InvalidInput({"page": [PAGE_NUMBERS_GONE]})
    actor = request.auth
    location = selectors.ledger_location(actor, params.location)
    product = None
    if params.product:
        product = selectors_api.product_named(params.product)
    filters = params.model_dump(exclude={"cursor", "limit", "location"}) | {"at": location.uuid}
    after = cursor_decode(params.cursor, scope="ledger_entries", filters=filters)
    found = selectors_api.entry_page(
        actor=actor,
        location=location,
        period=Period(params.date_from, params.date_to, product),
        kind=params.kind or "",
        after=after,
        limit=params.limit,
    )
    return {
        "location": registrant(found.location),
        "items": [row_read(row) for row in found.rows],
        "next_cursor": _next(found.next_after, scope="ledger_entries", filters=filters),
    }


@router.get(
    "/counts",
    response=CountPage,
    summary="A location's counts and inventories, newest first",
    operation_id="ledger_counts",
)
def ledger_counts(request, params: Query[PagedLocationQuery]):
    location = selectors.ledger_location(request.auth, params.location)
    filters = {"at": location.uuid}
    after = cursor_decode(params.cursor, scope="ledger_counts", filters=filters)
    found = selectors_api.count_page(
        actor=request.auth, location=location, after=after, limit=params.limit
    )
    return {
        "location": registrant(found.location),
        "items": [
            count_summary(
                c,
                # Annotated by the selector (selectors_api.count_page).
                lines=c.line_total,  # type: ignore[attr-defined]
                discrepancies=c.discrepancy_total,  # type: ignore[attr-defined]
                open_=c.open_total,  # type: ignore[attr-defined]
            )
            for c in found.rows
        ],
        "next_cursor": _next(found.next_after, scope="ledger_counts", filters=filters),
    }


@router.get(
    "/counts/{count_uuid}",
    response=CountRead,
    summary="One count: each container's book and counted amounts, and its discrepancies",
    operation_id="ledger_count",
)
def ledger_count(request, count_uuid: uuid.UUID):
    count, lines = selectors.count_get(actor=request.auth, count_uuid=count_uuid)
    return count_read(count, lines)


@router.get(
    "/discrepancies/{discrepancy_uuid}",
    response=DiscrepancyRead,
    openapi_extra=etag_openapi(200),
    summary="One discrepancy, with its ETag",
    operation_id="ledger_discrepancy",
)
def ledger_discrepancy(request, discrepancy_uuid: uuid.UUID, response: HttpResponse):
    discrepancy = selectors.discrepancy_get(actor=request.auth, discrepancy_uuid=discrepancy_uuid)
    response["ETag"] = discrepancy_etag(discrepancy)
    return discrepancy_read(discrepancy)


def loss_row(report) -> LossReportRow:
    today = timezone.localdate()
    return LossReportRow(
        report,
        selectors.deadline_state(report.dea_notice_due_on, report.dea_notified_at, today),
        selectors.deadline_state(report.form106_due_on, report.form106_submitted_at, today),
    )


@router.get(
    "/losses",
    response=LossReportPage,
    summary="A location's theft and loss reports, newest discovery first",
    operation_id="ledger_losses",
)
def ledger_losses(request, params: Query[PagedLocationQuery]):
    location = selectors.ledger_location(request.auth, params.location)
    filters = {"at": location.uuid}
    after = cursor_decode(params.cursor, scope="ledger_losses", filters=filters)
    found = selectors_api.loss_report_page(
        actor=request.auth, location=location, after=after, limit=params.limit
    )
    return {
        "location": registrant(found.location),
        "items": [loss_report_read(row) for row in found.rows],
        "next_cursor": _next(found.next_after, scope="ledger_losses", filters=filters),
    }


@router.get(
    "/losses/{report_uuid}",
    response=LossReportRead,
    openapi_extra=etag_openapi(200),
    summary="One theft or loss report, with its deadlines and its ETag",
    operation_id="ledger_loss",
)
def ledger_loss(request, report_uuid: uuid.UUID, response: HttpResponse):
    report = selectors.loss_report_get(actor=request.auth, report_uuid=report_uuid)
    response["ETag"] = loss_report_etag(report)
    return loss_report_read(loss_row(report))
