"""Demo insurance: two fictional payers with their plans, and coverages with an eligibility
check for most patients on a care team (the rest are self-pay, as IV ketamine patients often
are). Illustrative data: the payers, plans and member IDs are made up."""

from __future__ import annotations

import datetime
import random

from clinic.billing.models import FeeScheduleEntry, InsurancePlan, Payer
from clinic.billing.services import charges as charge_services
from clinic.billing.services import coverage as services

# Made-up payers (payer IDs that no clearinghouse lists); Medicare's payer ID depends on the
# clinic's MAC, so the demo leaves it empty.
DEMO_PAYERS = (
    ("Northwind Health Plan (demo)", "NWHPDEMO", "commercial", ("PPO", "HMO Select")),
    ("Medicare Part B (demo)", "", "medicare", ("Original Medicare",)),
)
SELF_PAY_EVERY = 3  # every third patient pays for themselves


# The demo clinic's own price list, in cents per unit: made-up round figures for the demo, not
# any payer's rate (a clinic enters its own; Medicare's amounts vary by year and locality).
DEMO_FEES_CENTS = {
    "96365": 250_00,
    "96366": 100_00,
    "96374": 150_00,
    "96372": 75_00,
    "J3490": 60_00,
    "G2082": 900_00,
    "G2083": 1_250_00,
    "J0013": 40_00,
    "99213": 120_00,
    "99214": 180_00,
    "90834": 150_00,
    "90836": 120_00,
}


def seed_fee_schedule(billing, *, since: datetime.date) -> None:
    """The demo's fee schedule, once, in force from `since` on (a second run keeps it)."""
    if FeeScheduleEntry.objects.exists():
        return
    for code, cents in DEMO_FEES_CENTS.items():
        charge_services.fee_set(
            actor=billing,
            code=code,
            price_cents=cents,
            effective_on=since,
            note="Demo clinic's price (made up)",
        )


def seed_payers(billing) -> list[InsurancePlan]:
    """The demo's payers and plans, once (a second run reuses them), and its fee schedule."""
    seed_fee_schedule(billing, since=datetime.date(2020, 1, 1))
    if not Payer.objects.exists():
        for name, payer_id, kind, plans in DEMO_PAYERS:
            payer = services.payer_create(actor=billing, name=name, payer_id=payer_id, kind=kind)
            for plan in plans:
                services.plan_create(actor=billing, payer=payer, name=plan)
    return list(InsurancePlan.objects.select_related("payer").order_by("payer__name", "name"))


def seed_patient_coverage(*, index: int, patient, desk, plans, rng: random.Random) -> None:
    if index % SELF_PAY_EVERY == 0 or not plans:
        return
    plan = rng.choice(plans)
    coverage = services.coverage_add(
        actor=desk,
        patient=patient,
        entry=services.CoverageEntry(
            plan=plan,
            priority="primary",
            member_id=f"DEMO{rng.randrange(10**8):08d}",
            group_number="" if plan.payer.kind == "medicare" else f"G{rng.randrange(10**5):05d}",
        ),
    )
    commercial = plan.payer.kind == "commercial"
    services.eligibility_check_record(
        actor=desk,
        coverage=coverage,
        answer=services.EligibilityAnswer(
            method=rng.choice(["portal", "phone", "clearinghouse"]),
            result="active",
            copay_cents=rng.choice([2500, 4000, 5000]) if commercial else None,
            coinsurance_percent=20,
            deductible_cents=150000 if commercial else None,
            deductible_remaining_cents=rng.choice([0, 32550, 90000]) if commercial else None,
        ),
    )
