"""Prior-authorization pages: the permission matrix (docs/permissions.md: prior_auth.view for
the administrator, prescribers on the care team, the front desk and billing; prior_auth.manage
for billing and the care team's prescribers), refused writes that change nothing, the biller's
path through the pages, the packet PDF, the payer's checklist, and the warnings on the chart,
the plan and the booking page."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.billing.models import PayerCriterion, PriorAuthorization, PriorAuthorizationChange
from clinic.billing.services import prior_auth as services
from clinic.billing.tests.factories import payer_with_plan, primary_coverage
from clinic.core.models import AuditEvent
from tests.helpers import ACTOR_ORDER, chart_html, client_as, status_word

pytestmark = pytest.mark.django_db


@pytest.fixture
def coverage(billing, front_desk, patient):
    _, plan = payer_with_plan(billing)
    return primary_coverage(front_desk, patient, plan)


@pytest.fixture
def draft(billing, patient, coverage):
    return services.prior_auth_create(
        actor=billing, patient=patient, coverage=coverage, route="esketamine"
    )


def _matrix(*answers):
    return dict(zip(ACTOR_ORDER, answers, strict=True))


LIST = _matrix("login", 403, 200, 200, 403, 403, 200, 200, 404, 404, 404)
DETAIL = _matrix("login", 403, 200, 200, 403, 403, 200, 200, 404, 403, 403)


@pytest.mark.parametrize("who", ACTOR_ORDER)
def test_the_prior_authorization_pages_permission_matrix(client, patient, draft, actors, who):
    client = client_as(client, actors[who])
    list_url = reverse("billing:prior_auth_list", args=[patient.uuid])
    assert status_word(client.get(list_url)) == LIST[who]
    detail = reverse("billing:prior_auth", args=[draft.uuid])
    assert status_word(client.get(detail)) == DETAIL[who]
    packet = reverse("billing:prior_auth_packet", args=[draft.uuid])
    assert status_word(client.get(packet)) == DETAIL[who]


def _state():
    return (
        list(PriorAuthorization.objects.values()),
        list(PriorAuthorizationChange.objects.values()),
        list(PayerCriterion.objects.values()),
    )


@pytest.mark.parametrize(
    "who", ["anonymous", "patient_principal", "nurse", "front_desk", "prescriber_off_team"]
)
def test_a_refused_actor_changes_nothing(client, patient, coverage, draft, actors, who):
    client = client_as(client, actors[who])
    before = _state()
    writes = [
        (
            reverse("billing:prior_auth_list", args=[patient.uuid]),
            {"coverage": coverage.pk, "route": "esketamine"},
        ),
        (reverse("billing:prior_auth_action", args=[draft.uuid, "submit"]), {}),
        (reverse("billing:prior_auth_action", args=[draft.uuid, "refresh"]), {}),
        (
            reverse("billing:criterion_add", args=[coverage.plan.payer.uuid]),
            {"text": "Adult", "evidence": "age_adult"},
        ),
    ]
    for url, data in writes:
        assert status_word(client.post(url, data)) in ("login", 403, 404), url
    assert _state() == before


def test_billing_drafts_submits_and_records_an_approval(client, patient, coverage, actors):
    client = client_as(client, actors["billing"])
    response = client.post(
        reverse("billing:prior_auth_list", args=[patient.uuid]),
        {"coverage": coverage.pk, "route": "esketamine"},
    )
    assert response.status_code == 302
    authorization = PriorAuthorization.objects.get()
    url = reverse("billing:prior_auth", args=[authorization.uuid])
    page = client.get(url).content.decode()
    assert "Status: Draft" in page and "No checklist for Aetna yet" in page

    action = "billing:prior_auth_action"
    client.post(reverse(action, args=[authorization.uuid, "submit"]), {"note": "Portal"})
    response = client.post(
        reverse(action, args=[authorization.uuid, "approve"]),
        {"authorization_number": "", "approved_sessions": "8"},
    )
    assert response.status_code == 422
    today = timezone.localdate()
    client.post(
        reverse(action, args=[authorization.uuid, "approve"]),
        {
            "authorization_number": "PA-555",
            "approved_sessions": "8",
            "starts_on": today.isoformat(),
            "ends_on": (today + datetime.timedelta(days=90)).isoformat(),
        },
    )
    authorization.refresh_from_db()
    assert (authorization.status, authorization.authorization_number) == ("approved", "PA-555")
    page = client.get(url).content.decode()
    assert "0 of 8; 8 left" in page


def test_the_packet_pdf_is_a_pdf_and_its_export_is_audited(client, draft, actors):
    client = client_as(client, actors["billing"])
    response = client.get(reverse("billing:prior_auth_packet", args=[draft.uuid]))
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "no-store" in response["Cache-Control"]
    assert AuditEvent.objects.filter(
        object_type="prior_authorization", action="export", object_id=str(draft.uuid)
    ).exists()


def test_billing_adds_a_payers_criterion_on_the_payer_page(client, coverage, actors):
    client = client_as(client, actors["billing"])
    payer = coverage.plan.payer
    client.post(
        reverse("billing:criterion_add", args=[payer.uuid]),
        {"text": "PHQ-9 of 15 or more", "evidence": "baseline_phq9", "threshold": "15"},
    )
    criterion = PayerCriterion.objects.get()
    assert (criterion.evidence, criterion.threshold) == ("baseline_phq9", 15)
    page = client.get(reverse("billing:payer_edit", args=[payer.uuid])).content.decode()
    assert "PHQ-9 of 15 or more" in page and "(at least 15)" in page


def test_an_approval_ending_soon_shows_on_the_chart_the_plan_and_the_queue(
    client, patient, draft, actors, billing, prescriber, front_desk, settings
):
    from clinic.scheduling.tests.conftest import make_plan

    settings.PRIOR_AUTH_EXPIRY_WARNING_DAYS = 14
    today = timezone.localdate()
    services.prior_auth_submit(actor=billing, authorization=draft)
    services.prior_auth_approve(
        actor=billing,
        authorization=draft,
        approval=services.Approval(
            "PA-9", 6, today - datetime.timedelta(days=20), today + datetime.timedelta(days=5)
        ),
    )
    warning = "Prior authorization PA-9 ends"
    assert warning in chart_html(client_as(client, actors["prescriber"]), patient)
    plan = make_plan(patient, nurse=actors["nurse"], prescriber=prescriber, route="esketamine")
    page = client_as(client, actors["prescriber"]).get(
        reverse("protocols:plan_detail", args=[patient.uuid, plan.uuid])
    )
    assert warning in page.content.decode()
    home = client_as(client, actors["billing"]).get(reverse("dashboard:home")).content.decode()
    assert "Prior authorizations: ending, used up or waiting" in home and "PA-9" in home
    # A nurse, who may not see prior authorizations, is not shown them.
    assert warning not in chart_html(client_as(client, actors["nurse"]), patient)


def test_a_request_sent_and_not_answered_waits_in_the_queue(client, draft, actors, billing):
    from clinic.billing.selectors_prior_auth import approvals_needing_attention

    assert approvals_needing_attention(actor=billing).waiting_count == 0
    services.prior_auth_submit(actor=billing, authorization=draft, note="Portal")
    attention = approvals_needing_attention(actor=billing)
    assert [pa.pk for pa in attention.waiting] == [draft.pk]
    home = client_as(client, actors["billing"]).get(reverse("dashboard:home")).content.decode()
    section = home.split("Requests waiting on the payer")[1].split("</ul>")[0]
    assert "Aetna" in section and "without an answer" in section
