"""Insurance pages: the permission matrix on the coverage and payer pages and their actions,
the chart header's coverage line for each state, adding a coverage and recording a check
through the pages (dollars typed, cents stored), and query counts that stay flat."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.billing.models import Coverage, EligibilityCheck, InsurancePlan, Payer
from clinic.billing.services import coverage as services
from clinic.billing.tests.factories import payer_with_plan, primary_coverage
from tests.helpers import ACTOR_ORDER, chart_html, client_as, status_word

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(billing):
    return payer_with_plan(billing)[1]


@pytest.fixture
def coverage(front_desk, patient, plan):
    return primary_coverage(front_desk, patient, plan)


def _coverage_url(patient):
    return reverse("billing:coverage", args=[patient.uuid])


# From docs/permissions.md: coverage.view (admin, front desk, billing); payer.manage (admin,
# billing). A directory role reaches every patient, so there is no 404 for them.
COVERAGE_PAGE = dict(
    zip(ACTOR_ORDER, ["login", 403, 200, 403, 403, 403, 200, 200, 403, 403, 403], strict=True)
)
PAYER_PAGE = dict(
    zip(ACTOR_ORDER, ["login", 403, 200, 403, 403, 403, 403, 200, 403, 403, 403], strict=True)
)


@pytest.mark.parametrize("who", ACTOR_ORDER)
def test_the_coverage_and_payer_pages_permission_matrix(client, patient, coverage, actors, who):
    client = client_as(client, actors[who])
    assert status_word(client.get(_coverage_url(patient))) == COVERAGE_PAGE[who]
    assert status_word(client.get(reverse("billing:payer_list"))) == PAYER_PAGE[who]


def _writes(patient, coverage, plan):
    return [
        (_coverage_url(patient), {"plan": plan.pk, "priority": "secondary", "member_id": "Z"}),
        (
            reverse("billing:coverage_end", args=[patient.uuid, coverage.uuid]),
            {"ends_on": "2026-11-30"},
        ),
        (
            reverse("billing:coverage_entered_in_error", args=[patient.uuid, coverage.uuid]),
            {"reason": "Wrong"},
        ),
        (
            reverse("billing:eligibility_check", args=[patient.uuid, coverage.uuid]),
            {"method": "phone", "result": "inactive"},
        ),
        (reverse("billing:payer_list"), {"name": "Cigna", "kind": "commercial"}),
        (reverse("billing:plan_add", args=[plan.payer.uuid]), {"plan_name": "Open Access"}),
        (reverse("billing:plan_switch", args=[plan.uuid]), {"active": "0"}),
    ]


def _state():
    return (
        list(Coverage.objects.values()),
        list(EligibilityCheck.objects.values()),
        list(Payer.objects.values()),
        list(InsurancePlan.objects.values()),
    )


@pytest.mark.parametrize(
    "who",
    ["anonymous", "patient_principal", "prescriber", "nurse", "therapist", "clinic_admin"],
)
def test_a_refused_actor_changes_nothing(client, patient, coverage, plan, actors, who):
    client = client_as(client, actors[who])
    before = _state()
    writes = _writes(patient, coverage, plan)
    if who == "clinic_admin":
        writes = writes[:4]  # the administrator reads coverages but keeps the payer list
    for url, data in writes:
        assert status_word(client.post(url, data)) in ("login", 403, 404), url
    assert _state() == before


def test_the_front_desk_cannot_touch_the_payer_list(client, patient, coverage, plan, actors):
    client = client_as(client, actors["front_desk"])
    before = _state()
    for url, data in _writes(patient, coverage, plan)[4:]:
        assert client.post(url, data).status_code == 403
    assert _state() == before


# --------------------------------------------------------------------------- the chart header


def test_the_chart_header_says_self_pay_without_a_coverage(client, patient, actors):
    html = chart_html(client_as(client, actors["nurse"]), patient)
    assert "No insurance coverage on file (self-pay)." in html


def test_the_chart_header_names_the_plan_and_the_last_check(
    client, patient, coverage, front_desk, actors
):
    html = chart_html(client_as(client, actors["prescriber"]), patient)
    assert "Coverage: Aetna — Choice POS II (primary); eligibility not checked yet." in html
    assert "W123456789" not in html  # no member ID on the chart
    services.eligibility_check_record(
        actor=front_desk,
        coverage=coverage,
        answer=services.EligibilityAnswer(method="portal", result="active"),
    )
    today = timezone.localdate()
    html = chart_html(client, patient)
    assert f"eligibility active, checked {today:%m/%d/%Y}." in html
    # Only the roles that may open the coverage page get a link to it.
    assert _coverage_url(patient) not in html
    html = chart_html(client_as(client, actors["front_desk"]), patient)
    assert _coverage_url(patient) in html


def test_the_chart_header_warns_of_an_inactive_answer_and_a_passed_last_day(
    client, patient, coverage, front_desk, billing, plan, actors
):
    services.eligibility_check_record(
        actor=front_desk,
        coverage=coverage,
        answer=services.EligibilityAnswer(method="phone", result="inactive"),
    )
    html = chart_html(client_as(client, actors["nurse"]), patient)
    assert f"eligibility check on {timezone.localdate():%m/%d/%Y}: inactive." in html
    services.coverage_mark_entered_in_error(actor=billing, coverage=coverage, reason="Old card")
    primary_coverage(
        front_desk,
        patient,
        plan,
        starts_on=datetime.date(2025, 1, 1),
        ends_on=datetime.date(2025, 12, 31),
    )
    html = chart_html(client, patient)
    assert "ran until 12/31/2025: update the coverage." in html


# --------------------------------------------------------------------------- the pages' flows


def test_adding_a_coverage_and_checking_it_through_the_pages(client, patient, plan, front_desk):
    client.force_login(front_desk)
    page = client.get(_coverage_url(patient)).content.decode()
    assert "No insurance coverage on file" in page and "Aetna — Choice POS II" in page
    response = client.post(
        _coverage_url(patient),
        {
            "plan": plan.pk,
            "priority": "primary",
            "member_id": "W987",
            "subscriber_relationship": "self",
        },
    )
    assert response.status_code == 302
    coverage = Coverage.objects.get()
    response = client.post(
        reverse("billing:eligibility_check", args=[patient.uuid, coverage.uuid]),
        {
            "method": "clearinghouse",
            "result": "active",
            "copay": "40",
            "coinsurance_percent": "20",
            "deductible": "1500.00",
            "deductible_remaining": "325.50",
        },
    )
    assert response.status_code == 302
    check = EligibilityCheck.objects.get()
    assert (check.copay_cents, check.deductible_cents, check.deductible_remaining_cents) == (
        4000,
        150000,
        32550,
    )
    page = client.get(_coverage_url(patient)).content.decode()
    assert "$40.00" in page and "$1,500.00" in page and "$325.50 left" in page
    assert "Clearinghouse (270/271)" in page


def test_a_refused_coverage_is_explained_beside_the_field(client, patient, plan, coverage):
    client.force_login(coverage.recorded_by)
    page = client.post(
        _coverage_url(patient),
        {
            "plan": plan.pk,
            "priority": "primary",
            "member_id": "X",
            "subscriber_relationship": "self",
        },
    ).content.decode()
    assert 'id="id_priority_error"' in page
    assert "already has a primary coverage" in page
    assert Coverage.objects.count() == 1


def test_without_payers_the_page_says_where_to_add_them(client, patient, front_desk, billing):
    client.force_login(front_desk)
    assert (
        "Ask billing to add the clinic's payers and plans."
        in client.get(_coverage_url(patient)).content.decode()
    )
    client.force_login(billing)
    assert (
        "Add the clinic's payers and plans" in client.get(_coverage_url(patient)).content.decode()
    )


def test_the_coverage_page_query_count_is_flat(client, patient, front_desk, billing, plan):
    client.force_login(billing)
    url = _coverage_url(patient)
    coverage = primary_coverage(front_desk, patient, plan)
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    _, other = payer_with_plan(billing, name="Cigna", payer_id="62308", plan="Open Access Plus")
    primary_coverage(front_desk, patient, other, priority="secondary")
    for result in ("active", "inactive", "unclear"):
        services.eligibility_check_record(
            actor=front_desk,
            coverage=coverage,
            answer=services.EligibilityAnswer(method="phone", result=result),
        )
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(one)
