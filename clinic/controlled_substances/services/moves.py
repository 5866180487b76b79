"""Balance moves: the one way a container's balance changes. The container row is locked
first, the balance checked under the lock and changed with an F() update (backed by the check
constraints), and only then is the entry written, with the balance it left."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Round
from django.utils import timezone

from clinic.accounts.models import User
from clinic.controlled_substances.choices import (
    ContainerStatus,
    EntryKind,
)
from clinic.controlled_substances.models import (
    Container,
    LedgerEntry,
)
from clinic.controlled_substances.services.checks import container_at, session_location
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, NotFound
from clinic.locations.models import Location


def container_lock(container: Container) -> Container:
    locked = (
        Container.objects.select_for_update(of=("self",))
        .select_related("lot__product", "location")
        .filter(pk=container.pk)
        .first()
    )
    if locked is None:
        raise NotFound("No such container.")
    return locked


def mg_text(value: Decimal) -> str:
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
        f"{container.label} holds {mg_text(container.balance_mg)} mg: "
        f"{mg_text(-quantity)} mg cannot come out of it.",
        code="insufficient_balance",
        field="quantity_mg",
    )


def _over_content(container: Container) -> Conflict:
    return Conflict(
        f"{container.label} would hold more than the {mg_text(container.content_mg)} mg it "
        "held when sealed.",
        code="balance_above_content",
    )


def balance_move(
    locked: Container,
    *,
    kind: str,
    quantity: Decimal,
    status: str | None = None,
    **entry_fields: Any,
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


def entry_audit(actor: User, entry: LedgerEntry, summary: str) -> None:
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


def container_lock_for_draw(
    *, container_id: int, location: Location | None = None, session_ref: str = ""
) -> Container:
    """Lock a container (with its lot and product) before a dose is drawn from it elsewhere
    in the same transaction: the chair side checks the balance against what it draws, and
    the ledger entry that follows moves the balance under this same lock. With `location` (or
    the `session_ref` of a chair-side session, whose location is then used), a container kept
    at another location is refused (Conflict `container_elsewhere`)."""
    where = location if location is not None else session_location(session_ref)
    locked = (
        Container.objects.select_for_update(of=("self",))
        .select_related("lot__product", "location")
        .get(pk=container_id)
    )
    container_at(locked, where)
    return locked
