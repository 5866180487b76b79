"""Payers, plans and coverages for billing's tests, made through the services."""

from __future__ import annotations

from clinic.billing.services import coverage as services


def payer_with_plan(
    actor, *, name="Aetna", payer_id="60054", kind="commercial", plan="Choice POS II"
):
    payer = services.payer_create(actor=actor, name=name, payer_id=payer_id, kind=kind)
    return payer, services.plan_create(actor=actor, payer=payer, name=plan)


def primary_coverage(actor, patient, plan, **overrides):
    entry = services.CoverageEntry(
        **{"plan": plan, "priority": "primary", "member_id": "W123456789", **overrides}
    )
    return services.coverage_add(actor=actor, patient=patient, entry=entry)


# CMS's worked example of a valid NPI (check digit 3).
VALID_NPI = "1234567893"


def give_npi(admin, prescriber, npi=VALID_NPI):
    """The prescriber's staff record with an NPI, as the administrator enters it (a nameless
    test user becomes Maya Okafor, MD: a claim names its rendering clinician)."""
    from clinic.accounts.staff import staff_update

    return staff_update(
        actor=admin,
        staff=prescriber,
        role="prescriber",
        credentials=prescriber.credentials or "MD",
        first_name=prescriber.first_name or "Maya",
        last_name=prescriber.last_name or "Okafor",
        email=prescriber.email,
        npi=npi,
    )
