"""POST /api/v1/outcomes/classify, end to end through the Django test client.

The contract is docs/clinical/calculators.md §2; response and remission follow
policy-defaults.md "Measurement-based care" (response ≥ 50 % reduction [H1], [H4]; remission
PHQ-9 < 5 [H4], GAD-7 < 5, QIDS-SR16 ≤ 5 [G17], MADRS ≤ 10, PCL-5 none). Errors use the
envelope of clinic/api/errors.py: {"detail": [{"loc": ["body", field], ...}], "code": ...}.
"""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings

from clinic.accounts.models import User
from clinic.accounts.services import api_token_create
from clinic.core.models import AuditEvent
from clinic.outcomes import metrics
from clinic.outcomes.api import OutcomeInstrument
from clinic.outcomes.metrics import DEFAULT_POLICY, RemissionThreshold
from clinic.outcomes.policy import outcome_policy

pytestmark = pytest.mark.django_db

URL = "/api/v1/outcomes/classify"
JSON = "application/json"


def post(client: Client, body, **extra):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(URL, data, content_type=JSON, **extra)


@pytest.fixture
def staff_client(nurse) -> Client:
    client = Client()
    client.force_login(nurse)
    return client


def error_locs(response) -> list[list[str]]:
    body = response.json()
    assert body["code"] == "invalid_input", body
    assert isinstance(body["detail"], list), body
    for item in body["detail"]:
        assert set(item) >= {"loc", "msg", "type"}, item
        assert item["msg"]
    return [item["loc"] for item in body["detail"]]


def test_the_contract_example(staff_client):
    response = post(staff_client, {"instrument": "phq9", "baseline": 20, "current": 9})
    assert response.status_code == 200
    assert response.json() == {
        "change": -11,
        "percent_change": -55.0,
        "response": True,
        "remission": False,
    }


@pytest.mark.parametrize(
    ("instrument", "baseline", "current", "expected"),
    [
        # Exactly 50 % is a response.
        ("phq9", 20, 10, {"change": -10, "percent_change": -50.0, "response": True}),
        # 13/27 = 48.1 %: not a response.
        ("phq9", 27, 14, {"change": -13, "percent_change": -48.1, "response": False}),
        ("phq9", 20, 4, {"change": -16, "percent_change": -80.0, "remission": True}),
        ("phq9", 20, 5, {"change": -15, "percent_change": -75.0, "remission": False}),
        ("gad7", 15, 4, {"change": -11, "percent_change": -73.3, "remission": True}),
        ("gad7", 15, 5, {"change": -10, "percent_change": -66.7, "remission": False}),
        ("qids-sr16", 20, 5, {"change": -15, "percent_change": -75.0, "remission": True}),
        ("qids-sr16", 20, 6, {"change": -14, "percent_change": -70.0, "remission": False}),
        ("madrs", 30, 10, {"change": -20, "percent_change": -66.7, "remission": True}),
        ("madrs", 30, 11, {"change": -19, "percent_change": -63.3, "remission": False}),
        # PCL-5: response only, remission null.
        ("pcl5", 60, 20, {"change": -40, "percent_change": -66.7, "response": True}),
        ("pcl5", 60, 20, {"remission": None}),
        # A rise: positive change, no response. 1/16 = 6.25 % → 6.3 (half away from zero).
        ("phq9", 10, 15, {"change": 5, "percent_change": 50.0, "response": False}),
        ("phq9", 16, 17, {"change": 1, "percent_change": 6.3, "response": False}),
        ("phq9", 16, 15, {"change": -1, "percent_change": -6.3}),
    ],
)
def test_classify(staff_client, instrument, baseline, current, expected):
    response = post(
        staff_client, {"instrument": instrument, "baseline": baseline, "current": current}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"change", "percent_change", "response", "remission"}
    assert {key: body[key] for key in expected} == expected


def test_the_clinic_policy_applies(staff_client):
    body = {"instrument": "madrs", "baseline": 30, "current": 12}
    assert post(staff_client, body).json()["remission"] is False  # default MADRS ≤ 10
    # Esketamine trials used MADRS ≤ 12 [H1], [A11].
    with override_settings(CLINIC_POLICY={"outcomes": {"madrs_remission": ["<=", 12]}}):
        assert post(staff_client, body).json()["remission"] is True


def test_a_clinic_may_drop_a_remission_threshold(staff_client):
    # GAD-7 < 5 is marked UNCONFIRMED in clinical-reference.md §8.1; a clinic may turn it off.
    body = {"instrument": "gad7", "baseline": 15, "current": 4}
    with override_settings(CLINIC_POLICY={"outcomes": {"gad7_remission": None}}):
        assert post(staff_client, body).json()["remission"] is None


def test_outcome_policy_reads_the_overrides():
    assert outcome_policy() == DEFAULT_POLICY
    with override_settings(CLINIC_POLICY={}):
        assert outcome_policy() == DEFAULT_POLICY
    overrides = {"madrs_remission": ("<=", 12), "response_reduction_percent": 50}
    with override_settings(CLINIC_POLICY={"outcomes": overrides}):
        policy = outcome_policy()
    assert policy.madrs_remission == RemissionThreshold("<=", 12)
    assert policy.phq9_remission == DEFAULT_POLICY.phq9_remission


@pytest.mark.parametrize(
    "outcomes",
    [
        {"madrs_remision": ["<=", 12]},  # misspelt: never silently ignored
        {"madrs_remission": ["=", 12]},
        {"madrs_remission": 12},
        {"response_reduction_percent": "half"},
        {"response_reduction_percent": 0},
        {"rapid_response_window_start_hours": 30},
    ],
)
def test_a_bad_policy_is_a_configuration_error(outcomes):
    with (
        override_settings(CLINIC_POLICY={"outcomes": outcomes}),
        pytest.raises(ImproperlyConfigured),
    ):
        outcome_policy()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        # A baseline of 0 leaves the percentage change undefined.
        ({"instrument": "phq9", "baseline": 0, "current": 0}, "baseline"),
        ({"instrument": "phq9", "baseline": 0, "current": 5}, "baseline"),
        # Unknown instrument: an enum in the body, so 422 (not 404) naming it.
        ({"instrument": "hamd17", "baseline": 20, "current": 9}, "instrument"),
        ({"instrument": "PHQ9", "baseline": 20, "current": 9}, "instrument"),
        ({"instrument": None, "baseline": 20, "current": 9}, "instrument"),
        ({"instrument": 9, "baseline": 20, "current": 9}, "instrument"),
        ({"baseline": 20, "current": 9}, "instrument"),
        # Negative, non-integer, missing.
        ({"instrument": "phq9", "baseline": -1, "current": 9}, "baseline"),
        ({"instrument": "phq9", "baseline": 20, "current": -3}, "current"),
        ({"instrument": "phq9", "baseline": 20, "current": 9.5}, "current"),
        ({"instrument": "phq9", "baseline": 20.0, "current": 9}, "baseline"),
        ({"instrument": "phq9", "baseline": "20", "current": 9}, "baseline"),
        ({"instrument": "phq9", "baseline": True, "current": 9}, "baseline"),
        ({"instrument": "phq9", "baseline": 20, "current": None}, "current"),
        ({"instrument": "phq9", "baseline": 20}, "current"),
        # Above the instrument's maximum total (§7: 27, 21, 27, 60, 80).
        ({"instrument": "phq9", "baseline": 20, "current": 28}, "current"),
        ({"instrument": "gad7", "baseline": 22, "current": 9}, "baseline"),
        ({"instrument": "qids-sr16", "baseline": 28, "current": 9}, "baseline"),
        ({"instrument": "madrs", "baseline": 40, "current": 61}, "current"),
        ({"instrument": "pcl5", "baseline": 81, "current": 9}, "baseline"),
        ({"instrument": "pcl5", "baseline": 10**30, "current": 9}, "baseline"),
    ],
)
def test_invalid_input_is_422_naming_the_field(staff_client, body, field):
    response = post(staff_client, body)
    assert response.status_code == 422, response.content
    assert ["body", field] in error_locs(response)


def test_the_largest_totals_are_accepted(staff_client):
    for instrument, maximum in metrics.INSTRUMENT_MAX_TOTAL.items():
        response = post(
            staff_client, {"instrument": instrument, "baseline": maximum, "current": maximum}
        )
        assert response.status_code == 200, (instrument, response.content)
        assert response.json()["change"] == 0


@pytest.mark.parametrize(
    "raw",
    [
        "[]",
        "[1, 2]",
        '"phq9"',
        "12",
        "null",
        "{}",
        '{"instrument": "phq9", "baseline": NaN, "current": 1}',
        '{"instrument": "phq9", "baseline": Infinity, "current": 1}',
        '{"instrument": {"code": "phq9"}, "baseline": [20], "current": {}}',
    ],
)
def test_odd_bodies_are_422_never_500(staff_client, raw):
    response = post(staff_client, raw)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "invalid_input"


def test_a_body_that_is_not_json_is_a_client_error(staff_client):
    response = post(staff_client, "instrument=phq9&baseline=20")
    assert response.status_code == 400
    assert response.json()["code"] == "http_error"


def test_anonymous_and_patients_are_refused(db):
    body = {"instrument": "phq9", "baseline": 20, "current": 9}
    assert post(Client(), body).status_code == 401
    patient = User.objects.create_user(username="portal_patient", role="patient")
    client = Client()
    client.force_login(patient)
    assert post(client, body).status_code == 401


@pytest.mark.parametrize(
    "role", ["clinic_admin", "prescriber", "nurse", "therapist", "front_desk", "billing"]
)
def test_every_staff_role_may_classify(make_staff, role):
    client = Client()
    client.force_login(make_staff(role))
    response = post(client, {"instrument": "phq9", "baseline": 20, "current": 9})
    assert response.status_code == 200


def test_a_bearer_token_works_and_nothing_is_stored(clinic_admin, nurse):
    _token, plain = api_token_create(actor=nurse, user=nurse)
    events = AuditEvent.objects.count()
    response = post(
        Client(),
        {"instrument": "gad7", "baseline": 15, "current": 4},
        HTTP_AUTHORIZATION=f"Bearer {plain}",
    )
    assert response.status_code == 200
    assert response.json() == {
        "change": -11,
        "percent_change": -73.3,
        "response": True,
        "remission": True,
    }
    assert AuditEvent.objects.count() == events  # a calculator: computes, stores nothing


def test_the_openapi_document_lists_the_instruments(client):
    assert {member.value for member in OutcomeInstrument} == set(metrics.INSTRUMENTS)
    document = client.get("/api/v1/openapi.json").json()
    operation = document["paths"][URL]["post"]
    schema = operation["requestBody"]["content"][JSON]["schema"]
    assert schema["required"] == ["instrument", "baseline", "current"]
    reference = schema["properties"]["instrument"]["$ref"].rsplit("/", 1)[-1]
    assert document["components"]["schemas"][reference]["enum"] == list(metrics.INSTRUMENTS)
