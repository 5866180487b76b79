"""Charge pages: the permission matrix of the billing queue, a charge and the fee schedule (from
docs/permissions.md), refused writes that change nothing, the biller's and the clinician's
flows through the pages (dollars typed, cents stored), and query counts that stay flat as the
clinic's charges grow."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.billing.models import Charge, ChargeLine, FeeScheduleEntry, VisitCode
from clinic.billing.services import charges as services
from tests.helpers import ACTOR_ORDER, chart_html, client_as, status_word

pytestmark = pytest.mark.django_db


def _matrix(*answers):
    return dict(zip(ACTOR_ORDER, answers, strict=True))


# charge.view: admin, billing. A charge also opens for the care team's prescribers and
# therapists (visit_code.add); off the team it is not found. fee_schedule.manage: admin, billing.
QUEUE = _matrix("login", 403, 200, 403, 403, 403, 403, 200, 403, 403, 403)
CHARGE = _matrix("login", 403, 200, 200, 403, 200, 403, 200, 404, 403, 404)
FEES = _matrix("login", 403, 200, 403, 403, 403, 403, 200, 403, 403, 403)


@pytest.fixture
def charge(iv_signed):
    return Charge.objects.get(session=iv_signed)


@pytest.mark.parametrize("who", ACTOR_ORDER)
def test_the_charge_pages_permission_matrix(client, charge, actors, who):
    client = client_as(client, actors[who])
    assert status_word(client.get(reverse("billing:queue"))) == QUEUE[who]
    assert status_word(client.get(reverse("billing:charge", args=[charge.uuid]))) == CHARGE[who]
    assert status_word(client.get(reverse("billing:fee_schedule"))) == FEES[who]


def _state():
    return (
        list(Charge.objects.values()),
        list(ChargeLine.objects.values()),
        list(VisitCode.objects.values()),
        list(FeeScheduleEntry.objects.values()),
    )


@pytest.mark.parametrize(
    "who", ["anonymous", "patient_principal", "nurse", "front_desk", "prescriber_off_team"]
)
def test_a_refused_actor_changes_nothing(client, charge, actors, who):
    client = client_as(client, actors[who])
    before = _state()
    writes = [
        (reverse("billing:charge_recode", args=[charge.uuid]), {"reason": "Try"}),
        (
            reverse("billing:visit_code_add", args=[charge.uuid]),
            {"kind": "e_m", "code": "99213"},
        ),
        (
            reverse("billing:fee_schedule"),
            {"code": "96365", "price": "250", "effective_on": "2031-01-01"},
        ),
    ]
    for url, data in writes:
        assert status_word(client.post(url, data)) in ("login", 403, 404), url
    assert _state() == before


def test_a_clinician_cannot_re_code_and_billing_cannot_add_a_visit_code(client, charge, actors):
    before = _state()
    prescriber = client_as(client, actors["prescriber"])
    url = reverse("billing:charge_recode", args=[charge.uuid])
    assert prescriber.post(url, {"reason": "Try"}).status_code == 403
    biller = client_as(client, actors["billing"])
    url = reverse("billing:visit_code_add", args=[charge.uuid])
    assert biller.post(url, {"kind": "e_m", "code": "99213"}).status_code == 403
    assert _state() == before


# --------------------------------------------------------------------------- flows


def test_billing_prices_a_code_and_re_codes_the_charge(client, charge, actors):
    client = client_as(client, actors["billing"])
    page = client.get(reverse("billing:charge", args=[charge.uuid])).content.decode()
    assert "96365" in page and "J3490" in page and "no price" in page
    assert "40 min (pauses excluded)" in page
    assert "No coverage on the date of service: self-pay" in page
    assert "Uneventful" not in page  # the nurse's note stays in the clinical record

    response = client.post(
        reverse("billing:fee_schedule"),
        {"code": "96365", "price": "212.50", "effective_on": "2031-01-01", "note": "2031 list"},
    )
    assert response.status_code == 302
    assert FeeScheduleEntry.objects.get().price_cents == 212_50
    response = client.post(
        reverse("billing:charge_recode", args=[charge.uuid]), {"reason": "Price set"}
    )
    assert response.status_code == 302
    page = client.get(reverse("billing:charge", args=[charge.uuid])).content.decode()
    assert "$212.50" in page and "Lines replaced" in page and "re-coded: Price set" in page


def test_a_re_coding_without_a_reason_is_answered_on_the_page(client, charge, actors):
    client = client_as(client, actors["billing"])
    response = client.post(reverse("billing:charge_recode", args=[charge.uuid]), {"reason": ""})
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()


def test_the_therapist_adds_psychotherapy_from_the_chart(client, charge, patient, actors):
    client = client_as(client, actors["therapist"])
    html = chart_html(client, patient)
    charge_url = reverse("billing:charge", args=[charge.uuid])
    assert charge_url in html  # the chart lists the session's charge

    response = client.post(
        reverse("billing:visit_code_add", args=[charge.uuid]),
        {"kind": "psychotherapy", "minutes": "45"},
    )
    assert response.status_code == 302
    page = client.get(charge_url).content.decode()
    # 45 minutes of psychotherapy, no E/M: 90834 [P17].
    assert "90834" in page and "45 min documented" in page

    response = client.post(
        reverse("billing:visit_code_add", args=[charge.uuid]),
        {"kind": "psychotherapy", "minutes": "12"},
    )
    assert response.status_code == 422
    assert "Under 16 minutes of psychotherapy" in response.content.decode()


def test_billing_codes_a_session_left_uncharged_from_the_queue(client, charge, actors):
    session = charge.session
    ChargeLine.objects.filter(charge=charge).delete()
    Charge.objects.filter(pk=charge.pk).delete()
    client = client_as(client, actors["billing"])
    home = client.get(reverse("dashboard:home")).content.decode()
    assert "Signed sessions not yet charged" in home and "Code this session" in home

    response = client.post(reverse("billing:session_code", args=[session.uuid]))
    assert response.status_code == 302
    assert Charge.objects.filter(session=session).exists()


# --------------------------------------------------------------------------- query counts


def _queue_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("billing:queue")).status_code == 200
    return len(queries)


def test_the_queue_and_the_charge_page_query_counts_stay_flat(
    client, charge, actors, billing, therapist
):
    biller = client_as(client, actors["billing"])
    baseline = _queue_queries(biller)
    services.visit_code_add(actor=therapist, charge=charge, kind="psychotherapy", minutes=40)
    for code in ("96365", "J3490", "90834"):
        services.fee_set(
            actor=billing, code=code, price_cents=100_00, effective_on=datetime.date(2031, 1, 1)
        )
    for reason in ("one", "two", "three"):
        services.charge_recode(actor=billing, charge=charge, reason=reason)
    assert _queue_queries(biller) == baseline

    url = reverse("billing:charge", args=[charge.uuid])
    with CaptureQueriesContext(connection) as queries:
        page = biller.get(url).content.decode()
    assert "$300.00" in page  # three lines at $100.00
    assert len(queries) <= 20, [q["sql"] for q in queries.captured_queries]


def test_billing_codes_the_listed_sessions_as_a_batch(client, charge, actors):
    session = charge.session
    ChargeLine.objects.filter(charge=charge).delete()
    Charge.objects.filter(pk=charge.pk).delete()
    client = client_as(client, actors["billing"])

    response = client.post(reverse("billing:sessions_code_batch"), follow=True)
    assert "1 session coded." in response.content.decode()
    assert Charge.objects.filter(session=session).count() == 1
    response = client.post(reverse("billing:sessions_code_batch"), follow=True)
    assert "0 sessions coded." in response.content.decode()
    assert (
        client_as(client, actors["front_desk"])
        .post(reverse("billing:sessions_code_batch"))
        .status_code
        == 403
    )
