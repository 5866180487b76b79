"""POST /api/v1/instruments/{code}/score (clinic/assessments/calculators.py), end to end.

The contract is calculators.md §1: the body is exactly `ScoreResult.as_dict()`, an unknown
code is a 404, an answer the instrument cannot take is a 422 naming the item, and nothing a
client sends is a 500. The clinic's scoring policy comes from settings.CLINIC_POLICY
(clinic/assessments/policy.py). Expected scores are worked by hand (see test_instruments.py).
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from clinic.assessments.instruments import ALL_CODES, REGISTRY, ScoringPolicy
from clinic.assessments.policy import scoring_policy

pytestmark = pytest.mark.django_db

JSON = "application/json"
N = None


def url(code: str) -> str:
    return f"/api/v1/instruments/{code}/score"


@pytest.fixture
def staff(nurse) -> Client:
    client = Client()
    client.force_login(nurse)
    return client


def post(client: Client, code: str, body):
    """A JSON POST; a str body is sent as it is (the test client encodes only dicts and lists)."""
    return client.post(url(code), body, content_type=JSON)


# --------------------------------------------------------------------------- success


def test_us_core_phq9_example(staff):
    response = post(staff, "phq9", {"answers": [2, 2, 2, 2, 1, 1, 2, 0, 0]})
    assert response.status_code == 200
    assert response.json() == {
        "instrument": "phq9",
        "complete": True,
        "missing_items": [],
        "total": 12,
        "severity": "moderate",
        "flags": [],
        "subscales": {},
    }


def test_incomplete_phq9_still_flags_item_9(staff):
    response = post(staff, "phq9", {"answers": [N, 0, 0, 0, 0, 0, 0, 0, 2]})
    assert response.status_code == 200
    assert response.json() == {
        "instrument": "phq9",
        "complete": False,
        "missing_items": [1],
        "total": None,
        "severity": None,
        "flags": ["suicidal_ideation"],
        "subscales": {},
    }


def test_pcl5_subscales_and_flags(staff):
    answers = [1, 2, 3, 4, 0, 2, 1, 0, 1, 2, 3, 4, 0, 1, 4, 3, 2, 1, 0, 0]
    response = post(staff, "pcl5", {"answers": answers})
    assert response.status_code == 200
    assert response.json() == {
        "instrument": "pcl5",
        "complete": True,
        "missing_items": [],
        "total": 34,
        "severity": None,
        "flags": ["probable_ptsd", "dsm5_criteria_met"],
        "subscales": {"B": 10, "C": 3, "D": 11, "E": 10},
    }


def test_cssrs_high_risk(staff):
    response = post(staff, "cssrs-screen", {"answers": [0, 0, N, N, N, 1, 1]})
    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["severity"], body["flags"]) == (
        None,
        "high",
        ["immediate_safety_evaluation"],
    )


@pytest.mark.parametrize("code", ALL_CODES)
def test_every_instrument_answers_an_empty_form(staff, code):
    required = [item for item in REGISTRY[code].items if item.required]
    response = post(staff, code, {"answers": [None] * len(required)})
    assert response.status_code == 200
    body = response.json()
    assert body["instrument"] == code
    assert body["complete"] is False
    assert body["total"] is None and body["severity"] is None


# --------------------------------------------------------------------------- policy


def test_the_discharge_score_comes_from_settings(staff, settings):
    answers = {"answers": [2, 2, 2, 2, 1]}  # total 9
    assert post(staff, "modified-aldrete", answers).json()["flags"] == ["discharge_criteria_met"]
    settings.CLINIC_POLICY = {"scoring": {"aldrete_discharge_total": 10}}
    assert post(staff, "modified-aldrete", answers).json()["flags"] == []


def test_the_pcl5_cut_off_comes_from_settings(staff, settings):
    answers = {"answers": [4, 4, 4, 4, 4, 1, 1] + [1] * 7 + [1, 1, 0, 0, 0, 0]}  # total 31
    assert post(staff, "pcl5", answers).json()["flags"] == []
    settings.CLINIC_POLICY = {"scoring": {"pcl5_probable_ptsd_total": 31}}
    assert post(staff, "pcl5", answers).json()["flags"] == ["probable_ptsd"]


def test_scoring_policy_defaults_and_overrides(settings):
    settings.CLINIC_POLICY = {}
    assert scoring_policy() == ScoringPolicy()
    del settings.CLINIC_POLICY
    assert scoring_policy() == ScoringPolicy()
    settings.CLINIC_POLICY = {"scoring": {"aldrete_discharge_total": 8}, "other": {"x": 1}}
    assert scoring_policy() == ScoringPolicy(aldrete_discharge_total=8)
    settings.CLINIC_POLICY = {"scoring": {"pcl5_probable_ptsd_total": "33"}}
    with pytest.raises(ImproperlyConfigured):
        scoring_policy()


# --------------------------------------------------------------------------- errors


def test_unknown_instrument_is_404(staff):
    response = post(staff, "ybocs", {"answers": [0] * 10})
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "not_found"
    assert "ybocs" in body["detail"]


def test_value_out_of_range_names_the_item(staff):
    response = post(staff, "phq9", {"answers": [0, 0, 0, 4, 0, 0, 0, 0, 0]})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_input"
    [problem] = body["detail"]
    assert problem["loc"] == ["body", "answers", 3]
    assert problem["type"] == "invalid_answer"
    assert "Item 4 " in problem["msg"]


def test_wrong_count_has_no_item_index(staff):
    response = post(staff, "gad7", {"answers": [0] * 6})
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "answers"]
    assert "7 or 8" in problem["msg"]


def test_answer_to_a_skipped_cssrs_question_names_it(staff):
    response = post(staff, "cssrs-screen", {"answers": [0, 0, 1, N, N, 0, N]})
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "answers", 2]
    assert "Item 3 " in problem["msg"]


@pytest.mark.parametrize(
    "body",
    [
        {"answers": [0, 0, 0, "2", 0, 0, 0, 0, 0]},
        {"answers": [0, 0, 0, 2.0, 0, 0, 0, 0, 0]},
        {"answers": [0, 0, 0, 1.5, 0, 0, 0, 0, 0]},
        {"answers": [0, 0, 0, True, 0, 0, 0, 0, 0]},
        {"answers": [0, 0, 0, [1], 0, 0, 0, 0, 0]},
        {"answers": [0, 0, 0, {"value": 1}, 0, 0, 0, 0, 0]},
        {"answers": "0,0,0,0,0,0,0,0,0"},
        {"answers": 3},
        {"answers": None},
        {"answer": [0] * 9},
        {},
        [0] * 9,
        {"answers": [0] * 1000},
    ],
)
def test_malformed_input_is_422_never_500(staff, body):
    response = post(staff, "phq9", body)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "invalid_input"


@pytest.mark.parametrize(
    ("raw", "status"), [("not json", 400), ('{"answers": [0,0,', 400), ("", 422), ("null", 422)]
)
def test_unparseable_body_is_a_client_error(staff, raw, status):
    # Ninja answers a body it cannot parse as JSON with 400, the same for every endpoint.
    response = post(staff, "phq9", raw)
    assert response.status_code == status, response.content
    assert response.json()["code"] in {"http_error", "invalid_input"}


# --------------------------------------------------------------------------- auth


def test_needs_a_signed_in_staff_user():
    response = post(Client(), "phq9", {"answers": [0] * 9})
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_the_operation_is_in_the_openapi_document(staff):
    document = staff.get("/api/v1/openapi.json").json()
    assert "post" in document["paths"]["/api/v1/instruments/{code}/score"]
