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
from clinic.controlled_substances.registrants import ledger_location, registrant_dea_number
from clinic.controlled_substances.services.checks import (
    MAX_CONTAINERS_PER_RECEIPT,
    MAX_MG,
    MgInput,
    dea_number,
    event_time,
    licensed_witness,
    mg_amount,
    reach_location_of,
    reason_text,
    text_field,
    witness_at,
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
from clinic.locations.models import Location


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
    location: Location | None = None,
) -> Receipt:
    """Receive `containers` sealed vials or devices of one lot: the receipt record of 21 CFR
    1304.21/1304.22(c) [J5], [J6] (supplier's name, address and DEA number; the actual date of
    receipt), one container per vial or device, and a receipt entry for each. `location` is the
    receiving location, the registrant (21 CFR 1301.12(a)); by default the actor's current
    one. Its containers are kept there."""
    require(actor, Capability.LEDGER_RECEIVE)
    location = ledger_location(actor, location)
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
    witness_at(witness, location)
    return _receive(
        actor=actor,
        location=location,
        product=product,
        fields=fields,
        expiry=expiry,
        containers=containers,
        witness=witness,
        received_at=received_at,
    )


def _receive(
    *,
    actor: User,
    location: Location,
    product: Product,
    fields: dict[str, str],
    expiry: datetime.date,
    containers: int,
    witness: User | None,
    received_at: datetime.datetime,
) -> Receipt:
    """The receipt, its containers at `location` and a receipt entry for each (checked input)."""
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
        location=location,
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
            location=location,
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
            f"{receipt.invoice_number}, at {location.name}"
        )[:300],
        changes={
            "containers": containers,
            "content_mg_per_container": content,
            "location": location.code,
        },
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
    reach_location_of(actor, locked.location_id, what="container")
    witness_at(witness, locked.location)
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


@transaction.atomic
def container_transfer(
    *,
    actor: User,
    container: Container,
    to_location: Location,
    reason: str,
    witness: User | None = None,
    received_by: User | None = None,
    occurred_at: datetime.datetime | None = None,
) -> Receipt:
    """Move a sealed container to another location of the network. Each location is its own
    registrant (21 CFR 1301.12(a)), so this is a transfer out of one registrant's stock
    (a `transfer_out` entry naming the receiving location and its DEA number) and a receipt at
    the other (a receipt naming the sending location and its DEA number, and a new container
    there). Both sides keep their own records; neither balance moves otherwise.

    Only a sealed container moves (an opened vial stays where it was opened). The actor works
    at the sending location; `received_by` (default: the actor) at the receiving one. Both
    locations need their DEA registration number (the default location may use the clinic
    policy's)."""
    require(actor, Capability.LEDGER_RECEIVE)
    reason = reason_text(reason)
    occurred_at = event_time("occurred_at", occurred_at)
    witness = licensed_witness(actor=actor, witness=witness, required=False)
    receiver = received_by or actor
    if receiver.pk != actor.pk:
        require(receiver, Capability.LEDGER_RECEIVE)
    locked = container_lock(container)
    reach_location_of(actor, locked.location_id, what="container")
    source = locked.location
    destination = ledger_location(receiver, to_location)
    witness_at(witness, source)
    if destination.pk == source.pk:
        raise InvalidInput({"to_location": ["The container is at that location already."]})
    if locked.status != ContainerStatus.IN_STOCK or locked.balance_mg != locked.content_mg:
        raise Conflict(
            f"{locked.label} has been opened: only a sealed container moves to another location.",
            code="container_opened",
        )
    numbers = {place: registrant_dea_number(place) for place in (source, destination)}
    unregistered = [place.name for place, number in numbers.items() if not number]
    if unregistered:
        raise Conflict(
            f"Give {' and '.join(unregistered)} a DEA registration number first: a transfer "
            "names both registrants.",
            code="no_dea_registration",
        )
    entry = balance_move(
        locked,
        kind=EntryKind.TRANSFER_OUT,
        quantity=-locked.balance_mg,
        status=ContainerStatus.TRANSFERRED,
        actor=actor,
        witness=witness,
        counterparty=", ".join(
            part for part in (destination.name, destination.address_one_line) if part
        )[:200],
        counterparty_dea_number=numbers[destination],
        reason=reason,
        occurred_at=occurred_at,
    )
    entry_audit(
        actor,
        entry,
        f"Transferred {locked.label} ({mg_text(-entry.quantity_mg)} mg) from {source.name} to "
        f"{destination.name} (DEA {numbers[destination]})",
    )
    lot = locked.lot
    return _receive(
        actor=receiver,
        location=destination,
        product=lot.product,
        fields={
            "supplier": source.name[:200],
            "supplier_address": source.address_one_line[:300] or source.name[:300],
            "supplier_dea_number": numbers[source],
            "invoice": f"Transfer of {locked.label}"[:60],
            "lot_number": lot.lot_number,
        },
        expiry=lot.expiry,
        containers=1,
        witness=witness if witness is not None and witness.pk != receiver.pk else None,
        received_at=occurred_at,
    )
