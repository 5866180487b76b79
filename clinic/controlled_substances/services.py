"""Writes to the controlled-substance records (ADR 0007). Each service checks the actor's
capability, runs in one transaction and leaves an audit event.

Race-safe balances. Every service that moves stock locks the container row first
(`select_for_update`, by primary key; several containers in primary-key order), checks the
balance under the lock, changes it with an `F()` update and only then writes the ledger entry
with the balance it left. Two nurses drawing from one vial at once queue on the vial's lock and
the second sees the first's draw. Under that, check constraints refuse a negative balance (or
one above what the container held) whatever wrote the row; an IntegrityError from them becomes
the same `Conflict` the check raises.

Append-only. Ledger entries, receipts and counts are only inserted; a wrong entry is undone
by `entry_reverse`, which writes a reversing entry and leaves both rows.

Waste is witnessed: a second, active, licensed member of staff (prescriber or nurse by default,
clinic policy) who is not the person recording. The pages confirm the witness with the
witness's own password; a caller of these services (the chair-side session app) must confirm
the witness its own way before passing them in.

The public signatures the treatment-session app calls:

    administration_record(*, actor, container, patient, drawn_mg, given_mg, session_ref="",
                          occurred_at=None) -> LedgerEntry
    waste_record(*, actor, container, quantity_mg, witness, reason, patient=None,
                 session_ref="", administration=None, occurred_at=None) -> LedgerEntry

An administration takes `drawn_mg` off the container; `given_mg` (≤ drawn) is what the patient
received. The difference stays "awaiting waste" until `waste_record(..., administration=entry)`
records it, which changes no balance (the draw already did). A `waste_record` without
`administration` wastes straight from the container and takes the quantity off the balance.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.db.models.functions import Round
from django.utils import timezone

from clinic.accounts.choices import Role
from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.controlled_substances.choices import (
    INVENTORY_KINDS,
    ON_HAND_STATUSES,
    BusinessTime,
    ContainerStatus,
    CountKind,
    DiscrepancyStatus,
    EntryKind,
    LossKind,
    ProductKind,
)
from clinic.controlled_substances.models import (
    MG_PLACES,
    Container,
    Discrepancy,
    InventoryCount,
    InventoryCountLine,
    LedgerEntry,
    LossReport,
    Lot,
    Product,
    Receipt,
)
from clinic.controlled_substances.policy import (
    ControlledSubstancePolicy,
    controlled_substance_policy,
)
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, InvalidInput, NotFound
from clinic.core.records import required_text
from clinic.core.text import CONTROL_CHARACTER_MESSAGE, has_control_characters
from clinic.patients.models import Patient

# Entry-error limits (plausibility, not clinical or legal values).
MAX_MG = Decimal("9999999.999")
MAX_CONTAINERS_PER_RECEIPT = 999

# Which capability reverses an entry of each kind: the one that recorded it.
REVERSE_CAPABILITY = {
    EntryKind.RECEIPT: Capability.LEDGER_RECEIVE,
    EntryKind.RETURN: Capability.LEDGER_RECEIVE,
    EntryKind.TRANSFER_OUT: Capability.LEDGER_RECEIVE,
    EntryKind.ADMINISTRATION: Capability.LEDGER_RECORD,
    EntryKind.WASTE: Capability.LEDGER_RECORD,
}


# --------------------------------------------------------------------------- input checks


def mg_amount(field: str, value, *, allow_zero: bool = False, unit: str = "mg") -> Decimal:
    """A quantity (in mg unless `unit` says otherwise) as a Decimal with at most 3 decimal
    places, or InvalidInput."""
    if isinstance(value, bool) or value is None or value == "":
        raise InvalidInput({field: [f"Give an amount in {unit}."]})
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as error:
        raise InvalidInput({field: [f"Give an amount in {unit}, e.g. 37.5."]}) from error
    if not amount.is_finite():
        raise InvalidInput({field: [f"Give an amount in {unit}, e.g. 37.5."]})
    if amount != amount.quantize(MG_PLACES):
        raise InvalidInput({field: ["Give the amount to at most 3 decimal places."]})
    if amount < 0 or (amount == 0 and not allow_zero):
        raise InvalidInput({field: [f"The amount must be more than 0 {unit}."]})
    if amount > MAX_MG:
        raise InvalidInput({field: ["That amount is too large to be right."]})
    return amount.quantize(MG_PLACES)


def _text(field: str, value: str | None, *, max_length: int, required: bool, what: str) -> str:
    if required:
        text = required_text(field, value, f"Give the {what}.")
    else:
        text = (value or "").strip()
        if has_control_characters(text):
            raise InvalidInput({field: [CONTROL_CHARACTER_MESSAGE]})
    if len(text) > max_length:
        raise InvalidInput({field: [f"Keep the {what} under {max_length + 1} characters."]})
    return text


def _reason(value: str | None) -> str:
    return _text("reason", value, max_length=300, required=True, what="reason")


def _dea_number(field: str, value: str | None) -> str:
    """Letters and digits, upper-cased. The references give no format, so none is enforced."""
    number = _text(field, value, max_length=20, required=True, what="DEA number")
    number = number.replace(" ", "").upper()
    if not number.isalnum():
        raise InvalidInput({field: ["A DEA number has only letters and digits."]})
    return number


def _moment(field: str, value: datetime.datetime | None) -> datetime.datetime:
    """The actual date and time of the event [J5]: aware, and not in the future."""
    now = timezone.now()
    if value is None:
        return now
    if not isinstance(value, datetime.datetime) or timezone.is_naive(value):
        raise InvalidInput({field: ["Give a date and time with its time zone."]})
    if value > now:
        raise InvalidInput({field: ["That time is in the future."]})
    return value


def _session_ref(value: str | None) -> str:
    return _text("session_ref", str(value or ""), max_length=64, required=False, what="session")


def _role_words(policy: ControlledSubstancePolicy) -> str:
    return " or ".join(Role(role).label.lower() for role in policy.witness_roles)


def licensed_witness(
    *,
    actor,
    witness,
    policy: ControlledSubstancePolicy | None = None,
    required: bool = True,
    field: str = "witness",
) -> User | None:
    """The witness as an active, licensed member of staff other than the actor, or
    InvalidInput. None when there is none and none is required."""
    policy = policy or controlled_substance_policy()
    if witness is None:
        if required:
            raise InvalidInput({field: ["A second licensed member of staff must witness this."]})
        return None
    if actor is not None and witness.pk == actor.pk:
        raise InvalidInput({field: ["The witness must be someone other than you."]})
    current = User.objects.filter(pk=witness.pk).first()
    if current is None or not current.is_active or current.role not in policy.witness_roles:
        raise InvalidInput({field: [f"The witness must be an active {_role_words(policy)}."]})
    return current


def _reachable_patient(actor, patient: Patient | None) -> Patient | None:
    if patient is None:
        return None
    found = Patient.objects.visible_to(actor).filter(pk=patient.pk).first()
    if found is None:
        raise NotFound("No such patient, or the patient is not on your care team.")
    return found


# --------------------------------------------------------------------------- balance moves


def _lock(container: Container) -> Container:
    locked = (
        Container.objects.select_for_update(of=("self",))
        .select_related("lot__product")
        .filter(pk=container.pk)
        .first()
    )
    if locked is None:
        raise NotFound("No such container.")
    return locked


def _mg_text(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _status_after(container: Container, balance: Decimal, status: str | None) -> str:
    if status is not None:
        return status
    if balance == 0:
        return ContainerStatus.EMPTY
    if (
        balance == container.content_mg
        and not container.entries.exclude(
            kind__in=[
                EntryKind.RECEIPT,
                EntryKind.RETURN,
                EntryKind.TRANSFER_OUT,
                EntryKind.REVERSAL,
            ]
        ).exists()
    ):
        return ContainerStatus.IN_STOCK
    return ContainerStatus.IN_USE


def _short_of(container: Container, quantity: Decimal) -> Conflict:
    return Conflict(
        f"{container.label} holds {_mg_text(container.balance_mg)} mg: "
        f"{_mg_text(-quantity)} mg cannot come out of it.",
        code="insufficient_balance",
        field="quantity_mg",
    )


def _over_content(container: Container) -> Conflict:
    return Conflict(
        f"{container.label} would hold more than the {_mg_text(container.content_mg)} mg it "
        "held when sealed.",
        code="balance_above_content",
    )


def _move(
    locked: Container, *, kind: str, quantity: Decimal, status: str | None = None, **entry_fields
) -> LedgerEntry:
    """Change a locked container's balance by `quantity` (an F() update, backed by the check
    constraints) and write the entry with the balance it left."""
    if locked.balance_mg + quantity < 0:
        raise _short_of(locked, quantity)
    if locked.balance_mg + quantity > locked.content_mg:
        raise _over_content(locked)
    if quantity != 0 or status is not None:
        new_status = _status_after(locked, locked.balance_mg + quantity, status)
        try:
            with transaction.atomic():
                Container.objects.filter(pk=locked.pk).update(
                    # Rounded to the column's 3 places: SQLite does decimal arithmetic in
                    # floating point, and 100 − 99.95 − 0.05 must be 0 there too.
                    balance_mg=Round(F("balance_mg") + quantity, 3),
                    status=new_status,
                    updated_at=timezone.now(),
                )
        except IntegrityError as error:
            locked.refresh_from_db(fields=["balance_mg"])
            if "within_content" in str(error):
                raise _over_content(locked) from error
            raise _short_of(locked, quantity) from error
        locked.refresh_from_db(fields=["balance_mg", "status", "updated_at"])
    return LedgerEntry.objects.create(
        kind=kind,
        container=locked,
        quantity_mg=quantity,
        balance_after_mg=locked.balance_mg,
        **entry_fields,
    )


def _audit_entry(actor, entry: LedgerEntry, summary: str) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="ledger_entry",
        object_id=entry.uuid,
        patient=entry.patient,
        summary=summary,
        changes={
            "kind": entry.kind,
            "container": entry.container.label,
            "quantity_mg": entry.quantity_mg,
            "balance_after_mg": entry.balance_after_mg,
            **({"witness": entry.witness.username} if entry.witness_id else {}),
            **({"reason": entry.reason} if entry.reason else {}),
        },
    )


# --------------------------------------------------------------------------- products, receipts


@transaction.atomic
def product_create(
    *,
    actor,
    name: str,
    kind: str,
    strength_mg_per_ml=None,
    volume_ml=None,
    mg_per_device=None,
    ndc: str = "",
) -> Product:
    """A stocked product: a racemic ketamine vial (strength and volume) or an esketamine nasal
    device (mg per device). Amounts come from the product's label, entered by the registrant."""
    require(actor, Capability.LEDGER_RECEIVE)
    name = _text("name", name, max_length=120, required=True, what="product name")
    ndc = _text("ndc", ndc, max_length=20, required=False, what="NDC")
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
    actor,
    product: Product,
    supplier: str,
    supplier_address: str,
    supplier_dea_number: str,
    invoice: str,
    lot_number: str,
    expiry: datetime.date,
    containers: int,
    witness=None,
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
            fields[field] = _text(field, value, max_length=max_length, required=True, what=what)
        except InvalidInput as error:
            errors.update(error.errors)
    try:
        fields["supplier_dea_number"] = _dea_number("supplier_dea_number", supplier_dea_number)
    except InvalidInput as error:
        errors.update(error.errors)
    if not isinstance(expiry, datetime.date):
        errors["expiry"] = ["Give the lot's expiry date."]
    if isinstance(containers, bool) or not isinstance(containers, int) or containers < 1:
        errors["containers"] = ["Receive at least one container."]
    elif containers > MAX_CONTAINERS_PER_RECEIPT:
        errors["containers"] = [f"Receive at most {MAX_CONTAINERS_PER_RECEIPT} at once."]
    if errors:
        raise InvalidInput(errors)
    received_at = _moment("received_at", received_at)
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
        _move(
            _lock(container),
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


# --------------------------------------------------------------------------- administration, waste


@transaction.atomic
def administration_record(
    *,
    actor,
    container: Container,
    patient: Patient,
    drawn_mg,
    given_mg,
    session_ref: str = "",
    occurred_at: datetime.datetime | None = None,
) -> LedgerEntry:
    """`drawn_mg` comes off the container; `given_mg` (≤ drawn) went to the patient. Any
    difference must then be wasted with `waste_record(..., administration=<this entry>)`.
    An esketamine device is used whole: its full balance is drawn."""
    require(actor, Capability.LEDGER_RECORD)
    drawn = mg_amount("drawn_mg", drawn_mg)
    given = mg_amount("given_mg", given_mg)
    if given > drawn:
        raise InvalidInput(
            {"given_mg": [f"The dose given cannot be more than was drawn ({_mg_text(drawn)} mg)."]}
        )
    session_ref = _session_ref(session_ref)
    occurred_at = _moment("occurred_at", occurred_at)
    patient = _reachable_patient(actor, patient)
    if patient is None:
        raise InvalidInput({"patient": ["Name the patient the dose was given to."]})
    locked = _lock(container)
    if locked.lot.expiry < timezone.localdate(occurred_at):
        raise Conflict(
            f"{locked.label} is from lot {locked.lot.lot_number}, which expired on "
            f"{locked.lot.expiry:%m/%d/%Y}.",
            code="lot_expired",
        )
    if locked.product.is_device and drawn != locked.balance_mg and drawn <= locked.balance_mg:
        raise Conflict(
            f"An esketamine device is used whole: record its {_mg_text(locked.balance_mg)} mg as "
            "drawn, the dose the patient received as given, and waste any rest.",
            code="device_used_whole",
            field="drawn_mg",
        )
    entry = _move(
        locked,
        kind=EntryKind.ADMINISTRATION,
        quantity=-drawn,
        drawn_mg=drawn,
        given_mg=given,
        actor=actor,
        patient=patient,
        session_ref=session_ref,
        occurred_at=occurred_at,
    )
    residual = drawn - given
    _audit_entry(
        actor,
        entry,
        f"Administered {_mg_text(given)} mg from {locked.label} ({locked.product.name}); drawn "
        f"{_mg_text(drawn)} mg" + (f", {_mg_text(residual)} mg to waste" if residual else ""),
    )
    return entry


def residual_outstanding_mg(administration: LedgerEntry) -> Decimal:
    """What of an administration's residual (drawn − given) is not yet wasted."""
    wasted = administration.residual_wastes.filter(reversed_by__isnull=True).aggregate(
        total=Sum("wasted_mg")
    )["total"] or Decimal(0)
    return administration.drawn_mg - administration.given_mg - wasted


@transaction.atomic
def waste_record(
    *,
    actor,
    container: Container,
    quantity_mg,
    witness,
    reason: str,
    patient: Patient | None = None,
    session_ref: str = "",
    administration: LedgerEntry | None = None,
    occurred_at: datetime.datetime | None = None,
) -> LedgerEntry:
    """A witnessed waste. With `administration`, the residual of that draw (no balance change:
    the draw took it off); without, straight from the container (off the balance)."""
    require(actor, Capability.LEDGER_RECORD)
    quantity = mg_amount("quantity_mg", quantity_mg)
    reason = _reason(reason)
    session_ref = _session_ref(session_ref)
    occurred_at = _moment("occurred_at", occurred_at)
    witness = licensed_witness(actor=actor, witness=witness)
    patient = _reachable_patient(actor, patient)
    locked = _lock(container)
    fields = {
        "wasted_mg": quantity,
        "actor": actor,
        "witness": witness,
        "reason": reason,
        "occurred_at": occurred_at,
    }
    if administration is not None:
        source = (
            LedgerEntry.objects.filter(pk=administration.pk, kind=EntryKind.ADMINISTRATION)
            .select_related("patient")
            .first()
        )
        if source is None or source.container_id != locked.pk:
            raise InvalidInput(
                {"administration": ["That administration is not from this container."]}
            )
        if LedgerEntry.objects.filter(reverses=source).exists():
            raise Conflict("That administration was reversed.", code="administration_reversed")
        if patient is not None and patient.pk != source.patient_id:
            raise InvalidInput({"patient": ["The administration was for another patient."]})
        _reachable_patient(actor, source.patient)
        outstanding = residual_outstanding_mg(source)
        if quantity > outstanding:
            raise Conflict(
                f"Only {_mg_text(outstanding)} mg of that draw is left to waste "
                f"(drawn {_mg_text(source.drawn_mg)} mg, given {_mg_text(source.given_mg)} mg).",
                code="waste_exceeds_residual",
                field="quantity_mg",
            )
        entry = _move(
            locked,
            kind=EntryKind.WASTE,
            quantity=Decimal(0),
            administration=source,
            patient=source.patient,
            session_ref=session_ref or source.session_ref,
            **fields,
        )
        what = "residual of an administration"
    else:
        entry = _move(
            locked,
            kind=EntryKind.WASTE,
            quantity=-quantity,
            patient=patient,
            session_ref=session_ref,
            **fields,
        )
        what = "from the container"
    _audit_entry(
        actor,
        entry,
        f"Wasted {_mg_text(quantity)} mg {what} {locked.label}, witnessed by "
        f"{witness.username}: {reason}",
    )
    return entry


# --------------------------------------------------------------------------- returns, reversals


@transaction.atomic
def container_return(
    *,
    actor,
    container: Container,
    recipient: str,
    recipient_dea_number: str,
    reason: str,
    witness=None,
    occurred_at: datetime.datetime | None = None,
) -> LedgerEntry:
    """Return what is left in a container to a supplier or reverse distributor (a registrant,
    named with its DEA number). The container leaves the stock."""
    require(actor, Capability.LEDGER_RECEIVE)
    recipient = _text("recipient", recipient, max_length=200, required=True, what="recipient")
    recipient_dea_number = _dea_number("recipient_dea_number", recipient_dea_number)
    reason = _reason(reason)
    occurred_at = _moment("occurred_at", occurred_at)
    witness = licensed_witness(actor=actor, witness=witness, required=False)
    locked = _lock(container)
    if locked.balance_mg == 0:
        raise Conflict(f"{locked.label} is empty: there is nothing to return.", code="empty")
    entry = _move(
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
    _audit_entry(
        actor,
        entry,
        f"Returned {_mg_text(-entry.quantity_mg)} mg in {locked.label} to {recipient} "
        f"(DEA {recipient_dea_number})",
    )
    return entry


@transaction.atomic
def entry_reverse(*, actor, entry: LedgerEntry, reason: str) -> LedgerEntry:
    """Undo a wrong entry with a reversing entry (never an edit): the balance goes back and both
    rows stay. Reversing needs the capability that recorded the entry."""
    original = LedgerEntry.objects.filter(pk=entry.pk).first()
    if original is None:
        raise NotFound("No such ledger entry.")
    # Reversals and adjustments are refused below, to anyone who may see the ledger.
    require(actor, REVERSE_CAPABILITY.get(original.kind, Capability.LEDGER_VIEW))
    reason = _reason(reason)
    _reachable_patient(actor, original.patient)
    locked = _lock(original.container)
    if original.kind == EntryKind.REVERSAL:
        raise Conflict(
            "A reversal cannot itself be reversed: record the movement again instead.",
            code="reversal_of_reversal",
        )
    if original.kind == EntryKind.ADJUSTMENT:
        raise Conflict(
            "An adjustment settles a count: record a new count instead of reversing it.",
            code="adjustment_final",
        )
    if LedgerEntry.objects.filter(reverses=original).exists():
        raise Conflict("That entry was reversed already.", code="already_reversed")
    if (
        original.kind == EntryKind.ADMINISTRATION
        and original.residual_wastes.filter(reversed_by__isnull=True).exists()
    ):
        raise Conflict(
            "The residual of this administration was wasted: reverse that waste first.",
            code="residual_wasted",
        )
    try:
        with transaction.atomic():
            reversal = _move(
                locked,
                kind=EntryKind.REVERSAL,
                quantity=-original.quantity_mg,
                reverses=original,
                actor=actor,
                patient=original.patient,
                session_ref=original.session_ref,
                reason=reason,
            )
    except Conflict as error:
        raise Conflict(
            f"{error.message} Reverse the later entries that used it first.", code=error.code
        ) from error
    except IntegrityError as error:  # a second reversal of the same entry, at the same moment
        raise Conflict("That entry was reversed already.", code="already_reversed") from error
    _audit_entry(
        actor,
        reversal,
        f"Reversed a {original.get_kind_display().lower()} of "
        f"{_mg_text(abs(original.quantity_mg))} mg on {locked.label}: {reason}",
    )
    return reversal


# --------------------------------------------------------------------------- counts


def _counted_lines(lines: Mapping[Container, object]) -> dict[int, Decimal]:
    counted: dict[int, Decimal] = {}
    errors: dict[str, list[str]] = {}
    for container, value in lines.items():
        try:
            counted[container.pk] = mg_amount(f"container_{container.uuid}", value, allow_zero=True)
        except InvalidInput as error:
            errors.update(error.errors)
    if errors:
        raise InvalidInput(errors)
    return counted


@transaction.atomic
def count_record(
    *,
    actor,
    kind: str,
    lines: Mapping[Container, object],
    witness=None,
    counted_at: datetime.datetime | None = None,
    taken_at: str = "",
    note: str = "",
) -> InventoryCount:
    """Count every container on hand (mg left in each; an open Schedule III container may be
    estimated [J7]). Each line keeps the book balance found under lock; each difference opens a
    discrepancy. Initial and biennial inventories say whether they were taken at the opening or
    the close of business [J7]; an initial inventory with no stock records zero."""
    require(actor, Capability.LEDGER_COUNT)
    if kind not in CountKind.values:
        raise InvalidInput({"kind": ["Choose a daily count, the initial or a biennial inventory."]})
    if kind in INVENTORY_KINDS:
        if taken_at not in BusinessTime.values:
            raise InvalidInput(
                {"taken_at": ["Say whether it was taken at the opening or close of business."]}
            )
    else:
        taken_at = taken_at if taken_at in BusinessTime.values else ""
    note = _text("note", note, max_length=300, required=False, what="note")
    counted_at = _moment("counted_at", counted_at)
    witness = licensed_witness(actor=actor, witness=witness, required=False)
    counted = _counted_lines(lines)
    if kind == CountKind.INITIAL and InventoryCount.objects.filter(kind=kind).exists():
        raise Conflict("The initial inventory was taken already.", code="initial_inventory_exists")
    # Lock every container on hand and every one counted, in primary-key order.
    locked = list(
        Container.objects.select_for_update(of=("self",))
        .select_related("lot__product")
        .filter(
            pk__in=set(counted)
            | set(
                Container.objects.filter(status__in=ON_HAND_STATUSES).values_list("pk", flat=True)
            )
        )
        .order_by("pk")
    )
    missing = [c.label for c in locked if c.status in ON_HAND_STATUSES and c.pk not in counted]
    if missing:
        raise InvalidInput(
            {"lines": [f"Count every container on hand; missing: {', '.join(missing)}."]}
        )
    unknown = set(counted) - {c.pk for c in locked}
    if unknown:
        raise InvalidInput({"lines": ["A counted container does not exist."]})
    try:
        with transaction.atomic():
            count = InventoryCount.objects.create(
                kind=kind,
                counted_at=counted_at,
                taken_at=taken_at,
                counted_by=actor,
                witness=witness,
                note=note,
            )
    except IntegrityError as error:
        raise Conflict(
            "The initial inventory was taken already.", code="initial_inventory_exists"
        ) from error
    discrepancies = 0
    for container in locked:
        if container.pk not in counted:
            continue
        line = InventoryCountLine.objects.create(
            count=count,
            container=container,
            expected_mg=container.balance_mg,
            counted_mg=counted[container.pk],
        )
        if line.difference_mg != 0:
            Discrepancy.objects.create(line=line, difference_mg=line.difference_mg)
            discrepancies += 1
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="cs_count",
        object_id=count.uuid,
        summary=(
            f"{count.get_kind_display()}: {len(counted)} container(s) counted, "
            f"{discrepancies} discrepancy(ies)"
        ),
        changes={"witness": witness.username if witness else ""},
    )
    return count


@transaction.atomic
def discrepancy_resolve(
    *, actor, discrepancy: Discrepancy, reason: str, adjust_balance: bool = False
) -> Discrepancy:
    """Close a discrepancy with a reason (e.g. the late entry that explains it). With
    `adjust_balance`, an adjustment entry moves the book balance by the difference, to the
    count; an unexplained shortfall may also be a significant loss (`loss_report_create`)."""
    require(actor, Capability.LEDGER_RECONCILE)
    reason = _reason(reason)
    current = (
        Discrepancy.objects.select_related("line__container").filter(pk=discrepancy.pk).first()
    )
    if current is None:
        raise NotFound("No such discrepancy.")
    locked_container = _lock(current.line.container)
    locked = Discrepancy.objects.select_for_update().get(pk=current.pk)
    if locked.status != DiscrepancyStatus.OPEN:
        raise Conflict("That discrepancy was resolved already.", code="already_resolved")
    adjustment = None
    if adjust_balance:
        adjustment = _move(
            locked_container,
            kind=EntryKind.ADJUSTMENT,
            quantity=locked.difference_mg,
            actor=actor,
            reason=reason,
        )
    locked.status = DiscrepancyStatus.RESOLVED
    locked.resolution_reason = reason
    locked.resolved_by = actor
    locked.resolved_at = timezone.now()
    locked.adjustment = adjustment
    locked.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="cs_discrepancy",
        object_id=locked.uuid,
        summary=(
            f"Discrepancy of {_mg_text(locked.difference_mg)} mg on {locked_container.label} "
            f"resolved{' with an adjustment' if adjustment else ''}: {reason}"
        )[:300],
        changes={"status": {"before": DiscrepancyStatus.OPEN, "after": locked.status}},
    )
    return locked


# --------------------------------------------------------------------------- theft and loss


@transaction.atomic
def loss_report_create(
    *,
    actor,
    kind: str,
    discovered_at: datetime.datetime,
    description: str,
    product: Product | None = None,
    quantity_mg=None,
    discrepancy: Discrepancy | None = None,
) -> LossReport:
    """A theft or significant loss, with its deadlines computed from the discovery date (in the
    clinic's time zone): the DEA notified in writing within 1 business day [J8], Form 106 within
    45 days [J9] (clinic policy may only shorten them)."""
    require(actor, Capability.LEDGER_REPORT_LOSS)
    if kind not in LossKind.values:
        raise InvalidInput({"kind": ["Choose theft or significant loss."]})
    if discovered_at is None:
        raise InvalidInput({"discovered_at": ["Give the date and time of discovery."]})
    discovered_at = _moment("discovered_at", discovered_at)
    description = _text(
        "description", description, max_length=1000, required=True, what="description"
    )
    quantity = None
    if quantity_mg not in (None, ""):
        quantity = mg_amount("quantity_mg", quantity_mg)
    policy = controlled_substance_policy()
    discovered_on = timezone.localdate(discovered_at)
    report = LossReport.objects.create(
        kind=kind,
        discovered_at=discovered_at,
        description=description,
        product=product,
        quantity_mg=quantity,
        discrepancy=discrepancy,
        reported_by=actor,
        dea_notice_due_on=policy.dea_notice_due_on(discovered_on),
        form106_due_on=policy.form106_due_on(discovered_on),
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="cs_loss_report",
        object_id=report.uuid,
        summary=(
            f"{report.get_kind_display()} discovered {discovered_on:%m/%d/%Y}: DEA notice due "
            f"{report.dea_notice_due_on:%m/%d/%Y}, Form 106 due {report.form106_due_on:%m/%d/%Y}"
        ),
    )
    return report


def _locked_report(report: LossReport) -> LossReport:
    locked = LossReport.objects.select_for_update().filter(pk=report.pk).first()
    if locked is None:
        raise NotFound("No such report.")
    return locked


def _done_at(field: str, value, report: LossReport) -> datetime.datetime:
    moment = _moment(field, value)
    if moment < report.discovered_at:
        raise InvalidInput({field: ["That is before the theft or loss was discovered."]})
    return moment


@transaction.atomic
def loss_report_mark_notified(
    *, actor, report: LossReport, notified_at: datetime.datetime | None = None
) -> LossReport:
    """Record when the DEA Field Division was notified in writing."""
    require(actor, Capability.LEDGER_REPORT_LOSS)
    locked = _locked_report(report)
    if locked.dea_notified_at is not None:
        raise Conflict("The DEA notice is recorded already.", code="already_notified")
    locked.dea_notified_at = _done_at("notified_at", notified_at, locked)
    locked.dea_notified_by = actor
    locked.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="cs_loss_report",
        object_id=locked.uuid,
        summary=f"DEA notified of the {locked.get_kind_display().lower()}",
        changes={"dea_notified_at": {"before": None, "after": locked.dea_notified_at.isoformat()}},
    )
    return locked


@transaction.atomic
def loss_report_mark_form106(
    *,
    actor,
    report: LossReport,
    submitted_at: datetime.datetime | None = None,
    reference: str = "",
) -> LossReport:
    """Record when DEA Form 106 was filed (electronically [J8]), after the DEA notice."""
    require(actor, Capability.LEDGER_REPORT_LOSS)
    reference = _text("reference", reference, max_length=60, required=False, what="reference")
    locked = _locked_report(report)
    if locked.dea_notified_at is None:
        raise Conflict("Record the DEA notice first.", code="not_notified")
    if locked.form106_submitted_at is not None:
        raise Conflict("Form 106 is recorded already.", code="already_submitted")
    locked.form106_submitted_at = _done_at("submitted_at", submitted_at, locked)
    locked.form106_submitted_by = actor
    locked.form106_reference = reference
    locked.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="cs_loss_report",
        object_id=locked.uuid,
        summary=f"DEA Form 106 filed for the {locked.get_kind_display().lower()}",
        changes={
            "form106_submitted_at": {
                "before": None,
                "after": locked.form106_submitted_at.isoformat(),
            }
        },
    )
    return locked


# --------------------------------------------------------------------------- for other apps


def container_lock_for_draw(*, container_id: int) -> Container:
    """Lock a container (with its lot and product) before a dose is drawn from it elsewhere
    in the same transaction: the chair side checks the balance against what it draws, and
    the ledger entry that follows moves the balance under this same lock."""
    return (
        Container.objects.select_for_update(of=("self",))
        .select_related("lot__product")
        .get(pk=container_id)
    )
