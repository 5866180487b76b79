"""Ledger writes, only those the pages make and only for the roles the pages allow them to
(clinic/accounts/permissions.py): receiving stock (`ledger.receive`), a witnessed waste
(`ledger.record`), a count (`ledger.count`), resolving a discrepancy (`ledger.reconcile`), and
a theft or loss report with its DEA notice and Form 106 (`ledger.report_loss`).

The ledger is append-only: nothing here edits or deletes an entry, a receipt or a count; a
waste, a receipt and a count are new records, as on the pages. The two records that do change
(a discrepancy when it is resolved, a loss report when the DEA notice and Form 106 are filed)
take `If-Match`, compared under their row lock.

A witness proves their presence as on the pages: the body names them and carries their own
password, checked by the pages' own form (WitnessMixin: through the sign-in backends, so wrong
attempts count towards the witness's lockout). Without a valid proof nothing is written (422).
Each body runs through the page's form, so every refusal says what the page says."""

from __future__ import annotations

import uuid

from django.http import HttpResponse
from django.utils import timezone
from ninja import Status

from clinic.accounts.permissions import Capability
from clinic.controlled_substances import selectors, services
from clinic.controlled_substances.api.common import (
    CHANGE_ERRORS,
    count_read,
    discrepancy_etag,
    discrepancy_read,
    entry_read,
    loss_report_etag,
    loss_report_read,
    receipt_read,
    router,
    witness_data,
)
from clinic.controlled_substances.api.reads import loss_row
from clinic.controlled_substances.forms import CountForm, LossReportForm, ReceiptForm, WasteForm
from clinic.controlled_substances.schemas import (
    CountRead,
    CountRecord,
    DiscrepancyRead,
    DiscrepancyResolve,
    EntryRead,
    Form106Step,
    LossReportRead,
    LossReportRecord,
    LossStep,
    ReceiptRead,
    ReceiptRecord,
    WasteRecord,
)
from clinic.core.access import require
from clinic.core.api_forms import form_checked
from clinic.core.api_schemas import ApiError
from clinic.core.api_versions import IfMatch, etag_openapi, precondition
from clinic.core.exceptions import InvalidInput
from clinic.core.text import OneLine


@router.post(
    "/receipts",
    response={201: ReceiptRead},
    summary="Receive sealed containers of one lot",
    description=(
        "The receipt record (supplier, DEA number, invoice, the actual date of receipt) and a "
        "receipt entry for each container, at `location` (by default your current one). "
        "Clinic administrator and prescribers. An optional witness proves their presence with "
        "their own password."
    ),
    operation_id="ledger_receipt_create",
)
def ledger_receipt_create(request, payload: ReceiptRecord):
    actor = request.auth
    require(actor, Capability.LEDGER_RECEIVE)  # before looking anything up
    location = selectors.ledger_location(actor, payload.location)
    form = form_checked(
        ReceiptForm(
            {
                "product": str(payload.product),
                "lot_number": payload.lot_number,
                "expiry": payload.expiry.isoformat(),
                "containers": str(payload.containers),
                "supplier": payload.supplier,
                "supplier_address": payload.supplier_address,
                "supplier_dea_number": payload.supplier_dea_number,
                "invoice": payload.invoice,
                "received_on": payload.received_on.isoformat(),
                "received_time": payload.received_time.isoformat() if payload.received_time else "",
                **witness_data(payload),
            },
            actor=actor,
            request=request,
            location=location,
        )
    )
    data = form.cleaned_data
    receipt = services.receipt_record(
        actor=actor,
        product=data["product"],
        supplier=data["supplier"],
        supplier_address=data["supplier_address"],
        supplier_dea_number=data["supplier_dea_number"],
        invoice=data["invoice"],
        lot_number=data["lot_number"],
        expiry=data["expiry"],
        containers=data["containers"],
        witness=data.get("witness"),
        received_at=form.received_at,
        location=location,
    )
    return Status(201, receipt_read(receipt))


@router.post(
    "/containers/{container_uuid}/waste",
    response={201: EntryRead, 404: ApiError, 409: ApiError},
    summary="Waste from a container, in front of a witness",
    description=(
        "Nurses and prescribers at the container's location. Straight from the container (off "
        "its balance), or the residual of one of its draws (`administration`; no balance "
        "change). The witness (active licensed staff at the location, not you) proves their "
        "presence with their own password: without it, or with a wrong one, 422 and nothing is "
        "written. 409 when the container holds less than that, or the draw has less residual "
        "left. 404 for a container out of reach."
    ),
    operation_id="ledger_waste_create",
)
def ledger_waste_create(request, container_uuid: uuid.UUID, payload: WasteRecord):
    actor = request.auth
    require(actor, Capability.LEDGER_RECORD)  # before looking anything up
    container = selectors.container_get(actor=actor, container_uuid=container_uuid)
    awaiting = selectors.awaiting_waste(actor=actor, container=container)
    form = form_checked(
        WasteForm(
            {
                "administration": str(payload.administration or ""),
                "quantity_mg": str(payload.quantity_mg),
                "reason": payload.reason,
                **witness_data(payload),
            },
            actor=actor,
            request=request,
            awaiting=awaiting,
            location=container.location,
        )
    )
    data = form.cleaned_data
    administration = next(
        (row.entry for row in awaiting if str(row.entry.uuid) == data["administration"]), None
    )
    entry = services.waste_record(
        actor=actor,
        container=container,
        quantity_mg=data["quantity_mg"],
        witness=data["witness"],
        reason=data["reason"],
        administration=administration,
    )
    return Status(201, entry_read(entry, reversed_=False))


@router.post(
    "/counts",
    response={201: CountRead, 409: ApiError},
    summary="Record a count of every container on hand",
    description=(
        "A daily count, or the initial or a biennial inventory (`taken_at` required for those), "
        "of every container on hand at `location` (by default your current one), each once: "
        "the book balance is kept with each line and every difference opens a discrepancy. "
        "Clinic administrator, prescribers and nurses. An optional witness proves their "
        "presence with their own password. 409 when the initial inventory was taken already."
    ),
    operation_id="ledger_count_create",
)
def ledger_count_create(request, payload: CountRecord):
    actor = request.auth
    require(actor, Capability.LEDGER_VIEW)
    require(actor, Capability.LEDGER_COUNT)
    location = selectors.ledger_location(actor, payload.location)
    on_hand = selectors.on_hand_containers(location)
    by_uuid = {c.uuid: c for c in on_hand}
    named = [line.container for line in payload.lines]
    if len(set(named)) != len(named):
        raise InvalidInput({"lines": ["Count each container once."]})
    if set(named) - set(by_uuid):
        raise InvalidInput({"lines": ["A counted container is not on hand here."]})
    rename = {CountForm.field_name(c): f"lines.{c.uuid}" for c in on_hand}
    form = form_checked(
        CountForm(
            {
                "kind": payload.kind,
                "taken_at": payload.taken_at or "",
                "note": payload.note,
                **{
                    CountForm.field_name(by_uuid[line.container]): str(line.counted_mg)
                    for line in payload.lines
                },
                **witness_data(payload),
            },
            actor=actor,
            request=request,
            containers=on_hand,
            location=location,
        ),
        rename,
    )
    data = form.cleaned_data
    count = services.count_record(
        actor=actor,
        kind=data["kind"],
        lines=form.lines(),
        witness=data.get("witness"),
        taken_at=data["taken_at"],
        note=data["note"],
        location=location,
    )
    return Status(201, count_read(*selectors.count_get(actor=actor, count_uuid=count.uuid)))


@router.post(
    "/discrepancies/{discrepancy_uuid}/resolve",
    response={200: DiscrepancyRead, **CHANGE_ERRORS},
    openapi_extra=etag_openapi(200),
    summary="Resolve a count's discrepancy, with a reason",
    description=(
        "Clinic administrator and prescribers. With `adjust_balance`, an adjustment entry (a "
        "new entry: the ledger is never edited) brings the book balance to the count. "
        "`If-Match` required. 409 when it was resolved already."
    ),
    operation_id="ledger_discrepancy_resolve",
)
def ledger_discrepancy_resolve(
    request,
    discrepancy_uuid: uuid.UUID,
    payload: DiscrepancyResolve,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    actor = request.auth
    require(actor, Capability.LEDGER_RECONCILE)  # before looking anything up
    discrepancy = selectors.discrepancy_get(actor=actor, discrepancy_uuid=discrepancy_uuid)
    resolved = services.discrepancy_resolve(
        actor=actor,
        discrepancy=discrepancy,
        reason=payload.reason,
        adjust_balance=payload.adjust_balance,
        precondition=precondition(if_match, discrepancy_etag),
    )
    response["ETag"] = discrepancy_etag(resolved)
    return discrepancy_read(resolved)


@router.post(
    "/losses",
    response={201: LossReportRead},
    openapi_extra=etag_openapi(201),
    summary="Report a theft or significant loss",
    description=(
        "At `location` (by default your current one): the deadlines to notify the DEA and to "
        "file Form 106 are computed from the discovery. Clinic administrator and prescribers."
    ),
    operation_id="ledger_loss_create",
)
def ledger_loss_create(request, payload: LossReportRecord, response: HttpResponse):
    actor = request.auth
    require(actor, Capability.LEDGER_VIEW)
    require(actor, Capability.LEDGER_REPORT_LOSS)
    location = selectors.ledger_location(actor, payload.location)
    discovered = timezone.localtime(payload.discovered_at)
    form = form_checked(
        LossReportForm(
            {
                "kind": payload.kind,
                "discovered_on": discovered.date().isoformat(),
                "discovered_time": discovered.time().isoformat(),
                "description": payload.description,
                "product": str(payload.product or ""),
                "quantity_mg": "" if payload.quantity_mg is None else str(payload.quantity_mg),
            }
        ),
        {"discovered_on": "discovered_at", "discovered_time": "discovered_at"},
    )
    data = form.cleaned_data
    report = services.loss_report_create(
        actor=actor,
        kind=data["kind"],
        discovered_at=form.discovered_at,
        description=data["description"],
        product=data["product"],
        quantity_mg=data["quantity_mg"],
        location=location,
    )
    response["ETag"] = loss_report_etag(report)
    return Status(201, loss_report_read(loss_row(report)))


def _loss_step(request, report_uuid: uuid.UUID, if_match, response: HttpResponse, step):
    actor = request.auth
    require(actor, Capability.LEDGER_REPORT_LOSS)  # before looking anything up
    report = selectors.loss_report_get(actor=actor, report_uuid=report_uuid)
    done = step(report, precondition(if_match, loss_report_etag))
    response["ETag"] = loss_report_etag(done)
    return loss_report_read(loss_row(done))


@router.post(
    "/losses/{report_uuid}/notified",
    response={200: LossReportRead, **CHANGE_ERRORS},
    openapi_extra=etag_openapi(200),
    summary="Record when the DEA was notified in writing",
    description="`If-Match` required. 409 when it is recorded already.",
    operation_id="ledger_loss_notified",
)
def ledger_loss_notified(
    request,
    report_uuid: uuid.UUID,
    payload: LossStep,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    actor = request.auth
    try:
        return _loss_step(
            request,
            report_uuid,
            if_match,
            response,
            lambda report, check: services.loss_report_mark_notified(
                actor=actor, report=report, notified_at=payload.done_at, precondition=check
            ),
        )
    except InvalidInput as error:
        raise InvalidInput(_done_at(error.errors, "notified_at"), error.message) from error


@router.post(
    "/losses/{report_uuid}/form106",
    response={200: LossReportRead, **CHANGE_ERRORS},
    openapi_extra=etag_openapi(200),
    summary="Record when DEA Form 106 was filed",
    description="After the DEA notice (409 before, and when it is recorded already). "
    "`If-Match` required.",
    operation_id="ledger_loss_form106",
)
def ledger_loss_form106(
    request,
    report_uuid: uuid.UUID,
    payload: Form106Step,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    actor = request.auth
    try:
        return _loss_step(
            request,
            report_uuid,
            if_match,
            response,
            lambda report, check: services.loss_report_mark_form106(
                actor=actor,
                report=report,
                submitted_at=payload.done_at,
                reference=payload.reference,
                precondition=check,
            ),
        )
    except InvalidInput as error:
        raise InvalidInput(_done_at(error.errors, "submitted_at"), error.message) from error


def _done_at(errors: dict[str, list[str]], name: str) -> dict[str, list[str]]:
    """The service names the moment as its record does; the body calls it `done_at`."""
    return {("done_at" if field == name else field): messages for field, messages in errors.items()}
