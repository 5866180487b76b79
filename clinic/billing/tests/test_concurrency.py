# ruff: noqa: F811 (the priced charge fixture is imported by name, then used)
"""Two people changing one patient's billing records at the same moment, on PostgreSQL
(SQLite serialises all writers): the patient's row lock queues them, and the second is told
what the first did, never a second primary."""

from __future__ import annotations

import pytest

from clinic.billing.models import Coverage, Diagnosis
from clinic.billing.services import coverage as coverage_services
from clinic.billing.services import diagnosis_record
from clinic.billing.tests.factories import payer_with_plan
from clinic.billing.tests.test_claims import billing_settings, covered_charge  # noqa: F401
from clinic.billing.tests.test_payments import priced_charge  # noqa: F401
from clinic.core.exceptions import InvalidInput
from tests.concurrency import in_threads

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_two_prescribers_choosing_a_primary_diagnosis_at_once_leave_one(
    patient, prescriber, make_staff
):
    from clinic.patients import services as patient_services

    second = make_staff("prescriber", username="prescriber_b")
    patient_services.care_team_set(
        actor=make_staff("front_desk", username="desk_b"),
        patient=patient,
        primary_prescriber=prescriber,
        prescribers=[second],
    )
    codes = ["F33.1", "F41.1"]
    results = in_threads(
        2,
        lambda i: diagnosis_record(
            actor=[prescriber, second][i], patient=patient, code=codes[i], primary=True
        ),
    )
    assert all(isinstance(r, Diagnosis) for r in results), results
    assert Diagnosis.objects.filter(patient=patient, is_primary=True).count() == 1
    assert Diagnosis.objects.filter(patient=patient).count() == 2


def test_two_desks_adding_a_primary_coverage_at_once_add_one(patient, front_desk, billing):
    _, plan = payer_with_plan(billing)

    def add(i):
        return coverage_services.coverage_add(
            actor=[front_desk, billing][i],
            patient=patient,
            entry=coverage_services.CoverageEntry(plan=plan, priority="primary", member_id=f"W{i}"),
        )

    results = in_threads(2, add)
    assert sorted(type(r).__name__ for r in results) == ["Coverage", "InvalidInput"], results
    refused = next(r for r in results if isinstance(r, InvalidInput))
    assert "already has a primary coverage" in refused.errors["priority"][0]
    assert Coverage.objects.filter(patient=patient).count() == 1


def test_two_people_recording_the_payers_answer_at_once_record_one(
    patient, front_desk, billing, prescriber
):
    import datetime

    from django.utils import timezone

    from clinic.billing.models import PriorAuthorizationChange
    from clinic.billing.services import prior_auth
    from clinic.billing.tests.factories import primary_coverage
    from clinic.core.exceptions import Conflict

    _, plan = payer_with_plan(billing)
    coverage = primary_coverage(front_desk, patient, plan)
    authorization = prior_auth.prior_auth_create(
        actor=billing, patient=patient, coverage=coverage, route="esketamine"
    )
    prior_auth.prior_auth_submit(actor=billing, authorization=authorization)
    today = timezone.localdate()

    def answer(i):
        if i == 0:
            return prior_auth.prior_auth_approve(
                actor=billing,
                authorization=authorization,
                approval=prior_auth.Approval("PA-1", 6, today, today + datetime.timedelta(days=90)),
            )
        return prior_auth.prior_auth_deny(
            actor=prescriber, authorization=authorization, note="Denied by phone"
        )

    results = in_threads(2, answer)
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    answers = PriorAuthorizationChange.objects.filter(
        authorization=authorization, to_status__in=["approved", "denied"]
    )
    assert answers.count() == 1


def test_two_sessions_coded_at_once_take_a_packages_last_session_once(
    priced_charge, billing, front_desk
):
    """Two self-pay IV charges of one patient re-coded at the same moment, with one session
    left on the patient's package: one is priced from it, the other by the fee schedule."""
    from clinic.billing.models import Charge
    from clinic.billing.services import charges, packages
    from clinic.billing.tests.test_packages import _earlier_charge
    from clinic.billing.tests.test_payments import DAY

    earlier = _earlier_charge(priced_charge)
    offer = packages.package_offer_add(
        actor=billing,
        entry=packages.OfferEntry(name="One infusion", route="iv", sessions=1, price_cents=200_00),
    )
    packages.package_sell(
        actor=front_desk, patient=priced_charge.patient, offer=offer, purchased_on=DAY
    )
    both = [Charge.objects.get(pk=priced_charge.pk), Charge.objects.get(pk=earlier.pk)]
    results = in_threads(
        2, lambda i: charges.charge_recode(actor=billing, charge=both[i], reason="Package sold")
    )
    assert all(isinstance(r, Charge) for r in results), results
    assert Charge.objects.filter(package_session=1).count() == 1


def test_two_billers_correcting_one_claim_at_once_make_one_correction(
    covered_charge, billing, billing_settings, make_staff
):
    from clinic.billing.models import Claim
    from clinic.billing.services import claims
    from clinic.billing.services.claim_corrections import claim_correct
    from clinic.core.exceptions import Conflict

    claim = claims.claim_create(actor=billing, charge=covered_charge)
    claims.claims_export(actor=billing, claims=[claim])
    claims.claim_record(actor=billing, claim=claim, to_status="accepted", payer_claim_number="P1")
    second = make_staff("billing", username="billing_b")
    results = in_threads(
        2,
        lambda i: claim_correct(
            actor=[billing, second][i], claim=claim, kind="replacement", reason="Units"
        ),
    )
    assert sorted(type(r).__name__ for r in results) == ["Claim", "Conflict"], results
    assert isinstance(next(r for r in results if not isinstance(r, Claim)), Conflict)
    assert Claim.objects.filter(replaces=claim).count() == 1
