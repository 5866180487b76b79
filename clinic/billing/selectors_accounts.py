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
from clinic.billing.models import Charge, ChargeLine, PackagePurchase, Payment
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
class Totals:
    charged_cents: int  # priced lines only
    paid_cents: int
    adjusted_cents: int
    unpriced_lines: int  # coded lines no price covers yet: the balance leaves them out
    has_charges: bool

    @property
    def balance_cents(self) -> int:
        return self.charged_cents - self.paid_cents - self.adjusted_cents

    @property
    def credit_cents(self) -> int:
        return max(-self.balance_cents, 0)


@dataclass(frozen=True)
class PackageRow:
    purchase: PackagePurchase
    used: int  # sessions charged from it

    @property
    def left(self) -> int:
        return max(self.purchase.sessions - self.used, 0)


@dataclass(frozen=True)
class Account:
    charges: list[ChargeRow]
    payments: list[Payment]
    totals: Totals
    packages: list[PackageRow]


def totals_of(patient: Patient) -> Totals:
    """The whole account's sums (two queries, whatever its history)."""
    lines = ChargeLine.objects.filter(
        charge__patient=patient, charge__coding_problem="", entered_in_error_at__isnull=True
    ).aggregate(
        total=Sum("amount_cents"),
        count=Count("id"),
        unpriced=Count("id", filter=Q(amount_cents__isnull=True)),
    )
    paid = Payment.objects.filter(patient=patient, entered_in_error_at__isnull=True).aggregate(
        paid=Sum("amount_cents", filter=~Q(source="adjustment")),
        adjusted=Sum("amount_cents", filter=Q(source="adjustment")),
    )
    return Totals(
        charged_cents=lines["total"] or 0,
        paid_cents=paid["paid"] or 0,
        adjusted_cents=paid["adjusted"] or 0,
        unpriced_lines=lines["unpriced"],
        has_charges=bool(lines["count"]),
    )


def _paid_by_charge(charge_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(paid, adjusted) per charge, summed by the database over every valid payment."""
    sums: dict[int, tuple[int, int]] = {}
    rows = (
        Payment.objects.filter(charge_id__in=charge_ids, entered_in_error_at__isnull=True)
        .values("charge_id")
        .annotate(
            paid=Sum("amount_cents", filter=~Q(source="adjustment")),
            adjusted=Sum("amount_cents", filter=Q(source="adjustment")),
        )
    )
    for row in rows:
        sums[row["charge_id"]] = (row["paid"] or 0, row["adjusted"] or 0)
    return sums


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
    paid = _paid_by_charge([c.pk for c in charges])
    return Account(
        charges=[ChargeRow(c, c.charged or 0, *paid.get(c.pk, (0, 0))) for c in charges],
        payments=payments,
        totals=totals_of(patient),
        packages=patient_packages(patient),
    )


def patient_packages(patient: Patient) -> list[PackageRow]:
    """The patient's packages, newest first, each with the sessions charged from it (one
    query; a patient buys a handful in a course of treatment)."""
    purchases = (
        PackagePurchase.objects.filter(patient=patient)
        .select_related("sold_by", "entered_in_error_by")
        .annotate(used=Count("charges"))
        .order_by("-purchased_on", "-id")
    )
    return [PackageRow(p, p.used) for p in purchases]


def package_purchase_get(*, actor: User, patient: Patient, purchase_uuid) -> PackagePurchase:
    require(actor, Capability.PAYMENT_RECORD)
    purchase = PackagePurchase.objects.filter(patient=patient, uuid=purchase_uuid).first()
    if purchase is None:
        raise NotFound("No such package on this account.")
    return purchase


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
