"""Measurement-based care pages: the permission matrix (anonymous, patient principal, each role
on and off the care team), denials that write nothing, and the flows a clinic runs through
them — staff entry, the patient link and the kiosk, suicidality alerts and their e-mail.

Expected values come from clinic/accounts/permissions.py and docs/permissions.md (roles and
the care-team reach), policy-defaults.md "Suicidality" (alert the primary clinician, prompt a
C-SSRS screen, show crisis resources) and api-calculators.md §1 (scores).
"""

from __future__ import annotations

import datetime
import re
import uuid

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from clinic.assessments import services
from clinic.assessments.instruments import get_instrument
from clinic.assessments.models import (
    AssessmentResponse,
    QuestionnaireLink,
    SuicidalityAlert,
)
from clinic.core.models import AuditEvent
from clinic.notifications.models import Notification
from clinic.patients import services as patient_services
from clinic.patients.tests.factories import register
from tests.helpers import ACTOR_ORDER
from tests.helpers import chart_html as _chart
from tests.helpers import client_as as _client
from tests.helpers import path_of as _path
from tests.helpers import status_word as _status_word
from tests.helpers import without_csrf as _without_csrf

pytestmark = pytest.mark.django_db

N = None
PHQ9_MODERATE = [2, 2, 2, 2, 1, 1, 2, 0, 0]  # total 12, moderate (US Core example)
PHQ9_ITEM9 = [2, 2, 2, 2, 1, 1, 2, 0, 1]  # total 13, moderate, item 9 positive
# C-SSRS: Q1 yes, Q2 yes, Q3 no, Q4 yes (intent) → high risk; Q6 no, so Q6-recent is skipped.
CSSRS_HIGH = [1, 1, 0, 1, 0, 0, N]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def phq9_response(patient, nurse):
    """A positive PHQ-9 (item 9 = 1) entered by the nurse: one open ideation alert."""
    return services.response_record(
        actor=nurse, patient=patient, instrument_code="phq9", answers=PHQ9_ITEM9
    )


@pytest.fixture
def high_risk_alert(patient, nurse, prescriber):
    """A C-SSRS with intent (Q4 yes) and the high-risk alert it raises, assigned to the
    primary prescriber. Built row by row rather than through `services.response_record`, so
    that the permission matrix does not hinge on storing a C-SSRS; the flows below store
    C-SSRS answers through the pages and the service."""
    instrument = get_instrument("cssrs-screen")
    result = instrument.score(CSSRS_HIGH)
    response = AssessmentResponse.objects.create(
        patient=patient,
        instrument_code=instrument.code,
        instrument_version="C-SSRS screen",
        answers=CSSRS_HIGH,
        complete=result.complete,
        total=result.total,
        severity=result.severity,
        flags=list(result.flags),
        source="staff",
        recorded_by=nurse,
    )
    return SuicidalityAlert.objects.create(
        patient=patient,
        response=response,
        kind="high_suicide_risk",
        trigger="C-SSRS screen: high risk",
        assigned_to=prescriber,
    )


# --------------------------------------------------------------------------- helpers


def _taken_at(minutes_ago: int = 5) -> str:
    moment = timezone.localtime() - datetime.timedelta(minutes=minutes_ago)
    return moment.strftime("%Y-%m-%dT%H:%M")


def _items(answers) -> dict[str, str]:
    """Form data for an instrument's radio groups; None is left out (a blank item)."""
    return {f"item_{n}": str(a) for n, a in enumerate(answers, start=1) if a is not None}


def _staff_form(answers, timepoint="unscheduled") -> dict[str, str]:
    return {**_items(answers), "timepoint": timepoint, "taken_at": _taken_at()}


def _patient_form(code, answers) -> dict[str, str]:
    return {**_items(answers), "instrument": code}


def _state():
    """Every row an assessments page may write (the audit trail aside)."""
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (AssessmentResponse, SuicidalityAlert, QuestionnaireLink, Notification)
    }


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


# --------------------------------------------------------------------------- alerts


def test_the_primary_prescriber_home_page_lists_the_alert(
    client, patient, prescriber, nurse, phq9_response
):
    alert = SuicidalityAlert.objects.get()
    assert alert.assigned_to == prescriber
    url = reverse("assessments:alert_detail", args=[alert.uuid])
    client.force_login(prescriber)
    home = client.get(reverse("dashboard:home")).content.decode()
    assert url in home
    assert "Suicidal ideation reported" in home
    # The nurse is told on the chart, not in her inbox: the alert goes to the prescriber.
    client.force_login(nurse)
    assert url not in client.get(reverse("dashboard:home")).content.decode()


def test_acknowledging_needs_a_note(client, patient, nurse, phq9_response):
    alert = SuicidalityAlert.objects.get()
    client.force_login(nurse)
    before = _state()
    updates = AuditEvent.objects.filter(action="update").count()
    got = client.post(
        reverse("assessments:alert_detail", args=[alert.uuid]),
        {"action": "acknowledge", "note": "   "},
    )
    assert got.status_code == 200
    assert got.context["form"].errors
    assert "note" in got.context["form"].errors or got.context["form"].non_field_errors()
    assert _state() == before
    assert AuditEvent.objects.filter(action="update").count() == updates


def test_acknowledging_an_ideation_alert_with_a_note_resolves_it(
    client, patient, nurse, phq9_response
):
    alert = SuicidalityAlert.objects.get()
    client.force_login(nurse)
    got = client.post(
        reverse("assessments:alert_detail", args=[alert.uuid]),
        {"action": "acknowledge", "note": "Phoned; safety plan in place."},
    )
    assert got.status_code == 302
    assert got.headers["Location"] == reverse("patients:patient_chart", args=[patient.uuid])
    alert.refresh_from_db()
    assert alert.status == "resolved"
    assert (alert.acknowledged_by, alert.acknowledgement_note) == (
        nurse,
        "Phoned; safety plan in place.",
    )
    event = AuditEvent.objects.get(
        action="update", object_type="suicidality_alert", object_id=str(alert.uuid)
    )
    assert (event.actor, event.patient) == (nurse, patient)
    assert "Suicidality alert" not in _chart(client, patient)


def test_a_high_risk_stays_on_the_chart_until_the_prescriber_resolves_it(
    client, patient, nurse, prescriber
):
    client.force_login(nurse)
    entered = client.post(
        reverse("assessments:response_create", args=[patient.uuid, "cssrs-screen"]),
        _staff_form(CSSRS_HIGH),
    )
    assert entered.status_code == 302
    response = AssessmentResponse.objects.get()
    assert response.severity == "high" and "immediate_safety_evaluation" in response.flags
    # One alert, at the highest level the answers show; the ideation answers are in its words.
    high = SuicidalityAlert.objects.get()
    assert high.kind == "high_suicide_risk"
    assert "C-SSRS Q1 answered yes" in high.trigger
    assert "HIGH SUICIDE RISK" in _chart(client, patient)

    acknowledged = client.post(
        reverse("assessments:alert_detail", args=[high.uuid]),
        {"action": "acknowledge", "note": "Stayed with the patient; prescriber paged."},
    )
    assert acknowledged.status_code == 302
    high.refresh_from_db()
    assert high.status == "acknowledged"
    assert "HIGH SUICIDE RISK" in _chart(client, patient)
    # A second acknowledgement is refused and changes nothing.
    before = _state()
    again = client.post(
        reverse("assessments:alert_detail", args=[high.uuid]),
        {"action": "acknowledge", "note": "Again"},
    )
    assert again.status_code != 302
    assert _state() == before

    client.force_login(prescriber)
    detail = client.get(reverse("assessments:alert_detail", args=[high.uuid]))
    assert detail.context["can_resolve"] is True
    resolved = client.post(
        reverse("assessments:alert_detail", args=[high.uuid]),
        {"action": "resolve", "note": "Safety evaluation done; outpatient plan agreed."},
    )
    assert resolved.status_code == 302
    high.refresh_from_db()
    assert (high.status, high.resolved_by) == ("resolved", prescriber)
    chart = _chart(client, patient)
    assert "HIGH SUICIDE RISK" not in chart
    assert "Suicidality alert" not in chart


def test_resolve_is_for_high_risk_alerts_only(client, patient, prescriber, phq9_response):
    """views.alert_detail offers "Resolve" only on a high C-SSRS risk; an ideation alert is
    acknowledged. A forged resolve on an ideation alert must not be recorded as a resolved
    high suicide risk."""
    alert = SuicidalityAlert.objects.get()
    client.force_login(prescriber)
    assert (
        client.get(reverse("assessments:alert_detail", args=[alert.uuid])).context["can_resolve"]
        is False
    )
    client.post(
        reverse("assessments:alert_detail", args=[alert.uuid]),
        {"action": "resolve", "note": "Resolving"},
    )
    assert not AuditEvent.objects.filter(
        object_type="suicidality_alert", summary="High suicide risk resolved"
    ).exists()


# --------------------------------------------------------------------------- e-mail


@pytest.fixture
def mailed_prescriber(make_staff, patient, front_desk, nurse, therapist):
    doctor = make_staff(
        "prescriber",
        username="dr_mail",
        email="dr.mail@clinic.example",
        first_name="Ada",
        last_name="Moreau",
        credentials="MD",
    )
    patient_services.care_team_set(
        actor=front_desk,
        patient=patient,
        primary_prescriber=doctor,
        nurses=[nurse],
        therapists=[therapist],
    )
    return doctor


def test_a_positive_phq9_emails_the_primary_prescriber_without_phi(
    client, patient, nurse, clinic_admin, mailed_prescriber, django_capture_on_commit_callbacks
):
    client.force_login(nurse)
    with django_capture_on_commit_callbacks(execute=True):
        got = client.post(
            reverse("assessments:response_create", args=[patient.uuid, "phq9"]),
            _staff_form(PHQ9_ITEM9),
        )
    assert got.status_code == 302
    alert = SuicidalityAlert.objects.get()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["dr.mail@clinic.example"]
    text = f"{message.subject}\n{message.body}"
    for phi in (
        patient.legal_given_name,
        patient.legal_family_name,
        patient.mrn,
        patient.phone_mobile,
        patient.date_of_birth.strftime("%m/%d/%Y"),
        patient.date_of_birth.isoformat(),
    ):
        assert phi not in text, phi
    assert reverse("assessments:alert_detail", args=[alert.uuid]) in message.body

    notification = Notification.objects.get()
    assert (notification.recipient, notification.alert_link.alert, notification.status) == (
        mailed_prescriber,
        alert,
        "sent",
    )
    assert notification.attempts == 1 and notification.sent_at is not None

    client.force_login(clinic_admin)
    outbox = client.get(reverse("assessments:outbox")).content.decode()
    assert "Sent" in outbox
    assert escape(notification.subject) in outbox
    assert mailed_prescriber.display_name in outbox


def test_no_email_without_a_positive_answer(
    client, patient, nurse, mailed_prescriber, django_capture_on_commit_callbacks
):
    client.force_login(nurse)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("assessments:response_create", args=[patient.uuid, "phq9"]),
            _staff_form(PHQ9_MODERATE),
        )
    assert AssessmentResponse.objects.count() == 1
    assert mail.outbox == [] and not Notification.objects.exists()


def test_a_prescriber_without_an_email_shows_as_failed_on_the_outbox(
    client, patient, nurse, clinic_admin, django_capture_on_commit_callbacks
):
    client.force_login(nurse)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("assessments:response_create", args=[patient.uuid, "phq9"]),
            _staff_form(PHQ9_ITEM9),
        )
    notification = Notification.objects.get()
    assert notification.status == "failed"
    assert "no e-mail address" in notification.last_error
    assert mail.outbox == []
    client.force_login(clinic_admin)
    outbox = client.get(reverse("assessments:outbox")).content.decode()
    assert "Failed; will retry" in outbox
