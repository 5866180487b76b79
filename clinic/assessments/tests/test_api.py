"""GET/POST /api/v1/patients/{uuid}/assessments (clinic/assessments/api.py), end to end.

Expected values: the permission matrix (clinic/accounts/permissions.py, docs/permissions.md:
assessment.record for care-team clinicians, clinical view for the admin and the care team,
404 off the care team), the error envelope of clinic/api/errors.py, and the scores of
calculators.md §1 (the server scores; a client-sent total is ignored; answers are
refused, not coerced, when they are not whole numbers in range).
"""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinic.accounts.models import User
from clinic.assessments import services
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

pytestmark = pytest.mark.django_db

JSON = "application/json"
N = None
PHQ9_MODERATE = [2, 2, 2, 2, 1, 1, 2, 0, 0]  # total 12, moderate (US Core example)
PHQ9_ITEM9 = [2, 2, 2, 2, 1, 1, 2, 0, 1]  # total 13, moderate, item 9 positive


# --------------------------------------------------------------------------- fixtures


# --------------------------------------------------------------------------- helpers


def url(patient_uuid) -> str:
    return f"/api/v1/patients/{patient_uuid}/assessments"


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def post(client: Client, patient_uuid, body):
    return client.post(url(patient_uuid), body, content_type=JSON)


def db_state() -> dict[str, list[dict]]:
    """Every row the assessments endpoints may write (the audit trail aside)."""
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (AssessmentResponse, SuicidalityAlert, QuestionnaireLink, Notification)
    }


def error_locs(response) -> list[list]:
    detail = response.json()["detail"]
    assert isinstance(detail, list), detail
    return [item["loc"] for item in detail]


def record(actor, patient, answers, code="phq9", minutes_ago=0):
    return services.response_record(
        actor=actor,
        patient=patient,
        instrument_code=code,
        answers=answers,
        taken_at=timezone.now() - datetime.timedelta(minutes=minutes_ago),
    )


# --------------------------------------------------------------------------- permission matrix

ERROR_CODES = {401: "unauthenticated", 403: "permission_denied", 404: "not_found"}
# fmt: off
EXPECTED = {
    #         anon portal admin presc nurse ther desk bill off-team ×3
    "get":  [401, 401, 200, 200, 200, 200, 403, 403, 404, 404, 404],
    "post": [401, 401, 403, 201, 201, 201, 403, 403, 404, 404, 404],
}
# fmt: on
MATRIX_CASES = [
    pytest.param(method, who, status, id=f"{method}-{who}-{status}")
    for method, row in EXPECTED.items()
    for who, status in zip(ACTOR_ORDER, row, strict=True)
]


@pytest.mark.parametrize(("method", "who", "expected"), MATRIX_CASES)
def test_permission_matrix(patient, actors, nurse, method, who, expected):
    record(nurse, patient, PHQ9_ITEM9, minutes_ago=30)
    before = db_state()
    client = client_for(actors[who])

    if method == "get":
        response = client.get(url(patient.uuid))
    else:
        response = post(client, patient.uuid, {"instrument": "phq9", "answers": PHQ9_ITEM9})

    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response.json()["code"] == ERROR_CODES[expected]
        assert db_state() == before, "a refused request must not write anything"
    elif method == "get":
        assert db_state() == before
        assert [r["total"] for r in response.json()] == [13]
    else:
        created = AssessmentResponse.objects.get(uuid=response.json()["uuid"])
        assert (created.recorded_by, created.patient, created.source) == (
            actors[who],
            patient,
            "staff",
        )


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("who", ["prescriber_off_team", "nurse_off_team", "therapist_off_team"])
def test_off_team_looks_like_no_such_patient(patient, actors, method, who):
    client = client_for(actors[who])
    body = {"instrument": "phq9", "answers": PHQ9_MODERATE}
    if method == "get":
        hidden, missing = client.get(url(patient.uuid)), client.get(url(uuid.uuid4()))
    else:
        hidden, missing = post(client, patient.uuid, body), post(client, uuid.uuid4(), body)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


@pytest.mark.parametrize("who", ["front_desk", "billing"])
def test_refused_clinical_read_is_audited_as_denied(patient, actors, who):
    response = client_for(actors[who]).get(url(patient.uuid))
    assert response.status_code == 403
    assert AuditEvent.objects.filter(actor=actors[who], action="denied").exists()


def test_anonymous_request_writes_no_audit_event(patient):
    before = AuditEvent.objects.count()
    assert Client().get(url(patient.uuid)).status_code == 401
    assert AuditEvent.objects.count() == before


# --------------------------------------------------------------------------- POST


def test_post_refuses_a_client_total(patient, nurse):
    """The server scores: a total, severity or flags sent by the client are unknown fields."""
    response = post(
        client_for(nurse),
        patient.uuid,
        {
            "instrument": "phq9",
            "answers": PHQ9_MODERATE,
            "timepoint": "baseline",
            "total": 27,
            "severity": "severe",
        },
    )
    assert response.status_code == 422, response.content
    assert {tuple(item["loc"][-1:]) for item in response.json()["detail"]} == {
        ("total",),
        ("severity",),
    }
    assert not AssessmentResponse.objects.exists()


def test_post_returns_the_server_score(patient, nurse):
    response = post(
        client_for(nurse),
        patient.uuid,
        {"instrument": "phq9", "answers": PHQ9_MODERATE, "timepoint": "baseline"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["total"], body["severity"], body["complete"]) == (12, "moderate", True)
    assert body["flags"] == [] and body["alerts"] == []
    assert body["answers"] == PHQ9_MODERATE
    assert (body["instrument"], body["timepoint"], body["source"]) == ("phq9", "baseline", "staff")
    assert body["entered_in_error"] is False
    assert body["instrument_version"].startswith("PHQ-9")
    stored = AssessmentResponse.objects.get()
    assert str(stored.uuid) == body["uuid"]
    assert (stored.total, stored.severity, stored.complete) == (12, "moderate", True)
    assert not SuicidalityAlert.objects.exists()


def test_post_with_item_9_lists_an_open_ideation_alert(patient, nurse, prescriber):
    response = post(client_for(nurse), patient.uuid, {"instrument": "phq9", "answers": PHQ9_ITEM9})
    assert response.status_code == 201
    body = response.json()
    assert body["flags"] == ["suicidal_ideation"]
    (alert,) = body["alerts"]
    assert (alert["kind"], alert["status"]) == ("suicidal_ideation", "open")
    assert "item 9" in alert["trigger"]
    stored = SuicidalityAlert.objects.get()
    assert str(stored.uuid) == alert["uuid"]
    assert stored.assigned_to == prescriber
    assert Notification.objects.get().recipient == prescriber


def test_incomplete_post_is_stored_unscored_but_still_flags(patient, nurse):
    response = post(
        client_for(nurse),
        patient.uuid,
        {"instrument": "phq9", "answers": [N, 0, 0, 0, 0, 0, 0, 0, 2]},
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["complete"], body["total"], body["severity"]) == (False, None, None)
    assert [a["kind"] for a in body["alerts"]] == ["suicidal_ideation"]


def test_optional_difficulty_item_is_accepted_and_never_summed(patient, nurse):
    response = post(
        client_for(nurse), patient.uuid, {"instrument": "phq9", "answers": [*PHQ9_MODERATE, 3]}
    )
    assert response.status_code == 201
    assert response.json()["total"] == 12


def test_cssrs_high_risk_raises_one_high_risk_alert_naming_every_yes(patient, nurse):
    """One alert per response, at the highest level its answers show (ADR 0004): the ideation
    answers (Q1, Q2) are in its words, not in a second alert."""
    response = post(
        client_for(nurse),
        patient.uuid,
        {"instrument": "cssrs-screen", "answers": [1, 1, 0, 1, 0, 0, N]},
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["total"], body["severity"]) == (None, "high")
    (alert,) = body["alerts"]
    assert (alert["kind"], alert["status"], alert["follow_up"]) == (
        "high_suicide_risk",
        "open",
        False,
    )
    assert alert["trigger"] == (
        "C-SSRS screen: high risk; C-SSRS Q1 answered yes; C-SSRS Q2 answered yes; "
        "C-SSRS Q4 answered yes"
    )


BAD_ANSWERS = {
    "too_few": [0, 0, 0, 0, 0, 0, 0, 0],
    "too_many": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    "empty": [],
    "value_4": [0, 0, 0, 4, 0, 0, 0, 0, 0],
    "negative": [0, 0, 0, -1, 0, 0, 0, 0, 0],
    "word": [0, 0, 0, "two", 0, 0, 0, 0, 0],
    # calculators.md: a value must be a whole number in range; the score endpoint refuses
    # "2", 2.0 and true rather than coercing them, and recording must not be laxer.
    "numeric_string": [0, 0, 0, "2", 0, 0, 0, 0, 0],
    "float": [0, 0, 0, 2.0, 0, 0, 0, 0, 0],
    "bool": [0, 0, 0, True, 0, 0, 0, 0, 0],
    "not_a_list": "0,0,0,0,0,0,0,0,0",
}


@pytest.mark.parametrize("case", list(BAD_ANSWERS))
def test_bad_answers_are_422_naming_answers_and_write_nothing(patient, nurse, case):
    before = db_state()
    response = post(
        client_for(nurse), patient.uuid, {"instrument": "phq9", "answers": BAD_ANSWERS[case]}
    )
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "invalid_input"
    assert any("answers" in [str(part) for part in loc] for loc in error_locs(response))
    assert db_state() == before


def test_missing_answers_is_422(patient, nurse):
    response = post(client_for(nurse), patient.uuid, {"instrument": "phq9"})
    assert response.status_code == 422
    assert any("answers" in [str(part) for part in loc] for loc in error_locs(response))


def test_unknown_instrument_is_422_naming_instrument(patient, nurse):
    before = db_state()
    response = post(client_for(nurse), patient.uuid, {"instrument": "bdi-ii", "answers": [0] * 9})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"
    assert ["body", "instrument"] in error_locs(response)
    assert db_state() == before


def test_unknown_timepoint_is_422(patient, nurse):
    response = post(
        client_for(nurse),
        patient.uuid,
        {"instrument": "phq9", "answers": PHQ9_MODERATE, "timepoint": "whenever"},
    )
    assert response.status_code == 422
    assert ["body", "timepoint"] in error_locs(response)
    assert not AssessmentResponse.objects.exists()


def test_a_future_date_is_422(patient, nurse):
    future = (timezone.now() + datetime.timedelta(days=1)).isoformat()
    response = post(
        client_for(nurse),
        patient.uuid,
        {"instrument": "phq9", "answers": PHQ9_MODERATE, "taken_at": future},
    )
    assert response.status_code == 422
    assert ["body", "taken_at"] in error_locs(response)
    assert not AssessmentResponse.objects.exists()


def test_post_is_audited(patient, nurse):
    response = post(client_for(nurse), patient.uuid, {"instrument": "phq9", "answers": PHQ9_ITEM9})
    event = AuditEvent.objects.get(
        action="create", object_type="assessment_response", object_id=response.json()["uuid"]
    )
    assert (event.actor, event.patient) == (nurse, patient)


# --------------------------------------------------------------------------- GET


def test_get_lists_newest_first_with_entered_in_error_flags(patient, nurse, therapist):
    oldest = record(nurse, patient, [0, 0, 0, 0, 0, 0, 0, 0, 0], minutes_ago=300)
    middle = record(therapist, patient, PHQ9_ITEM9, minutes_ago=200)
    newest = record(nurse, patient, [1, 1, 1, 1, 1, 1, 1, 1, 0], code="phq9", minutes_ago=100)
    services.response_mark_entered_in_error(actor=nurse, response=middle, reason="Wrong patient")

    response = client_for(nurse).get(url(patient.uuid))
    assert response.status_code == 200
    body = response.json()
    assert [r["uuid"] for r in body] == [str(newest.uuid), str(middle.uuid), str(oldest.uuid)]
    assert [r["entered_in_error"] for r in body] == [False, True, False]
    assert [r["total"] for r in body] == [8, 13, 0]
    # An entry made in error keeps the alert it raised.
    assert [len(r["alerts"]) for r in body] == [0, 1, 0]
    assert body[1]["alerts"][0]["kind"] == "suicidal_ideation"


def test_get_for_a_patient_with_no_assessments_is_an_empty_list(patient, clinic_admin):
    response = client_for(clinic_admin).get(url(patient.uuid))
    assert response.status_code == 200
    assert response.json() == []


def test_get_is_audited_as_a_list(patient, prescriber):
    client_for(prescriber).get(url(patient.uuid))
    assert AuditEvent.objects.filter(
        actor=prescriber, action="list", object_type="assessment_response", patient=patient
    ).exists()


def test_get_shows_only_this_patients_responses(patient, nurse, front_desk):
    other = register(front_desk, legal_family_name="Okafor")
    patient_services.care_team_set(
        actor=front_desk, patient=other, primary_prescriber=None, nurses=[nurse]
    )
    record(nurse, other, PHQ9_ITEM9)
    mine = record(nurse, patient, PHQ9_MODERATE)
    body = client_for(nurse).get(url(patient.uuid)).json()
    assert [r["uuid"] for r in body] == [str(mine.uuid)]


def _count_queries(client, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured)


def test_get_query_count_stays_flat_as_history_grows(patient, nurse):
    client = client_for(nurse)

    def add(n, offset):
        for i in range(n):
            # Every other one raises an alert, so the alerts are part of what grows.
            answers = PHQ9_ITEM9 if i % 2 else PHQ9_MODERATE
            record(nurse, patient, answers, minutes_ago=offset + i)

    add(2, offset=1000)
    small = _count_queries(client, url(patient.uuid))
    add(10, offset=0)
    assert len(client.get(url(patient.uuid)).json()) == 12
    assert _count_queries(client, url(patient.uuid)) == small


def test_malformed_patient_uuid_is_not_a_server_error(nurse):
    response = client_for(nurse).get("/api/v1/patients/not-a-uuid/assessments")
    assert 400 <= response.status_code < 500
