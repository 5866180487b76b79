"""Read-only ledger endpoints, one location at a time (issue 14; ADR 0007, "Locations"): the
stock on hand and the ledger's entries. The pages' selectors, so the same checks and audit:
`ledger.view`, and the location — `?location=<uuid>` (refused with 403 unless the caller works
there, or is the clinic administrator), by default the caller's current location. Patients
appear by MRN only."""

from __future__ import annotations

import uuid
from decimal import Decimal

from ninja import Field, Query, Router, Schema

from clinic.controlled_substances import selectors
from clinic.controlled_substances.selectors import Period
from clinic.locations.models import Location

router = Router(tags=["controlled substances"])


class LocationQuery(Schema):
    location: uuid.UUID | None = Field(
        None, description="The location's UUID; by default the caller's current location."
    )


class LedgerPageQuery(LocationQuery):
    page: int = 1


class RegistrantRead(Schema):
    uuid: uuid.UUID
    name: str
    code: str
    dea_registration_number: str = Field(
        description='The location\'s own DEA registration number ("" when not set).'
    )


class ContainerRead(Schema):
    uuid: uuid.UUID
    label: str
    product: str
    lot_number: str
    expiry: str = Field(description="YYYY-MM-DD")
    content_mg: Decimal
    balance_mg: Decimal
    status: str


class StockRead(Schema):
    location: RegistrantRead
    containers: list[ContainerRead] = Field(description="Containers on hand at the location.")


class EntryRead(Schema):
    uuid: uuid.UUID
    kind: str
    occurred_at: str
    container: str = Field(description="The container's label.")
    quantity_mg: Decimal = Field(description="The signed change to the container's balance.")
    balance_after_mg: Decimal
    patient_mrn: str = Field(description='The patient\'s MRN, or "".')
    reversed: bool


class EntryPage(Schema):
    location: RegistrantRead
    items: list[EntryRead]
    count: int
    page: int
    pages: int
    page_size: int


def _registrant(location: Location) -> dict:
    return {
        "uuid": location.uuid,
        "name": location.name,
        "code": location.code,
        "dea_registration_number": selectors.registrant_dea_number(location),
    }


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
        "location": _registrant(location),
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
    response=EntryPage,
    summary="A location's ledger, newest first",
    operation_id="ledger_entries",
)
def ledger_entries(request, params: Query[LedgerPageQuery]):
    location = selectors.ledger_location(request.auth, params.location)
    ledger = selectors.ledger_page(
        actor=request.auth, period=Period(), page_number=params.page, location=location
    )
    page = ledger.page
    return {
        "location": _registrant(location),
        "items": [
            {
                "uuid": row.entry.uuid,
                "kind": row.entry.kind,
                "occurred_at": row.entry.occurred_at.isoformat(),
                "container": row.entry.container.label,
                "quantity_mg": row.entry.quantity_mg,
                "balance_after_mg": row.entry.balance_after_mg,
                "patient_mrn": row.entry.patient.mrn if row.entry.patient else "",
                "reversed": row.reversed,
            }
            for row in ledger.rows
        ],
        "count": page.paginator.count,
        "page": page.number,
        "pages": page.paginator.num_pages,
        "page_size": page.paginator.per_page,
    }
