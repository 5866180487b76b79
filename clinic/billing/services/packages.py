"""Self-pay packages: billing keeps the clinic's package offers beside the fee schedule, the
desk sells one to a patient, and coding prices each self-pay session of the package's route
from it, in turn, until its sessions are used (`package_pricing`). Nothing is edited away: an
offer no longer sold is switched off, and a purchase sold by mistake is marked entered in
error with the reason (refused once a session was charged from it: re-code those first).

Two sessions coded at once cannot take the same session of a package: coding locks the
patient's purchases, and the database keeps each (purchase, session number) to one charge."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.billing import package_pricing, session_codes
from clinic.billing.models import Charge, PackageOffer, PackagePurchase, SessionPayerRules
from clinic.billing.services._text import one_line
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, InvalidInput
from clinic.core.parsing import date_problem
from clinic.core.records import mark_entered_in_error, required_text
from clinic.patients.models import Patient

# Above these, a typing error: the longest induction-plus-maintenance course the clinic
# would sell at once, and more money than any such course.
PACKAGE_MAX_SESSIONS = 52
PACKAGE_MAX_CENTS = 100_000_00


@dataclass(frozen=True)
class OfferEntry:
    name: str
    route: str
    sessions: int
    price_cents: int


@transaction.atomic
def package_offer_add(*, actor: User, entry: OfferEntry) -> PackageOffer:
    require(actor, Capability.FEE_SCHEDULE_MANAGE)
    errors: dict[str, list[str]] = {}
    name = one_line(errors, "name", entry.name, 120)
    if not name and "name" not in errors:
        errors["name"] = ["Name the package as the patient will see it."]
    if entry.route not in session_codes.ROUTES:
        errors["route"] = ["Choose the route of the sessions it covers."]
    if not 1 <= entry.sessions <= PACKAGE_MAX_SESSIONS:
        errors["sessions"] = [f"Between 1 and {PACKAGE_MAX_SESSIONS} sessions."]
    if not 1 <= entry.price_cents <= PACKAGE_MAX_CENTS:
        errors["price"] = [f"Between $0.01 and ${PACKAGE_MAX_CENTS // 100:,}.00."]
    if errors:
        raise InvalidInput(errors, "The package was not added.")
    offer = PackageOffer.objects.create(
        name=name,
        route=entry.route,
        sessions=entry.sessions,
        price_cents=entry.price_cents,
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="package_offer",
        object_id=offer.uuid,
        summary=f"Package {name}: {entry.sessions} {entry.route} sessions for "
        f"${entry.price_cents / 100:,.2f}",
    )
    return offer


@transaction.atomic
def package_offer_switch(*, actor: User, offer: PackageOffer, active: bool) -> PackageOffer:
    require(actor, Capability.FEE_SCHEDULE_MANAGE)
    offer = PackageOffer.objects.select_for_update().get(pk=offer.pk)
    if offer.active != active:
        offer.active = active
        offer.save(update_fields=["active", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="package_offer",
            object_id=offer.uuid,
            summary=f"Package {offer.name} {'offered again' if active else 'no longer sold'}",
        )
    return offer


@transaction.atomic
def package_sell(
    *,
    actor: User,
    patient: Patient,
    offer: PackageOffer,
    purchased_on: datetime.date,
    note: str = "",
) -> PackagePurchase:
    """The desk sells a package; the money is a payment of its own (on the account as a
    whole), so the account shows a credit that each session of the package then uses."""
    require(actor, Capability.PAYMENT_RECORD)
    # As it is now: an offer switched off while the form was open is no longer sold.
    offer = PackageOffer.objects.select_for_update().get(pk=offer.pk)
    errors: dict[str, list[str]] = {}
    if not offer.active:
        errors["offer"] = ["This package is no longer sold."]
    if problem := date_problem(purchased_on, today=timezone.localdate()):
        errors["purchased_on"] = [problem]
    note = one_line(errors, "note", note, 300)
    if errors:
        raise InvalidInput(errors, "The package was not sold.")
    purchase = PackagePurchase.objects.create(
        patient=patient,
        offer=offer,
        name=offer.name,
        route=offer.route,
        sessions=offer.sessions,
        price_cents=offer.price_cents,
        purchased_on=purchased_on,
        note=note,
        sold_by=actor,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="package_purchase",
        object_id=purchase.uuid,
        patient=patient,
        summary=f"Package sold: {offer.name} ({offer.sessions} sessions, "
        f"${offer.price_cents / 100:,.2f}) on {purchased_on:%m/%d/%Y}",
    )
    return purchase


@transaction.atomic
def package_mark_entered_in_error(
    *, actor: User, purchase: PackagePurchase, reason: str
) -> PackagePurchase:
    require(actor, Capability.PAYMENT_RECORD)
    reason = required_text("reason", reason, "Say why the sale is wrong.")
    purchase = PackagePurchase.objects.select_for_update().get(pk=purchase.pk)
    used = Charge.objects.filter(package_purchase=purchase).count()
    if used:
        raise Conflict(
            f"{used} session{'s were' if used != 1 else ' was'} charged from this package: "
            "billing re-codes them first (from each charge's page).",
            code="package_used",
        )
    if mark_entered_in_error(purchase, actor=actor, reason=reason):
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="package_purchase",
            object_id=purchase.uuid,
            patient=purchase.patient,
            summary=f"Package sale {purchase.name} marked entered in error: {reason}",
        )
    return purchase


# --------------------------------------------------------------------------- pricing a charge


@dataclass(frozen=True)
class PackageUse:
    purchase: PackagePurchase
    session: int
    amounts_cents: list[int]


def package_use_for(charge: Charge, list_amounts: list[int | None]) -> PackageUse | None:
    """The package a charge being coded is priced from, with its lines' amounts; None when it
    is priced by the fee schedule. The caller holds the charge's row lock and is inside its
    transaction; this locks the patient's purchases, so the next free session is taken once.

    A charge keeps the session of a package it already had while it still qualifies (self-pay,
    the package's route, every line priced, the purchase not in error); otherwise it takes
    the lowest free session of the patient's oldest package that covers it."""
    qualifies = (
        charge.payer_rules == SessionPayerRules.SELF_PAY
        and not charge.coding_problem
        and list_amounts
        and all(amount is not None for amount in list_amounts)
    )
    if not qualifies:
        return None
    amounts = [amount or 0 for amount in list_amounts]
    purchases = list(
        PackagePurchase.objects.select_for_update()
        .filter(
            patient_id=charge.patient_id,
            route=charge.route,
            purchased_on__lte=charge.date_of_service,
            entered_in_error_at__isnull=True,
        )
        .order_by("purchased_on", "id")
    )
    taken: dict[int, set[int]] = {}
    other_charges = Charge.objects.filter(package_purchase__in=purchases)
    if charge.pk is not None:
        other_charges = other_charges.exclude(pk=charge.pk)
    for purchase_id, number in other_charges.values_list("package_purchase_id", "package_session"):
        if purchase_id is not None and number is not None:
            taken.setdefault(purchase_id, set()).add(number)
    chosen: tuple[PackagePurchase, int] | None = None
    kept = charge.package_session
    for purchase in purchases:
        if (
            purchase.pk == charge.package_purchase_id
            and kept is not None
            and kept not in taken.get(purchase.pk, set())
        ):
            chosen = (purchase, kept)
            break
    if chosen is None:
        for purchase in purchases:
            free = [
                n for n in range(1, purchase.sessions + 1) if n not in taken.get(purchase.pk, ())
            ]
            if free:
                chosen = (purchase, free[0])
                break
    if chosen is None:
        return None
    purchase, number = chosen
    share = package_pricing.session_share_cents(purchase.price_cents, purchase.sessions, number)
    return PackageUse(purchase, number, package_pricing.spread_cents(share, amounts))
