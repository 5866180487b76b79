"""A patient's account: each charge with what it came to, what was paid on it, and the
balance; payments not tied to a charge count against the whole account. For the front desk,
billing and the administrator (`account.view`), and for the patient in the portal (their own
account only: the caller passes the patient the portal signed in)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q, Sum

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.billing.models import Charge, ChargeLine, Payment
from clinic.core.access import require
from clinic.core.exceptions import NotFound
from clinic.patients.models import Patient

ACCOUNT_ROWS = 50


@dataclass(frozen=True)
class ChargeRow:
    charge: Charge
    charged_cents: int
    paid_cents: int  # by the patient and insurers, on this charge
    adjusted_cents: int


@dataclass(frozen=True)
class Account:
    charges: list[ChargeRow]
    payments: list[Payment]
    charged_cents: int
    paid_cents: int
    adjusted_cents: int

    @property
    def balance_cents(self) -> int:
        return self.charged_cents - self.paid_cents - self.adjusted_cents

    @property
    def credit_cents(self) -> int:
        return max(-self.balance_cents, 0)


def _account(patient: Patient) -> Account:
    valid_lines = Q(lines__entered_in_error_at__isnull=True)
    charges = list(
        Charge.objects.filter(patient=patient, coding_problem="")
        .annotate(charged=Sum("lines__amount_cents", filter=valid_lines))
        .order_by("-date_of_service", "-id")[:ACCOUNT_ROWS]
    )
    payments = list(
        Payment.objects.filter(patient=patient)
        .select_related("recorded_by", "charge", "entered_in_error_by")
        .order_by("-received_on", "-id")[:ACCOUNT_ROWS]
    )
    totals = Payment.objects.filter(patient=patient, entered_in_error_at__isnull=True).aggregate(
        paid=Sum("amount_cents", filter=~Q(source="adjustment")),
        adjusted=Sum("amount_cents", filter=Q(source="adjustment")),
    )
    charged = ChargeLine.objects.filter(
        charge__patient=patient, charge__coding_problem="", entered_in_error_at__isnull=True
    ).aggregate(total=Sum("amount_cents"))["total"]
    by_charge: dict[int, tuple[int, int]] = {}
    for payment in payments:
        if payment.charge_id is None or not payment.is_valid:
            continue
        paid, adjusted = by_charge.get(payment.charge_id, (0, 0))
        if payment.source == "adjustment":
            adjusted += payment.amount_cents
        else:
            paid += payment.amount_cents
        by_charge[payment.charge_id] = (paid, adjusted)
    return Account(
        charges=[ChargeRow(c, c.charged or 0, *by_charge.get(c.pk, (0, 0))) for c in charges],
        payments=payments,
        charged_cents=charged or 0,
        paid_cents=totals["paid"] or 0,
        adjusted_cents=totals["adjusted"] or 0,
    )


def account_get(*, actor: User, patient: Patient) -> Account:
    """The caller reached the patient (`patient_get`, audited)."""
    require(actor, Capability.ACCOUNT_VIEW)
    return _account(patient)


def own_account(*, patient: Patient) -> Account:
    """The portal's "what I owe, what I paid": the signed-in patient's own account."""
    return _account(patient)


def charge_paid_on(charge: Charge) -> tuple[int, datetime.date | None]:
    """What was paid on one charge (not adjustments) and the last payment's date."""
    rows = list(
        Payment.objects.filter(charge=charge, entered_in_error_at__isnull=True)
        .exclude(source="adjustment")
        .values_list("amount_cents", "received_on")
    )
    return sum(r[0] for r in rows), max((r[1] for r in rows), default=None)


def payment_get(*, actor: User, patient: Patient, payment_uuid) -> Payment:
    require(actor, Capability.PAYMENT_RECORD)
    payment = Payment.objects.filter(patient=patient, uuid=payment_uuid).first()
    if payment is None:
        raise NotFound("No such payment on this account.")
    return payment


def balance_cents(patient: Patient) -> tuple[int, bool]:
    """The account's balance and whether it has any charge (two queries), for the chart."""
    charged = ChargeLine.objects.filter(
        charge__patient=patient, charge__coding_problem="", entered_in_error_at__isnull=True
    ).aggregate(total=Sum("amount_cents"), lines=Count("id"))
    paid = Payment.objects.filter(patient=patient, entered_in_error_at__isnull=True).aggregate(
        total=Sum("amount_cents")
    )["total"]
    return (charged["total"] or 0) - (paid or 0), bool(charged["lines"])
