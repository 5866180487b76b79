"""What the ledger's read and write endpoints share: how a location, a container, an entry, a
count, a discrepancy and a report are said, and their entity tags."""

from __future__ import annotations

from ninja import Router

from clinic.controlled_substances import selectors
from clinic.controlled_substances.models import (
    Container,
    Discrepancy,
    InventoryCount,
    LedgerEntry,
    LossReport,
    Receipt,
)
from clinic.controlled_substances.selectors import EntryRow, LossReportRow
from clinic.core.api_schemas import ApiError
from clinic.core.api_versions import entity_tag
from clinic.locations.models import Location

# One router for the reads and the writes: a list and its create share a path (GET and POST
# /counts), and Ninja routes one path through one router.
router = Router(tags=["controlled substances"])

CHANGE_ERRORS = {404: ApiError, 409: ApiError, 412: ApiError, 428: ApiError}


def witness_data(payload) -> dict[str, str]:
    """A body's witness as the pages' forms take it (their WitnessMixin checks the password:
    a witness named without it is refused, as on the page)."""
    return {
        "witness": str(payload.witness or ""),
        "witness_password": payload.witness_password.get_secret_value(),
    }


def registrant(location: Location) -> dict:
    return {
        "uuid": location.uuid,
        "name": location.name,
        "code": location.code,
        "dea_registration_number": selectors.registrant_dea_number(location),
    }


def person(user) -> dict | None:
    return {"uuid": user.uuid, "name": user.display_name} if user is not None else None


def container_read(container: Container) -> dict:
    return {
        "uuid": container.uuid,
        "label": container.label,
        "product": container.lot.product.name,
        "lot_number": container.lot.lot_number,
        "expiry": container.lot.expiry.isoformat(),
        "content_mg": container.content_mg,
        "balance_mg": container.balance_mg,
        "status": container.status,
    }


def receipt_read(receipt: Receipt) -> dict:
    return {
        "uuid": receipt.uuid,
        "location": registrant(receipt.location),
        "product": receipt.product.name,
        "lot_number": receipt.lot.lot_number,
        "expiry": receipt.lot.expiry,
        "received_at": receipt.received_at,
        "witnessed": receipt.witness_id is not None,
        "containers": [
            container_read(c)
            for c in receipt.containers.select_related("lot__product").order_by("label", "id")
        ],
    }


def entry_read(entry: LedgerEntry, *, reversed_: bool) -> dict:
    return {
        "uuid": entry.uuid,
        "kind": entry.kind,
        "occurred_at": entry.occurred_at.isoformat(),
        "container": entry.container.label,
        "quantity_mg": entry.quantity_mg,
        "balance_after_mg": entry.balance_after_mg,
        "patient_mrn": entry.patient.mrn if entry.patient else "",
        "reversed": reversed_,
        "witnessed": entry.witness_id is not None,
    }


def row_read(row: EntryRow) -> dict:
    return entry_read(row.entry, reversed_=row.reversed)


def discrepancy_etag(discrepancy: Discrepancy) -> str:
    return entity_tag(
        "cs_discrepancy", discrepancy.uuid, discrepancy.updated_at, discrepancy.status
    )


def loss_report_etag(report: LossReport) -> str:
    return entity_tag(
        "cs_loss_report",
        report.uuid,
        report.updated_at,
        report.dea_notified_at,
        report.form106_submitted_at,
        report.form106_reference,
    )


def discrepancy_read(discrepancy: Discrepancy) -> dict:
    return {
        "uuid": discrepancy.uuid,
        "difference_mg": discrepancy.difference_mg,
        "status": discrepancy.status,
        "resolution_reason": discrepancy.resolution_reason,
        "resolved_by": person(discrepancy.resolved_by),
        "resolved_at": discrepancy.resolved_at,
        "adjusted": discrepancy.adjustment_id is not None,
        "etag": discrepancy_etag(discrepancy),
    }


def count_summary(count: InventoryCount, *, lines: int, discrepancies: int, open_: int) -> dict:
    return {
        "uuid": count.uuid,
        "kind": count.kind,
        "counted_at": count.counted_at,
        "taken_at": count.taken_at,
        "counted_by": person(count.counted_by),
        "witness": person(count.witness),
        "note": count.note,
        "containers": lines,
        "discrepancies": discrepancies,
        "open_discrepancies": open_,
    }


def count_read(count: InventoryCount, lines: list) -> dict:
    found = [getattr(line, "discrepancy", None) for line in lines]
    return {
        **count_summary(
            count,
            lines=len(lines),
            discrepancies=sum(1 for d in found if d is not None),
            open_=sum(1 for d in found if d is not None and d.status == "open"),
        ),
        "location": registrant(count.location),
        "lines": [
            {
                "container": container_read(line.container),
                "expected_mg": line.expected_mg,
                "counted_mg": line.counted_mg,
                "difference_mg": line.difference_mg,
                "discrepancy": discrepancy_read(d) if d is not None else None,
            }
            for line, d in zip(lines, found, strict=True)
        ],
    }


def loss_report_read(row: LossReportRow) -> dict:
    report = row.report
    return {
        "uuid": report.uuid,
        "kind": report.kind,
        "discovered_at": report.discovered_at,
        "description": report.description,
        "product": report.product.name if report.product else None,
        "quantity_mg": report.quantity_mg,
        "dea_notice_due_on": report.dea_notice_due_on,
        "dea_notified_at": report.dea_notified_at,
        "dea_notice": row.notice,
        "form106_due_on": report.form106_due_on,
        "form106_submitted_at": report.form106_submitted_at,
        "form106_reference": report.form106_reference,
        "form106": row.form106,
    }
