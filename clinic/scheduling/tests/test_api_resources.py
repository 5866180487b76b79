"""The schedule's resources through the API (clinic/scheduling/api_resources.py), as the
resources page (views.resources): rooms, chairs, opening hours and staff shifts.

Expected values: the permission matrix of clinic/accounts/permissions.py (schedule.
manage_resources: the clinic administrator only, who also sees every location of the network,
location.network) and the page's (a role that may not is refused before anything is read); the
locations' rules (clinic/locations/selectors.py: a location one does not work at, a closed one or
an unknown one is the same 403; "all" is not one location: the page's 404 "Choose one
location."); the small clinic of conftest.py (Room A with Chair 1 and Chair 2, open Monday to
Friday 08:00-17:00, both nurses on shift the week of Monday 2 June 2031); the services' words.
Resources are nobody's clinical record, so the care team plays no part: the clinicians on and
off `patient`'s care team are refused alike.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.core.models import AuditEvent
from clinic.locations import services as locations
from clinic.locations.models import Location
from clinic.patients.tests.api_helpers import JSON, client_for
from clinic.scheduling import services
from clinic.scheduling.models import Chair, OpeningHours, Room, StaffShift
from clinic.scheduling.tests.conftest import MONDAY, WEDNESDAY, at, book
from tests.helpers import ACTOR_ORDER

pytestmark = pytest.mark.django_db

API = "/api/v1"
REFUSED_BY_ROLE = [401, 401, None, 403, 403, 403, 403, 403, 403, 403, 403]
# Each operation: (method, path, body, the administrator's status). Everyone else is refused by
# role (REFUSED_BY_ROLE), and a patient principal is not staff: 401 like anonymous.
OPERATIONS = {
    "room_list": ("get", "/rooms", None, 200),
    "room_create": ("post", "/rooms", {"name": "Room B"}, 201),
    "room_detail": ("get", "/rooms/{room}", None, 200),
    "room_active": ("put", "/rooms/{room}/active", {"active": False}, 200),
    "chair_list": ("get", "/chairs", None, 200),
    "chair_create": ("post", "/chairs", {"room": "{room}", "name": "Chair 3"}, 201),
    "chair_detail": ("get", "/chairs/{chair}", None, 200),
    "chair_active": ("put", "/chairs/{chair}/active", {"active": False}, 200),
    "hours_detail": ("get", "/opening-hours", None, 200),
    "hours_set": ("put", "/opening-hours/{location}", "week", 200),
    "shift_list": ("get", f"/staff-shifts?first_day={MONDAY}", None, 200),
    "shift_create": ("post", "/staff-shifts", "shift", 201),
    "shift_remove": ("delete", "/staff-shifts/{shift}", None, 204),
}
CODES = {401: "unauthenticated", 403: "permission_denied"}
WEEK = {
    **{day: {"opens": "08:00", "closes": "17:00"} for day in ("monday", "tuesday", "wednesday")},
    "thursday": {"opens": "08:00", "closes": "19:30"},
    "friday": {"opens": "08:00", "closes": "17:00"},
    "saturday": {"opens": "09:00", "closes": "13:00"},
    "sunday": None,
}


def state() -> list:
    return [
        list(model.objects.order_by("pk").values())
        for model in (Room, Chair, OpeningHours, StaffShift)
    ]


def _call(actor, method: str, path: str, body=None, *, if_match: str | None = None):
    client = client_for(actor)
    headers = {"HTTP_IF_MATCH": if_match} if if_match else {}
    if method in ("get", "delete"):
        return getattr(client, method)(API + path, **headers)
    return getattr(client, method)(API + path, body, content_type=JSON, **headers)


def _tag(admin, path: str) -> str:
    response = _call(admin, "get", path)
    assert response.status_code == 200, response.content
    return response["ETag"]


@pytest.fixture
def resources(clinic, clinic_admin, room, chair1, chair2, nurse, nurse2):
    shift = StaffShift.objects.get(staff=nurse2, date=WEDNESDAY)
    location = Location.objects.get(is_default=True)
    return {"room": room, "chair": chair1, "shift": shift, "nurse2": nurse2, "location": location}


def _operation(name: str, resources) -> tuple[str, str, object]:
    method, path, body, _ = OPERATIONS[name]
    ids = {key: str(resources[key].uuid) for key in ("room", "chair", "shift", "location")}
    path = path.format(**ids)
    if body == "week":
        body = WEEK
    elif body == "shift":
        body = {
            "staff": str(resources["nurse2"].uuid),
            "date": (MONDAY + datetime.timedelta(days=7)).isoformat(),
            "start": "08:00",
            "end": "12:00",
        }
    elif isinstance(body, dict):
        body = {
            key: value.format(**ids) if isinstance(value, str) else value
            for key, value in body.items()
        }
    return method, path, body


# ------------------------------------------------------------------ permission matrix


@pytest.mark.parametrize(
    ("name", "who", "expected"),
    [
        pytest.param(name, who, status if status else admin, id=f"{name}-{who}")
        for name, (_m, _p, _b, admin) in OPERATIONS.items()
        for who, status in zip(ACTOR_ORDER, REFUSED_BY_ROLE, strict=True)
    ],
)
def test_permission_matrix(actors, patient, resources, clinic_admin, name, who, expected):
    method, path, body = _operation(name, resources)
    tag = None
    if method == "put":
        read = "/opening-hours" if name == "hours_set" else path.removesuffix("/active")
        tag = _tag(clinic_admin, read)
    before = state()
    response = _call(actors[who], method, path, body, if_match=tag)
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response.json()["code"] == CODES[expected]
    if expected >= 400 or method == "get":
        assert state() == before, "a read or a refusal writes nothing"
    else:
        assert state() != before


# ------------------------------------------------------------------ locations


@pytest.fixture
def riverside(clinic_admin):
    return locations.location_open(
        actor=clinic_admin,
        details=locations.LocationDetails(
            name="Riverside", code="RVS", time_zone="America/New_York"
        ),
    )


def test_each_location_is_managed_by_naming_it(clinic_admin, room, chair1, riverside):
    created = _call(
        clinic_admin, "post", "/rooms", {"name": "Room A", "location": str(riverside.uuid)}
    )
    assert created.status_code == 201, created.content
    assert created.json()["location"] == {"uuid": str(riverside.uuid), "name": "Riverside"}
    here = _call(clinic_admin, "get", "/rooms").json()["items"]
    there = _call(clinic_admin, "get", f"/rooms?location={riverside.uuid}").json()["items"]
    assert [r["uuid"] for r in here] == [str(room.uuid)]
    assert [r["uuid"] for r in there] == [created.json()["uuid"]]
    chairs = _call(clinic_admin, "get", f"/chairs?location={riverside.uuid}").json()
    assert chairs["items"] == []


def test_one_location_at_a_time_and_never_one_not_worked_at(clinic_admin, room, riverside):
    everywhere = _call(clinic_admin, "get", "/rooms?location=all")
    assert (everywhere.status_code, everywhere.json()["detail"]) == (404, "Choose one location.")
    locations.location_update(
        actor=clinic_admin,
        location=riverside,
        details=locations.LocationDetails(
            name="Riverside", code="RVS", time_zone="America/New_York", active=False
        ),
    )
    before = state()
    for path in (
        f"/rooms?location={riverside.uuid}",
        f"/opening-hours?location={riverside.uuid}",
        "/rooms?location=5f0c9a52-0000-4000-8000-000000000000",
    ):
        refused = _call(clinic_admin, "get", path)
        assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied"), path
    closed = _call(
        clinic_admin, "post", "/rooms", {"name": "Room Z", "location": str(riverside.uuid)}
    )
    assert closed.status_code == 403
    assert state() == before


# ------------------------------------------------------------------ rooms and chairs


def test_a_room_is_added_and_taken_out_of_service_with_its_tag(clinic_admin, room):
    created = _call(clinic_admin, "post", "/rooms", {"name": "Room B"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["name"], body["active"]) == ("Room B", True)
    path = f"/rooms/{body['uuid']}"
    assert created["ETag"] == _tag(clinic_admin, path)
    same_name = _call(clinic_admin, "post", "/rooms", {"name": "room a"})
    assert same_name.status_code == 422
    assert same_name.json()["detail"][0]["loc"] == ["body", "name"]
    assert same_name.json()["detail"][0]["msg"] == "There is already a room called room a."
    tag = created["ETag"]
    missing = _call(clinic_admin, "put", path + "/active", {"active": False})
    assert (missing.status_code, missing.json()["code"]) == (428, "precondition_required")
    out = _call(clinic_admin, "put", path + "/active", {"active": False}, if_match=tag)
    assert out.status_code == 200 and out.json()["active"] is False
    assert out["ETag"] == _tag(clinic_admin, path) != tag
    stale = _call(clinic_admin, "put", path + "/active", {"active": True}, if_match=tag)
    assert (stale.status_code, stale.json()["code"]) == (412, "precondition_failed")
    assert Room.objects.get(uuid=body["uuid"]).active is False
    event = AuditEvent.objects.filter(object_type="room", object_id=body["uuid"]).latest("id")
    assert event.changes == {"active": {"before": True, "after": False}}


def test_a_chair_with_upcoming_appointments_stays_in_service(
    clinic, clinic_admin, front_desk, patient, chair1, nurse
):
    book(front_desk, patient, chair1, nurse, at(MONDAY, 9))
    path = f"/chairs/{chair1.uuid}"
    before = state()
    refused = _call(
        clinic_admin, "put", path + "/active", {"active": False}, if_match=_tag(clinic_admin, path)
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "resource_in_use"
    assert refused.json()["detail"].startswith("Chair Chair 1 has 1 upcoming appointment(s)")
    room_refused = _call(
        clinic_admin,
        "put",
        f"/rooms/{chair1.room.uuid}/active",
        {"active": False},
        if_match=_tag(clinic_admin, f"/rooms/{chair1.room.uuid}"),
    )
    assert (room_refused.status_code, room_refused.json()["code"]) == (409, "resource_in_use")
    assert state() == before


def test_a_chair_is_added_to_an_active_room_with_known_equipment(clinic_admin, room, chair1):
    body = {"room": str(room.uuid), "name": "Chair 3", "capabilities": ["pulse_oximeter"]}
    created = _call(clinic_admin, "post", "/chairs", body)
    assert created.status_code == 201, created.content
    chair = created.json()
    assert chair["capabilities"] == ["pulse_oximeter"] and chair["room"]["name"] == "Room A"
    assert created["ETag"] == _tag(clinic_admin, f"/chairs/{chair['uuid']}")
    before = state()
    unknown = _call(
        clinic_admin, "post", "/chairs", {**body, "name": "Chair 4", "capabilities": ["ecg"]}
    )
    assert unknown.status_code == 422
    again = _call(clinic_admin, "post", "/chairs", {**body, "capabilities": []})
    assert again.status_code == 422
    assert again.json()["detail"][0]["msg"] == "Room A already has a chair called Chair 3."
    nowhere = _call(
        clinic_admin, "post", "/chairs", {**body, "room": "5f0c9a52-0000-4000-8000-000000000000"}
    )
    assert (nowhere.status_code, nowhere.json()["code"]) == (404, "not_found")
    services.room_update(actor=clinic_admin, room=room, active=False)
    before = state()
    closed_room = _call(clinic_admin, "post", "/chairs", {**body, "name": "Chair 5"})
    assert closed_room.status_code == 422
    assert closed_room.json()["detail"][0]["loc"] == ["body", "room"]
    assert state() == before


# ------------------------------------------------------------------ opening hours


def test_the_weeks_hours_are_set_with_the_tag(clinic_admin, opening_hours, riverside):
    read = _call(clinic_admin, "get", "/opening-hours")
    assert read.status_code == 200
    days = read.json()["days"]
    assert [d["day"] for d in days] == [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ]
    assert [(d["opens"], d["closes"]) for d in days] == [("08:00:00", "17:00:00")] * 5 + [
        (None, None)
    ] * 2
    tag = read["ETag"]
    assert read.json()["location"]["uuid"] == str(Location.objects.get(is_default=True).uuid)
    hours_path = f"/opening-hours/{read.json()['location']['uuid']}"
    missing = _call(clinic_admin, "put", hours_path, WEEK)
    assert (missing.status_code, missing.json()["code"]) == (428, "precondition_required")
    backwards = {**WEEK, "sunday": {"opens": "17:00", "closes": "08:00"}}
    refused = _call(clinic_admin, "put", hours_path, backwards, if_match=tag)
    assert refused.status_code == 422
    assert refused.json()["detail"] == [
        {
            "loc": ["body", "sunday"],
            "msg": "The clinic must close after it opens.",
            "type": "invalid_input",
        }
    ]
    partial = {key: value for key, value in WEEK.items() if key != "sunday"}
    assert _call(clinic_admin, "put", hours_path, partial, if_match=tag).status_code == 422
    done = _call(clinic_admin, "put", hours_path, WEEK, if_match=tag)
    assert done.status_code == 200, done.content
    hours = {h.weekday: (h.opens, h.closes) for h in OpeningHours.objects.all()}
    assert hours[3] == (datetime.time(8), datetime.time(19, 30))
    assert hours[5] == (datetime.time(9), datetime.time(13)) and 6 not in hours
    assert done["ETag"] == _tag(clinic_admin, "/opening-hours") != tag
    stale = _call(clinic_admin, "put", hours_path, WEEK, if_match=tag)
    assert (stale.status_code, stale.json()["code"]) == (412, "precondition_failed")
    # Each location keeps its own hours: Riverside's are its own tag's, and still closed.
    river = _call(clinic_admin, "get", f"/opening-hours?location={riverside.uuid}")
    assert {(d["opens"], d["closes"]) for d in river.json()["days"]} == {(None, None)}
    assert river["ETag"] != done["ETag"]
    set_there = _call(
        clinic_admin, "put", f"/opening-hours/{riverside.uuid}", WEEK, if_match=river["ETag"]
    )
    assert set_there.status_code == 200
    assert OpeningHours.objects.filter(location=riverside).count() == 6


# ------------------------------------------------------------------ staff shifts


def test_shifts_name_the_staff_member_as_the_page_does(resources, clinic_admin, nurse2):
    page = _call(clinic_admin, "get", f"/staff-shifts?first_day={WEDNESDAY}&last_day={WEDNESDAY}")
    assert page.status_code == 200
    items = page.json()["items"]
    assert len(items) == 2  # both nurses' Wednesday shifts
    ours = next(item for item in items if item["uuid"] == str(resources["shift"].uuid))
    assert ours["staff"] == {"uuid": str(nurse2.uuid), "name": nurse2.display_name, "role": "nurse"}
    assert (ours["start"], ours["end"]) == ("08:00:00", "17:00:00")
    backwards = _call(clinic_admin, "get", f"/staff-shifts?first_day={WEDNESDAY}&last_day={MONDAY}")
    assert backwards.status_code == 422


def test_a_shift_is_added_removed_and_refused_when_it_overlaps_or_is_booked(
    resources, clinic_admin, front_desk, patient, nurse
):
    body = {"staff": str(nurse.uuid), "date": MONDAY.isoformat(), "start": "16:00", "end": "19:00"}
    before = state()
    overlap = _call(clinic_admin, "post", "/staff-shifts", body)
    assert (overlap.status_code, overlap.json()["code"]) == (409, "shift_overlap")
    backwards = _call(
        clinic_admin, "post", "/staff-shifts", {**body, "start": "19:00", "end": "18:00"}
    )
    assert backwards.status_code == 422
    assert backwards.json()["detail"][0]["loc"] == ["body", "end"]
    assert state() == before
    next_monday = (MONDAY + datetime.timedelta(days=7)).isoformat()
    added = _call(clinic_admin, "post", "/staff-shifts", {**body, "date": next_monday})
    assert added.status_code == 201, added.content
    assert added.json()["staff"]["uuid"] == str(nurse.uuid)
    book(front_desk, patient, resources["chair"], nurse, at(MONDAY, 9))
    booked = StaffShift.objects.get(staff=nurse, date=MONDAY)
    in_use = _call(clinic_admin, "delete", f"/staff-shifts/{booked.uuid}")
    assert (in_use.status_code, in_use.json()["code"]) == (409, "resource_in_use")
    removed = _call(clinic_admin, "delete", f"/staff-shifts/{added.json()['uuid']}")
    assert removed.status_code == 204
    assert not StaffShift.objects.filter(uuid=added.json()["uuid"]).exists()
    gone = _call(clinic_admin, "delete", f"/staff-shifts/{added.json()['uuid']}")
    assert gone.status_code == 404


# ------------------------------------------------------------------ paging and query counts


def _count_queries(admin, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert _call(admin, "get", path).status_code == 200
    return len(captured)


@pytest.mark.parametrize("path", ["/rooms", "/chairs", f"/staff-shifts?first_day={MONDAY}"])
def test_lists_read_in_the_same_queries_however_long(resources, clinic_admin, make_staff, path):
    _call(clinic_admin, "get", path)  # the session in place
    few = _count_queries(clinic_admin, path)
    for number in range(4):
        extra = services.room_create(actor=clinic_admin, name=f"Room {number + 2}")
        services.chair_create(actor=clinic_admin, room=extra, name=f"Chair {number + 3}")
        staff = make_staff("nurse", username=f"nurse_extra{number}")
        services.staff_shift_add(
            actor=clinic_admin,
            staff=staff,
            date=MONDAY,
            start=datetime.time(8),
            end=datetime.time(12),
        )
    assert _count_queries(clinic_admin, path) == few


def test_shifts_page_by_date_and_start_each_once(resources, clinic_admin):
    path = f"/staff-shifts?first_day={MONDAY}&limit=3"
    seen, cursor = [], None
    while True:
        page = _call(clinic_admin, "get", path + (f"&cursor={cursor}" if cursor else "")).json()
        seen += [(item["date"], item["start"], item["uuid"]) for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 10  # two nurses, Monday to Friday
    assert seen == sorted(seen) and len(set(seen)) == 10
    other_filters = _call(
        clinic_admin, "get", f"/staff-shifts?first_day={WEDNESDAY}&cursor={cursor or 'x'}"
    )
    assert other_filters.status_code == 422


# ------------------------------------------------------------------ the published contract

READ = {"200", "401", "403", "422"}
CREATE = {"201", "400", "401", "403", "413", "422"}
CHANGE = {"200", "400", "401", "403", "404", "409", "412", "413", "422", "428"}
DECLARED = {
    ("get", "/rooms"): READ | {"404"},
    ("post", "/rooms"): CREATE | {"404"},
    ("get", "/rooms/{room_uuid}"): READ | {"404"},
    ("put", "/rooms/{room_uuid}/active"): CHANGE,
    ("get", "/chairs"): READ | {"404"},
    ("post", "/chairs"): CREATE | {"404"},
    ("get", "/chairs/{chair_uuid}"): READ | {"404"},
    ("put", "/chairs/{chair_uuid}/active"): CHANGE,
    ("get", "/opening-hours"): READ | {"404"},
    ("put", "/opening-hours/{location_uuid}"): CHANGE - {"409"},
    ("get", "/staff-shifts"): READ | {"404"},
    ("post", "/staff-shifts"): CREATE | {"404", "409"},
    ("delete", "/staff-shifts/{shift_uuid}"): {"204", "401", "403", "404", "409", "422"},
}


def test_the_operations_declare_every_status_with_the_envelope(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for (method, path), statuses in DECLARED.items():
        responses = paths[API + path][method]["responses"]
        assert set(responses) == statuses, (method, path)
        for status in statuses - {"200", "201", "204"}:
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ApiError"}, (method, path, status)
        if "428" in statuses:
            parameters = {p["name"]: p for p in paths[API + path][method]["parameters"]}
            assert parameters["If-Match"]["in"] == "header", path
            assert "ETag" in responses["200"]["headers"], path
