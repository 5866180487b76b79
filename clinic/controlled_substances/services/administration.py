"""Draws and waste at the chair: an administration takes what was drawn off the container,
and its residual (or any other waste) is wasted in front of a licensed witness."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.controlled_substances.choices import (
    EntryKind,
)
from clinic.controlled_substances.models import (
    Container,
    LedgerEntry,
)
from clinic.controlled_substances.services.checks import (
    MgInput,
    container_at,
    event_time,
    licensed_witness,
    mg_amount,
    reach_location_of,
    reachable_patient,
    reason_text,
    session_location,
    session_reference,
    witness_at,
)
from clinic.controlled_substances.services.moves import (
    balance_move,
    container_lock,
    entry_audit,
    mg_text,
)
from clinic.core.access import require
from clinic.core.exceptions import Conflict, InvalidInput
from clinic.locations.models import Location
from clinic.patients.models import Patient


def _draw_location(location: Location | None, session_ref: str) -> Location | None:
    """Where the dose is given: the `location` the caller names, else the location of the
    chair-side session `session_ref` names (its chair's room's), else none to check."""
    return location if location is not None else session_location(session_ref)


@transaction.atomic
def administration_record(
    *,
    actor: User,
    container: Container,
    patient: Patient | None,
    drawn_mg: MgInput,
    given_mg: MgInput,
    session_ref: str = "",
    occurred_at: datetime.datetime | None = None,
    location: Location | None = None,
) -> LedgerEntry:
    """`drawn_mg` comes off the container; `given_mg` (≤ drawn) went to the patient. Any
    difference must then be wasted with `waste_record(..., administration=<this entry>)`.
    An esketamine device is used whole: its full balance is drawn.

    The container must be kept at the location where the dose is given (`location`; by default
    the location of the session `session_ref` names), else Conflict `container_elsewhere`; and
    at a location the actor works at."""
    require(actor, Capability.LEDGER_RECORD)
    drawn = mg_amount("drawn_mg", drawn_mg)
    given = mg_amount("given_mg", given_mg)
    if given > drawn:
        raise InvalidInput(
            {"given_mg": [f"The dose given cannot be more than was drawn ({mg_text(drawn)} mg)."]}
        )
    session_ref = session_reference(session_ref)
    occurred_at = event_time("occurred_at", occurred_at)
    patient = reachable_patient(actor, patient)
    if patient is None:
        raise InvalidInput({"patient": ["Name the patient the dose was given to."]})
    where = _draw_location(location, session_ref)
    locked = container_lock(container)
    container_at(locked, where)
    reach_location_of(actor, locked.location_id, what="container")
    if locked.lot.expiry < timezone.localdate(occurred_at):
        raise Conflict(
            f"{locked.label} is from lot {locked.lot.lot_number}, which expired on "
            f"{locked.lot.expiry:%m/%d/%Y}.",
            code="lot_expired",
        )
    if locked.product.is_device and drawn != locked.balance_mg and drawn <= locked.balance_mg:
        raise Conflict(
            f"An esketamine device is used whole: record its {mg_text(locked.balance_mg)} mg as "
            "drawn, the dose the patient received as given, and waste any rest.",
            code="device_used_whole",
            field="drawn_mg",
        )
    entry = balance_move(
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
    entry_audit(
        actor,
        entry,
        f"Administered {mg_text(given)} mg from {locked.label} ({locked.product.name}); drawn "
        f"{mg_text(drawn)} mg" + (f", {mg_text(residual)} mg to waste" if residual else ""),
    )
    return entry


def residual_outstanding_mg(administration: LedgerEntry) -> Decimal:
    """What of an administration's residual (drawn − given) is not yet wasted."""
    wasted = administration.residual_wastes.filter(reversed_by__isnull=True).aggregate(
        total=Sum("wasted_mg")
    )["total"] or Decimal(0)
    drawn, given = administration.drawn_mg, administration.given_mg
    assert drawn is not None and given is not None  # an administration records both
    return drawn - given - wasted


@transaction.atomic
def waste_record(
    *,
    actor: User,
    container: Container,
    quantity_mg: MgInput,
    witness: User | None,
    reason: str,
    patient: Patient | None = None,
    session_ref: str = "",
    administration: LedgerEntry | None = None,
    occurred_at: datetime.datetime | None = None,
    location: Location | None = None,
) -> LedgerEntry:
    """A witnessed waste. With `administration`, the residual of that draw (no balance change:
    the draw took it off); without, straight from the container (off the balance). The
    container is at a location the actor works at (and at `location`, by default the session's,
    when there is one); the witness works there too."""
    require(actor, Capability.LEDGER_RECORD)
    quantity = mg_amount("quantity_mg", quantity_mg)
    reason = reason_text(reason)
    session_ref = session_reference(session_ref)
    occurred_at = event_time("occurred_at", occurred_at)
    witness = licensed_witness(actor=actor, witness=witness)
    patient = reachable_patient(actor, patient)
    where = _draw_location(location, session_ref)
    locked = container_lock(container)
    container_at(locked, where)
    reach_location_of(actor, locked.location_id, what="container")
    witness_at(witness, locked.location)
    fields: dict[str, Any] = {
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
        reachable_patient(actor, source.patient)
        # An administration's check constraint records what was drawn and given.
        assert source.drawn_mg is not None and source.given_mg is not None
        outstanding = residual_outstanding_mg(source)
        if quantity > outstanding:
            raise Conflict(
                f"Only {mg_text(outstanding)} mg of that draw is left to waste "
                f"(drawn {mg_text(source.drawn_mg)} mg, given {mg_text(source.given_mg)} mg).",
                code="waste_exceeds_residual",
                field="quantity_mg",
            )
        entry = balance_move(
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
        entry = balance_move(
            locked,
            kind=EntryKind.WASTE,
            quantity=-quantity,
            patient=patient,
            session_ref=session_ref,
            **fields,
        )
        what = "from the container"
    entry_audit(
        actor,
        entry,
        f"Wasted {mg_text(quantity)} mg {what} {locked.label}, witnessed by "
        f"{witness.username}: {reason}",
    )
    return entry
