"""Writes to the controlled-substance records (ADR 0007), one module per part of the ledger's
work: `receiving`, `administration` (draws and waste), `corrections`, `counts`, `losses`, over
the shared `checks` and `moves` (the locked balance change). Each service checks the actor's
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

    administration_record(*, actor: User, container, patient, drawn_mg, given_mg, session_ref="",
                          occurred_at=None, location=None) -> LedgerEntry
    waste_record(*, actor: User, container, quantity_mg, witness, reason, patient=None,
                 session_ref="", administration=None, occurred_at=None,
                 location=None) -> LedgerEntry
    container_lock_for_draw(*, container_id, location=None, session_ref="") -> Container

Locations (ADR 0007): each location is its own DEA registrant. A dose is drawn only from a
container kept at the location where it is given: `location`, by default the location of the
chair-side session `session_ref` names (its chair's room's); a container elsewhere is refused
with Conflict `container_elsewhere`. Every service acts only on a location the actor works at
(clinic/controlled_substances/registrants.py): records kept elsewhere read as not found.

An administration takes `drawn_mg` off the container; `given_mg` (≤ drawn) is what the patient
received. The difference stays "awaiting waste" until `waste_record(..., administration=entry)`
records it, which changes no balance (the draw already did). A `waste_record` without
`administration` wastes straight from the container and takes the quantity off the balance.
"""

from clinic.controlled_substances.services.administration import (
    administration_record,
    residual_outstanding_mg,
    waste_record,
)
from clinic.controlled_substances.services.checks import (
    MAX_CONTAINERS_PER_RECEIPT,
    MAX_MG,
    licensed_witness,
    mg_amount,
)
from clinic.controlled_substances.services.corrections import (
    REVERSE_CAPABILITY,
    entry_reverse,
)
from clinic.controlled_substances.services.counts import (
    count_record,
    discrepancy_resolve,
)
from clinic.controlled_substances.services.losses import (
    loss_report_create,
    loss_report_mark_form106,
    loss_report_mark_notified,
)
from clinic.controlled_substances.services.moves import (
    container_lock_for_draw,
)
from clinic.controlled_substances.services.receiving import (
    container_return,
    container_transfer,
    product_create,
    receipt_record,
)

__all__ = [
    "MAX_CONTAINERS_PER_RECEIPT",
    "MAX_MG",
    "REVERSE_CAPABILITY",
    "administration_record",
    "container_lock_for_draw",
    "container_return",
    "container_transfer",
    "count_record",
    "discrepancy_resolve",
    "entry_reverse",
    "licensed_witness",
    "loss_report_create",
    "loss_report_mark_form106",
    "loss_report_mark_notified",
    "mg_amount",
    "product_create",
    "receipt_record",
    "residual_outstanding_mg",
    "waste_record",
]
