"""A blank questionnaire (no item answered) is refused on every path that stores a response:
staff entry, the patient link, the kiosk, the portal and the API (the session scores are in
clinic/treatment_sessions/tests/test_scores_blank.py). A partly answered form is still stored,
unscored, with its flags (calculators.md §1: "flags are still computed from the answered
items"). For the C-SSRS, questions skipped by design are null (calculators.md §1
`cssrs-screen`), so "blank" is nothing answered at all.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from clinic.assessments import services
from clinic.assessments.instruments import ALL_CODES, get_instrument
from clinic.assessments.models import AssessmentResponse, QuestionnaireLink, SuicidalityAlert
from clinic.core.exceptions import InvalidInput
from clinic.core.models import AuditEvent
from clinic.patients.models import Patient

pytestmark = pytest.mark.django_db

N = None
MESSAGE = "No question was answered, so nothing was saved. Answer at least one question."


def _written():
    return (
        AssessmentResponse.objects.count(),
        SuicidalityAlert.objects.count(),
        AuditEvent.objects.filter(object_type="assessment_response", action="create").count(),
    )


def _form_html(response) -> str:
    """The questionnaire form of a page (where the refusal must be), not the page's banner."""
    html = response.content.decode()
    match = re.search(
        r'<form method="post" novalidate class="instrument-form">.*?</form>', html, re.S
    )
    assert match, html
    return match.group(0)


@pytest.mark.parametrize("code", ALL_CODES)
def test_every_instrument_refuses_a_blank_form_and_writes_nothing(patient, nurse, code):
    blank = [N] * len(get_instrument(code).items)
    before = _written()
    with pytest.raises(InvalidInput) as refused:
        services.response_record(actor=nurse, patient=patient, instrument_code=code, answers=blank)
    assert refused.value.errors == {"answers": [MESSAGE]}
    assert _written() == before


def test_a_blank_phq9_without_its_optional_item_is_refused_too(patient, nurse):
    with pytest.raises(InvalidInput):
        services.response_record(
            actor=nurse, patient=patient, instrument_code="phq9", answers=[N] * 9
        )


def test_one_answer_is_enough_and_a_suicidality_answer_still_alerts(patient, nurse):
    response = services.response_record(
        actor=nurse, patient=patient, instrument_code="phq9", answers=[N] * 8 + [1]
    )
    assert (response.complete, response.total, response.flags) == (
        False,
        None,
        ["suicidal_ideation"],
    )
    assert SuicidalityAlert.objects.get().response == response


def test_a_cssrs_with_its_skipped_questions_null_is_not_blank(patient, nurse):
    # Q1, Q2 and Q6 "no": Q3–Q5 and Q6-recent are skipped by design; risk "none" [G13].
    response = services.response_record(
        actor=nurse,
        patient=patient,
        instrument_code="cssrs-screen",
        answers=[0, 0, N, N, N, 0, N],
    )
    assert (response.complete, response.severity) == (True, "none")


def test_the_staff_page_refuses_a_blank_form_at_the_form(client, patient, nurse):
    client.force_login(nurse)
    before = _written()
    got = client.post(
        reverse("assessments:response_create", args=[patient.uuid, "phq9"]),
        {"timepoint": "unscheduled", "taken_at": "2020-01-01T09:00"},
    )
    assert got.status_code == 200
    form = _form_html(got)
    assert re.search(r'<div class="form-error" role="alert"><p>' + re.escape(MESSAGE), form)
    assert 'class="messages"' not in got.content.decode()
    assert _written() == before


def test_the_staff_cssrs_page_refuses_a_blank_form(client, patient, nurse):
    client.force_login(nurse)
    got = client.post(
        reverse("assessments:response_create", args=[patient.uuid, "cssrs-screen"]),
        {"timepoint": "unscheduled", "taken_at": "2020-01-01T09:00"},
    )
    assert got.status_code == 200
    assert MESSAGE in _form_html(got)
    assert not AssessmentResponse.objects.exists()


@pytest.mark.parametrize("kiosk", [False, True], ids=["link", "kiosk"])
def test_a_link_or_the_kiosk_refuses_a_blank_form_and_keeps_the_questionnaire(
    patient, front_desk, kiosk
):
    link, token = services.questionnaire_link_create(
        actor=front_desk, patient=patient, instrument_codes=["phq9", "gad7"], kiosk=kiosk
    )
    device = Client()
    device.get(reverse("assessments:questionnaire_start", args=[token]))
    fill = reverse("assessments:questionnaire_fill")
    before = _written()
    got = device.post(fill, {"instrument": "phq9"})
    assert got.status_code == 200
    assert MESSAGE in _form_html(got)
    assert _written() == before
    link.refresh_from_db()
    assert link.used_at is None and services.link_remaining_codes(link) == ["phq9", "gad7"]
    # The same questionnaire is still there to answer.
    assert "PHQ-9" in device.get(fill).content.decode()


def test_the_portal_refuses_a_blank_form(client, patient):
    from clinic.accounts.models import User

    user = User.objects.create_user(username="jordan", password="x" * 12, role="patient")
    Patient.objects.filter(pk=patient.pk).update(user=user)
    client.force_login(user)
    before = _written()
    got = client.post(reverse("portal:questionnaire", args=["gad7"]), {})
    assert got.status_code == 200
    assert MESSAGE in _form_html(got)
    assert _written() == before


def test_the_api_refuses_a_blank_form_with_422_in_the_envelope(patient, nurse):
    client = Client()
    client.force_login(nurse)
    before = _written()
    got = client.post(
        f"/api/v1/patients/{patient.uuid}/assessments",
        {"instrument": "phq9", "answers": [N] * 9},
        content_type="application/json",
    )
    assert got.status_code == 422
    assert got.json() == {
        "detail": [{"loc": ["body", "answers"], "msg": MESSAGE, "type": "invalid_input"}],
        "code": "invalid_input",
    }
    assert _written() == before


def test_a_link_never_used_stays_usable_after_a_blank_try(patient, front_desk):
    link, token = services.questionnaire_link_create(
        actor=front_desk, patient=patient, instrument_codes=["gad7"]
    )
    with pytest.raises(InvalidInput):
        services.link_response_record(
            token_digest=services.link_token_digest(token), instrument_code="gad7", answers=[N] * 7
        )
    assert QuestionnaireLink.objects.get(pk=link.pk).usable
