"""The patient API: search, body measurements, the care team and query counts.

Expected values come from the specs: care-team visibility (`PatientQuerySet.visible_to`), the
plausibility ranges of docs/clinical/policy-defaults.md (weight 25–350 kg, height
120–230 cm), the error envelope of clinic/api/errors.py and the audit rules of
clinic/core/audit.py.
"""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinic.accounts.models import User
from clinic.core.models import AuditEvent
from clinic.patients import services
from clinic.patients.models import BodyMeasurement, CareTeamMember
from clinic.patients.tests.api_helpers import (
    API,
    add_measurement,
    add_member,
    as_decimal,
    call,
    client_for,
    db_state,
    error_fields,
    register,
)

pytestmark = pytest.mark.django_db


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


def search(client, query: str, **paging):
    return call(client, "post", f"{API}/search", {"query": query, **paging})


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
    assert len(response.json()["items"]) == len(expected)
    assert response.json()["next_cursor"] is None


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
    assert len(response.json()["items"]) == 3
    assert not AuditEvent.objects.filter(action="search").exists()


def test_search_needs_a_query(directory):
    response = call(directory.client, "post", f"{API}/search", {"query": ""})
    assert response.status_code == 422
    assert "query" in error_fields(response)


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


# A PUT names every slot it replaces; these are the empty ones.
NO_ONE = {"primary_prescriber": None, "prescribers": [], "nurses": [], "therapists": []}


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
        **NO_ONE,
        "primary_prescriber": str(s.prescriber2.uuid),
        "prescribers": [str(s.prescriber2.uuid)],
    }

    response = call(team.client, "put", team.url, payload)

    assert response.status_code == 200
    assert members(response.json()) == {("primary_prescriber", str(s.prescriber2.uuid))}
    assert CareTeamMember.objects.filter(patient=team.patient).count() == 1


def test_care_team_put_can_empty_the_team(team):
    response = call(team.client, "put", team.url, NO_ONE)

    assert response.status_code == 200
    assert response.json() == []
    assert not CareTeamMember.objects.filter(patient=team.patient).exists()


@pytest.mark.parametrize(
    "payload",
    [
        {"unexpected": "x"},
        {},
        {"nurses": []},
        {**NO_ONE, "unexpected": "x"},
    ],
)
def test_care_team_put_must_name_every_slot_and_nothing_else(team, payload):
    """Issue 13, defect 4: a body with no known field used to empty the team."""
    before = db_state()

    response = call(team.client, "put", team.url, payload)

    assert response.status_code == 422, response.content
    assert response.json()["code"] == "invalid_input"
    assert db_state() == before
    assert CareTeamMember.objects.filter(patient=team.patient).count() == 1


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

    response = call(team.client, "put", team.url, {**NO_ONE, field: value})

    assert response.status_code == 422, response.content
    assert field in error_fields(response)
    assert db_state() == before


@pytest.mark.parametrize("field", ["primary_prescriber", "prescribers", "nurses", "therapists"])
def test_care_team_unknown_staff_uuid_is_422_naming_the_slot(team, field):
    unknown = str(uuid.uuid4())
    value = unknown if field == "primary_prescriber" else [unknown]
    before = db_state()

    response = call(team.client, "put", team.url, {**NO_ONE, field: value})

    assert response.status_code == 422, response.content
    assert field in error_fields(response)
    assert db_state() == before


def test_care_team_rejects_deactivated_staff_and_patient_principals(team):
    team.staff.nurse2.is_active = False
    team.staff.nurse2.save()
    patient_user = User.objects.create_user(username="portal_pat", role="patient")
    before = db_state()

    response = call(
        team.client, "put", team.url, {**NO_ONE, "nurses": [str(team.staff.nurse2.uuid)]}
    )
    assert response.status_code == 422
    assert "nurses" in error_fields(response)

    response = call(
        team.client, "put", team.url, {**NO_ONE, "therapists": [str(patient_user.uuid)]}
    )
    assert response.status_code == 422
    assert "therapists" in error_fields(response)
    assert db_state() == before


def test_care_team_malformed_uuid_is_422(team):
    response = call(team.client, "put", team.url, {**NO_ONE, "nurses": ["not-a-uuid"]})
    assert response.status_code == 422
    assert "nurses" in [str(part) for item in response.json()["detail"] for part in item["loc"]]


# --------------------------------------------------------------------------- query counts


def count_queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, response.content
    return len(captured.captured_queries)


@pytest.mark.parametrize("viewer", ["clinic_admin", "prescriber"])
def test_list_query_count_does_not_grow_with_patients(make_staff, viewer):
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

    assert len(client.get(API, {"limit": 25}).json()["items"]) == 25
    assert with_25 == with_3
    # A later page reads the same way, one query more (where the cursor's patient stands).
    cursor = client.get(API, {"limit": 2}).json()["next_cursor"]
    later_page = f"{API}?{urlencode({'limit': 20, 'cursor': cursor})}"
    later = count_queries(client, later_page)
    add_patients(10, 25)
    assert count_queries(client, later_page) == later == with_25 + 1


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
