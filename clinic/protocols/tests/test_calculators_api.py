"""POST /api/v1/dosing/calculate and POST /api/v1/protocols/{code}/schedule, end to end.

The contract is calculators.md §4 and §5: the bodies are exactly the pure results' as_dict()
(clinic/protocols/dosing.py, schedules/, whose tests work the values by hand), an unknown
protocol is a 404 {"detail", "code": "not_found"}, bad input a 422 naming the field as
["body", "<field>"], and nothing a client sends is a 500. The clinic's dosing policy comes from
settings.CLINIC_POLICY["dosing"] (clinic/protocols/policy.py).
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings

from clinic.accounts.models import User
from clinic.accounts.services import api_token_create
from clinic.core.models import AuditEvent
from clinic.protocols.dosing import DEFAULT_POLICY
from clinic.protocols.policy import dosing_policy
from clinic.protocols.schedules import BUILT_IN

pytestmark = pytest.mark.django_db

DOSING = "/api/v1/dosing/calculate"
JSON = "application/json"


def schedule_url(code: str) -> str:
    return f"/api/v1/protocols/{code}/schedule"


def post(client: Client, url: str, body, **extra):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(url, data, content_type=JSON, **extra)


@pytest.fixture
def staff(nurse) -> Client:
    client = Client()
    client.force_login(nurse)
    return client


def error_locs(response) -> list[list]:
    body = response.json()
    assert body["code"] == "invalid_input", body
    assert isinstance(body["detail"], list), body
    for item in body["detail"]:
        assert set(item) >= {"loc", "msg", "type"}, item
        assert item["msg"]
    return [item["loc"] for item in body["detail"]]


# --------------------------------------------------------------------------- dosing: contract


def test_dosing_contract_iv_example(staff):
    # 80 kg × 0.5 mg/kg = 40.0 mg over 40 min = 60.0 mg/h; at 10 mg/mL 4.0 mL, 6.0 mL/h.
    response = post(staff, DOSING, {"route": "iv", "weight_kg": 80, "concentration_mg_per_ml": 10})
    assert response.status_code == 200, response.content
    assert response.json() == {
        "route": "iv",
        "weight_basis": "actual",
        "weight_used_kg": 80.0,
        "dose_mg": 40.0,
        "infusion_minutes": 40,
        "rate_mg_per_h": 60.0,
        "volume_ml": 4.0,
        "rate_ml_per_h": 6.0,
    }


def test_dosing_volume_fields_only_with_a_concentration(staff):
    response = post(staff, DOSING, {"route": "iv", "weight_kg": 80})
    assert response.json() == {
        "route": "iv",
        "weight_basis": "actual",
        "weight_used_kg": 80.0,
        "dose_mg": 40.0,
        "infusion_minutes": 40,
        "rate_mg_per_h": 60.0,
    }


def test_dosing_contract_esketamine_example(staff):
    response = post(staff, DOSING, {"route": "esketamine", "dose_mg": 84})
    assert response.status_code == 200
    assert response.json() == {
        "route": "esketamine",
        "dose_mg": 84,
        "devices": 3,
        "sprays": 6,
        "minutes_between_devices": 5,
        "administration_minutes": 10,
        "observation_minutes": 120,
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # 80 × 0.5 = 40.0 mg; no concentration → no volume.
        ({"route": "im", "weight_kg": 80}, {"dose_mg": 40.0}),
        # 80 × 0.25 = 20.0 mg; 20.0 ÷ 50 mg/mL = 0.4 mL.
        (
            {"route": "im", "weight_kg": 80, "dose_mg_per_kg": 0.25, "concentration_mg_per_ml": 50},
            {"dose_mg": 20.0, "volume_ml": 0.4},
        ),
    ],
)
def test_dosing_im(staff, body, expected):
    response = post(staff, DOSING, body)
    assert response.status_code == 200
    assert response.json() == {
        "route": "im",
        "weight_basis": "actual",
        "weight_used_kg": 80.0,
        **expected,
    }


def test_dosing_on_ideal_weight(staff):
    # 170 cm = 66.93 in; male IBW 50 + 2.3 × 6.93 = 65.94 → 65.9 kg; × 0.5 = 32.95 → 33.0 mg;
    # 33.0 × 60 ÷ 40 = 49.5 mg/h.
    body = {
        "route": "iv",
        "weight_kg": 80,
        "weight_basis": "ideal",
        "height_cm": 170,
        "sex": "male",
    }
    response = post(staff, DOSING, body)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "route": "iv",
        "weight_basis": "ideal",
        "weight_used_kg": 65.9,
        "dose_mg": 33.0,
        "infusion_minutes": 40,
        "rate_mg_per_h": 49.5,
    }


def test_dosing_half_up(staff):
    # 65.7 × 0.5 = 32.85 → 32.9 mg (not 32.8).
    response = post(staff, DOSING, {"route": "iv", "weight_kg": 65.7})
    assert response.json()["dose_mg"] == 32.9


@pytest.mark.parametrize(
    ("route", "per_kg", "dose"), [("iv", 0.1, 8.0), ("iv", 1.0, 80.0), ("im", 0.25, 20.0)]
)
def test_dosing_range_limits_accepted(staff, route, per_kg, dose):
    response = post(staff, DOSING, {"route": route, "weight_kg": 80, "dose_mg_per_kg": per_kg})
    assert response.status_code == 200
    assert response.json()["dose_mg"] == dose


# --------------------------------------------------------------------------- dosing: 422


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"route": "iv", "weight_kg": 80, "dose_mg_per_kg": 0.09}, "dose_mg_per_kg", "0.1 and 1.0"),
        ({"route": "iv", "weight_kg": 80, "dose_mg_per_kg": 1.01}, "dose_mg_per_kg", "0.1 and 1.0"),
        (
            {"route": "im", "weight_kg": 80, "dose_mg_per_kg": 0.24},
            "dose_mg_per_kg",
            "0.25 and 1.0",
        ),
        (
            {"route": "im", "weight_kg": 80, "dose_mg_per_kg": 1.01},
            "dose_mg_per_kg",
            "0.25 and 1.0",
        ),
        ({"route": "esketamine", "dose_mg": 42}, "dose_mg", "28, 56, 84"),
        ({"route": "esketamine"}, "dose_mg", "required"),
        ({"route": "iv"}, "weight_kg", "required"),
        (
            {"route": "iv", "weight_kg": 80, "infusion_minutes": 101},
            "infusion_minutes",
            "2 and 100",
        ),
        ({"route": "iv", "weight_kg": 80, "dose_mg": 40}, "dose_mg", "does not apply"),
        ({"route": "im", "weight_kg": 80, "infusion_minutes": 40}, "infusion_minutes", "apply"),
        ({"route": "esketamine", "dose_mg": 56, "weight_kg": 80}, "weight_kg", "does not apply"),
        ({"route": "iv", "weight_kg": 80, "weight_basis": "ideal", "sex": "male"}, "height_cm", ""),
        ({"route": "iv", "weight_kg": 80, "weight_basis": "ideal", "height_cm": 170}, "sex", ""),
        (
            {
                "route": "iv",
                "weight_kg": 60,
                "weight_basis": "ideal",
                "height_cm": 150,
                "sex": "male",
            },
            "height_cm",
            "152.4 cm",
        ),
        (
            {
                "route": "iv",
                "weight_kg": 60,
                "weight_basis": "ideal",
                "height_cm": 170,
                "sex": "male",
            },
            "weight_basis",
            "above the actual weight",
        ),
        # Plausibility (policy-defaults.md "Vital signs": weight 25–350 kg, height 120–230 cm).
        ({"route": "iv", "weight_kg": 20}, "weight_kg", "between 25 and 350"),
        ({"route": "iv", "weight_kg": 400}, "weight_kg", "between 25 and 350"),
        ({"route": "iv", "weight_kg": 80, "height_cm": 100}, "height_cm", "between 120 and 230"),
        (
            {"route": "iv", "weight_kg": 80, "concentration_mg_per_ml": 0},
            "concentration_mg_per_ml",
            "",
        ),
        (
            {"route": "iv", "weight_kg": 80, "concentration_mg_per_ml": 1e-30},
            "concentration_mg_per_ml",
            "too large",
        ),
        # Unknown field: never silently ignored (the dose would fall back to the default).
        ({"route": "iv", "weight_kg": 80, "dose_mg_per_kilo": 1}, "dose_mg_per_kilo", "Unknown"),
        # Schema errors.
        ({"route": "sublingual", "weight_kg": 80}, "route", ""),
        ({"weight_kg": 80}, "route", ""),
        ({"route": "iv", "weight_kg": "80"}, "weight_kg", ""),
        ({"route": "iv", "weight_kg": True}, "weight_kg", ""),
        ({"route": "iv", "weight_kg": 80, "infusion_minutes": 40.5}, "infusion_minutes", ""),
        ({"route": "esketamine", "dose_mg": 56.0}, "dose_mg", ""),
        ({"route": "iv", "weight_kg": 80, "weight_basis": "lean"}, "weight_basis", ""),
        ({"route": "iv", "weight_kg": 80, "sex": "M"}, "sex", ""),
    ],
)
def test_dosing_invalid_input_is_422_naming_the_field(staff, body, field, message):
    response = post(staff, DOSING, body)
    assert response.status_code == 422, response.content
    assert ["body", field] in error_locs(response)
    assert message in " ".join(item["msg"] for item in response.json()["detail"])


@pytest.mark.parametrize(
    "raw",
    [
        "[]",
        '"iv"',
        "12",
        "null",
        "{}",
        '{"route": "iv", "weight_kg": NaN}',
        '{"route": "iv", "weight_kg": Infinity}',
        '{"route": "iv", "weight_kg": 1e400}',
        '{"route": "iv", "weight_kg": 80, "dose_mg_per_kg": 1e-400}',
        '{"route": ["iv"], "weight_kg": {}}',
    ],
)
def test_dosing_odd_bodies_are_422_never_500(staff, raw):
    response = post(staff, DOSING, raw)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "invalid_input"


def test_dosing_a_body_that_is_not_json_is_a_client_error(staff):
    response = post(staff, DOSING, "route=iv&weight_kg=80")
    assert response.status_code == 400
    assert response.json()["code"] == "http_error"


# --------------------------------------------------------------------------- dosing: policy


def test_dosing_follows_the_clinic_policy(staff):
    body = {"route": "iv", "weight_kg": 80, "dose_mg_per_kg": 0.8}
    assert post(staff, DOSING, body).status_code == 200
    with override_settings(CLINIC_POLICY={"dosing": {"iv_max_mg_per_kg": 0.75}}):
        response = post(staff, DOSING, body)
    assert response.status_code == 422
    assert "between 0.1 and 0.75 mg/kg" in response.json()["detail"][0]["msg"]


def test_dosing_policy_reads_the_overrides():
    assert dosing_policy() is DEFAULT_POLICY
    with override_settings(CLINIC_POLICY={}):
        assert dosing_policy() is DEFAULT_POLICY
    overrides = {
        "iv_min_mg_per_kg": 0.2,
        "esketamine_doses_mg": [56, 84],
        "esketamine_observation_minutes": 150,
        "high_bmi_weight_basis": "adjusted",
    }
    with override_settings(CLINIC_POLICY={"dosing": overrides}):
        policy = dosing_policy()
    assert policy.iv_min_mg_per_kg == Decimal("0.2")
    assert policy.esketamine_doses_mg == (56, 84)
    assert policy.esketamine_observation_minutes == 150
    assert policy.high_bmi_weight_basis == "adjusted"
    assert policy.iv_max_mg_per_kg == DEFAULT_POLICY.iv_max_mg_per_kg


@pytest.mark.parametrize(
    "dosing",
    [
        {"iv_max_mg_per_kilo": 1},  # misspelt: never silently ignored
        {"iv_max_mg_per_kg": "one"},
        {"iv_max_mg_per_kg": True},
        {"iv_max_mg_per_kg": 0.4},  # below the default 0.5
        {"iv_infusion_minutes": 40.0},
        {"esketamine_observation_minutes": 90},  # below the label's 2 h [C9], [C10]
        {"esketamine_minutes_between_devices": 3},  # below the label's 5 min [C2]
        {"esketamine_doses_mg": [42]},
        {"esketamine_doses_mg": 56},
        {"default_weight_basis": "lean"},
        ["iv_max_mg_per_kg", 1],
    ],
)
def test_a_bad_dosing_policy_is_a_configuration_error(dosing):
    with (
        override_settings(CLINIC_POLICY={"dosing": dosing}),
        pytest.raises(ImproperlyConfigured),
    ):
        dosing_policy()


# --------------------------------------------------------------------------- schedule: contract


def test_schedule_contract_example(staff):
    # 3 a week from Monday 4 Jan 2027: days 0, 2, 4, 7, 9, 11 [A9].
    response = post(staff, schedule_url("iv-induction-3x-weekly"), {"start_date": "2027-01-04"})
    assert response.status_code == 200, response.content
    dose = {"route": "iv", "dose_mg_per_kg": 0.5, "infusion_minutes": 40}
    dates = ["2027-01-04", "2027-01-06", "2027-01-08", "2027-01-11", "2027-01-13", "2027-01-15"]
    assert response.json() == {
        "protocol": "iv-induction-3x-weekly",
        "sessions": [
            {"number": n, "date": date, "phase": "induction", "dose": dose}
            for n, date in enumerate(dates, start=1)
        ],
        "review_points": [
            {
                "after_session": 6,
                "reason": "End of the induction series (6 infusions [A9]): review the response "
                "before any further sessions.",
            }
        ],
    }


def test_schedule_esketamine_trd_with_options(staff):
    body = {
        "start_date": "2027-01-07",
        "dose_mg": 84,
        "maintenance_interval_weeks": 1,
        "maintenance_sessions": 2,
    }
    response = post(staff, schedule_url("esketamine-trd"), body)
    assert response.status_code == 200, response.content
    sessions = response.json()["sessions"]
    # 8 + 4 + 2 sessions; from Thursday 7 Jan: weeks 5–8 from 4 Feb, week 9 from 4 Mar, weekly.
    assert [s["date"][5:] for s in sessions] == [
        "01-07", "01-10", "01-14", "01-17", "01-21", "01-24", "01-28", "01-31",
        "02-04", "02-11", "02-18", "02-25",
        "03-04", "03-11",
    ]  # fmt: skip
    assert [s["phase"] for s in sessions] == ["induction"] * 8 + ["optimization"] * 4 + [
        "maintenance"
    ] * 2
    assert [s["dose"] for s in sessions][:2] == [
        {"route": "esketamine", "dose_mg": 56},
        {"route": "esketamine", "dose_mg": 84},
    ]
    assert response.json()["review_points"][0]["after_session"] == 8


def test_schedule_maintenance_has_an_empty_dose(staff):
    body = {"start_date": "2027-01-04", "interval_weeks": 8, "count": 2}
    response = post(staff, schedule_url("maintenance"), body)
    assert response.status_code == 200
    assert response.json() == {
        "protocol": "maintenance",
        "sessions": [
            {"number": 1, "date": "2027-01-04", "phase": "maintenance", "dose": {}},
            {"number": 2, "date": "2027-03-01", "phase": "maintenance", "dose": {}},
        ],
        "review_points": [],
    }


def test_schedule_sublingual_keeps_a_decimal_dose(staff):
    body = {"start_date": "2027-01-04", "dose_mg": 12.5, "sessions": 1, "interval_days": 7}
    response = post(staff, schedule_url("sublingual-home"), body)
    assert response.json()["sessions"][0]["dose"] == {
        "route": "sublingual",
        "dose_mg": 12.5,
        "setting": "home",
    }


@pytest.mark.parametrize("code", list(BUILT_IN))
def test_every_built_in_protocol_is_served(staff, code):
    options = {
        "maintenance": {"interval_weeks": 2},
        "im-induction": {"sessions": 4, "sessions_per_week": 1},
        "sublingual-home": {"dose_mg": 100, "sessions": 4, "interval_days": 7},
    }.get(code, {})
    response = post(staff, schedule_url(code), {"start_date": "2027-01-04", **options})
    assert response.status_code == 200, response.content
    dates = [session["date"] for session in response.json()["sessions"]]
    assert len(set(dates)) == len(dates)


# --------------------------------------------------------------------------- schedule: errors


def test_schedule_unknown_protocol_is_404(staff):
    response = post(staff, schedule_url("iv-induction-4x-weekly"), {"start_date": "2027-01-04"})
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "not_found"
    assert "iv-induction-4x-weekly" in body["detail"]


@pytest.mark.parametrize(
    ("code", "body", "field"),
    [
        ("maintenance", {"start_date": "2027-01-04", "interval_weeks": 1}, "interval_weeks"),
        ("maintenance", {"start_date": "2027-01-04", "interval_weeks": 9}, "interval_weeks"),
        ("maintenance", {"start_date": "2027-01-04"}, "interval_weeks"),
        ("maintenance", {"start_date": "2027-01-04", "interval_weeks": "4"}, "interval_weeks"),
        ("maintenance", {"start_date": "2027-01-04", "interval_weeks": 4, "count": 0}, "count"),
        (
            "maintenance",
            {"start_date": "2027-01-04", "interval_weeks": 4, "count": 10**30},
            "count",
        ),
        ("esketamine-trd", {"start_date": "2027-01-04", "dose_mg": 42}, "dose_mg"),
        (
            "esketamine-trd",
            {"start_date": "2027-01-04", "maintenance_interval_weeks": 4},
            "maintenance_interval_weeks",
        ),
        ("esketamine-mdsi", {"start_date": "2027-01-04", "dose_mg": 56}, "dose_mg"),  # no options
        ("iv-induction-2x-weekly", {"start_date": "2027-01-04", "sesions": 6}, "sesions"),
        ("im-induction", {"start_date": "2027-01-04", "sessions_per_week": 2}, "sessions"),
        (
            "sublingual-home",
            {"start_date": "2027-01-04", "sessions": 2, "interval_days": 1},
            "dose_mg",
        ),
        ("maintenance", {"start_date": "9999-12-01", "interval_weeks": 8}, "start_date"),
        ("esketamine-mdsi", {}, "start_date"),
        ("esketamine-mdsi", {"start_date": None}, "start_date"),
        ("esketamine-mdsi", {"start_date": "2027-02-30"}, "start_date"),
        ("esketamine-mdsi", {"start_date": "2027-1-4"}, "start_date"),
        ("esketamine-mdsi", {"start_date": "20270104"}, "start_date"),
        ("esketamine-mdsi", {"start_date": "2027-01-04T09:00"}, "start_date"),
        ("esketamine-mdsi", {"start_date": 20270104}, "start_date"),
        ("esketamine-mdsi", {"start_date": ["2027-01-04"]}, "start_date"),
    ],
)
def test_schedule_invalid_input_is_422_naming_the_field(staff, code, body, field):
    response = post(staff, schedule_url(code), body)
    assert response.status_code == 422, response.content
    assert ["body", field] in error_locs(response)


@pytest.mark.parametrize(
    "raw",
    ["[]", '"2027-01-04"', "12", "null", '{"start_date": "2027-01-04", "count": NaN}'],
)
def test_schedule_odd_bodies_are_422_never_500(staff, raw):
    response = post(staff, schedule_url("esketamine-mdsi"), raw)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "invalid_input"


def test_schedule_a_body_that_is_not_json_is_a_client_error(staff):
    response = post(staff, schedule_url("esketamine-mdsi"), "start_date=2027-01-04")
    assert response.status_code == 400
    assert response.json()["code"] == "http_error"


def test_schedule_follows_the_clinic_policy(staff):
    # A clinic limiting esketamine to 56 mg refuses the 84 mg option of the TRD template.
    with override_settings(CLINIC_POLICY={"dosing": {"esketamine_doses_mg": [28, 56]}}):
        response = post(
            staff, schedule_url("esketamine-trd"), {"start_date": "2027-01-04", "dose_mg": 84}
        )
    assert response.status_code == 422
    assert ["body", "dose_mg"] in error_locs(response)


# --------------------------------------------------------------------------- auth, storage, docs


@pytest.mark.parametrize(
    ("url", "body"),
    [
        (DOSING, {"route": "iv", "weight_kg": 80}),
        (schedule_url("esketamine-mdsi"), {"start_date": "2027-01-04"}),
    ],
)
def test_anonymous_and_patients_are_refused(db, url, body):
    assert post(Client(), url, body).status_code == 401
    patient = User.objects.create_user(username="portal_patient", role="patient")
    client = Client()
    client.force_login(patient)
    assert post(client, url, body).status_code == 401


@pytest.mark.parametrize(
    "role", ["clinic_admin", "prescriber", "nurse", "therapist", "front_desk", "billing"]
)
def test_every_staff_role_may_calculate(make_staff, role):
    client = Client()
    client.force_login(make_staff(role))
    assert post(client, DOSING, {"route": "esketamine", "dose_mg": 56}).status_code == 200
    response = post(client, schedule_url("esketamine-mdsi"), {"start_date": "2027-01-04"})
    assert response.status_code == 200


def test_a_bearer_token_works_and_nothing_is_stored(clinic_admin, nurse):
    _token, plain = api_token_create(actor=nurse, user=nurse)
    events = AuditEvent.objects.count()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {plain}"}
    response = post(Client(), DOSING, {"route": "iv", "weight_kg": 80}, **auth)
    assert response.status_code == 200
    assert response.json()["dose_mg"] == 40.0
    response = post(
        Client(), schedule_url("iv-induction-2x-weekly"), {"start_date": "2027-01-04"}, **auth
    )
    assert response.status_code == 200
    assert AuditEvent.objects.count() == events  # calculators: compute, store nothing


def test_the_openapi_document_describes_both_calculators(client):
    document = client.get("/api/v1/openapi.json").json()
    dosing = document["paths"][DOSING]["post"]
    schema = dosing["requestBody"]["content"][JSON]["schema"]
    assert schema["required"] == ["route"]
    assert set(schema["properties"]) == {
        "route",
        "weight_kg",
        "dose_mg_per_kg",
        "weight_basis",
        "height_cm",
        "sex",
        "concentration_mg_per_ml",
        "infusion_minutes",
        "dose_mg",
    }
    schedule = document["paths"]["/api/v1/protocols/{code}/schedule"]["post"]
    request = schedule["requestBody"]["content"][JSON]["schema"]
    assert request["required"] == ["start_date"]
    options = {option.name for definition in BUILT_IN.values() for option in definition.options}
    assert set(request["properties"]) == {"start_date", *options}
    for code in BUILT_IN:
        assert f"`{code}`" in schedule["description"]
    assert set(schedule["responses"]) == {"200", "400", "401", "403", "404", "413", "422"}
