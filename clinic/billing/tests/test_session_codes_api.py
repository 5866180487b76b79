"""POST /api/v1/billing/session-codes end to end (contract: docs/clinical/calculators.md §6).

The contract's own example first; then the field errors a client gets (422 naming the field,
never a 500), who may call it, and that it stores nothing. Expected lines come from the
contract's rule table."""

from __future__ import annotations

import pytest
from django.test import Client

from clinic.accounts.models import User
from clinic.accounts.services import api_token_create
from clinic.core.models import AuditEvent

pytestmark = pytest.mark.django_db

URL = "/api/v1/billing/session-codes"
JSON = "application/json"
EXAMPLE = {
    "route": "iv",
    "payer": "commercial",
    "date_of_service": "2026-03-02",
    "established_patient": True,
    "infusion_minutes": 40,
    "esketamine_mg": None,
    "drug_supplied_by": "clinic",
    "ketamine_ndc": None,
    "visit_codes": ["99214"],
}


@pytest.fixture
def staff(billing_user) -> Client:
    client = Client()
    client.force_login(billing_user)
    return client


@pytest.fixture
def billing_user(make_staff):
    return make_staff("billing")


def post(client: Client, body, **extra):
    return client.post(URL, body, content_type=JSON, **extra)


def locs(response) -> list[list]:
    return [problem["loc"] for problem in response.json()["detail"]]


def by_code(response) -> dict[str, dict]:
    return {line["code"]: line for line in response.json()["lines"]}


def test_the_contract_example(staff):
    response = post(staff, EXAMPLE)
    assert response.status_code == 200
    body = response.json()
    assert sorted(body["lines"], key=lambda line: line["code"]) == [
        {"code": "96365", "units": 1, "modifiers": []},
        {"code": "99214", "units": 1, "modifiers": ["25"]},
        {"code": "J3490", "units": 1, "modifiers": [], "ndc": None},
    ]
    assert body["warnings"] == []


def test_only_required_fields(staff):
    response = post(
        staff,
        {
            "route": "esketamine",
            "payer": "medicare",
            "date_of_service": "2026-03-02",
            "esketamine_mg": 84,
        },
    )
    assert response.status_code == 200
    assert response.json() == {
        "lines": [{"code": "G2083", "units": 1, "modifiers": ["KX"]}],
        "warnings": [],
    }


def test_an_infusion_past_ninety_minutes_with_its_ndc(staff):
    response = post(
        staff,
        {**EXAMPLE, "infusion_minutes": 151, "ketamine_ndc": "12345678901", "visit_codes": []},
    )
    assert by_code(response) == {
        "96365": {"code": "96365", "units": 1, "modifiers": []},
        "96366": {"code": "96366", "units": 2, "modifiers": []},
        "J3490": {"code": "J3490", "units": 1, "modifiers": [], "ndc": "12345678901"},
    }


@pytest.mark.parametrize(
    ("date_of_service", "code"), [("2025-12-31", "S0013"), ("2026-01-01", "J0013")]
)
def test_esketamine_for_a_commercial_payer_changes_code_on_new_year_2026(
    staff, date_of_service, code
):
    response = post(
        staff,
        {
            "route": "esketamine",
            "payer": "commercial",
            "date_of_service": date_of_service,
            "esketamine_mg": 56,
        },
    )
    assert response.json()["lines"] == [{"code": code, "units": 56, "modifiers": []}]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"route": None}, "route"),
        ({"route": "sublingual"}, "route"),
        ({"payer": "medicaid"}, "payer"),
        ({"date_of_service": None}, "date_of_service"),
        ({"date_of_service": "03/02/2026"}, "date_of_service"),
        ({"date_of_service": "1999-12-31"}, "date_of_service"),
        ({"date_of_service": "9999-01-01"}, "date_of_service"),
        ({"infusion_minutes": None}, "infusion_minutes"),
        ({"infusion_minutes": 0}, "infusion_minutes"),
        ({"infusion_minutes": "40"}, "infusion_minutes"),
        ({"infusion_minutes": 40.5}, "infusion_minutes"),
        ({"esketamine_mg": 56}, "esketamine_mg"),
        ({"established_patient": "yes"}, "established_patient"),
        ({"drug_supplied_by": "patient"}, "drug_supplied_by"),
        ({"ketamine_ndc": "50458-028-02"}, "ketamine_ndc"),
        ({"visit_codes": ["99999"]}, "visit_codes"),
        ({"visit_codes": "99214"}, "visit_codes"),
        ({"infusion_mins": 40}, "infusion_mins"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(staff, change, field):
    body = {**EXAMPLE, **change}
    for key, value in change.items():
        if value is None:
            del body[key]  # None here means "left out"
    response = post(staff, body)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "invalid_input"
    assert any(loc[:2] == ["body", field] for loc in locs(response)), locs(response)


def test_medicare_refusals_name_their_field(staff):
    base = {
        "route": "esketamine",
        "payer": "medicare",
        "date_of_service": "2026-03-02",
        "esketamine_mg": 56,
    }
    new_patient = post(staff, {**base, "established_patient": False})
    assert new_patient.status_code == 422 and locs(new_patient) == [["body", "established_patient"]]
    with_e_m = post(staff, {**base, "visit_codes": ["99213"]})
    assert with_e_m.status_code == 422 and locs(with_e_m) == [["body", "visit_codes"]]


@pytest.mark.parametrize("body", ["[1, 2]", "null", "not json"])
def test_a_body_that_is_not_an_object_is_refused_not_a_500(staff, body):
    assert post(staff, body).status_code in (400, 422)


def test_anonymous_and_patients_are_refused(db):
    assert post(Client(), EXAMPLE).status_code == 401
    patient = User.objects.create_user(username="portal_patient", role="patient")
    client = Client()
    client.force_login(patient)
    assert post(client, EXAMPLE).status_code == 401


@pytest.mark.parametrize(
    "role", ["clinic_admin", "prescriber", "nurse", "therapist", "front_desk", "billing"]
)
def test_every_staff_role_may_code_a_session(make_staff, role):
    client = Client()
    client.force_login(make_staff(role))
    assert post(client, EXAMPLE).status_code == 200


def test_a_bearer_token_works_and_nothing_is_stored(nurse):
    _token, plain = api_token_create(actor=nurse, user=nurse)
    events = AuditEvent.objects.count()
    response = post(Client(), EXAMPLE, HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert response.status_code == 200
    assert AuditEvent.objects.count() == events  # a calculator: computes, stores nothing


def test_the_openapi_document_describes_it(client):
    document = client.get("/api/v1/openapi.json").json()
    operation = document["paths"][URL]["post"]
    schema = operation["requestBody"]["content"][JSON]["schema"]
    assert set(schema["required"]) == {"route", "payer", "date_of_service"}
    assert set(schema["properties"]) == {
        "route",
        "payer",
        "date_of_service",
        "established_patient",
        "infusion_minutes",
        "esketamine_mg",
        "drug_supplied_by",
        "ketamine_ndc",
        "visit_codes",
    }
    assert {"200", "401", "422"} <= set(operation["responses"])
