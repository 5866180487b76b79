"""Payments and adjustments on a patient's account. Each is added (never changed), audited,
and a mistaken one marked entered in error with the reason. No card data: a card payment
keeps the terminal's reference only. Amounts are positive whole cents; an adjustment lowers
what is owed (a contractual write-off, a courtesy discount) and names why."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.billing.models import Charge, Claim, Payment, PaymentMethod, PaymentSource
from clinic.billing.services._text import one_line
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import InvalidInput
from clinic.core.parsing import date_problem
from clinic.core.records import mark_entered_in_error, required_text
from clinic.patients.models import Patient

PAYMENT_MAX_CENTS = 100_000_00  # more than any course of treatment: a typing error
# A card number typed into the reference is refused: 13 to 19 digits in a row.
CARD_NUMBER_DIGITS = range(13, 20)


@dataclass(frozen=True)
class PaymentEntry:
    source: str
    method: str
    amount_cents: int
    received_on: datetime.date
    reference: str = ""
    note: str = ""
    charge: Charge | None = None
    claim: Claim | None = None


def _looks_like_a_card_number(value: str) -> bool:
    digits = "".join(c for c in value if c.isdigit())
    return len(digits) in CARD_NUMBER_DIGITS and len(digits) >= 0.8 * len(value.replace(" ", ""))


@transaction.atomic
def payment_record(*, actor: User, patient: Patient, entry: PaymentEntry) -> Payment:
    require(actor, Capability.PAYMENT_RECORD)
    errors: dict[str, list[str]] = {}
    if entry.source not in PaymentSource.values:
        errors["source"] = ["Choose who paid, or an adjustment."]
    if entry.method not in PaymentMethod.values:
        errors["method"] = ["Choose how it was paid."]
    elif entry.source == PaymentSource.ADJUSTMENT and entry.method != PaymentMethod.NONE:
        errors["method"] = ["An adjustment moves no money: choose none."]
    elif entry.source != PaymentSource.ADJUSTMENT and entry.method == PaymentMethod.NONE:
        errors["method"] = ["Choose how the money came."]
    if not 1 <= entry.amount_cents <= PAYMENT_MAX_CENTS:
        errors["amount"] = [f"Between $0.01 and ${PAYMENT_MAX_CENTS // 100:,}."]
    if problem := date_problem(entry.received_on, today=timezone.localdate()):
        errors["received_on"] = [problem]
    reference = one_line(errors, "reference", entry.reference, 60)
    if reference and _looks_like_a_card_number(reference):
        errors["reference"] = [
            "This looks like a card number: record the terminal's reference, never the card."
        ]
    note = one_line(errors, "note", entry.note, 300)
    if entry.source == PaymentSource.ADJUSTMENT and not note and "note" not in errors:
        errors["note"] = ["Say why (e.g. the payer's contractual adjustment)."]
    if entry.charge is not None and entry.charge.patient_id != patient.pk:
        errors["charge"] = ["That charge is another patient's."]
    if errors:
        raise InvalidInput(errors)
    payment = Payment.objects.create(
        patient=patient,
        charge=entry.charge,
        claim=entry.claim,
        source=entry.source,
        method=entry.method,
        amount_cents=entry.amount_cents,
        received_on=entry.received_on,
        reference=reference,
        note=note,
        recorded_by=actor,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="payment",
        object_id=payment.uuid,
        patient=patient,
        summary=(
            f"{payment.get_source_display()} {payment.amount_cents / 100:,.2f} recorded "
            f"({payment.get_method_display().lower()})"
        ),
    )
    return payment


@transaction.atomic
def payment_mark_entered_in_error(*, actor: User, payment: Payment, reason: str) -> Payment:
    require(actor, Capability.PAYMENT_RECORD)
    reason = required_text("reason", reason, "Say why the entry is wrong.")
    locked = Payment.objects.select_for_update().get(pk=payment.pk)
    if mark_entered_in_error(locked, actor=actor, reason=reason):
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="payment",
            object_id=locked.uuid,
            patient=locked.patient,
            summary=f"Payment of {locked.amount_cents / 100:,.2f} entered in error: {reason}"[:300],
        )
    return locked
