"""Insurance services: payers and plans (billing and the clinic administrator keep them), a
patient's coverages in order (one primary at a time), ended and corrected without loss, and
eligibility checks with money in cents; who may do what, and an audit event for each change."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.billing.models import Coverage, EligibilityCheck, Payer
from clinic.billing.services import coverage as services
from clinic.billing.tests.factories import payer_with_plan, primary_coverage
from clinic.core.exceptions import InvalidInput, PermissionDenied
from clinic.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def errors_of(call) -> dict[str, list[str]]:
    with pytest.raises(InvalidInput) as refused:
        call()
    return refused.value.errors


# --------------------------------------------------------------------------- payers


def test_billing_adds_a_payer_and_its_plans(billing):
    payer, plan = payer_with_plan(billing, payer_id="60054")
    assert (payer.name, payer.payer_id, payer.kind) == ("Aetna", "60054", "commercial")
    assert plan.payer == payer and plan.is_active
    assert AuditEvent.objects.filter(object_type="payer", action="create").count() == 1
    assert AuditEvent.objects.filter(object_type="insurance_plan", action="create").count() == 1


def test_payer_refusals_name_the_field(billing):
    payer_with_plan(billing, name="Aetna", payer_id="60054")
    assert (
        "already on the list"
        in errors_of(
            lambda: services.payer_create(
                actor=billing, name="aetna", payer_id="", kind="commercial"
            )
        )["name"][0]
    )
    assert (
        "2 to 15 letters and digits"
        in errors_of(
            lambda: services.payer_create(
                actor=billing, name="Cigna", payer_id="62-308", kind="commercial"
            )
        )["payer_id"][0]
    )
    assert errors_of(
        lambda: services.payer_create(actor=billing, name="Cigna", payer_id="", kind="hmo")
    )["kind"]
    assert errors_of(
        lambda: services.payer_create(actor=billing, name=" ", payer_id="", kind="medicare")
    )["name"]
    assert Payer.objects.count() == 1


@pytest.mark.parametrize("role", ["front_desk", "prescriber", "nurse", "therapist"])
def test_only_billing_and_the_admin_keep_the_payer_list(make_staff, role):
    with pytest.raises(PermissionDenied):
        services.payer_create(
            actor=make_staff(role), name="Cigna", payer_id="62308", kind="commercial"
        )


def test_a_switched_off_plan_cannot_be_chosen_for_a_new_coverage(billing, patient):
    _, plan = payer_with_plan(billing)
    services.plan_set_active(actor=billing, plan=plan, active=False)
    assert "switched off" in errors_of(lambda: primary_coverage(billing, patient, plan))["plan"][0]


# --------------------------------------------------------------------------- coverages


def test_the_front_desk_adds_a_primary_coverage(front_desk, billing, patient):
    _, plan = payer_with_plan(billing)
    coverage = primary_coverage(
        front_desk, patient, plan, group_number="0987654", starts_on=datetime.date(2026, 1, 1)
    )
    assert coverage.is_current and coverage.priority == "primary"
    assert coverage.subscriber_relationship == "self" and coverage.subscriber_name == ""
    event = AuditEvent.objects.get(object_type="coverage", action="create")
    assert event.patient == patient and event.actor == front_desk
    assert event.changes["member_id"] == {"before": None, "after": "W123456789"}


def test_one_primary_at_a_time_and_a_secondary_beside_it(front_desk, billing, patient):
    _, plan = payer_with_plan(billing)
    _, medicaid = payer_with_plan(
        billing, name="State Medicaid", payer_id="SKNY0", kind="medicaid", plan="Fee for service"
    )
    first = primary_coverage(front_desk, patient, plan)
    message = errors_of(lambda: primary_coverage(front_desk, patient, medicaid))["priority"][0]
    assert "already has a primary coverage (Aetna — Choice POS II)" in message
    secondary = primary_coverage(front_desk, patient, medicaid, priority="secondary")
    assert secondary.priority == "secondary"
    # Once the first ends, another primary may be added; the ended one stays on record.
    services.coverage_end(actor=front_desk, coverage=first, ends_on=timezone.localdate())
    primary_coverage(front_desk, patient, medicaid, member_id="NY-445566")
    assert Coverage.objects.filter(patient=patient).count() == 3


def test_the_database_refuses_two_current_primaries(front_desk, billing, patient):
    _, plan = payer_with_plan(billing)
    primary_coverage(front_desk, patient, plan)
    with pytest.raises(IntegrityError), transaction.atomic():
        Coverage.objects.create(
            patient=patient, plan=plan, priority="primary", member_id="X", recorded_by=front_desk
        )


def test_a_subscriber_other_than_the_patient_needs_a_name_and_date_of_birth(
    front_desk, billing, patient
):
    _, plan = payer_with_plan(billing)
    errors = errors_of(
        lambda: primary_coverage(front_desk, patient, plan, subscriber_relationship="spouse")
    )
    assert set(errors) == {"subscriber_name", "subscriber_date_of_birth"}
    future = timezone.localdate() + datetime.timedelta(days=2)
    assert (
        "future"
        in errors_of(
            lambda: primary_coverage(
                front_desk,
                patient,
                plan,
                subscriber_relationship="spouse",
                subscriber_name="Sam Rivera",
                subscriber_date_of_birth=future,
            )
        )["subscriber_date_of_birth"][0]
    )
    coverage = primary_coverage(
        front_desk,
        patient,
        plan,
        subscriber_relationship="spouse",
        subscriber_name="Sam Rivera",
        subscriber_date_of_birth=datetime.date(1980, 4, 2),
    )
    assert coverage.subscriber_name == "Sam Rivera"


def test_dates_are_checked(front_desk, billing, patient):
    _, plan = payer_with_plan(billing)
    errors = errors_of(
        lambda: primary_coverage(
            front_desk,
            patient,
            plan,
            starts_on=datetime.date(2026, 6, 1),
            ends_on=datetime.date(2026, 5, 31),
        )
    )
    assert errors == {"ends_on": ["The last day cannot come before the first."]}
    assert errors_of(
        lambda: primary_coverage(front_desk, patient, plan, starts_on=datetime.date(1999, 12, 31))
    )["starts_on"]


@pytest.mark.parametrize("role", ["clinic_admin", "prescriber", "nurse", "therapist"])
def test_only_the_front_desk_and_billing_change_coverages(make_staff, billing, patient, role):
    _, plan = payer_with_plan(billing)
    with pytest.raises(PermissionDenied):
        primary_coverage(make_staff(role), patient, plan)
    assert not Coverage.objects.exists()


def test_entered_in_error_keeps_the_row_and_frees_its_place(front_desk, billing, patient):
    _, plan = payer_with_plan(billing)
    wrong = primary_coverage(front_desk, patient, plan, member_id="TYPO")
    assert errors_of(
        lambda: services.coverage_mark_entered_in_error(actor=billing, coverage=wrong, reason="")
    )["reason"]
    services.coverage_mark_entered_in_error(
        actor=billing, coverage=wrong, reason="Member ID mistyped"
    )
    primary_coverage(front_desk, patient, plan, member_id="W123456789")
    assert Coverage.objects.filter(patient=patient).count() == 2


# --------------------------------------------------------------------------- eligibility


def test_an_eligibility_check_is_recorded_in_cents(front_desk, billing, patient):
    _, plan = payer_with_plan(billing)
    coverage = primary_coverage(front_desk, patient, plan)
    check = services.eligibility_check_record(
        actor=front_desk,
        coverage=coverage,
        answer=services.EligibilityAnswer(
            method="phone",
            result="active",
            copay_cents=4000,
            coinsurance_percent=20,
            deductible_cents=150000,
            deductible_remaining_cents=32550,
            reference_number="CALL-7731",
        ),
    )
    assert (check.checked_by, check.copay_cents, check.deductible_remaining_cents) == (
        front_desk,
        4000,
        32550,
    )
    assert AuditEvent.objects.filter(object_type="eligibility_check", patient=patient).exists()


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ({"method": "fax"}, "method"),
        ({"result": "maybe"}, "result"),
        ({"coinsurance_percent": 101}, "coinsurance_percent"),
        ({"copay_cents": -1}, "copay_cents"),
        (
            {"deductible_cents": 1000, "deductible_remaining_cents": 1001},
            "deductible_remaining_cents",
        ),
    ],
)
def test_an_impossible_answer_is_refused(front_desk, billing, patient, answer, field):
    _, plan = payer_with_plan(billing)
    coverage = primary_coverage(front_desk, patient, plan)
    values = {"method": "portal", "result": "active", **answer}
    assert field in errors_of(
        lambda: services.eligibility_check_record(
            actor=billing, coverage=coverage, answer=services.EligibilityAnswer(**values)
        )
    )
    assert not EligibilityCheck.objects.exists()
