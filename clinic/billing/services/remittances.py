"""Posting an 835 remittance: each claim paid in it is matched by its patient control number
(the claim number KetaCare sent), answered (accepted if it was only exported, then paid or
denied), and its money posted through the same services as by hand — the insurer's payment on
the claim's charge, and the contractual and other payer adjustments (CAS groups CO, CR, OA,
PI) as one adjustment naming their reason codes. Patient responsibility (PR) is not posted: it
stays on the account as the patient's balance.

A claim that cannot be posted (not found, already answered, a reversal or a forwarded claim,
a date out of bounds) is left for billing by hand with the reason; the rest of the file still
posts, each claim under its own savepoint. A file is imported once (its SHA-256 is unique)."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import IntegrityError, transaction

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.billing import era_835
from clinic.billing.models import Claim, ClaimStatus, Remittance
from clinic.billing.services import claims as claim_services
from clinic.billing.services import payments
from clinic.billing.templatetags.money import dollars
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, DomainError, InvalidInput
from clinic.core.forms import refusal_text

REMITTANCE_MAX_BYTES = 5 * 1024 * 1024
WRITTEN_OFF_GROUPS = {"CO", "CR", "OA", "PI"}
METHODS = {"ACH": "eft", "CHK": "check", "FWT": "eft", "BOP": "eft"}


def _adjustment_words(payment: era_835.ClaimPayment, groups: set[str]) -> str:
    return ", ".join(
        f"{a.group}-{a.reason} {dollars(a.cents)}" for a in payment.adjustments if a.group in groups
    )


def _post(
    actor: User, remittance: era_835.Remittance, item: era_835.ClaimPayment
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "claim_number": item.patient_control_number,
        "payer_claim_number": item.payer_claim_number,
        "status": item.status_words,
        "paid_cents": item.paid_cents,
        "posted": False,
    }
    claim = (
        Claim.objects.select_related("charge", "patient")
        .filter(claim_number=item.patient_control_number)
        .first()
    )
    if claim is None:
        row["outcome"] = "No claim with this number in KetaCare: post it by hand."
        return row
    row["claim_uuid"] = str(claim.uuid)
    row["patient"] = claim.patient.display_name
    if item.status_code not in era_835.PROCESSED | era_835.DENIED:
        row["outcome"] = f"The payer says {item.status_words}: handle it by hand."
        return row
    paid_on = remittance.paid_on
    assert paid_on is not None  # parse_835 refuses a payment with no date
    target = ClaimStatus.PAID if item.status_code in era_835.PROCESSED else ClaimStatus.DENIED
    trace = remittance.trace_number or "no trace number"
    try:
        with transaction.atomic():
            if claim.status == ClaimStatus.EXPORTED:
                claim = claim_services.claim_record(
                    actor=actor,
                    claim=claim,
                    to_status=ClaimStatus.ACCEPTED,
                    payer_claim_number=item.payer_claim_number,
                )
            denial = _adjustment_words(item, era_835.GROUP_CODES)
            claim = claim_services.claim_record(
                actor=actor,
                claim=claim,
                to_status=target,
                note=(
                    f"835 {trace}: {item.status_words}"
                    + (f"; {denial}" if target == ClaimStatus.DENIED and denial else "")
                ),
                payer_claim_number=item.payer_claim_number,
            )
            outcome = [f"marked {claim.get_status_display().lower()}"]
            if item.paid_cents > 0:
                payments.payment_record(
                    actor=actor,
                    patient=claim.patient,
                    entry=payments.PaymentEntry(
                        source="insurer",
                        method=METHODS.get(remittance.method, "eft"),
                        amount_cents=item.paid_cents,
                        received_on=paid_on,
                        reference=trace[:60],
                        note=f"835 from {remittance.payer_name or 'the payer'}"[:300],
                        charge=claim.charge,
                        claim=claim,
                    ),
                )
                outcome.append(f"the insurer's {dollars(item.paid_cents)} posted")
            written_off = item.adjusted_cents(WRITTEN_OFF_GROUPS)
            if target == ClaimStatus.PAID and written_off > 0:
                payments.payment_record(
                    actor=actor,
                    patient=claim.patient,
                    entry=payments.PaymentEntry(
                        source="adjustment",
                        method="none",
                        amount_cents=written_off,
                        received_on=paid_on,
                        reference=trace[:60],
                        note=f"835: {_adjustment_words(item, WRITTEN_OFF_GROUPS)}"[:300],
                        charge=claim.charge,
                        claim=claim,
                    ),
                )
                outcome.append(f"{dollars(written_off)} adjusted off")
            owed = item.adjusted_cents({"PR"})
            if owed:
                outcome.append(f"the patient owes {dollars(owed)}")
    except DomainError as error:
        row["outcome"] = f"Not posted: {refusal_text(error)}"
        return row
    row["posted"] = True
    row["outcome"] = "; ".join(outcome).capitalize() + "."
    return row


@transaction.atomic
def remittance_import(*, actor: User, content: str) -> Remittance:
    require(actor, Capability.CHARGE_MANAGE)
    if len(content.encode()) > REMITTANCE_MAX_BYTES:
        raise InvalidInput({"file": ["The file is larger than an 835 this clinic would get."]})
    try:
        parsed = era_835.parse_835(content)
    except era_835.RemittanceError as error:
        raise InvalidInput({"file": [str(error)]}) from error
    digest = hashlib.sha256(content.encode()).hexdigest()
    earlier = Remittance.objects.filter(content_sha256=digest).first()
    if earlier is not None:
        raise Conflict(
            f"This file was imported on {earlier.created_at:%m/%d/%Y}: nothing posted twice.",
            code="imported",
        )
    assert parsed.paid_on is not None  # parse_835 refuses a payment with no date
    try:
        # The file's row first: a second import of the same file waits here, then is refused.
        with transaction.atomic():
            remittance = Remittance.objects.create(
                content=content,
                content_sha256=digest,
                payer_name=parsed.payer_name[:120],
                trace_number=parsed.trace_number[:60],
                paid_cents=parsed.paid_cents,
                paid_on=parsed.paid_on,
                imported_by=actor,
            )
    except IntegrityError as error:
        raise Conflict("This file was imported a moment ago.", code="imported") from error
    rows = [_post(actor, parsed, item) for item in parsed.claims]
    remittance.results = rows
    remittance.save(update_fields=["results", "updated_at"])
    posted = sum(row["posted"] for row in rows)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="remittance",
        object_id=remittance.uuid,
        summary=f"835 {remittance.trace_number} from {remittance.payer_name}: "
        f"{posted} of {len(rows)} claim(s) posted",
    )
    return remittance
