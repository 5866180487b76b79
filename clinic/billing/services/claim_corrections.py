"""Correcting a claim the payer already has: a replacement claim (frequency 7) sends the
charge as it is now coded in place of the earlier claim, and a void (frequency 8) cancels it;
each carries the earlier claim's payer claim number in box 22 / REF*F8 [P29]
(docs/clinical/billing.md §5, §6). The earlier claim stays as it was sent; the correction is
a claim of its own that goes through the same checks, file export and answers.

Only a claim the payer has (accepted, paid, denied or appealed) with its claim number
recorded can be corrected, and one correction at a time: the earlier claim's row lock keeps
two billers from each starting one."""

from __future__ import annotations

from django.db import transaction

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.billing.models import Claim, ClaimStatus, ClaimStatusChange
from clinic.billing.services.claims import claim_locked, claim_rebuild
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, InvalidInput
from clinic.core.records import required_text

KINDS = {"replacement": "7", "void": "8"}
CORRECTABLE = {
    ClaimStatus.ACCEPTED,
    ClaimStatus.PAID,
    ClaimStatus.DENIED,
    ClaimStatus.APPEALED,
}
# A correction still on its way: a second one would cross it at the payer.
OPEN = {ClaimStatus.DRAFT, ClaimStatus.READY, ClaimStatus.EXPORTED, ClaimStatus.ACCEPTED}


def can_correct(claim: Claim) -> bool:
    return claim.status in CORRECTABLE


@transaction.atomic
def claim_correct(*, actor: User, claim: Claim, kind: str, reason: str) -> Claim:
    require(actor, Capability.CHARGE_MANAGE)
    if kind not in KINDS:
        raise InvalidInput({"kind": ["Choose a replacement or a void."]})
    reason = required_text("reason", reason, "Say what the correction is for.")[:500]
    original = claim_locked(claim)
    if original.status not in CORRECTABLE:
        raise Conflict(
            f"The claim is {original.get_status_display().lower()}: only a claim the payer "
            "has (accepted, paid, denied or appealed) is replaced or voided. A rejected claim "
            "is corrected and sent again as it is.",
            code="status",
        )
    if not original.payer_claim_number:
        raise InvalidInput(
            {
                "kind": [
                    "Record the payer's claim number first (with the payer's answer): "
                    "a replacement or void names it in box 22."
                ]
            }
        )
    pending = original.corrections.filter(status__in=OPEN).first()
    if pending is not None:
        raise Conflict(
            f"Claim {pending.claim_number} already corrects this one and is "
            f"{pending.get_status_display().lower()}: follow it through first.",
            code="pending_correction",
        )
    correction = Claim(
        charge=original.charge,
        patient_id=original.patient_id,
        coverage_id=original.coverage_id,
        frequency_code=KINDS[kind],
        replaces=original,
        created_by=actor,
    )
    correction.claim_number = correction.uuid.hex[:12].upper()
    claim_rebuild(correction)
    correction.save(force_insert=True)
    ClaimStatusChange.objects.create(
        claim=correction, to_status=correction.status, note=reason, changed_by=actor
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="claim",
        object_id=correction.uuid,
        patient=correction.patient,
        summary=f"Claim {correction.claim_number}: {kind} of claim {original.claim_number} "
        f"({original.payer_claim_number}): {reason}"[:300],
    )
    return correction
