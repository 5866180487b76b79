"""The patient API (clinic/patients/api.py), end to end through the Django test client.

Expected values come from the specs: the permission matrix (clinic/accounts/permissions.py,
docs/permissions.md), care-team visibility (`PatientQuerySet.visible_to`), the plausibility
ranges of ../shared/domain/policy-defaults.md (weight 25–350 kg, height 120–230 cm), the error
envelope of clinic/api/errors.py and the audit rules of clinic/core/audit.py.
"""

from __future__ import annotations

import datetime
import re
import uuid
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinic.accounts.models import User
from clinic.core.models import AuditEvent
from clinic.patients import services
from clinic.patients.measurements import mrn_is_valid
from clinic.patients.models import BodyMeasurement, CareTeamMember, Patient

pytestmark = pytest.mark.django_db

API = "/api/v1/patients"
JSON = "application/json"


# --------------------------------------------------------------------------- helpers


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def call(client: Client, method: str, path: str, body=None):
    if method == "get":
        return client.get(path)
    return getattr(client, method)(path, body if body is not None else {}, content_type=JSON)


def register(actor: User, **overrides) -> Patient:
    """A patient registered through the real service, as the front desk would."""
    data = {
        "legal_given_name": "Avery",
        "legal_family_name": "Lindqvist",
        "date_of_birth": datetime.date(1980, 5, 17),
        "sex": "female",
        "city": "Saint Paul",
        "phone_mobile": "(555) 010-4477",
        **overrides,
    }
    return services.patient_create(actor=actor, data=data)


def add_member(patient: Patient, staff: User, team_role: str) -> CareTeamMember:
    return CareTeamMember.objects.create(patient=patient, staff=staff, team_role=team_role)


def add_measurement(patient: Patient, by: User, days_ago: int, weight=None, height=None):
    return BodyMeasurement.objects.create(
        patient=patient,
        measured_on=timezone.localdate() - datetime.timedelta(days=days_ago),
        weight_kg=None if weight is None else Decimal(weight),
        height_cm=None if height is None else Decimal(height),
        recorded_by=by,
    )


def db_state() -> dict[str, list[dict]]:
    """Every row and field a patient endpoint may write (the audit trail aside)."""
    return {
        "patients": list(Patient.objects.order_by("pk").values()),
        "care_team": list(CareTeamMember.objects.order_by("pk").values()),
        "measurements": list(BodyMeasurement.objects.order_by("pk").values()),
    }


def error_fields(response) -> list[str]:
    """The last element of each `loc` of a 422's `detail` list."""
    detail = response.json()["detail"]
    assert isinstance(detail, list), detail
    return [str(item["loc"][-1]) for item in detail]


def as_decimal(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def years_before(day: datetime.date, years: int) -> datetime.date:
    # Safe for leap days: `years` is a multiple of four in every use here and the
    # years involved (1960–2139) contain no skipped century leap year.
    return day.replace(year=day.year - years)


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


NEW_PATIENT = {
    "legal_given_name": "Rowan",
    "legal_family_name": "Achterberg",
    "date_of_birth": "1975-03-02",
    "sex": "male",
}

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
EXPECTED = {
    "list": (200, 200, 200, 200, 200, 200, 200, 200, 200),
    "search": (200, 200, 200, 200, 200, 200, 200, 200, 200),
    "create": (201, 201, 403, 403, 403, 403, 403, 403, 403),
    "detail": (200, 200, 200, 200, 200, 200, 404, 404, 404),
    "update": (200, 200, 403, 200, 200, 403, 404, 404, 404),
    "care_team_get": (200, 200, 200, 200, 200, 200, 404, 404, 404),
    "care_team_put": (200, 200, 403, 403, 403, 403, 404, 404, 404),
    "measurements_get": (200, 403, 403, 200, 200, 200, 404, 404, 404),
    "measurements_post": (201, 403, 403, 201, 201, 403, 404, 404, 404),
    "entered_in_error": (200, 403, 403, 200, 200, 403, 404, 404, 404),
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
    """Not on the care team looks exactly like a uuid that does not exist."""
    method, path, body = ENDPOINTS[endpoint]
    client = client_for(world.users[actor])
    payload = body(world) if body else None

    hidden = call(client, method, path(world), payload)
    missing_world = SimpleNamespace(
        **{**vars(world), "patient": SimpleNamespace(uuid=uuid.uuid4())}
    )
    missing = call(client, method, path(missing_world), payload)

    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    assert hidden.json()["code"] == "not_found"


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

    assert body["count"] == 0
    assert body["items"] == []


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
    assert client.get(API).json()["count"] == int(sees_patient) + int(sees_other)

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


# --------------------------------------------------------------------------- create


@pytest.fixture
def desk(make_staff):
    return client_for(make_staff("front_desk", username="desk_api"))


@pytest.mark.parametrize(
    ("years", "day_shift", "expected_age"),
    [
        (40, 0, 40),  # birthday today: has turned 40
        (40, -1, 40),  # birthday yesterday
        (40, 1, 39),  # birthday tomorrow: still 39
        (0, 0, 0),  # born today
    ],
)
def test_create_returns_201_with_valid_mrn_and_age(desk, years, day_shift, expected_age):
    today = timezone.localdate()
    dob = years_before(today + datetime.timedelta(days=day_shift), years)
    if dob > today:
        pytest.skip("born tomorrow is the future")

    response = call(desk, "post", API, {**NEW_PATIENT, "date_of_birth": dob.isoformat()})

    assert response.status_code == 201, response.content
    body = response.json()
    assert len(body["mrn"]) == 8
    assert mrn_is_valid(body["mrn"])
    assert body["age_years"] == expected_age
    assert body["date_of_birth"] == dob.isoformat()
    assert body["legal_given_name"] == "Rowan"
    assert body["legal_family_name"] == "Achterberg"
    assert body["sex"] == "male"
    assert body["country"] == "US"
    assert body["is_active"] is True
    assert body["care_team"] == []
    stored = Patient.objects.get(uuid=body["uuid"])
    assert stored.mrn == body["mrn"]
    assert stored.date_of_birth == dob


def test_create_gives_each_patient_a_distinct_valid_mrn(desk):
    mrns = [
        call(desk, "post", API, {**NEW_PATIENT, "legal_given_name": f"R{i}"}).json()["mrn"]
        for i in range(3)
    ]
    assert len(set(mrns)) == 3
    assert all(mrn_is_valid(m) for m in mrns)


def test_create_is_audited(make_staff):
    actor = make_staff("front_desk", username="desk_audit")
    body = call(client_for(actor), "post", API, NEW_PATIENT).json()
    patient = Patient.objects.get(uuid=body["uuid"])

    created = AuditEvent.objects.get(action="create", object_type="patient", patient=patient)
    assert created.actor == actor
    assert created.channel == "api"


@pytest.mark.parametrize("field", ["legal_given_name", "legal_family_name", "date_of_birth", "sex"])
def test_create_missing_required_field_is_422_naming_it(desk, field):
    payload = {k: v for k, v in NEW_PATIENT.items() if k != field}

    response = call(desk, "post", API, payload)

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"
    assert field in error_fields(response)
    assert not Patient.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("legal_given_name", ""),
        ("legal_given_name", "   "),
        ("legal_family_name", "   "),
        ("sex", "F"),
        ("sex", "woman"),
        ("date_of_birth", "17/05/1980"),
        ("date_of_birth", "1850-01-01"),
        ("email", "not-an-email"),
        ("phone_mobile", "call me"),
        ("country", "usa"),
    ],
)
def test_create_invalid_value_is_422_naming_the_field(desk, field, value):
    response = call(desk, "post", API, {**NEW_PATIENT, field: value})

    assert response.status_code == 422, response.content
    assert response.json()["code"] == "invalid_input"
    assert field in error_fields(response)
    assert not Patient.objects.exists()


def test_create_future_date_of_birth_is_422(desk):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    response = call(desk, "post", API, {**NEW_PATIENT, "date_of_birth": tomorrow.isoformat()})

    assert response.status_code == 422
    assert error_fields(response) == ["date_of_birth"]
    assert not Patient.objects.exists()


@pytest.mark.parametrize("raw", ["{not json", '{"legal_given_name": "Rowan",', "[1, 2", "null"])
def test_malformed_json_is_a_client_error(desk, raw):
    response = desk.post(API, data=raw, content_type=JSON)

    assert 400 <= response.status_code < 500
    assert "code" in response.json()
    assert not Patient.objects.exists()


def test_create_ignores_server_owned_fields(desk):
    """The MRN, uuid and active flag are the clinic's to set, not the caller's."""
    chosen_uuid = "5d1d8a9c-0000-4000-8000-000000000000"
    payload = {**NEW_PATIENT, "mrn": "00000018", "uuid": chosen_uuid, "is_active": False}

    response = call(desk, "post", API, payload)

    assert response.status_code == 201
    body = response.json()
    assert body["uuid"] != chosen_uuid
    assert body["is_active"] is True
    assert mrn_is_valid(body["mrn"])
    assert Patient.objects.get(uuid=body["uuid"]).is_active is True


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


# --------------------------------------------------------------------------- update (PATCH)


@pytest.fixture
def chart(make_staff):
    desk_user = make_staff("front_desk", username="chart_desk")
    patient = register(
        desk_user,
        legal_middle_name="Jo",
        email="avery@example.org",
        emergency_contact_name="Kim Lindqvist",
    )
    return SimpleNamespace(user=desk_user, client=client_for(desk_user), patient=patient)


def demographics(patient: Patient) -> dict:
    patient.refresh_from_db()
    return {name: getattr(patient, name) for name in services.DEMOGRAPHIC_FIELDS}


def test_patch_changes_only_the_sent_fields_and_audits_them(chart):
    before = demographics(chart.patient)

    response = call(
        chart.client,
        "patch",
        f"{API}/{chart.patient.uuid}",
        # legal_family_name is sent unchanged: not a change, so not in the audit.
        {"preferred_name": "Ave", "city": "Duluth", "legal_family_name": "Lindqvist"},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["preferred_name"] == "Ave"
    assert body["city"] == "Duluth"
    after = demographics(chart.patient)
    assert after == {**before, "preferred_name": "Ave", "city": "Duluth"}

    update = AuditEvent.objects.get(action="update", patient=chart.patient)
    assert update.actor == chart.user
    assert update.channel == "api"
    assert update.changes == {
        "city": {"before": "Saint Paul", "after": "Duluth"},
        "preferred_name": {"before": "", "after": "Ave"},
    }


def test_patch_date_of_birth_records_iso_dates(chart):
    response = call(
        chart.client, "patch", f"{API}/{chart.patient.uuid}", {"date_of_birth": "1980-05-18"}
    )

    assert response.status_code == 200
    assert response.json()["date_of_birth"] == "1980-05-18"
    update = AuditEvent.objects.get(action="update", patient=chart.patient)
    assert update.changes == {"date_of_birth": {"before": "1980-05-17", "after": "1980-05-18"}}


def test_patch_that_changes_nothing_writes_no_update_event(chart):
    before = db_state()

    response = call(chart.client, "patch", f"{API}/{chart.patient.uuid}", {"city": "Saint Paul"})

    assert response.status_code == 200
    assert db_state() == before
    assert not AuditEvent.objects.filter(action="update", patient=chart.patient).exists()


def test_patch_ignores_server_owned_fields(chart):
    before = db_state()

    response = call(
        chart.client,
        "patch",
        f"{API}/{chart.patient.uuid}",
        {"mrn": "00000026", "is_active": False, "uuid": str(uuid.uuid4())},
    )

    assert response.status_code == 200
    assert response.json()["mrn"] == chart.patient.mrn
    assert db_state() == before


def test_patch_empty_optional_field_clears_it(chart):
    response = call(chart.client, "patch", f"{API}/{chart.patient.uuid}", {"legal_middle_name": ""})

    assert response.status_code == 200
    assert demographics(chart.patient)["legal_middle_name"] == ""


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"legal_given_name": None}, "legal_given_name"),
        ({"legal_family_name": ""}, "legal_family_name"),
        ({"date_of_birth": None}, "date_of_birth"),
        ({"sex": "x"}, "sex"),
        ({"email": "nope"}, "email"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
    ],
)
def test_patch_invalid_value_is_422_and_changes_nothing(chart, payload, field):
    before = db_state()

    response = call(chart.client, "patch", f"{API}/{chart.patient.uuid}", payload)

    assert response.status_code == 422, response.content
    assert field in error_fields(response)
    assert db_state() == before
    assert not AuditEvent.objects.filter(action="update", patient=chart.patient).exists()


def test_patch_future_date_of_birth_is_422(chart):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    before = db_state()

    response = call(
        chart.client,
        "patch",
        f"{API}/{chart.patient.uuid}",
        {"date_of_birth": tomorrow.isoformat()},
    )

    assert response.status_code == 422
    assert error_fields(response) == ["date_of_birth"]
    assert db_state() == before


# --------------------------------------------------------------------------- read audit


def test_every_detail_read_writes_a_view_event(chart):
    for _ in range(2):
        response = chart.client.get(f"{API}/{chart.patient.uuid}")
        assert response.status_code == 200

    views = AuditEvent.objects.filter(action="view", patient=chart.patient, actor=chart.user)
    assert views.count() == 2
    for event in views:
        assert event.channel == "api"
        assert event.object_type == "patient"
        assert event.object_id == str(chart.patient.uuid)
        assert event.actor_username == chart.user.username
        assert event.actor_role == "front_desk"


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


def test_list_writes_a_list_event(chart):
    chart.client.get(API)

    event = AuditEvent.objects.get(action="list", actor=chart.user)
    assert event.channel == "api"
    assert event.object_type == "patient"
    assert event.patient is None


# --------------------------------------------------------------------------- search


@pytest.fixture
def directory(make_staff):
    desk_user = make_staff("front_desk", username="dir_desk")
    avery = register(desk_user, preferred_name="Ave")
    jordan = register(
        desk_user,
        legal_given_name="Jordan",
        legal_family_name="Okafor",
        date_of_birth=datetime.date(1991, 11, 3),
        sex="male",
    )
    morgan = register(
        desk_user,
        legal_given_name="Morgan",
        legal_family_name="Lindqvist",
        date_of_birth=datetime.date(1962, 1, 30),
        sex="other",
    )
    return SimpleNamespace(
        user=desk_user, client=client_for(desk_user), avery=avery, jordan=jordan, morgan=morgan
    )


def search(client, query: str, page: int = 1):
    return call(client, "post", f"{API}/search", {"query": query, "page": page})


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Okafor", {"jordan"}),
        ("okafor", {"jordan"}),
        ("OKAF", {"jordan"}),
        ("Lindqvist", {"avery", "morgan"}),
        ("Avery Lindqvist", {"avery"}),
        ("lindqvist, morgan", {"morgan"}),
        ("Avery Okafor", set()),
        ("Ave", {"avery"}),
        ("1991-11-03", {"jordan"}),
        ("Zzyzx", set()),
    ],
)
def test_search_by_name_and_date_of_birth(directory, query, expected):
    response = search(directory.client, query)

    assert response.status_code == 200
    found = {item["uuid"] for item in response.json()["items"]}
    assert found == {str(getattr(directory, name).uuid) for name in expected}
    assert response.json()["count"] == len(expected)


def test_search_by_mrn(directory):
    response = search(directory.client, directory.jordan.mrn)

    assert [item["uuid"] for item in response.json()["items"]] == [str(directory.jordan.uuid)]


def test_search_is_audited_as_search_without_the_terms(directory):
    search(directory.client, "Okafor")

    event = AuditEvent.objects.get(action="search", actor=directory.user)
    assert event.channel == "api"
    assert "Okafor" not in event.summary
    assert "Okafor" not in str(event.changes)


@pytest.mark.parametrize("param", ["q", "query", "search"])
def test_get_list_never_filters_by_name_in_the_url(directory, param):
    """Names never travel in URLs: the list ignores query-string search terms."""
    response = directory.client.get(API, {param: "Okafor"})

    assert response.status_code == 200
    assert response.json()["count"] == 3
    assert not AuditEvent.objects.filter(action="search").exists()


def test_search_needs_a_query(directory):
    response = call(directory.client, "post", f"{API}/search", {"query": ""})
    assert response.status_code == 422
    assert "query" in error_fields(response)


# --------------------------------------------------------------------------- pagination


def test_pagination_uses_page_size_setting(settings, make_staff):
    settings.PAGE_SIZE = 10
    desk_user = make_staff("front_desk", username="page_desk")
    for i in range(30):
        register(desk_user, legal_given_name=f"Given{i:02d}", legal_family_name="Pagewright")
    client = client_for(desk_user)

    seen: set[str] = set()
    for number in (1, 2, 3):
        body = client.get(API, {"page": number}).json()
        assert body["count"] == 30
        assert body["pages"] == 3
        assert body["page_size"] == 10
        assert body["page"] == number
        assert len(body["items"]) == 10
        seen |= {item["uuid"] for item in body["items"]}
    assert len(seen) == 30

    found = search(client, "Pagewright", page=2).json()
    assert (found["count"], found["pages"], found["page"]) == (30, 3, 2)
    assert len(found["items"]) == 10


# --------------------------------------------------------------------------- measurements


@pytest.fixture
def ward(make_staff):
    desk_user = make_staff("front_desk", username="ward_desk")
    nurse = make_staff("nurse", username="ward_nurse", credentials="RN")
    patient = register(desk_user)
    add_member(patient, nurse, "nurse")
    return SimpleNamespace(nurse=nurse, client=client_for(nurse), patient=patient)


def record(ward, **fields):
    payload = {"measured_on": timezone.localdate().isoformat(), **fields}
    return call(ward.client, "post", f"{API}/{ward.patient.uuid}/measurements", payload)


@pytest.mark.parametrize(
    ("field", "value", "stored"),
    [
        ("weight_kg", 25, "25.0"),
        ("weight_kg", "25.0", "25.0"),
        ("weight_kg", 350, "350.0"),
        ("weight_kg", 72.4, "72.4"),
        ("height_cm", 120, "120.0"),
        ("height_cm", 230, "230.0"),
        ("height_cm", "172.5", "172.5"),
    ],
)
def test_measurement_at_the_plausible_limits_is_accepted(ward, field, value, stored):
    response = record(ward, **{field: value})

    assert response.status_code == 201, response.content
    body = response.json()
    assert as_decimal(body[field]) == Decimal(stored)
    assert body["entered_in_error"] is False
    assert body["recorded_by"] == ward.nurse.display_name
    row = BodyMeasurement.objects.get(uuid=body["uuid"])
    assert getattr(row, field) == Decimal(stored)
    assert row.recorded_by == ward.nurse
    assert AuditEvent.objects.filter(
        action="create", object_type="body_measurement", object_id=body["uuid"]
    ).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("weight_kg", 24.9),
        ("weight_kg", "24.9"),
        ("weight_kg", 350.1),
        ("weight_kg", 0),
        ("weight_kg", -70),
        ("height_cm", 119.9),
        ("height_cm", 230.1),
        ("height_cm", "230.1"),
    ],
)
def test_measurement_outside_the_plausible_range_is_422_naming_the_field(ward, field, value):
    response = record(ward, **{field: value})

    assert response.status_code == 422, response.content
    assert field in error_fields(response)
    assert not BodyMeasurement.objects.exists()


def test_measurement_with_neither_weight_nor_height_is_422(ward):
    response = record(ward)

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"
    assert not BodyMeasurement.objects.exists()


def test_measurement_with_non_numeric_weight_is_422(ward):
    response = record(ward, weight_kg="heavy")

    assert response.status_code == 422
    assert "weight_kg" in error_fields(response)
    assert not BodyMeasurement.objects.exists()


def test_measurement_dated_in_the_future_is_422(ward):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    response = record(ward, measured_on=tomorrow.isoformat(), weight_kg=70)

    assert response.status_code == 422
    assert "measured_on" in error_fields(response)
    assert not BodyMeasurement.objects.exists()


def test_entered_in_error_keeps_the_row_and_falls_back_to_previous_weight(ward):
    older = add_measurement(ward.patient, ward.nurse, days_ago=20, weight="80.0", height="175.0")
    newer = add_measurement(ward.patient, ward.nurse, days_ago=2, weight="95.0")
    url = f"{API}/{ward.patient.uuid}/measurements"

    shown = ward.client.get(url).json()
    assert as_decimal(shown["current_weight_kg"]) == Decimal("95.0")

    response = call(
        ward.client, "post", f"{url}/{newer.uuid}/entered-in-error", {"reason": "Wrong patient"}
    )

    assert response.status_code == 200, response.content
    for body in (response.json(), ward.client.get(url).json()):
        rows = {m["uuid"]: m for m in body["measurements"]}
        assert set(rows) == {str(older.uuid), str(newer.uuid)}
        assert rows[str(newer.uuid)]["entered_in_error"] is True
        assert rows[str(newer.uuid)]["entered_in_error_reason"] == "Wrong patient"
        assert as_decimal(rows[str(newer.uuid)]["weight_kg"]) == Decimal("95.0")
        assert rows[str(older.uuid)]["entered_in_error"] is False
        assert as_decimal(body["current_weight_kg"]) == Decimal("80.0")
        assert as_decimal(body["current_height_cm"]) == Decimal("175.0")
        # 80 / 1.75² = 26.12… → 26.1
        assert as_decimal(body["bmi_kg_m2"]) == Decimal("26.1")

    assert BodyMeasurement.objects.count() == 2
    newer.refresh_from_db()
    assert newer.entered_in_error_at is not None
    assert newer.entered_in_error_by == ward.nurse
    assert newer.weight_kg == Decimal("95.0")


def test_entered_in_error_needs_a_reason(ward):
    measurement = add_measurement(ward.patient, ward.nurse, days_ago=1, weight="80.0")
    url = f"{API}/{ward.patient.uuid}/measurements/{measurement.uuid}/entered-in-error"
    before = db_state()

    for payload in ({}, {"reason": ""}, {"reason": "   "}):
        response = call(ward.client, "post", url, payload)
        assert response.status_code == 422, payload
        assert "reason" in error_fields(response)
    assert db_state() == before


def test_entered_in_error_unknown_measurement_is_404(ward):
    url = f"{API}/{ward.patient.uuid}/measurements/{uuid.uuid4()}/entered-in-error"
    response = call(ward.client, "post", url, {"reason": "typo"})
    assert response.status_code == 404


def test_measurements_without_any_values_have_no_current_body(ward):
    body = ward.client.get(f"{API}/{ward.patient.uuid}/measurements").json()
    assert body == {
        "current_weight_kg": None,
        "current_height_cm": None,
        "bmi_kg_m2": None,
        "measurements": [],
    }


# --------------------------------------------------------------------------- care team


@pytest.fixture
def team(make_staff):
    desk_user = make_staff("front_desk", username="team_desk")
    staff = SimpleNamespace(
        prescriber=make_staff("prescriber", username="team_pres1"),
        prescriber2=make_staff("prescriber", username="team_pres2"),
        nurse=make_staff("nurse", username="team_nurse1"),
        nurse2=make_staff("nurse", username="team_nurse2"),
        therapist=make_staff("therapist", username="team_ther1"),
    )
    patient = register(desk_user)
    add_member(patient, staff.prescriber, "primary_prescriber")
    return SimpleNamespace(
        user=desk_user,
        client=client_for(desk_user),
        patient=patient,
        staff=staff,
        url=f"{API}/{patient.uuid}/care-team",
    )


def members(items) -> set[tuple[str, str]]:
    return {(m["team_role"], m["staff"]["uuid"]) for m in items}


def test_care_team_put_replaces_the_team(team):
    s = team.staff
    payload = {
        "primary_prescriber": str(s.prescriber2.uuid),
        "prescribers": [str(s.prescriber.uuid)],
        "nurses": [str(s.nurse.uuid), str(s.nurse2.uuid)],
        "therapists": [str(s.therapist.uuid)],
    }

    response = call(team.client, "put", team.url, payload)

    assert response.status_code == 200, response.content
    expected = {
        ("primary_prescriber", str(s.prescriber2.uuid)),
        ("prescriber", str(s.prescriber.uuid)),
        ("nurse", str(s.nurse.uuid)),
        ("nurse", str(s.nurse2.uuid)),
        ("therapist", str(s.therapist.uuid)),
    }
    assert members(response.json()) == expected
    assert members(team.client.get(team.url).json()) == expected
    assert members(team.client.get(f"{API}/{team.patient.uuid}").json()["care_team"]) == expected
    stored = {
        (m.team_role, str(m.staff.uuid))
        for m in CareTeamMember.objects.filter(patient=team.patient).select_related("staff")
    }
    assert stored == expected
    event = AuditEvent.objects.get(action="update", object_type="care_team", patient=team.patient)
    assert event.actor == team.user
    assert event.channel == "api"


def test_care_team_primary_also_listed_as_prescriber_is_one_member(team):
    s = team.staff
    payload = {
        "primary_prescriber": str(s.prescriber2.uuid),
        "prescribers": [str(s.prescriber2.uuid)],
    }

    response = call(team.client, "put", team.url, payload)

    assert response.status_code == 200
    assert members(response.json()) == {("primary_prescriber", str(s.prescriber2.uuid))}
    assert CareTeamMember.objects.filter(patient=team.patient).count() == 1


def test_care_team_put_can_empty_the_team(team):
    response = call(team.client, "put", team.url, {})

    assert response.status_code == 200
    assert response.json() == []
    assert not CareTeamMember.objects.filter(patient=team.patient).exists()


@pytest.mark.parametrize(
    ("field", "who"),
    [
        ("prescribers", "nurse"),
        ("primary_prescriber", "therapist"),
        ("nurses", "prescriber"),
        ("therapists", "nurse"),
        ("nurses", "front_desk"),
    ],
)
def test_care_team_member_of_the_wrong_role_is_422_naming_the_slot(team, field, who):
    person = team.user if who == "front_desk" else getattr(team.staff, who)
    value = str(person.uuid) if field == "primary_prescriber" else [str(person.uuid)]
    before = db_state()

    response = call(team.client, "put", team.url, {field: value})

    assert response.status_code == 422, response.content
    assert field in error_fields(response)
    assert db_state() == before


@pytest.mark.parametrize("field", ["primary_prescriber", "prescribers", "nurses", "therapists"])
def test_care_team_unknown_staff_uuid_is_422_naming_the_slot(team, field):
    unknown = str(uuid.uuid4())
    value = unknown if field == "primary_prescriber" else [unknown]
    before = db_state()

    response = call(team.client, "put", team.url, {field: value})

    assert response.status_code == 422, response.content
    assert field in error_fields(response)
    assert db_state() == before


def test_care_team_rejects_deactivated_staff_and_patient_principals(team):
    team.staff.nurse2.is_active = False
    team.staff.nurse2.save()
    patient_user = User.objects.create_user(username="portal_pat", role="patient")
    before = db_state()

    response = call(team.client, "put", team.url, {"nurses": [str(team.staff.nurse2.uuid)]})
    assert response.status_code == 422
    assert "nurses" in error_fields(response)

    response = call(team.client, "put", team.url, {"therapists": [str(patient_user.uuid)]})
    assert response.status_code == 422
    assert "therapists" in error_fields(response)
    assert db_state() == before


def test_care_team_malformed_uuid_is_422(team):
    response = call(team.client, "put", team.url, {"nurses": ["not-a-uuid"]})
    assert response.status_code == 422
    assert "nurses" in [str(part) for item in response.json()["detail"] for part in item["loc"]]


# --------------------------------------------------------------------------- query counts


def count_queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, response.content
    return len(captured.captured_queries)


@pytest.mark.parametrize("viewer", ["clinic_admin", "prescriber"])
def test_list_query_count_does_not_grow_with_patients(settings, make_staff, viewer):
    settings.PAGE_SIZE = 25
    desk_user = make_staff("front_desk", username="qc_desk")
    prescriber = make_staff("prescriber", username="qc_pres")
    nurse = make_staff("nurse", username="qc_nurse")
    actor = (
        make_staff("clinic_admin", username="qc_admin") if viewer == "clinic_admin" else prescriber
    )
    client = client_for(actor)

    def add_patients(n: int, start: int) -> None:
        for i in range(start, start + n):
            patient = register(desk_user, legal_given_name=f"Q{i:03d}")
            add_member(patient, prescriber, "primary_prescriber")
            add_member(patient, nurse, "nurse")
            add_measurement(patient, nurse, days_ago=1, weight="70.0")

    add_patients(3, 0)
    client.get(API)  # warm up (session, caches)
    with_3 = count_queries(client, API)
    add_patients(22, 3)
    with_25 = count_queries(client, API)

    assert client.get(API).json()["count"] == 25
    assert len(client.get(API).json()["items"]) == 25
    assert with_25 == with_3


def test_detail_query_count_does_not_grow_with_care_team(make_staff):
    desk_user = make_staff("front_desk", username="qd_desk")
    client = client_for(desk_user)
    small = register(desk_user, legal_given_name="Small")
    add_member(small, make_staff("prescriber", username="qd_p0"), "primary_prescriber")
    large = register(desk_user, legal_given_name="Large")
    add_member(large, make_staff("prescriber", username="qd_p1"), "primary_prescriber")
    for i in range(3):
        add_member(large, make_staff("prescriber", username=f"qd_px{i}"), "prescriber")
        add_member(large, make_staff("nurse", username=f"qd_n{i}"), "nurse")
        add_member(large, make_staff("therapist", username=f"qd_t{i}"), "therapist")

    client.get(f"{API}/{small.uuid}")  # warm up
    for suffix in ("", "/care-team"):
        small_count = count_queries(client, f"{API}/{small.uuid}{suffix}")
        large_count = count_queries(client, f"{API}/{large.uuid}{suffix}")
        assert large_count == small_count, suffix
    assert len(client.get(f"{API}/{large.uuid}").json()["care_team"]) == 10


def test_measurement_list_query_count_does_not_grow_with_history(make_staff):
    desk_user = make_staff("front_desk", username="qm_desk")
    nurse = make_staff("nurse", username="qm_nurse")
    nurse2 = make_staff("nurse", username="qm_nurse2")
    client = client_for(nurse)
    short = register(desk_user, legal_given_name="Short")
    long = register(desk_user, legal_given_name="Long")
    for patient in (short, long):
        add_member(patient, nurse, "nurse")
    add_measurement(short, nurse, days_ago=1, weight="70.0")
    for i in range(12):
        m = add_measurement(long, nurse2 if i % 2 else nurse, days_ago=i + 1, weight="70.0")
        if i % 3 == 0:
            services.body_measurement_mark_entered_in_error(actor=nurse, measurement=m, reason="x")

    client.get(f"{API}/{short.uuid}/measurements")  # warm up
    short_count = count_queries(client, f"{API}/{short.uuid}/measurements")
    long_count = count_queries(client, f"{API}/{long.uuid}/measurements")
    assert long_count == short_count


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
