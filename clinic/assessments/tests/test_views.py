"""Measurement-based care pages: the permission matrix (anonymous, patient principal, each role
on and off the care team), denials that write nothing, and the flows a clinic runs through
them — staff entry, the patient link and the kiosk. Suicidality alerts and their e-mail are
in test_views_alerts.py.

Expected values come from clinic/accounts/permissions.py and docs/permissions.md (roles and
the care-team reach), policy-defaults.md "Suicidality" (alert the primary clinician, prompt a
C-SSRS screen, show crisis resources) and calculators.md §1 (scores).
"""

from __future__ import annotations

import datetime
import re
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from clinic.assessments import services
from clinic.assessments.models import (
    AssessmentResponse,
    QuestionnaireLink,
    SuicidalityAlert,
)
from clinic.assessments.tests.pages import PHQ9_ITEM9, PHQ9_MODERATE, N
from clinic.assessments.tests.pages import items as _items
from clinic.assessments.tests.pages import patient_form as _patient_form
from clinic.assessments.tests.pages import staff_form as _staff_form
from clinic.assessments.tests.pages import state as _state
from clinic.patients import services as patient_services
from clinic.patients.tests.factories import register
from tests.helpers import ACTOR_ORDER
from tests.helpers import chart_html as _chart
from tests.helpers import client_as as _client
from tests.helpers import path_of as _path
from tests.helpers import status_word as _status_word
from tests.helpers import without_csrf as _without_csrf

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------- permission matrix


# Expected status per page, in ACTOR_ORDER; from docs/permissions.md and the views' checks:
# assessment.record (care-team clinicians) to enter, clinical view (admin + care team) to read,
# assessment.send_link for links, notification.view (admin) for the outbox. Off the care
# team a patient-scoped page is a 404, exactly like a uuid that does not exist.
# fmt: off
PAGE_MATRIX = {
    #                          anon   portal admin presc nurse ther desk bill off-team ×3
    "response_create_get":    ["login", 403, 403, 200, 200, 200, 403, 403, 404, 404, 404],
    "response_create_post":   ["login", 403, 403, 302, 302, 302, 403, 403, 404, 404, 404],
    "response_detail_get":    ["login", 403, 200, 200, 200, 200, 403, 403, 404, 404, 404],
    "entered_in_error_post":  ["login", 403, 403, 302, 302, 302, 403, 403, 404, 404, 404],
    "link_create_get":        ["login", 403, 200, 200, 200, 200, 200, 403, 404, 404, 404],
    "link_create_post":       ["login", 403, 200, 200, 200, 200, 200, 403, 404, 404, 404],
    "alert_detail_get":       ["login", 403, 200, 200, 200, 200, 404, 404, 404, 404, 404],
    "alert_acknowledge_post": ["login", 403, 403, 302, 302, 302, 404, 404, 404, 404, 404],
    "alert_resolve_post":     ["login", 403, 403, 302, 403, 403, 404, 404, 404, 404, 404],
    "outbox_get":             ["login", 403, 200, 403, 403, 403, 403, 403, 403, 403, 403],
}
# fmt: on
WRITES = {
    "response_create_post",
    "entered_in_error_post",
    "link_create_post",
    "alert_acknowledge_post",
    "alert_resolve_post",
}


def _request(client, page, patient, response, alert):
    """(method, url, data) for one page of the matrix."""
    pages = {
        "response_create_get": (
            "get",
            reverse("assessments:response_create", args=[patient.uuid, "phq9"]),
            None,
        ),
        "response_create_post": (
            "post",
            reverse("assessments:response_create", args=[patient.uuid, "phq9"]),
            _staff_form(PHQ9_ITEM9),
        ),
        "response_detail_get": (
            "get",
            reverse("assessments:response_detail", args=[patient.uuid, response.uuid]),
            None,
        ),
        "entered_in_error_post": (
            "post",
            reverse("assessments:response_entered_in_error", args=[patient.uuid, response.uuid]),
            {"reason": "Answers were for another visit"},
        ),
        "link_create_get": (
            "get",
            reverse("assessments:link_create", args=[patient.uuid]),
            None,
        ),
        "link_create_post": (
            "post",
            reverse("assessments:link_create", args=[patient.uuid]),
            {"instrument_codes": ["phq9", "gad7"], "timepoint": "pre_session", "mode": "link"},
        ),
        "alert_detail_get": ("get", reverse("assessments:alert_detail", args=[alert.uuid]), None),
        "alert_acknowledge_post": (
            "post",
            reverse("assessments:alert_detail", args=[alert.uuid]),
            {"action": "acknowledge", "note": "Called the patient; safety plan reviewed."},
        ),
        "alert_resolve_post": (
            "post",
            reverse("assessments:alert_detail", args=[alert.uuid]),
            {"action": "resolve", "note": "Safety evaluation done; no imminent risk."},
        ),
        "outbox_get": ("get", reverse("assessments:outbox"), None),
    }
    method, url, data = pages[page]
    if method == "get":
        return client.get(url)
    return client.post(url, data)


MATRIX_CASES = [
    pytest.param(page, who, expected, id=f"{page}-{who}")
    for page, row in PAGE_MATRIX.items()
    for who, expected in zip(ACTOR_ORDER, row, strict=True)
]


@pytest.mark.parametrize(("page", "who", "expected"), MATRIX_CASES)
def test_page_permission_matrix(client, patient, actors, high_risk_alert, page, who, expected):
    response = high_risk_alert.response
    got = _request(_client(client, actors[who]), page, patient, response, high_risk_alert)
    assert _status_word(got) == expected


@pytest.mark.parametrize(
    ("page", "who"),
    [
        pytest.param(page, who, id=f"{page}-{who}")
        for page in sorted(WRITES)
        for who, expected in zip(ACTOR_ORDER, PAGE_MATRIX[page], strict=True)
        if expected != 302 and not (page == "link_create_post" and expected == 200)
    ],
)
def test_a_denied_post_writes_nothing(client, patient, actors, high_risk_alert, page, who):
    before = _state()
    got = _request(
        _client(client, actors[who]), page, patient, high_risk_alert.response, high_risk_alert
    )
    assert _status_word(got) != 302
    assert _state() == before


@pytest.mark.parametrize("who", ["clinic_admin", "prescriber", "nurse", "therapist", "front_desk"])
def test_an_allowed_link_post_creates_one_link(client, patient, actors, who):
    got = _client(client, actors[who]).post(
        reverse("assessments:link_create", args=[patient.uuid]),
        {"instrument_codes": ["phq9", "gad7"], "timepoint": "pre_session", "mode": "link"},
    )
    assert got.status_code == 200
    link = QuestionnaireLink.objects.get()
    assert (link.patient, link.created_by, link.instrument_codes, link.kiosk) == (
        patient,
        actors[who],
        ["phq9", "gad7"],
        False,
    )


@pytest.mark.parametrize("who", ACTOR_ORDER)
def test_public_questionnaire_pages_need_no_sign_in(client, patient, actors, front_desk, who):
    """The link pages answer anyone (the token is the authority); a bad token or no link in
    the session is the 'no longer available' page, never a sign-in redirect."""
    _, token = services.questionnaire_link_create(
        actor=front_desk, patient=patient, instrument_codes=["phq9"]
    )
    client = _client(client, actors[who])
    bogus = client.get(reverse("assessments:questionnaire_start", args=["not-a-real-token"]))
    assert bogus.status_code == 404 and b"no longer available" in bogus.content
    no_session = client.get(reverse("assessments:questionnaire_fill"))
    assert no_session.status_code == 404 and b"no longer available" in no_session.content
    start = client.get(reverse("assessments:questionnaire_start", args=[token]))
    assert start.status_code == 302
    assert start.headers["Location"] == reverse("assessments:questionnaire_fill")
    assert client.get(start.headers["Location"]).status_code == 200


def test_not_on_the_care_team_looks_like_no_such_patient(client, patient, actors, phq9_response):
    client.force_login(actors["nurse_off_team"])
    missing = uuid.uuid4()
    for name, hidden_args, missing_args in [
        ("response_create", [patient.uuid, "phq9"], [missing, "phq9"]),
        ("response_detail", [patient.uuid, phq9_response.uuid], [missing, phq9_response.uuid]),
        ("link_create", [patient.uuid], [missing]),
    ]:
        hidden = client.get(reverse(f"assessments:{name}", args=hidden_args))
        absent = client.get(reverse(f"assessments:{name}", args=missing_args))
        assert hidden.status_code == absent.status_code == 404, name
        assert _without_csrf(hidden) == _without_csrf(absent), name
        assert patient.legal_family_name.encode() not in hidden.content


def test_a_hidden_alert_looks_like_no_such_alert(client, actors, high_risk_alert):
    """docs/permissions.md: not found and not allowed look the same — same status, same
    message. Front desk asking for a real alert must get the page a made-up uuid gets."""
    client.force_login(actors["front_desk"])
    hidden = client.get(reverse("assessments:alert_detail", args=[high_risk_alert.uuid]))
    absent = client.get(reverse("assessments:alert_detail", args=[uuid.uuid4()]))
    assert hidden.status_code == absent.status_code == 404
    assert hidden.context["message"] == absent.context["message"]
    assert _without_csrf(hidden) == _without_csrf(absent)


def test_a_response_of_another_patient_is_not_found(client, patient, nurse, front_desk):
    other = register(front_desk, legal_family_name="Okafor")
    patient_services.care_team_set(actor=front_desk, patient=other, primary_prescriber=None)
    foreign = AssessmentResponse.objects.create(
        patient=other,
        instrument_code="phq9",
        instrument_version="x",
        answers=PHQ9_MODERATE,
        complete=True,
        total=12,
        source="staff",
    )
    client.force_login(nurse)
    got = client.get(reverse("assessments:response_detail", args=[patient.uuid, foreign.uuid]))
    assert got.status_code == 404
    assert b"Okafor" not in got.content


def test_unknown_instrument_page_is_404(client, patient, nurse):
    client.force_login(nurse)
    got = client.get(reverse("assessments:response_create", args=[patient.uuid, "bdi-ii"]))
    assert got.status_code == 404


# --------------------------------------------------------------------------- staff entry


def test_nurse_enters_a_positive_phq9_and_the_chart_shows_the_alert(
    client, patient, nurse, front_desk
):
    client.force_login(nurse)
    got = client.post(
        reverse("assessments:response_create", args=[patient.uuid, "phq9"]),
        _staff_form(PHQ9_ITEM9, timepoint="baseline"),
        follow=True,
    )
    response = AssessmentResponse.objects.get()
    assert got.redirect_chain[-1][0] == reverse(
        "assessments:response_detail", args=[patient.uuid, response.uuid]
    )
    assert (response.total, response.severity, response.complete) == (13, "moderate", True)
    assert (response.source, response.recorded_by, response.timepoint) == (
        "staff",
        nurse,
        "baseline",
    )
    assert response.answers == PHQ9_ITEM9
    html = got.content.decode()
    assert '<strong class="stat-inline">13</strong> of 27' in html
    assert "Moderate" in html
    alert = SuicidalityAlert.objects.get()
    assert (alert.kind, alert.status, alert.patient) == ("suicidal_ideation", "open", patient)
    assert reverse("assessments:alert_detail", args=[alert.uuid]) in html
    assert "Suicidal ideation reported: PHQ-9 item 9 answered 1" in html

    chart_response = client.get(reverse("patients:patient_chart", args=[patient.uuid]))
    chart = chart_response.content.decode()
    assert "Suicidality alert, open: PHQ-9 item 9 answered 1" in chart
    assert "Measurement-based care" in chart
    mbc = next(ctx for tpl, ctx in chart_response.context["sections"] if "assessments/" in tpl)
    (course,) = mbc["courses"]
    assert course.code == "phq9" and "13" in course.status_text
    assert escape(course.status_text) in chart
    assert "<svg" in chart

    client.force_login(front_desk)
    desk_chart = _chart(client, patient)
    assert "Suicidality alert" not in desk_chart
    assert "item 9" not in desk_chart
    assert escape(course.status_text) not in desk_chart
    assert "<svg" not in desk_chart
    assert "Recent assessments" not in desk_chart
    assert reverse("assessments:response_detail", args=[patient.uuid, response.uuid]) not in (
        desk_chart
    )
    assert reverse("assessments:link_create", args=[patient.uuid]) in desk_chart
    assert "Questionnaires for the patient" in desk_chart


def test_blank_items_are_stored_incomplete_never_prorated(client, patient, nurse):
    client.force_login(nurse)
    got = client.post(
        reverse("assessments:response_create", args=[patient.uuid, "phq9"]),
        _staff_form([N, 2, 2, 2, 1, 1, 2, 0, 0]),
        follow=True,
    )
    response = AssessmentResponse.objects.get()
    assert (response.complete, response.total, response.severity) == (False, None, "")
    assert response.answers == [N, 2, 2, 2, 1, 1, 2, 0, 0]
    assert "Incomplete" in got.content.decode()
    assert not SuicidalityAlert.objects.exists()


def test_staff_form_without_a_date_saves_nothing(client, patient, nurse):
    client.force_login(nurse)
    got = client.post(
        reverse("assessments:response_create", args=[patient.uuid, "phq9"]),
        {**_items(PHQ9_MODERATE), "timepoint": "unscheduled", "taken_at": ""},
    )
    assert got.status_code == 200
    assert "taken_at" in got.context["form"].errors
    assert not AssessmentResponse.objects.exists()


def test_entered_in_error_from_the_detail_page_keeps_the_row(client, patient, nurse, phq9_response):
    client.force_login(nurse)
    url = reverse("assessments:response_entered_in_error", args=[patient.uuid, phq9_response.uuid])
    got = client.post(url, {"reason": "Another patient's form"}, follow=True)
    assert "Entered in error (Another patient&#x27;s form)" in got.content.decode()
    phq9_response.refresh_from_db()
    assert phq9_response.entered_in_error_by == nurse
    assert SuicidalityAlert.objects.filter(response=phq9_response).exists()


# --------------------------------------------------------------------------- patient link


def test_link_flow_with_crisis_prompt_and_cssrs(client, patient, front_desk, prescriber):
    desk = client
    desk.force_login(front_desk)
    created = desk.post(
        reverse("assessments:link_create", args=[patient.uuid]),
        {"instrument_codes": ["phq9", "gad7"], "timepoint": "pre_session", "mode": "link"},
    )
    assert created.status_code == 200
    match = re.search(r'value="(http://testserver/q/([^"/]+)/)"', created.content.decode())
    assert match, created.content.decode()
    url, token = _path(match.group(1)), match.group(2)
    link = QuestionnaireLink.objects.get()
    assert link.token_digest == services.link_token_digest(token)
    assert token not in link.token_digest

    from django.test import Client

    phone = Client()
    start = phone.get(url)
    assert start.status_code == 302
    fill_url = reverse("assessments:questionnaire_fill")
    assert start.headers["Location"] == fill_url
    assert token not in start.headers["Location"]

    page = phone.get(fill_url)
    html = page.content.decode()
    assert page.status_code == 200 and token not in html
    assert "PHQ-9" in html and "Questionnaire 1 of 2" in html and "988" not in html

    sent = phone.post(fill_url, _patient_form("phq9", [1, 1, 1, 1, 0, 0, 0, 0, 2]))
    assert sent.status_code == 302
    page = phone.get(fill_url).content.decode()
    assert "988" in page
    assert "GAD-7" in page and "Questionnaire 2 of 3" in page
    link.refresh_from_db()
    assert link.instrument_codes == ["phq9", "gad7", "cssrs-screen"]
    assert link.used_at is None
    alert = SuicidalityAlert.objects.get()
    assert (alert.kind, alert.assigned_to) == ("suicidal_ideation", prescriber)

    assert phone.post(fill_url, _patient_form("gad7", [1, 1, 1, 1, 1, 1, 1])).status_code == 302
    page = phone.get(fill_url).content.decode()
    assert "C-SSRS" in page and "Questionnaire 3 of 3" in page and "988" in page

    cssrs = [1, 0, N, N, N, 0, N]  # Q1 yes only: low risk, one more ideation alert
    assert phone.post(fill_url, _patient_form("cssrs-screen", cssrs)).status_code == 302
    done = phone.get(fill_url)
    assert done.status_code == 200
    assert "Thank you" in done.content.decode()
    assert "hand the tablet back" not in done.content.decode()

    link.refresh_from_db()
    assert link.used_at is not None
    responses = list(AssessmentResponse.objects.order_by("pk"))
    assert [r.instrument_code for r in responses] == ["phq9", "gad7", "cssrs-screen"]
    assert {(r.source, r.link_id, r.recorded_by_id, r.timepoint) for r in responses} == {
        ("patient_link", link.pk, None, "pre_session")
    }
    assert [r.total for r in responses] == [6, 7, None]
    assert responses[2].severity == "low"

    again = Client().get(url)
    assert again.status_code == 404
    assert "no longer available" in again.content.decode()
    # The same browser posting once more writes nothing.
    before = _state()
    phone.post(fill_url, _patient_form("phq9", PHQ9_MODERATE))
    assert _state() == before


def test_crisis_resources_belong_to_the_link_that_raised_them(client, patient, front_desk):
    """The crisis text answers one patient's answers. On a shared device (the clinic tablet,
    a family computer) the next patient's link must not open with it: it would tell them
    their answers raised a suicidality concern, and show that someone else's did."""
    other = register(front_desk, legal_family_name="Okafor")
    _, first = services.questionnaire_link_create(
        actor=front_desk, patient=patient, instrument_codes=["phq9"]
    )
    _, second = services.questionnaire_link_create(
        actor=front_desk, patient=other, instrument_codes=["gad7"]
    )
    fill_url = reverse("assessments:questionnaire_fill")
    client.get(reverse("assessments:questionnaire_start", args=[first]))
    client.post(fill_url, _patient_form("phq9", [0, 0, 0, 0, 0, 0, 0, 0, 2]))
    assert "988" in client.get(fill_url).content.decode()

    assert client.get(reverse("assessments:questionnaire_start", args=[second])).status_code == 302
    page = client.get(fill_url).content.decode()
    assert "GAD-7" in page
    assert "988" not in page
    assert "You do not have to go through this alone" not in page


def test_the_wrong_questionnaire_in_a_post_is_not_saved(client, patient, front_desk):
    _, token = services.questionnaire_link_create(
        actor=front_desk, patient=patient, instrument_codes=["phq9", "gad7"]
    )
    client.get(reverse("assessments:questionnaire_start", args=[token]))
    got = client.post(
        reverse("assessments:questionnaire_fill"), _patient_form("gad7", [0, 0, 0, 0, 0, 0, 0])
    )
    assert got.status_code == 200
    assert not AssessmentResponse.objects.exists()


def test_an_expired_link_is_the_no_longer_available_page(client, patient, front_desk):
    link, token = services.questionnaire_link_create(
        actor=front_desk, patient=patient, instrument_codes=["phq9"]
    )
    QuestionnaireLink.objects.filter(pk=link.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    got = client.get(reverse("assessments:questionnaire_start", args=[token]))
    assert got.status_code == 404
    assert "no longer available" in got.content.decode()


def test_a_link_that_expires_while_open_saves_nothing(client, patient, front_desk):
    link, token = services.questionnaire_link_create(
        actor=front_desk, patient=patient, instrument_codes=["phq9"]
    )
    assert client.get(reverse("assessments:questionnaire_start", args=[token])).status_code == 302
    QuestionnaireLink.objects.filter(pk=link.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    got = client.post(reverse("assessments:questionnaire_fill"), _patient_form("phq9", PHQ9_ITEM9))
    assert got.status_code == 404
    assert not AssessmentResponse.objects.exists()


def test_a_revoked_link_is_the_no_longer_available_page(client, patient, front_desk):
    link, token = services.questionnaire_link_create(
        actor=front_desk, patient=patient, instrument_codes=["phq9"]
    )
    QuestionnaireLink.objects.filter(pk=link.pk).update(revoked_at=timezone.now())
    got = client.get(reverse("assessments:questionnaire_start", args=[token]))
    assert got.status_code == 404


@pytest.mark.parametrize("code", ["madrs", "cadss", "moaas", "modified-aldrete"])
def test_a_clinician_rated_scale_cannot_go_on_a_link(client, patient, front_desk, code):
    client.force_login(front_desk)
    got = client.post(
        reverse("assessments:link_create", args=[patient.uuid]),
        {"instrument_codes": ["phq9", code], "timepoint": "unscheduled", "mode": "link"},
    )
    assert got.status_code == 200
    errors = got.context["form"].errors
    assert "instrument_codes" in errors
    assert 'id="id_instrument_codes_error"' in got.content.decode() or code in str(errors)
    assert not QuestionnaireLink.objects.exists()
    assert "/q/" not in got.content.decode()


def test_a_link_needs_at_least_one_questionnaire(client, patient, front_desk):
    client.force_login(front_desk)
    got = client.post(
        reverse("assessments:link_create", args=[patient.uuid]),
        {"timepoint": "unscheduled", "mode": "link"},
    )
    assert got.status_code == 200
    assert "instrument_codes" in got.context["form"].errors
    assert not QuestionnaireLink.objects.exists()


# --------------------------------------------------------------------------- kiosk


def test_kiosk_signs_the_nurse_out_and_hands_over_the_questionnaire(client, patient, nurse):
    client.force_login(nurse)
    got = client.post(
        reverse("assessments:link_create", args=[patient.uuid]),
        {"instrument_codes": ["phq9"], "timepoint": "pre_session", "mode": "kiosk"},
    )
    assert got.status_code == 302
    location = got.headers["Location"]
    link = QuestionnaireLink.objects.get()
    assert link.kiosk is True
    assert link.expires_at <= timezone.now() + datetime.timedelta(hours=1)
    assert re.fullmatch(r"(http://testserver)?/q/[^/]+/", location)
    assert services.link_token_digest(location.rstrip("/").rsplit("/", 1)[1]) == link.token_digest

    # Signed out: the chart is not one tap away.
    assert _status_word(client.get(reverse("patients:patient_list"))) == "login"
    assert _status_word(client.get(reverse("patients:patient_chart", args=[patient.uuid]))) == (
        "login"
    )

    start = client.get(_path(location))
    assert start.status_code == 302
    fill_url = reverse("assessments:questionnaire_fill")
    page = client.get(fill_url).content.decode()
    assert "PHQ-9" in page and patient.legal_family_name not in page
    assert client.post(fill_url, _patient_form("phq9", PHQ9_MODERATE)).status_code == 302
    done = client.get(fill_url).content.decode()
    assert "Thank you" in done
    assert "hand the tablet back" in done
    response = AssessmentResponse.objects.get()
    assert (response.source, response.total, response.recorded_by) == ("kiosk", 12, None)
    # Still signed out after the patient is done.
    assert _status_word(client.get(reverse("patients:patient_list"))) == "login"
