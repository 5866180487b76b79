"""The ledger's API schemas (clinic/controlled_substances/api/). Amounts are in mg, to three
decimal places, as the ledger stores them; patients appear by MRN only."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import SecretStr

from clinic.core.api_pages import CursorQuery
from clinic.core.api_schemas import RequestBody
from clinic.core.text import MultiLine, OneLine
from clinic.patients.schemas import DecimalIn

EntryKindCode = Literal[
    "receipt", "administration", "waste", "return", "transfer_out", "adjustment", "reversal"
]
CountKindCode = Literal["daily", "initial", "biennial"]
BusinessTimeCode = Literal["opening", "close"]
LossKindCode = Literal["theft", "significant_loss"]
DeadlineCode = Literal["due", "overdue", "done", "done_late"]

WITNESS_PASSWORD = (
    "The witness's own password, as the page asks the witness to type it (checked as at "
    "sign-in: wrong attempts count towards the witness's lockout). Never stored."
)


class LocationQuery(Schema):
    location: UUID | None = Field(
        None, description="The location's UUID; by default the caller's current location."
    )


class PagedLocationQuery(CursorQuery, LocationQuery):
    pass


class EntryListQuery(PagedLocationQuery):
    kind: EntryKindCode | None = None
    date_from: datetime.date | None = Field(None, description="From this day (clinic's zone).")
    date_to: datetime.date | None = Field(None, description="To this day, inclusive.")
    product: UUID | None = Field(None, description="One product's entries.")


class RegistrantRead(Schema):
    uuid: UUID
    name: str
    code: str
    dea_registration_number: str = Field(
        description='The location\'s own DEA registration number ("" when not set).'
    )


class ContainerRead(Schema):
    uuid: UUID
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
    uuid: UUID
    kind: str
    occurred_at: str
    container: str = Field(description="The container's label.")
    quantity_mg: Decimal = Field(description="The signed change to the container's balance.")
    balance_after_mg: Decimal
    patient_mrn: str = Field(description='The patient\'s MRN, or "".')
    reversed: bool
    witnessed: bool = Field(description="Whether a second person witnessed it (a waste always).")


class EntryPage(Schema):
    location: RegistrantRead
    items: list[EntryRead]
    next_cursor: str | None


class Person(Schema):
    uuid: UUID
    name: str


class CountSummary(Schema):
    uuid: UUID
    kind: CountKindCode
    counted_at: datetime.datetime
    taken_at: str = Field(description='"opening" or "close" for an inventory; "" otherwise.')
    counted_by: Person
    witness: Person | None
    note: str
    containers: int = Field(description="Containers counted.")
    discrepancies: int = Field(description="Discrepancies the count opened.")
    open_discrepancies: int


class CountPage(Schema):
    location: RegistrantRead
    items: list[CountSummary]
    next_cursor: str | None


class DiscrepancyRead(Schema):
    uuid: UUID
    difference_mg: Decimal = Field(description="Counted less the book balance.")
    status: Literal["open", "resolved"]
    resolution_reason: str
    resolved_by: Person | None
    resolved_at: datetime.datetime | None
    adjusted: bool = Field(description="Whether an adjustment entry brought the book to the count.")
    etag: str = Field(description="Send it as If-Match to resolve the discrepancy.")


class CountLineRead(Schema):
    container: ContainerRead
    expected_mg: Decimal = Field(description="The book balance when the count was recorded.")
    counted_mg: Decimal
    difference_mg: Decimal
    discrepancy: DiscrepancyRead | None


class CountRead(CountSummary):
    location: RegistrantRead
    lines: list[CountLineRead]


class Witness(RequestBody):
    """A witness as the pages take one: another active licensed member of staff who works at
    the location, confirming with their own password (the same field names as the chair-side
    session API's)."""

    witness: UUID | None = Field(None, description="The witness's staff id.")
    # A secret: never echoed in a validation error, a log line or a repr.
    witness_password: SecretStr = Field(SecretStr(""), max_length=256, description=WITNESS_PASSWORD)


class CountLine(RequestBody):
    container: UUID
    counted_mg: DecimalIn = Field(description="mg left; an open container may be estimated.")


class CountRecord(Witness):
    location: UUID | None = Field(None, description="By default your current location.")
    kind: CountKindCode
    taken_at: BusinessTimeCode | None = Field(
        None, description="Required for an initial or biennial inventory."
    )
    lines: list[CountLine] = Field(
        description="Every container on hand at the location, each once.", max_length=2000
    )
    note: MultiLine = Field("", max_length=300)


class WasteRecord(Witness):
    quantity_mg: DecimalIn
    reason: OneLine = Field(..., max_length=300)
    administration: UUID | None = Field(
        None,
        description="The administration whose residual this wastes (no balance change); "
        "left out: straight from the container (off its balance).",
    )


class ReceiptRecord(Witness):
    location: UUID | None = Field(None, description="By default your current location.")
    product: UUID
    lot_number: OneLine = Field(..., max_length=40)
    expiry: datetime.date
    containers: int = Field(..., ge=1, le=999, description="Vials or devices received.")
    supplier: OneLine = Field(..., max_length=200)
    supplier_address: MultiLine = Field(..., max_length=300)
    supplier_dea_number: OneLine = Field(..., max_length=20)
    invoice: OneLine = Field(..., max_length=60)
    received_on: datetime.date = Field(description="The actual date of receipt.")
    received_time: datetime.time | None = Field(None, description="Left out: midnight.")


class ReceiptRead(Schema):
    uuid: UUID
    location: RegistrantRead
    product: str
    lot_number: str
    expiry: datetime.date
    received_at: datetime.datetime
    witnessed: bool
    containers: list[ContainerRead]


class DiscrepancyResolve(RequestBody):
    reason: OneLine = Field(..., max_length=300)
    adjust_balance: bool = Field(
        False, description="Bring the book balance to the count (an adjustment entry)."
    )


class LossReportRecord(RequestBody):
    location: UUID | None = Field(None, description="By default your current location.")
    kind: LossKindCode
    discovered_at: datetime.datetime = Field(description="With its UTC offset; not in the future.")
    description: MultiLine = Field(..., max_length=1000)
    product: UUID | None = None
    quantity_mg: DecimalIn | None = None


class LossStep(RequestBody):
    done_at: datetime.datetime | None = Field(None, description="Left out: now.")


class Form106Step(LossStep):
    reference: OneLine = Field("", max_length=60)


class LossReportRead(Schema):
    uuid: UUID
    kind: LossKindCode
    discovered_at: datetime.datetime
    description: str
    product: str | None
    quantity_mg: Decimal | None
    dea_notice_due_on: datetime.date
    dea_notified_at: datetime.datetime | None
    dea_notice: DeadlineCode
    form106_due_on: datetime.date
    form106_submitted_at: datetime.datetime | None
    form106_reference: str
    form106: DeadlineCode


class LossReportPage(Schema):
    location: RegistrantRead
    items: list[LossReportRead]
    next_cursor: str | None


class ContainerLedgerRead(ContainerRead):
    location: RegistrantRead
    entries: list[EntryRead] = Field(
        description="Every entry of the container, oldest first, as its page lists them."
    )


class ContainerReturn(Witness):
    recipient: OneLine = Field(
        ..., max_length=200, description="The supplier or reverse distributor it goes back to."
    )
    recipient_dea_number: OneLine = Field(..., max_length=20, description="Their DEA number.")
    reason: OneLine = Field(..., max_length=300)


class ContainerTransfer(Witness):
    to_location: UUID = Field(
        description="Another active location you work at; the container is received there."
    )
    reason: OneLine = Field(..., max_length=300)


class TransferRead(Schema):
    transfer_out: EntryRead = Field(description="The entry that took it off this location.")
    receipt: ReceiptRead = Field(description="Its receipt at the other location.")


class ReversalRecord(RequestBody):
    entry: UUID = Field(description="The entry to undo.")
    reason: OneLine = Field(..., max_length=300)


class ReversalRead(EntryRead):
    reverses: UUID = Field(description="The entry this reversal undoes (it stays in the ledger).")
