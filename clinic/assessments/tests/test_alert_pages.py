"""The alert page and the inbox with follow-up answers (issue 11, item 4; ADR 0004), and no
link on an assessments page or in the alert inbox that ends in 403 (or 404) for the viewer.

Expected values: who may do what from clinic/accounts/permissions.py and docs/permissions.md
(assessment.record for care-team clinicians, so not the clinic admin; clinical view for the
admin and the care team); the C-SSRS triage rule [G13] for the risks.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.assessments import services
from clinic.assessments.models import SuicidalityAlert
from clinic.patients import services as patient_services
from clinic.patients.tests.factories import register
from tests.helpers import ACTOR_ORDER
from tests.helpers import client_as as _client

pytestmark = pytest.mark.django_db

N = None
PHQ9_ITEM9 = [2, 2, 2, 2, 1, 1, 2, 0, 1]  # total 13, moderate; item 9 = 1
CSSRS_LOW = [1, 0, N, N, N, 0, N]  # Q1 yes only: low
CSSRS_HIGH = [1, 1, 0, 1, 0, 0, N]  # Q4 yes: high


def record(actor, patient, answers, code="phq9"):
    return services.response_record(
        actor=actor, patient=patient, instrument_code=code, answers=answers
    )


def _text(response) -> str:
    html = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", unescape(html))


def _main(response) -> str:
    html = response.content.decode()
    return html[html.index("<main") : html.index("</main>")]


def _links(response) -> list[str]:
    """Every same-site link inside the page's <main> (navigation is not this page's)."""
    return sorted(set(re.findall(r'href="(/[^"#]*)"', _main(response))))


@pytest.fixture
def escalated(patient, nurse):
    """A PHQ-9 with item 9 positive, then a low-risk C-SSRS (a follow-up), then a high-risk
    C-SSRS (a follow-up that escalates): one alert, three answers."""
    phq9 = record(nurse, patient, PHQ9_ITEM9)
    low = record(nurse, patient, CSSRS_LOW, code="cssrs-screen")
    high = record(nurse, patient, CSSRS_HIGH, code="cssrs-screen")
    return SuicidalityAlert.objects.get(), (phq9, low, high)


# --------------------------------------------------------------------------- the alert page


def test_the_alert_page_shows_every_answer_in_order_and_the_escalation(
    client, prescriber, escalated
):
    alert, (phq9, low, high) = escalated
    client.force_login(prescriber)
    got = client.get(reverse("assessments:alert_detail", args=[alert.uuid]))
    text = _text(got)
    assert "<h1>High suicide risk (C-SSRS)</h1>" in got.content.decode()
    escalated_at = timezone.localtime(alert.escalated_at).strftime("%m/%d/%Y %H:%M")
    assert (
        f"Escalated at {escalated_at} by the answers of the C-SSRS Screener (risk: high): "
        "raised from “Suicidal ideation reported”."
    ) in text
    rows = re.findall(r'<li class="alert-answer[^"]*">(.*?)</li>', got.content.decode(), re.S)
    assert len(rows) == 3
    first, second, third = (re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r)) for r in rows)
    assert "PHQ-9" in first and "Raised the alert" in first
    assert "Total 13 of 27, moderate. Positive: PHQ-9 item 9 answered 1." in first
    assert "C-SSRS Screener" in second and "Follow-up" in second
    assert "Risk: low. Positive: C-SSRS Q1 answered yes." in second
    assert (
        "Q1 Wish to be dead: Yes · Q2 Suicidal thoughts: No · Q3 Thoughts with method: skipped "
        "(asked only after a Yes to question 2)"
    ) in second
    assert "Q6 within the past 3 months: skipped (asked only after a Yes to question 6)" in second
    assert "Escalated the alert" in third and "Escalated the alert" not in second
    assert "Risk: high." in third
    assert "Q4 Intent without plan: Yes" in third
    for response in (phq9, low, high):
        assert (
            reverse("assessments:response_detail", args=[alert.patient.uuid, response.uuid])
            in got.content.decode()
        )
    # The page says how many follow-ups it showed, so acting on it covers what was read.
    assert 'name="seen_follow_ups" value="2"' in got.content.decode()


def test_acknowledging_from_a_page_that_missed_new_answers_is_refused_and_shows_them(
    client, patient, nurse, prescriber
):
    record(nurse, patient, PHQ9_ITEM9)
    alert = SuicidalityAlert.objects.get()
    client.force_login(prescriber)
    url = reverse("assessments:alert_detail", args=[alert.uuid])
    opened = client.get(url)
    assert 'name="seen_follow_ups" value="0"' in opened.content.decode()
    # While the page is open, the patient's C-SSRS shows a high risk.
    record(nurse, patient, CSSRS_HIGH, code="cssrs-screen")
    got = client.post(
        url, {"action": "acknowledge", "note": "Phoned; no plan.", "seen_follow_ups": "0"}
    )
    assert got.status_code == 200
    assert (
        "New answers were added to this alert since you opened it and it is now a high suicide "
        "risk (C-SSRS). Read them, then acknowledge."
    ) in _text(got)
    assert "Escalated the alert" in _text(got)
    alert.refresh_from_db()
    assert alert.status == "open"


def test_the_response_page_of_a_follow_up_links_to_its_alert(client, prescriber, escalated):
    alert, (_, low, _) = escalated
    client.force_login(prescriber)
    got = client.get(reverse("assessments:response_detail", args=[alert.patient.uuid, low.uuid]))
    assert "Added as a follow-up to the alert waiting for a clinician" in _text(got)
    assert reverse("assessments:alert_detail", args=[alert.uuid]) in got.content.decode()


def test_the_chart_header_dates_a_high_risk_from_its_escalation(client, prescriber, escalated):
    alert, _ = escalated
    client.force_login(prescriber)
    chart = _text(client.get(reverse("patients:patient_chart", args=[alert.patient.uuid])))
    day = timezone.localtime(alert.escalated_at).strftime("%m/%d/%Y")
    assert f"HIGH SUICIDE RISK (C-SSRS {day}) — until resolved" in chart


# --------------------------------------------------------------------------- the inbox


def test_the_inbox_shows_the_escalation_and_the_follow_ups_in_order(client, prescriber, escalated):
    alert, _ = escalated
    client.force_login(prescriber)
    home = client.get(reverse("dashboard:home"))
    # The in-basket on the home page (clinic/dashboard/inbasket.py) holds the alerts.
    inbox = re.search(r'<section id="basket".*?</section>', home.content.decode(), re.S)
    assert inbox
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", unescape(inbox.group(0))))
    assert "High suicide risk (C-SSRS): PHQ-9 item 9 answered 1" in text
    assert "by the answers of the C-SSRS Screener (risk: high)" in text
    follow_ups = re.findall(r"Follow-up: C-SSRS Screener, [^()]+\(risk: (\w+)\)", text)
    assert follow_ups == ["low", "high"]


def test_the_inbox_query_count_stays_flat_as_alerts_and_follow_ups_grow(
    client, front_desk, prescriber, nurse, patient
):
    def count() -> int:
        client.force_login(prescriber)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("dashboard:home")).status_code == 200
        return len(queries)

    record(nurse, patient, PHQ9_ITEM9)
    one = count()
    record(nurse, patient, CSSRS_LOW, code="cssrs-screen")
    for _ in range(2):
        other = register(front_desk)
        patient_services.care_team_set(
            actor=front_desk, patient=other, primary_prescriber=prescriber, nurses=[nurse]
        )
        record(nurse, other, PHQ9_ITEM9)
        record(nurse, other, CSSRS_HIGH, code="cssrs-screen")
    assert count() == one


def test_an_alert_whose_prescriber_left_the_team_goes_to_the_team_prescribers(
    client, front_desk, patient, prescriber, nurse, make_staff
):
    record(nurse, patient, PHQ9_ITEM9)
    alert = SuicidalityAlert.objects.get()
    successor = make_staff("prescriber", username="moreau")
    patient_services.care_team_set(
        actor=front_desk, patient=patient, primary_prescriber=successor, nurses=[nurse]
    )
    url = reverse("assessments:alert_detail", args=[alert.uuid])
    # The former prescriber no longer reaches the chart: no link that would end in 404.
    client.force_login(prescriber)
    assert url not in client.get(reverse("dashboard:home")).content.decode()
    assert client.get(url).status_code == 404
    client.force_login(successor)
    assert url in client.get(reverse("dashboard:home")).content.decode()
    assert client.get(url).status_code == 200


# --------------------------------------------------------------------------- links


def test_the_cssrs_screener_link_shows_only_to_who_may_enter_it(client, patient, actors):
    """The alert page's next step: a clinician on the care team enters the C-SSRS; the clinic
    admin sees the alert but may not enter assessments (assessment.record), so the link would
    end in 403 and is not shown."""
    record(actors["nurse"], patient, PHQ9_ITEM9)
    alert = SuicidalityAlert.objects.get()
    page = reverse("assessments:alert_detail", args=[alert.uuid])
    screener = reverse("assessments:response_create", args=[patient.uuid, "cssrs-screen"])
    for who, may in [
        ("prescriber", True),
        ("nurse", True),
        ("therapist", True),
        ("clinic_admin", False),
    ]:
        client = _client(client, actors[who])
        html = client.get(page).content.decode()
        assert (screener in html) is may, who
        assert client.get(screener).status_code == (200 if may else 403), who
        assert "Next step:" in html, who


def test_no_cssrs_prompt_once_a_cssrs_is_among_the_answers(client, prescriber, escalated):
    alert, _ = escalated
    client.force_login(prescriber)
    html = client.get(reverse("assessments:alert_detail", args=[alert.uuid])).content.decode()
    assert "Next step:" not in html


def _pages(patient, alert, response):
    return {
        "alert_detail": reverse("assessments:alert_detail", args=[alert.uuid]),
        "response_detail": reverse(
            "assessments:response_detail", args=[patient.uuid, response.uuid]
        ),
        "response_create": reverse("assessments:response_create", args=[patient.uuid, "phq9"]),
        "link_create": reverse("assessments:link_create", args=[patient.uuid]),
        "outbox": reverse("assessments:outbox"),
        "chart": reverse("patients:patient_chart", args=[patient.uuid]),
        "home": reverse("dashboard:home"),
    }


# Who may open each page (docs/permissions.md; the matrices in test_views.py): the links in
# it must then open for them too.
ON_TEAM_CLINICAL = ["clinic_admin", "prescriber", "nurse", "therapist"]
VIEWERS = {
    "alert_detail": ON_TEAM_CLINICAL,
    "response_detail": ON_TEAM_CLINICAL,
    "response_create": ["prescriber", "nurse", "therapist"],
    "link_create": [*ON_TEAM_CLINICAL, "front_desk"],
    "outbox": ["clinic_admin"],
    "chart": [*ON_TEAM_CLINICAL, "front_desk", "billing"],
    "home": [who for who in ACTOR_ORDER if who not in ("anonymous", "patient_principal")],
}


@pytest.mark.parametrize(
    ("page", "who"),
    [pytest.param(page, who, id=f"{page}-{who}") for page, row in VIEWERS.items() for who in row],
)
def test_every_link_on_the_assessments_pages_opens_for_the_viewer(
    client, patient, actors, page, who
):
    """Each link in the page (the alert page's answers and next step, the response page's
    alerts, the chart's measurement-based care section, the alert inbox) opens for a viewer
    who may open the page."""
    nurse = actors["nurse"]
    phq9 = record(nurse, patient, PHQ9_ITEM9)
    # A second PHQ-9 joins as a follow-up; no C-SSRS yet, so the alert offers it next.
    record(nurse, patient, PHQ9_ITEM9)
    alert = SuicidalityAlert.objects.get()
    client = _client(client, actors[who])
    got = client.get(_pages(patient, alert, phq9)[page])
    assert got.status_code == 200
    for href in _links(got):
        assert client.get(href).status_code == 200, f"{page} as {who}: {href}"


def test_the_alert_page_query_count_stays_flat_as_follow_ups_grow(
    client, patient, nurse, prescriber
):
    record(nurse, patient, PHQ9_ITEM9)
    alert = SuicidalityAlert.objects.get()
    url = reverse("assessments:alert_detail", args=[alert.uuid])
    client.force_login(prescriber)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    record(nurse, patient, CSSRS_LOW, code="cssrs-screen")
    one = count()
    for _ in range(3):
        record(nurse, patient, PHQ9_ITEM9)
    assert alert.follow_ups.count() == 4
    assert count() == one


def test_the_chart_lists_assessments_in_words_not_codes(client, nurse, patient):
    from tests.helpers import chart_html

    record(nurse, patient, PHQ9_ITEM9)  # 13: moderate (PHQ-9 bands 10–14), item 9 positive
    record(nurse, patient, CSSRS_LOW, code="cssrs-screen")
    html = chart_html(_client(client, nurse), patient)
    assert "PHQ-9" in html and ">Moderate<" in html
    assert "Low risk" in html and "Suicidal ideation" in html
    for code in (">phq9<", ">moderate<", ">suicidal_ideation<", ">cssrs-screen<"):
        assert code not in html
