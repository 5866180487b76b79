"""The patient API on one chart: creating a patient (POST), changing one (PATCH) and the
audit of reading it, end to end.

Expected values come from the specs: the validation and server-owned fields of
clinic/patients/api.py, the error envelope of clinic/api/errors.py and the audit rules of
clinic/core/audit.py.
"""

from __future__ import annotations

import datetime
import uuid
from types import SimpleNamespace

import pytest
from django.utils import timezone

from clinic.core.models import AuditEvent
from clinic.patients import services
from clinic.patients.measurements import mrn_is_valid
from clinic.patients.models import Patient
from clinic.patients.tests.api_helpers import (
    API,
    JSON,
    NEW_PATIENT,
    call,
    client_for,
    db_state,
    error_fields,
    register,
    years_before,
)

pytestmark = pytest.mark.django_db


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


def test_create_refuses_server_owned_fields(desk):
    """The MRN, uuid and active flag are the clinic's to set: naming them is refused (422),
    as is any field the contract does not have, and nothing is registered."""
    chosen_uuid = "5d1d8a9c-0000-4000-8000-000000000000"
    payload = {**NEW_PATIENT, "mrn": "00000018", "uuid": chosen_uuid, "is_active": False}
    before = db_state()

    response = call(desk, "post", API, payload)

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"
    assert sorted(item["loc"][-1] for item in response.json()["detail"]) == [
        "is_active",
        "mrn",
        "uuid",
    ]
    assert {item["msg"] for item in response.json()["detail"]} == {"Unknown field."}
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


def test_patch_refuses_server_owned_fields(chart):
    before = db_state()

    response = call(
        chart.client,
        "patch",
        f"{API}/{chart.patient.uuid}",
        {"mrn": "00000026", "is_active": False, "uuid": str(uuid.uuid4())},
    )

    assert response.status_code == 422
    assert {item["type"] for item in response.json()["detail"]} == {"extra_forbidden"}
    assert db_state() == before


@pytest.mark.parametrize("raw", ["[1, 2, 3]", '"x"', "null", "12", "true"])
def test_patch_body_must_be_a_json_object(chart, raw):
    before = db_state()

    response = chart.client.patch(
        f"{API}/{chart.patient.uuid}", raw, content_type="application/json"
    )

    assert response.status_code == 422, response.content
    assert response.json()["code"] == "invalid_input"
    assert response.json()["detail"][0]["type"] == "dict_type"
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


def test_list_writes_a_list_event(chart):
    chart.client.get(API)

    event = AuditEvent.objects.get(action="list", actor=chart.user)
    assert event.channel == "api"
    assert event.object_type == "patient"
    assert event.patient is None
