"""The patient API (clinic/patients/api.py), end to end through the Django test client: the
permission matrix and the OpenAPI document. Creating, changing and reading one patient's
chart are in test_api_chart.py; search, lists, measurements and the care team in
test_api_records.py.

Expected values come from the specs: the permission matrix (clinic/accounts/permissions.py,
docs/permissions.md), care-team visibility (`PatientQuerySet.visible_to`), the plausibility
ranges of docs/clinical/policy-defaults.md (weight 25–350 kg, height 120–230 cm), the error
envelope of clinic/api/errors.py and the audit rules of clinic/core/audit.py.
"""

from __future__ import annotations

import datetime
import re
import uuid
from types import SimpleNamespace

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils import timezone

from clinic.core.models import AuditEvent
from clinic.patients.tests.api_helpers import (
    API,
    NEW_PATIENT,
    add_measurement,
    add_member,
    call,
    client_for,
    db_state,
    register,
)

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------- fixtures

CLINICAL_ON_TEAM = ("prescriber_on_team", "nurse_on_team", "therapist_on_team")
CLINICAL_OFF_TEAM = ("prescriber_off_team", "nurse_off_team", "therapist_off_team")
ACTORS = ("clinic_admin", "front_desk", "billing", *CLINICAL_ON_TEAM, *CLINICAL_OFF_TEAM)


@pytest.fixture
def world(make_staff):
    """One patient with a full care team, and a second patient cared for by other staff."""
    users = {
        "clinic_admin": make_staff("clinic_admin", username="w_admin"),
        "front_desk": make_staff("front_desk", username="w_desk"),
        "billing": make_staff("billing", username="w_billing"),
        "prescriber_on_team": make_staff("prescriber", username="w_pres_on", credentials="MD"),
        "nurse_on_team": make_staff("nurse", username="w_nurse_on", credentials="RN"),
        "therapist_on_team": make_staff("therapist", username="w_ther_on", credentials="LCSW"),
        "prescriber_off_team": make_staff("prescriber", username="w_pres_off", credentials="NP"),
        "nurse_off_team": make_staff("nurse", username="w_nurse_off", credentials="RN"),
        "therapist_off_team": make_staff("therapist", username="w_ther_off", credentials="PhD"),
    }
    patient = register(users["front_desk"])
    add_member(patient, users["prescriber_on_team"], "primary_prescriber")
    add_member(patient, users["nurse_on_team"], "nurse")
    add_member(patient, users["therapist_on_team"], "therapist")
    measurement = add_measurement(
        patient, users["nurse_on_team"], days_ago=30, weight="80.0", height="175.0"
    )

    other = register(
        users["front_desk"],
        legal_given_name="Jordan",
        legal_family_name="Okafor",
        date_of_birth=datetime.date(1991, 11, 3),
        sex="male",
    )
    add_member(other, users["prescriber_off_team"], "primary_prescriber")
    add_member(other, users["nurse_off_team"], "nurse")
    add_member(other, users["therapist_off_team"], "therapist")
    other_measurement = add_measurement(other, users["nurse_off_team"], days_ago=10, weight="70.0")
    return SimpleNamespace(
        users=users,
        patient=patient,
        measurement=measurement,
        other=other,
        other_measurement=other_measurement,
    )


# name: (method, path, body) — path and body take the world.
ENDPOINTS = {
    "list": ("get", lambda w: API, None),
    "search": ("post", lambda w: f"{API}/search", lambda w: {"query": "Lindqvist"}),
    "create": ("post", lambda w: API, lambda w: dict(NEW_PATIENT)),
    "detail": ("get", lambda w: f"{API}/{w.patient.uuid}", None),
    "update": (
        "patch",
        lambda w: f"{API}/{w.patient.uuid}",
        lambda w: {"preferred_name": "Ave", "city": "Duluth"},
    ),
    "care_team_get": ("get", lambda w: f"{API}/{w.patient.uuid}/care-team", None),
    "care_team_put": (
        "put",
        lambda w: f"{API}/{w.patient.uuid}/care-team",
        lambda w: {
            "primary_prescriber": str(w.users["prescriber_off_team"].uuid),
            "prescribers": [],
            "nurses": [str(w.users["nurse_off_team"].uuid)],
            "therapists": [],
        },
    ),
    "measurements_get": ("get", lambda w: f"{API}/{w.patient.uuid}/measurements", None),
    "measurements_post": (
        "post",
        lambda w: f"{API}/{w.patient.uuid}/measurements",
        lambda w: {"measured_on": timezone.localdate().isoformat(), "weight_kg": "72.4"},
    ),
    "entered_in_error": (
        "post",
        lambda w: f"{API}/{w.patient.uuid}/measurements/{w.measurement.uuid}/entered-in-error",
        lambda w: {"reason": "Scale was not zeroed"},
    ),
}
WRITES = {"create", "update", "care_team_put", "measurements_post", "entered_in_error"}
PER_PATIENT = [name for name in ENDPOINTS if name not in {"list", "search", "create"}]

# Expected status per endpoint, in the order of ACTORS:
#   clinic_admin, front_desk, billing,
#   prescriber / nurse / therapist ON the care team,
#   prescriber / nurse / therapist NOT on it.
# A role that may never make a write is refused (403) before the patient is looked up, so the
# refusal is the same whether the patient exists or not; a role that may, off the care team,
# finds no patient (404).
EXPECTED = {
    "list": (200, 200, 200, 200, 200, 200, 200, 200, 200),
    "search": (200, 200, 200, 200, 200, 200, 200, 200, 200),
    "create": (201, 201, 403, 403, 403, 403, 403, 403, 403),
    "detail": (200, 200, 200, 200, 200, 200, 404, 404, 404),
    "update": (200, 200, 403, 200, 200, 403, 404, 404, 403),
    "care_team_get": (200, 200, 200, 200, 200, 200, 404, 404, 404),
    "care_team_put": (200, 200, 403, 403, 403, 403, 403, 403, 403),
    "measurements_get": (200, 403, 403, 200, 200, 200, 404, 404, 404),
    "measurements_post": (201, 403, 403, 201, 201, 403, 404, 404, 403),
    "entered_in_error": (200, 403, 403, 200, 200, 403, 404, 404, 403),
}
MATRIX_CASES = [
    pytest.param(endpoint, actor, status, id=f"{endpoint}-{actor}-{status}")
    for endpoint, statuses in EXPECTED.items()
    for actor, status in zip(ACTORS, statuses, strict=True)
]
ERROR_CODES = {401: "unauthenticated", 403: "permission_denied", 404: "not_found"}


# --------------------------------------------------------------------------- permission matrix


@pytest.mark.parametrize(("endpoint", "actor", "expected"), MATRIX_CASES)
def test_permission_matrix(world, endpoint, actor, expected):
    method, path, body = ENDPOINTS[endpoint]
    before = db_state()

    response = call(
        client_for(world.users[actor]), method, path(world), body(world) if body else None
    )

    assert response.status_code == expected, response.content
    after = db_state()
    if expected >= 400:
        assert response.json()["code"] == ERROR_CODES[expected]
        assert after == before, "a refused request must not write anything"
    elif endpoint in WRITES:
        assert after != before, "an allowed write must change something"
    else:
        assert after == before, "a read must not change patient records"


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_anonymous_gets_401_and_nothing_is_written(world, endpoint):
    method, path, body = ENDPOINTS[endpoint]
    before = db_state()
    events_before = AuditEvent.objects.count()

    response = call(Client(), method, path(world), body(world) if body else None)

    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert db_state() == before
    assert AuditEvent.objects.count() == events_before


@pytest.mark.parametrize("endpoint", PER_PATIENT)
@pytest.mark.parametrize("actor", CLINICAL_OFF_TEAM)
def test_off_team_clinician_cannot_tell_patient_exists(world, endpoint, actor):
    """Not on the care team looks exactly like a uuid that does not exist (404; or, for a
    write the role may never make, the same 403 for both)."""
    method, path, body = ENDPOINTS[endpoint]
    client = client_for(world.users[actor])
    payload = body(world) if body else None

    hidden = call(client, method, path(world), payload)
    missing_world = SimpleNamespace(
        **{**vars(world), "patient": SimpleNamespace(uuid=uuid.uuid4())}
    )
    missing = call(client, method, path(missing_world), payload)

    assert hidden.status_code == missing.status_code
    assert hidden.json() == missing.json()
    assert (hidden.status_code, hidden.json()["code"]) in {
        (404, "not_found"),
        (403, "permission_denied"),
    }


@pytest.mark.parametrize("endpoint", PER_PATIENT)
def test_unknown_patient_uuid_is_404_even_for_clinic_admin(world, endpoint):
    method, path, body = ENDPOINTS[endpoint]
    missing_world = SimpleNamespace(
        **{**vars(world), "patient": SimpleNamespace(uuid=uuid.uuid4())}
    )
    before = db_state()

    response = call(
        client_for(world.users["clinic_admin"]),
        method,
        path(missing_world),
        body(world) if body else None,
    )

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert db_state() == before


def test_malformed_patient_uuid_is_not_a_server_error(world):
    response = client_for(world.users["clinic_admin"]).get(f"{API}/not-a-uuid")
    assert 400 <= response.status_code < 500


def test_off_team_read_is_audited_as_denied(world):
    actor = world.users["nurse_off_team"]
    client_for(actor).get(f"{API}/{world.patient.uuid}")

    denied = AuditEvent.objects.filter(actor=actor, action="denied")
    assert denied.count() == 1
    assert denied.get().object_id == str(world.patient.uuid)
    assert not AuditEvent.objects.filter(actor=actor, action="view").exists()


@pytest.mark.parametrize("actor", ["front_desk", "billing"])
def test_refused_clinical_read_is_audited_as_denied(world, actor):
    """docs/permissions.md: denied attempts to open a record are audited too. Front desk and
    billing asking for a patient's weights and heights are refused (403) — and that refusal
    belongs in the audit trail."""
    user = world.users[actor]

    response = client_for(user).get(f"{API}/{world.patient.uuid}/measurements")

    assert response.status_code == 403
    assert AuditEvent.objects.filter(actor=user, action="denied").exists()


def test_nurse_on_no_care_team_sees_an_empty_list(make_staff, world):
    lonely = make_staff("nurse", username="lonely_nurse")

    body = client_for(lonely).get(API).json()

    assert body == {"items": [], "next_cursor": None}


@pytest.mark.parametrize(
    ("actor", "sees_patient", "sees_other"),
    [
        ("clinic_admin", True, True),
        ("front_desk", True, True),
        ("billing", True, True),
        ("prescriber_on_team", True, False),
        ("nurse_on_team", True, False),
        ("therapist_on_team", True, False),
        ("prescriber_off_team", False, True),
        ("nurse_off_team", False, True),
        ("therapist_off_team", False, True),
    ],
)
def test_list_and_search_show_only_visible_patients(world, actor, sees_patient, sees_other):
    client = client_for(world.users[actor])

    listed = {item["uuid"] for item in client.get(API).json()["items"]}
    assert (str(world.patient.uuid) in listed) is sees_patient
    assert (str(world.other.uuid) in listed) is sees_other
    assert len(client.get(API).json()["items"]) == int(sees_patient) + int(sees_other)

    found = call(client, "post", f"{API}/search", {"query": "Lindqvist"}).json()
    assert [i["uuid"] for i in found["items"]] == (
        [str(world.patient.uuid)] if sees_patient else []
    )
    found = call(client, "post", f"{API}/search", {"query": "Okafor"}).json()
    assert [i["uuid"] for i in found["items"]] == ([str(world.other.uuid)] if sees_other else [])


def test_measurement_of_another_patient_cannot_be_marked_through_this_patient(world):
    """A measurement uuid under the wrong patient's URL is not found, and stays valid."""
    before = db_state()
    response = call(
        client_for(world.users["clinic_admin"]),
        "post",
        f"{API}/{world.patient.uuid}/measurements/{world.other_measurement.uuid}/entered-in-error",
        {"reason": "wrong chart"},
    )
    assert response.status_code == 404
    assert db_state() == before


NUL_CASES = [
    pytest.param("post", "create", id="create"),
    pytest.param("patch", "update", id="update"),
    pytest.param("post", "search", id="search"),
]


@pytest.mark.parametrize(("method", "endpoint"), NUL_CASES)
def test_nul_character_in_text_is_never_a_server_error(world, method, endpoint):
    """A NUL (valid JSON, not valid text) is bad input: a 4xx, or stored harmlessly — never a
    500. (PostgreSQL refuses NUL in text columns, so it must be caught before the database.)"""
    _, path, _ = ENDPOINTS[endpoint]
    payload = {
        "create": {**NEW_PATIENT, "legal_given_name": "Ro\x00wan"},
        "update": {"city": "Du\x00luth"},
        "search": {"query": "Lind\x00qvist"},
    }[endpoint]
    before = db_state()

    response = call(client_for(world.users["clinic_admin"]), method, path(world), payload)

    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        assert db_state() == before


# --------------------------------------------------------------------------- detail


def test_detail_returns_demographics_and_care_team(world):
    response = client_for(world.users["billing"]).get(f"{API}/{world.patient.uuid}")

    body = response.json()
    assert body["uuid"] == str(world.patient.uuid)
    assert body["mrn"] == world.patient.mrn
    assert body["legal_given_name"] == "Avery"
    assert body["date_of_birth"] == "1980-05-17"
    assert body["phone_mobile"] == "(555) 010-4477"
    team = {(m["team_role"], m["staff"]["uuid"], m["staff"]["role"]) for m in body["care_team"]}
    assert team == {
        ("primary_prescriber", str(world.users["prescriber_on_team"].uuid), "prescriber"),
        ("nurse", str(world.users["nurse_on_team"].uuid), "nurse"),
        ("therapist", str(world.users["therapist_on_team"].uuid), "therapist"),
    }
    # Demographics only: no clinical values in the patient record.
    assert "measurements" not in body
    assert "current_weight_kg" not in body


# --------------------------------------------------------------------------- OpenAPI


def test_openapi_document_lists_patient_paths(clinic_admin):
    response = client_for(clinic_admin).get("/api/v1/openapi.json")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    paths = response.json()["paths"]
    for path in ("/api/v1/patients", "/api/v1/patients/search", "/api/v1/patients/{patient_uuid}"):
        assert path in paths


def test_api_docs_use_only_local_static_assets(clinic_admin):
    response = client_for(clinic_admin).get("/api/v1/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r"""<(?:script|link)\b[^>]*?\b(?:src|href)=["']([^"']+)["']""", html)
    assert assets, "the docs page should load its scripts and styles"
    for asset in assets:
        assert not re.match(r"(?i)(https?:)?//", asset), asset
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/")), f"{asset} is not a local static file"
    assert not re.search(r"""<script\b[^>]*\bsrc=["'](?:https?:)?//""", html, re.IGNORECASE)
