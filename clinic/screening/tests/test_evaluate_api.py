"""POST /api/v1/screening/evaluate, end to end through the Django test client.

The contract is docs/clinical/calculators.md §3; codes, levels and routes follow
screening-rules.md; plausibility ranges are policy-defaults.md "Vital signs" (entry errors:
systolic 50–300, diastolic 20–200 and below systolic, heart rate 20–250, weight 25–350 kg,
height 120–230 cm). Errors use the envelope of clinic/api/errors.py:
{"detail": [{"loc": ["body", field, ...], "msg", "type"}], "code": "invalid_input"}.

Long because: it is the contract of one endpoint (calculators.md §3), each field's accepted
and refused values with the one error envelope; its cases belong together.
"""

from __future__ import annotations

import copy
import json

import pytest
from django.test import Client, override_settings

from clinic.accounts.models import User
from clinic.accounts.services import api_token_create
from clinic.core.models import AuditEvent
from clinic.screening.models import RuleSetVersion

pytestmark = pytest.mark.django_db

URL = "/api/v1/screening/evaluate"
JSON = "application/json"

# calculators.md §3, the request example verbatim.
EXAMPLE = {
    "age_years": 42,
    "sex": "female",
    "pregnant": False,
    "breastfeeding": False,
    "weight_kg": 80,
    "height_cm": 170,
    "blood_pressure": {"systolic": 132, "diastolic": 84},
    "heart_rate": 72,
    "indication": "treatment_resistant_depression",
    "conditions": ["psychosis_history"],
    "medication_classes": ["benzodiazepine"],
    "antidepressant_trials": [
        {"drug": "sertraline", "adequate": True, "outcome": "no_response", "current_episode": True}
    ],
    "cssrs_risk": "low",
    "home": {"treatment_monitor": True, "bp_monitor": True},
}

ALL = ["iv", "im", "esketamine", "sublingual"]

# calculators.md §3, "Unanswered is not 'no'": the inputs, in the contract's order.
MISSING_ORDER = [
    "age_years",
    "weight_kg",
    "blood_pressure",
    "heart_rate",
    "indication",
    "conditions",
    "medication_classes",
    "pregnant",
    "breastfeeding",
]


def post(client: Client, body, **extra):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(URL, data, content_type=JSON, **extra)


def example(**changes):
    body = copy.deepcopy(EXAMPLE)
    body.update(changes)
    return body


@pytest.fixture
def staff_client(nurse) -> Client:
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


def summary(body) -> list[tuple]:
    return [(f["code"], f["level"], f["routes"]) for f in body["findings"]]


def test_the_contract_example(staff_client):
    response = post(staff_client, EXAMPLE)
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {
        "findings",
        "treatment_resistant",
        "failed_adequate_trials",
        "bmi",
        "routes",
        "missing",
    }
    assert body["missing"] == []  # the example gives every input the rule set needs
    # Worked out by hand from screening-rules.md: past psychosis (relative in clinic, absolute
    # at home), a benzodiazepine (caution), TRD with one failed adequate trial (caution on all
    # routes; esketamine closed by the label rule).
    assert [(f["code"], f["level"], f["routes"], f["source"]) for f in body["findings"]] == [
        ("psychosis_history", "relative", ["iv", "im", "esketamine"], "[C9], [A5]"),
        ("psychosis_history_unmonitored", "absolute", ["sublingual"], "[B9]"),
        ("benzodiazepine", "caution", ALL, "[C14], [A7], [A8]"),
        ("not_treatment_resistant", "caution", ALL, "Founding documents; [C2]"),
        ("esketamine_not_trd", "absolute", ["esketamine"], "Esketamine label [C2]"),
    ]
    for finding in body["findings"]:
        assert set(finding) == {"code", "level", "routes", "message", "source"}
        assert finding["message"]
    assert body["treatment_resistant"] is False
    assert body["failed_adequate_trials"] == 1
    assert body["bmi"] == 27.7
    assert body["routes"] == {
        "iv": "eligible_with_precautions",
        "im": "eligible_with_precautions",
        "esketamine": "ineligible",
        "sublingual": "ineligible",
    }


def test_every_field_is_optional(staff_client):
    response = post(staff_client, {})
    assert response.status_code == 200, response.content
    body = response.json()
    assert summary(body) == [
        ("esketamine_off_label", "absolute", ["esketamine"]),
        ("no_treatment_monitor", "absolute", ["sublingual"]),
        ("no_home_bp_monitor", "absolute", ["sublingual"]),
    ]
    assert body["bmi"] is None
    assert body["failed_adequate_trials"] == 0
    assert body["treatment_resistant"] is False
    # Nothing answered is nothing known: IV and IM have no findings but are incomplete.
    assert body["missing"] == MISSING_ORDER
    assert body["routes"] == {
        "iv": "incomplete",
        "im": "incomplete",
        "esketamine": "ineligible",
        "sublingual": "ineligible",
    }


@pytest.mark.parametrize(
    "home",
    [None, {}, {"treatment_monitor": None, "bp_monitor": None}, {"bp_monitor": False}],
)
def test_absent_home_answers_count_as_no(staff_client, home):
    body = example(home=home) if home is not None else example()
    if home is None:
        del body["home"]
    codes = [f["code"] for f in post(staff_client, body).json()["findings"]]
    assert codes[-2:] == ["no_treatment_monitor", "no_home_bp_monitor"]


def test_a_treatment_resistant_clean_intake_is_eligible_everywhere(staff_client):
    trial = EXAMPLE["antidepressant_trials"][0]
    body = example(
        conditions=[],
        medication_classes=[],
        antidepressant_trials=[trial, {**trial, "drug": "venlafaxine"}],
    )
    response = post(staff_client, body)
    assert response.status_code == 200
    assert response.json() == {
        "findings": [],
        "treatment_resistant": True,
        "failed_adequate_trials": 2,
        "bmi": 27.7,
        "routes": dict.fromkeys(ALL, "eligible"),
        "missing": [],
    }


def complete(**changes):
    """The contract example made eligible everywhere (no history, two failed adequate trials in
    the current episode), then changed: every input given, no finding."""
    trial = EXAMPLE["antidepressant_trials"][0]
    body = example(
        conditions=[],
        medication_classes=[],
        antidepressant_trials=[trial, {**trial, "drug": "venlafaxine"}],
    )
    body.update(changes)
    return body


def without(*names, **changes):
    body = complete(**changes)
    for name in names:
        body.pop(name, None)
    return body


# Each input the contract lists, left out alone: (the body, the one missing input).
ALONE = [
    pytest.param(without("age_years"), "age_years", id="age_years"),
    pytest.param(without("weight_kg"), "weight_kg", id="weight_kg"),
    pytest.param(without("blood_pressure"), "blood_pressure", id="blood_pressure"),
    pytest.param(complete(blood_pressure={}), "blood_pressure", id="blood_pressure-empty"),
    pytest.param(
        complete(blood_pressure={"systolic": 132}), "blood_pressure", id="blood_pressure-half"
    ),
    pytest.param(complete(blood_pressure=None), "blood_pressure", id="blood_pressure-null"),
    pytest.param(without("heart_rate"), "heart_rate", id="heart_rate"),
    pytest.param(without("indication"), "indication", id="indication"),
    pytest.param(without("conditions"), "conditions", id="conditions"),
    pytest.param(complete(conditions=None), "conditions", id="conditions-null"),
    pytest.param(without("medication_classes"), "medication_classes", id="medication_classes"),
    pytest.param(
        complete(medication_classes=None), "medication_classes", id="medication_classes-null"
    ),
    pytest.param(without("pregnant"), "pregnant", id="pregnant"),
    pytest.param(without("breastfeeding"), "breastfeeding", id="breastfeeding"),
]


def test_the_complete_body_is_eligible_everywhere(staff_client):
    body = post(staff_client, complete()).json()
    assert body["missing"] == [] and body["routes"] == dict.fromkeys(ALL, "eligible")


@pytest.mark.parametrize(("body", "name"), ALONE)
def test_each_missing_input_alone_makes_the_open_routes_incomplete(staff_client, body, name):
    response = post(staff_client, body)
    assert response.status_code == 200, response.content
    got = response.json()
    assert got["missing"] == [name]
    # Without an indication, esketamine is closed by its label rule (esketamine_off_label).
    expected = dict.fromkeys(ALL, "incomplete")
    if name == "indication":
        expected["esketamine"] = "ineligible"
    assert got["routes"] == expected


def test_everything_missing_is_listed_in_the_contracts_order(staff_client):
    got = post(staff_client, {"home": {"treatment_monitor": True, "bp_monitor": True}}).json()
    assert got["missing"] == MISSING_ORDER
    assert got["routes"] == {
        "iv": "incomplete",
        "im": "incomplete",
        "esketamine": "ineligible",  # no indication: esketamine_off_label
        "sublingual": "incomplete",
    }


@pytest.mark.parametrize("sex", ["female", "other", "unknown", None])
def test_pregnancy_and_breastfeeding_are_missing_unless_the_sex_is_male(staff_client, sex):
    body = without("pregnant", "breastfeeding", sex=sex)
    if sex is None:
        del body["sex"]
    got = post(staff_client, body).json()
    assert got["missing"] == ["pregnant", "breastfeeding"]
    assert set(got["routes"].values()) == {"incomplete"}


def test_a_male_patient_is_not_asked_about_pregnancy_or_breastfeeding(staff_client):
    got = post(staff_client, without("pregnant", "breastfeeding", sex="male")).json()
    assert got["missing"] == []
    assert got["routes"] == dict.fromkeys(ALL, "eligible")
    empty = post(staff_client, {"sex": "male"}).json()
    assert empty["missing"] == [n for n in MISSING_ORDER if n not in ("pregnant", "breastfeeding")]


def test_an_empty_list_is_known_and_an_absent_one_is_missing(staff_client):
    asked = post(staff_client, complete(conditions=[], medication_classes=[])).json()
    assert asked["missing"] == []
    not_asked = post(staff_client, without("conditions", "medication_classes")).json()
    assert not_asked["missing"] == ["conditions", "medication_classes"]
    assert set(not_asked["routes"].values()) == {"incomplete"}


@pytest.mark.parametrize(
    ("body", "missing", "routes"),
    [
        # Under 18 closes every route; missing answers do not turn it into "incomplete".
        pytest.param(
            without("weight_kg", age_years=17),
            ["weight_kg"],
            dict.fromkeys(ALL, "ineligible"),
            id="under-18",
        ),
        # Past psychosis: relative in clinic, absolute at home. Only the open routes wait.
        pytest.param(
            without("heart_rate", conditions=["psychosis_history"]),
            ["heart_rate"],
            {
                "iv": "incomplete",
                "im": "incomplete",
                "esketamine": "incomplete",
                "sublingual": "ineligible",
            },
            id="psychosis-history",
        ),
        pytest.param(
            without("conditions", "pregnant", home={"treatment_monitor": True}),
            ["conditions", "pregnant"],
            {
                "iv": "incomplete",
                "im": "incomplete",
                "esketamine": "incomplete",
                "sublingual": "ineligible",  # no home blood-pressure monitor
            },
            id="no-home-bp-monitor",
        ),
    ],
)
def test_an_ineligible_route_stays_ineligible(staff_client, body, missing, routes):
    got = post(staff_client, body).json()
    assert got["missing"] == missing
    assert got["routes"] == routes


@pytest.mark.parametrize(
    ("blood_pressure", "codes"),
    [
        ({"systolic": 180, "diastolic": 100}, ["uncontrolled_hypertension"]),
        ({"systolic": 179, "diastolic": 99}, ["elevated_blood_pressure"]),
        ({"systolic": 141, "diastolic": 91}, ["elevated_blood_pressure"]),
        ({"systolic": 140, "diastolic": 90}, []),
        ({"systolic": 150}, ["elevated_blood_pressure"]),
        ({}, []),
    ],
)
def test_blood_pressure(staff_client, blood_pressure, codes):
    body = {
        "indication": "depression_with_suicidal_ideation",
        "antidepressant_trials": [
            {"drug": d, "adequate": True, "outcome": "no_response", "current_episode": True}
            for d in ("sertraline", "venlafaxine")
        ],
        "home": {"treatment_monitor": True, "bp_monitor": True},
        "blood_pressure": blood_pressure,
    }
    response = post(staff_client, body)
    assert response.status_code == 200, response.content
    assert [f["code"] for f in response.json()["findings"]] == codes


def test_the_clinics_current_rule_set_applies(staff_client, clinic_admin):
    body = example(age_years=62)
    assert "age_65_or_over" not in [f["code"] for f in post(staff_client, body).json()["findings"]]
    RuleSetVersion.objects.create(
        version=2,
        policy={
            "thresholds": {"older_adult_age_years": 60},
            "levels": {"benzodiazepine": "relative"},
        },
        note="test",
        created_by=clinic_admin,
    )
    findings = post(staff_client, body).json()["findings"]
    assert ("age_65_or_over", "caution", ["iv", "im", "esketamine"]) in summary(
        {"findings": findings}
    )
    assert ("benzodiazepine", "relative", ALL) in summary({"findings": findings})


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        # Unknown terms, named by field and item.
        (example(conditions=["psychosis_history", "gout"]), ["body", "conditions", 1]),
        (example(medication_classes=["ssri"]), ["body", "medication_classes", 0]),
        # "other" is the intake form's class for medications no rule is about; not in the API.
        (example(medication_classes=["other"]), ["body", "medication_classes", 0]),
        (example(indication="insomnia"), ["body", "indication"]),
        (example(sex="F"), ["body", "sex"]),
        (example(cssrs_risk="severe"), ["body", "cssrs_risk"]),
        (
            example(
                antidepressant_trials=[
                    {"drug": "x", "adequate": True, "outcome": "remission", "current_episode": True}
                ]
            ),
            ["body", "antidepressant_trials", 0, "outcome"],
        ),
        # Fields the contract does not have: a misspelling is never silently ignored.
        ({"conditons": ["active_psychosis"]}, ["body", "conditons"]),
        (
            example(blood_pressure={"sistolic": 200, "diastolic": 84}),
            ["body", "blood_pressure", "sistolic"],
        ),
        (example(home={"monitor": True}), ["body", "home", "monitor"]),
        (
            example(antidepressant_trials=[{"drug": "x", "adequate": True, "outcome": "response"}]),
            ["body", "antidepressant_trials", 0, "current_episode"],
        ),
        # Implausible values (entry errors, policy-defaults.md).
        (
            example(blood_pressure={"systolic": 301, "diastolic": 84}),
            ["body", "blood_pressure", "systolic"],
        ),
        (
            example(blood_pressure={"systolic": 49, "diastolic": 30}),
            ["body", "blood_pressure", "systolic"],
        ),
        (
            example(blood_pressure={"systolic": 120, "diastolic": 19}),
            ["body", "blood_pressure", "diastolic"],
        ),
        (example(blood_pressure={"diastolic": 201}), ["body", "blood_pressure", "diastolic"]),
        (example(heart_rate=19), ["body", "heart_rate"]),
        (example(heart_rate=251), ["body", "heart_rate"]),
        (example(weight_kg=24.9), ["body", "weight_kg"]),
        (example(weight_kg=350.1), ["body", "weight_kg"]),
        (example(height_cm=119), ["body", "height_cm"]),
        (example(height_cm=230.5), ["body", "height_cm"]),
        # Contradictions.
        (
            example(blood_pressure={"systolic": 120, "diastolic": 120}),
            ["body", "blood_pressure", "diastolic"],
        ),
        (
            example(blood_pressure={"systolic": 90, "diastolic": 110}),
            ["body", "blood_pressure", "diastolic"],
        ),
        (example(sex="male", pregnant=True), ["body", "pregnant"]),
        (example(sex="male", breastfeeding=True), ["body", "breastfeeding"]),
        (
            example(
                antidepressant_trials=[
                    {"drug": " ", "adequate": True, "outcome": "response", "current_episode": True}
                ]
            ),
            ["body", "antidepressant_trials", 0, "drug"],
        ),
        # Wrong types: never coerced.
        (example(age_years=-1), ["body", "age_years"]),
        (example(age_years="42"), ["body", "age_years"]),
        (example(age_years=42.5), ["body", "age_years"]),
        (example(pregnant="yes"), ["body", "pregnant"]),
        (example(weight_kg="80"), ["body", "weight_kg"]),
        (example(weight_kg=True), ["body", "weight_kg"]),
        (example(heart_rate=72.5), ["body", "heart_rate"]),
        (example(conditions="psychosis_history"), ["body", "conditions"]),
        (
            example(home={"treatment_monitor": "yes", "bp_monitor": True}),
            ["body", "home", "treatment_monitor"],
        ),
    ],
)
def test_invalid_input_is_422_naming_the_field(staff_client, body, loc):
    response = post(staff_client, body)
    assert response.status_code == 422, response.content
    assert loc in error_locs(response)


def test_every_problem_is_named_at_once(staff_client):
    body = example(
        sex="male",
        pregnant=True,
        heart_rate=300,
        blood_pressure={"systolic": 120, "diastolic": 130},
        extra="x",
    )
    response = post(staff_client, body)
    assert response.status_code == 422
    assert sorted(map(str, error_locs(response))) == sorted(
        map(
            str,
            [
                ["body", "extra"],
                ["body", "heart_rate"],
                ["body", "pregnant"],
                ["body", "blood_pressure", "diastolic"],
            ],
        )
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"blood_pressure": {"systolic": 300, "diastolic": 200}},
        {"blood_pressure": {"systolic": 50, "diastolic": 20}},
        {"heart_rate": 20},
        {"heart_rate": 250},
        {"weight_kg": 25, "height_cm": 230},
        {"weight_kg": 350, "height_cm": 120},
        {"weight_kg": 80.5, "height_cm": 170.2},
        {"age_years": 0},
        {"sex": "other", "pregnant": True},
        {"sex": "male", "pregnant": False, "breastfeeding": False},
        {"conditions": [], "medication_classes": [], "antidepressant_trials": []},
        {"conditions": None, "medication_classes": None, "antidepressant_trials": None},
        {"indication": None, "sex": None, "cssrs_risk": None, "home": None},
    ],
)
def test_values_at_the_edges_are_accepted(staff_client, changes):
    response = post(staff_client, example(**changes))
    assert response.status_code == 200, response.content


def test_the_plausibility_ranges_are_clinic_policy(staff_client):
    body = example(weight_kg=30)
    assert post(staff_client, body).status_code == 200
    with override_settings(CLINIC_POLICY={"plausible_ranges": {"weight_kg": [35, 300]}}):
        response = post(staff_client, body)
    assert response.status_code == 422
    assert ["body", "weight_kg"] in error_locs(response)


@pytest.mark.parametrize(
    "raw",
    [
        "[]",
        "[1, 2]",
        '"screening"',
        "12",
        "null",
        "true",
        '{"weight_kg": NaN, "height_cm": 170}',
        '{"weight_kg": Infinity, "height_cm": 170}',
        '{"height_cm": -Infinity}',
        '{"age_years": 1e400}',
        '{"blood_pressure": [120, 80]}',
        '{"blood_pressure": "120/80"}',
        '{"home": true}',
        '{"conditions": [1, null, {}]}',
        '{"antidepressant_trials": [null]}',
        '{"antidepressant_trials": {"drug": "x"}}',
        '{"antidepressant_trials": [{"drug": 5, "adequate": 1, "outcome": [], '
        '"current_episode": "no"}]}',
        '{"indication": {"code": "ptsd"}}',
        '{"sex": ["female"]}',
        '{"blood_pressure": {"systolic": 99999999999999999999999, "diastolic": 80}}',
        '{"weight_kg": 1e308, "height_cm": 1e-308}',
        '{"age_years": 100000000000000000000000000000}',
    ],
)
def test_odd_bodies_are_never_500(staff_client, raw):
    response = post(staff_client, raw)
    assert response.status_code in (200, 422), response.content
    if response.status_code == 422:
        assert response.json()["code"] == "invalid_input"


def test_a_body_that_is_not_json_is_a_client_error(staff_client):
    response = post(staff_client, "age_years=42")
    assert response.status_code == 400


def test_an_empty_body_is_an_empty_intake(staff_client):
    empty = staff_client.post(URL, "", content_type=JSON)
    assert empty.status_code == 200, empty.content
    assert empty.json() == post(staff_client, {}).json()


def test_a_null_body_is_not_an_intake(staff_client):
    response = post(staff_client, "null")
    assert response.status_code == 422
    assert error_locs(response) == [["body"]]


def test_anonymous_and_patients_are_refused(db):
    assert post(Client(), EXAMPLE).status_code == 401
    patient = User.objects.create_user(username="portal_patient", role="patient")
    client = Client()
    client.force_login(patient)
    assert post(client, EXAMPLE).status_code == 401


@pytest.mark.parametrize(
    "role", ["clinic_admin", "prescriber", "nurse", "therapist", "front_desk", "billing"]
)
def test_every_staff_role_may_evaluate(make_staff, role):
    client = Client()
    client.force_login(make_staff(role))
    assert post(client, EXAMPLE).status_code == 200


def test_a_bearer_token_works_and_nothing_is_stored(clinic_admin, nurse):
    _token, plain = api_token_create(actor=nurse, user=nurse)
    RuleSetVersion.objects.get_or_create(version=1, defaults={"policy": {}})
    events = AuditEvent.objects.count()
    versions = RuleSetVersion.objects.count()
    response = post(Client(), EXAMPLE, HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert response.status_code == 200
    assert response.json()["routes"]["esketamine"] == "ineligible"
    assert AuditEvent.objects.count() == events  # a calculator: computes, stores nothing
    assert RuleSetVersion.objects.count() == versions


def test_the_openapi_document_lists_the_vocabularies(client):
    document = client.get("/api/v1/openapi.json").json()
    operation = document["paths"][URL]["post"]
    schema = operation["requestBody"]["content"][JSON]["schema"]
    assert "required" not in schema
    properties = schema["properties"]
    assert set(properties) == set(EXAMPLE)

    def enum_of(prop):
        for option in prop.get("anyOf", [prop]):
            if "items" in option:
                return option["items"]["enum"]
            if "enum" in option:
                return option["enum"]
        raise AssertionError(prop)

    # calculators.md §3 vocabularies.
    assert enum_of(properties["conditions"]) == [
        "hypersensitivity", "aneurysmal_vascular_disease", "arteriovenous_malformation",
        "intracerebral_hemorrhage", "uncontrolled_hypertension", "cardiac_disease",
        "active_psychosis", "psychosis_history", "mania_history", "substance_use_disorder",
        "raised_intracranial_pressure", "raised_intraocular_pressure",
        "hepatic_impairment_moderate", "hepatic_impairment_severe", "hyperthyroidism_untreated",
        "bladder_symptoms",
    ]  # fmt: skip
    assert enum_of(properties["medication_classes"]) == [
        "benzodiazepine", "opioid", "sedative_hypnotic", "cns_depressant", "maoi",
        "psychostimulant", "lamotrigine",
    ]  # fmt: skip
    assert set(operation["responses"]) == {"200", "400", "401", "403", "413", "422"}
