"""Who may open the portal's care pages (home, appointments, questionnaires, results,
progress): only the signed-in patient, and only for their own record.

Anonymous visitors are sent to sign in; staff of every role, and a patient principal with no
active patient record, are refused (403); another patient's appointment or result is "not
found" (404), exactly like one that does not exist, and a refused request writes nothing.
"""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from clinic.assessments import services as assessment_services
from clinic.assessments.models import AssessmentResponse, SuicidalityAlert
from clinic.patients.models import Patient
from clinic.portal.tests.test_care import (  # noqa: F401  (fixtures)
    MONDAY,
    at,
    book,
    chair,
    clock,
    give_portal_account,
    other_patient,
    other_user,
    patient_user,
    phq9_post,
)
from tests.helpers import ACTOR_ORDER, client_as, status_word

pytestmark = pytest.mark.django_db


@pytest.fixture
def own(patient, patient_user, prescriber, book):  # noqa: F811
    """The patient's own appointment and response, and the page URLs for them."""
    appointment = book(patient, at(MONDAY, 9))
    response = assessment_services.response_record(
        actor=prescriber, patient=patient, instrument_code="phq9", answers=[1] * 8 + [0]
    )
    return {
        "appointment": appointment,
        "response": response,
        "urls": [
            reverse("portal:home"),
            reverse("portal:appointments"),
            reverse("portal:appointment", args=[appointment.uuid]),
            reverse("portal:questionnaires"),
            reverse("portal:questionnaire", args=["phq9"]),
            reverse("portal:questionnaire_result", args=[response.uuid]),
            reverse("portal:progress"),
        ],
    }


# Every actor of the root `actors` fixture, in ACTOR_ORDER: anonymous signs in; the patient
# principal there has no patient record; staff have their own pages.
EXPECTED = ["login", 403, 403, 403, 403, 403, 403, 403, 403, 403, 403]


def test_every_care_page_refuses_everyone_but_the_patient(client, actors, own, patient_user):  # noqa: F811
    assert len(EXPECTED) == len(ACTOR_ORDER)
    for url in own["urls"]:
        seen = []
        for name in ACTOR_ORDER:
            client.logout()
            seen.append(status_word(client_as(client, actors[name]).get(url)))
        assert seen == EXPECTED, url
        client.logout()
        assert client_as(client, patient_user).get(url).status_code == 200, url


def test_a_refused_questionnaire_post_writes_nothing(client, actors, patient):
    url = reverse("portal:questionnaire", args=["phq9"])
    for name in ACTOR_ORDER:
        client.logout()
        response = client_as(client, actors[name]).post(url, phq9_post([3] * 9))
        assert status_word(response) == EXPECTED[ACTOR_ORDER.index(name)], name
    assert not AssessmentResponse.objects.exists()
    assert not SuicidalityAlert.objects.exists()


def test_another_patient_reaches_none_of_the_first_patients_records(
    client,
    own,
    other_user,  # noqa: F811
):
    client.force_login(other_user)
    for url in (
        reverse("portal:appointment", args=[own["appointment"].uuid]),
        reverse("portal:questionnaire_result", args=[own["response"].uuid]),
    ):
        assert client.get(url).status_code == 404, url
    # Their own pages show none of the first patient's appointment or score.
    for name in ("portal:home", "portal:appointments", "portal:progress"):
        html = client.get(reverse(name)).content.decode()
        assert str(own["appointment"].uuid) not in html
        assert "Monday, June 2, 2031" not in html
        assert "PHQ-9 score" not in html


def test_a_patient_whose_record_is_inactive_is_refused(client, own, patient, patient_user):  # noqa: F811
    Patient.objects.filter(pk=patient.pk).update(is_active=False)
    client.force_login(patient_user)
    for url in own["urls"]:
        assert client.get(url).status_code == 403, url


def test_a_deactivated_patient_account_cannot_use_the_portal(client, own, patient_user):  # noqa: F811
    client.force_login(patient_user)
    patient_user.is_active = False
    patient_user.save(update_fields=["is_active"])
    response = client.get(reverse("portal:home"))
    assert status_word(response) == "login"  # an inactive user is signed out


def test_the_patients_own_result_is_reachable_only_by_its_uuid_on_their_record(
    client,
    own,
    other_patient,  # noqa: F811
    other_user,  # noqa: F811
    prescriber,
):
    theirs = assessment_services.response_record(
        actor=prescriber,
        patient=other_patient,
        instrument_code="gad7",
        answers=[3] * 7,
        taken_at=at(MONDAY, 8) - datetime.timedelta(days=1),
    )
    client.force_login(other_user)
    assert client.get(reverse("portal:questionnaire_result", args=[theirs.uuid])).status_code == 200
    assert (
        client.get(reverse("portal:questionnaire_result", args=[own["response"].uuid])).status_code
        == 404
    )
