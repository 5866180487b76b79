"""Stock coming in and going out to another registrant: products, receipts of sealed
containers [J5], [J6], and returns to a supplier or reverse distributor."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.controlled_substances.choices import (
    ContainerStatus,
    EntryKind,
    ProductKind,
)
from clinic.controlled_substances.models import (
    Container,
    LedgerEntry,
    Lot,
    Product,
    Receipt,
)
from clinic.controlled_substances.services.checks import (
    MAX_CONTAINERS_PER_RECEIPT,
    MAX_MG,
    MgInput,
    dea_number,
    event_time,
    licensed_witness,
    mg_amount,
    reason_text,
    text_field,
)
from clinic.controlled_substances.services.moves import (
    balance_move,
    container_lock,
    entry_audit,
    mg_text,
)
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, InvalidInput
from clinic.core.parsing import date_problem
from clinic.core.policy import date_policy


@transaction.atomic
def product_create(
    *,
    actor: User,
    name: str,
    kind: str,
    strength_mg_per_ml: MgInput | None = None,
    volume_ml: MgInput | None = None,
    mg_per_device: MgInput | None = None,
    ndc: str = "",
) -> Product:
    """A stocked product: a racemic ketamine vial (strength and volume) or an esketamine nasal
    device (mg per device). Amounts come from the product's label, entered by the registrant."""
    require(actor, Capability.LEDGER_RECEIVE)
    name = text_field("name", name, max_length=120, required=True, what="product name")
    ndc = text_field("ndc", ndc, max_length=20, required=False, what="NDC")
    if kind not in ProductKind.values:
        raise InvalidInput({"kind": ["Choose a vial of racemic ketamine or an esketamine device."]})
    values: dict = {"strength_mg_per_ml": None, "volume_ml": None, "mg_per_device": None}
    if kind == ProductKind.RACEMIC_KETAMINE_VIAL:
        values["strength_mg_per_ml"] = mg_amount(
            "strength_mg_per_ml", strength_mg_per_ml, unit="mg/mL"
        )
        values["volume_ml"] = mg_amount("volume_ml", volume_ml, unit="mL")
    else:
        values["mg_per_device"] = mg_amount("mg_per_device", mg_per_device)
    if Product.objects.filter(name__iexact=name).exists():
        raise InvalidInput({"name": [f"There is already a product called {name}."]})
    product = Product.objects.create(name=name, kind=kind, ndc=ndc, **values)
    if product.content_mg > MAX_MG:
        raise InvalidInput({"volume_ml": ["That container would hold too much to be right."]})
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="cs_product",
        object_id=product.uuid,
        summary=f"Controlled-substance product added: {name} ({product.form_description})",
    )
    return product


@transaction.atomic
def receipt_record(
    *,
    actor: User,
    product: Product,
    supplier: str,
    supplier_address: str,
    supplier_dea_number: str,
    invoice: str,
    lot_number: str,
    expiry: datetime.date,
    containers: int,
    witness: User | None = None,
    received_at: datetime.datetime | None = None,
) -> Receipt:
    """Receive `containers` sealed vials or devices of one lot: the receipt record of 21 CFR
    1304.21/1304.22(c) [J5], [J6] (supplier's name, address and DEA number; the actual date of
    receipt), one container per vial or device, and a receipt entry for each."""
    require(actor, Capability.LEDGER_RECEIVE)
    errors: dict[str, list[str]] = {}
    fields = {}
    for field, value, max_length, what in (
        ("supplier", supplier, 200, "supplier's name"),
        ("supplier_address", supplier_address, 300, "supplier's address"),
        ("invoice", invoice, 60, "invoice or packing-slip number"),
        ("lot_number", lot_number, 40, "lot number"),
    ):
        try:
            fields[field] = text_field(
                field, value, max_length=max_length, required=True, what=what
            )
        except InvalidInput as error:
            errors.update(error.errors)
    try:
        fields["supplier_dea_number"] = dea_number("supplier_dea_number", supplier_dea_number)
    except InvalidInput as error:
        errors.update(error.errors)
    if not isinstance(expiry, datetime.date):
        errors["expiry"] = ["Give the lot's expiry date."]
    elif problem := date_problem(
        expiry, today=timezone.localdate(), days_ahead=date_policy().expiry_days_ahead
    ):
        errors["expiry"] = [problem]
    if isinstance(containers, bool) or not isinstance(containers, int) or containers < 1:
        errors["containers"] = ["Receive at least one container."]
    elif containers > MAX_CONTAINERS_PER_RECEIPT:
        errors["containers"] = [f"Receive at most {MAX_CONTAINERS_PER_RECEIPT} at once."]
    if errors:
        raise InvalidInput(errors)
    received_at = event_time("received_at", received_at)
    witness = licensed_witness(actor=actor, witness=witness, required=False)
    locked_product = Product.objects.select_for_update().filter(pk=product.pk).first()
    if locked_product is None or not locked_product.active:
        raise InvalidInput({"product": ["Choose a product in use."]})
    lot = Lot.objects.filter(product=locked_product, lot_number=fields["lot_number"]).first()
    if lot is None:
        lot = Lot.objects.create(
            product=locked_product, lot_number=fields["lot_number"], expiry=expiry
        )
    elif lot.expiry != expiry:
        raise InvalidInput(
            {
                "expiry": [
                    f"Lot {lot.lot_number} was received before with expiry {lot.expiry:%m/%d/%Y}."
                ]
            }
        )
    content = locked_product.content_mg
    receipt = Receipt.objects.create(
        product=locked_product,
        lot=lot,
        supplier_name=fields["supplier"],
        supplier_address=fields["supplier_address"],
        supplier_dea_number=fields["supplier_dea_number"],
        invoice_number=fields["invoice"],
        received_at=received_at,
        received_by=actor,
        witness=witness,
        container_count=containers,
        content_mg_per_container=content,
    )
    already = lot.containers.count()
    for number in range(already + 1, already + containers + 1):
        container = Container.objects.create(
            lot=lot,
            receipt=receipt,
            label=f"{lot.lot_number}-{number:03d}",
            content_mg=content,
            balance_mg=Decimal(0),
        )
        balance_move(
            container_lock(container),
            kind=EntryKind.RECEIPT,
            quantity=content,
            actor=actor,
            witness=witness,
            occurred_at=received_at,
            counterparty=receipt.supplier_name,
            counterparty_dea_number=receipt.supplier_dea_number,
            reason=f"Invoice {receipt.invoice_number}",
        )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="cs_receipt",
        object_id=receipt.uuid,
        summary=(
            f"Received {containers} × {locked_product.name} lot {lot.lot_number} from "
            f"{receipt.supplier_name} (DEA {receipt.supplier_dea_number}), invoice "
            f"{receipt.invoice_number}"
        )[:300],
        changes={"containers": containers, "content_mg_per_container": content},
    )
    return receipt


@transaction.atomic
def container_return(
    *,
    actor: User,
    container: Container,
    recipient: str,
    recipient_dea_number: str,
    reason: str,
    witness: User | None = None,
    occurred_at: datetime.datetime | None = None,
) -> LedgerEntry:
    """Return what is left in a container to a supplier or reverse distributor (a registrant,
    named with its DEA number). The container leaves the stock."""
    require(actor, Capability.LEDGER_RECEIVE)
    recipient = text_field("recipient", recipient, max_length=200, required=True, what="recipient")
    recipient_dea_number = dea_number("recipient_dea_number", recipient_dea_number)
    reason = reason_text(reason)
    occurred_at = event_time("occurred_at", occurred_at)
    witness = licensed_witness(actor=actor, witness=witness, required=False)
    locked = container_lock(container)
    if locked.balance_mg == 0:
        raise Conflict(f"{locked.label} is empty: there is nothing to return.", code="empty")
    entry = balance_move(
        locked,
        kind=EntryKind.RETURN,
        quantity=-locked.balance_mg,
        status=ContainerStatus.RETURNED,
        actor=actor,
        witness=witness,
        counterparty=recipient,
        counterparty_dea_number=recipient_dea_number,
        reason=reason,
        occurred_at=occurred_at,
    )
    entry_audit(
        actor,
        entry,
        f"Returned {mg_text(-entry.quantity_mg)} mg in {locked.label} to {recipient} "
        f"(DEA {recipient_dea_number})",
    )
    return entry
