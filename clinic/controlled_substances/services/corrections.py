"""Corrections: a wrong entry is undone by a reversing entry, never edited away."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.controlled_substances.choices import (
    EntryKind,
)
from clinic.controlled_substances.models import (
    LedgerEntry,
)
from clinic.controlled_substances.services.checks import (
    reach_location_of,
    reachable_patient,
    reason_text,
)
from clinic.controlled_substances.services.moves import (
    balance_move,
    container_lock,
    entry_audit,
    mg_text,
)
from clinic.core.access import require
from clinic.core.exceptions import Conflict, NotFound

# Which capability reverses an entry of each kind: the one that recorded it. A transfer out to
# another location is not reversed (the other location received it): it is transferred back.
REVERSE_CAPABILITY: dict[str, str] = {
    EntryKind.RECEIPT: Capability.LEDGER_RECEIVE,
    EntryKind.RETURN: Capability.LEDGER_RECEIVE,
    EntryKind.ADMINISTRATION: Capability.LEDGER_RECORD,
    EntryKind.WASTE: Capability.LEDGER_RECORD,
}


@transaction.atomic
def entry_reverse(*, actor: User, entry: LedgerEntry, reason: str) -> LedgerEntry:
    """Undo a wrong entry with a reversing entry (never an edit): the balance goes back and both
    rows stay. Reversing needs the capability that recorded the entry."""
    original = LedgerEntry.objects.filter(pk=entry.pk).first()
    if original is None:
        raise NotFound("No such ledger entry.")
    # Reversals and adjustments are refused below, to anyone who may see the ledger.
    require(actor, REVERSE_CAPABILITY.get(original.kind, Capability.LEDGER_VIEW))
    reason = reason_text(reason)
    reachable_patient(actor, original.patient)
    locked = container_lock(original.container)
    reach_location_of(actor, locked.location_id, what="ledger entry")
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
    if original.kind == EntryKind.TRANSFER_OUT:
        # The other location received it as a new container, in its own records.
        raise Conflict(
            "A transfer to another location was received there: transfer the container back "
            "instead of reversing.",
            code="transfer_received",
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
            reversal = balance_move(
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
    entry_audit(
        actor,
        reversal,
        f"Reversed a {original.get_kind_display().lower()} of "
        f"{mg_text(abs(original.quantity_mg))} mg on {locked.label}: {reason}",
    )
    return reversal
