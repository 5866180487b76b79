"""The appointment API (clinic/scheduling/api.py): the permission matrix, booking clashes that
write nothing, If-Match on every change, cursor paging and flat query counts.

Expected values come from clinic/accounts/permissions.py and docs/permissions.md
(schedule.view: clinic admin, front desk, prescriber, nurse, therapist; schedule.book: clinic
admin, front desk), the schedule pages' matrix (clinic/scheduling/tests/test_views.py: an
appointment whose patient is out of reach is a 404), this app's conftest (a clinic open
Monday to Friday 08:00–17:00 in the week of Monday 2 June 2031, Chair 1 with IV equipment) and
the lengths of policy-defaults.md (IV: 40 min infusion + 30 min observation = 70 min).
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.core.models import AuditEvent
from clinic.patients.tests.api_helpers import JSON, client_for
from clinic.scheduling import services
from clinic.scheduling.models import Appointment
from clinic.scheduling.tests.conftest import MONDAY, WEEKDAYS, at
from tests.helpers import ACTOR_ORDER

pytestmark = pytest.mark.django_db

API = "/api/v1/appointments"
TUESDAY = WEEKDAYS[1]


def half_hours(first: datetime.datetime, count: int) -> list[datetime.datetime]:
    return [first + datetime.timedelta(minutes=30 * i) for i in range(count)]


# fmt: off
MATRIX = {
    #                anon portal admin presc nurse ther desk bill off-team ×3
    "list":         [401, 401, 200, 200, 200, 200, 200, 403, 200, 200, 200],
    "detail":       [401, 401, 200, 200, 200, 200, 200, 403, 404, 404, 404],
    "proposals":    [401, 401, 200, 403, 403, 403, 200, 403, 403, 403, 403],
    "book":         [401, 401, 201, 403, 403, 403, 201, 403, 403, 403, 403],
    "reschedule":   [401, 401, 200, 403, 403, 403, 200, 403, 403, 403, 403],
    "cancel":       [401, 401, 200, 403, 403, 403, 200, 403, 403, 403, 403],
    # Before its start an appointment is not a no-show yet: 409 for those who may mark one.
    "no_show":      [401, 401, 409, 403, 403, 403, 409, 403, 403, 403, 403],
}
# fmt: on
CODES = {401: "unauthenticated", 403: "permission_denied", 404: "not_found", 409: "not_started"}


@pytest.fixture
def booked(clinic, patient, front_desk, chair1, nurse):
    return services.appointment_book(
        actor=front_desk,
        patient=patient,
        chair=chair1,
        nurse=nurse,
        starts_at=at(MONDAY, 9),
        route="iv",
    )


def etag_of(appointment, reader) -> str:
    response = client_for(reader).get(f"{API}/{appointment.uuid}")
    assert response.status_code == 200, response.content
    return response["ETag"]


def requests_for(name, booked, plan, other_patient, chair2, nurse2):
    """(method, path, body) of each operation, on the `booked` appointment."""
    one = f"{API}/{booked.uuid}"
    return {
        "list": ("get", f"{API}?date={MONDAY.isoformat()}", None),
        "detail": ("get", one, None),
        "proposals": ("get", f"{API}/proposals?plan={plan.uuid}", None),
        "book": (
            "post",
            API,
            {
                "patient": str(other_patient.uuid),
                "chair": str(chair2.uuid),
                "nurse": str(nurse2.uuid),
                "starts_at": at(MONDAY, 13).isoformat(),
                "route": "im",
            },
        ),
        "reschedule": (
            "post",
            f"{one}/reschedule",
            {"starts_at": at(TUESDAY, 10).isoformat(), "reason": "Patient asked for Tuesday"},
        ),
        "cancel": ("post", f"{one}/cancel", {"reason": "Patient unwell"}),
        "no_show": ("post", f"{one}/no-show", {"reason": "Did not come"}),
    }[name]


def rows() -> list[dict]:
    return list(Appointment.objects.order_by("pk").values())


@pytest.mark.parametrize(
    ("name", "who", "expected"),
    [
        pytest.param(name, who, status, id=f"{name}-{who}")
        for name, statuses in MATRIX.items()
        for who, status in zip(ACTOR_ORDER, statuses, strict=True)
    ],
)
def test_permission_matrix(
    actors, booked, plan, other_patient, chair2, nurse2, clinic_admin, name, who, expected
):
    method, path, body = requests_for(name, booked, plan, other_patient, chair2, nurse2)
    headers = {"HTTP_IF_MATCH": etag_of(booked, clinic_admin)} if method == "post" else {}
    before = rows()
    client = client_for(actors[who])
    if method == "get":
        response = client.get(path)
    else:
        response = client.post(path, body, content_type=JSON, **headers)
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response.json()["code"] == CODES[expected]
        assert rows() == before, "a refused request writes nothing"
    elif method == "post":
        assert rows() != before


def test_anonymous_is_refused_without_an_audit_event(booked):
    count = AuditEvent.objects.count()
    response = client_for(None).get(f"{API}/{booked.uuid}")
    assert (response.status_code, response.json()["code"]) == (401, "unauthenticated")
    assert AuditEvent.objects.count() == count


def test_a_clinician_sees_every_appointment_but_names_only_their_patients(
    booked, actors, other_patient, chair2, nurse2, front_desk
):
    services.appointment_book(
        actor=front_desk,
        patient=other_patient,
        chair=chair2,
        nurse=nurse2,
        starts_at=at(MONDAY, 13),
        route="im",
    )
    items = client_for(actors["therapist"]).get(f"{API}?date={MONDAY}").json()["items"]
    assert [item["starts_at"][:16] for item in items] == ["2031-06-02T13:00", "2031-06-02T17:00"]
    ours, theirs = items
    assert ours["patient"]["uuid"] == str(booked.patient.uuid)
    assert ours["duration_min"] == 70  # IV: 40 min infusion + 30 min observation
    assert theirs["patient"] is None and theirs["status_reason"] is None


def test_booking_returns_the_appointment_and_its_etag(clinic, patient, chair1, nurse, front_desk):
    response = client_for(front_desk).post(
        API,
        {
            "patient": str(patient.uuid),
            "chair": str(chair1.uuid),
            "nurse": str(nurse.uuid),
            "starts_at": "2031-06-02T09:00:00-04:00",
            "route": "iv",
        },
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    # 09:00 + 70 min
    assert datetime.datetime.fromisoformat(body["ends_at"]) == at(MONDAY, 10, 10)
    assert body["chair"]["name"] == "Chair 1" and body["status"] == "booked"
    assert response["ETag"] == etag_of(Appointment.objects.get(), front_desk)


def test_a_clashing_booking_is_refused_and_nothing_is_written(
    booked, other_patient, chair1, nurse2, front_desk
):
    before = rows()
    response = client_for(front_desk).post(
        API,
        {
            "patient": str(other_patient.uuid),
            "chair": str(chair1.uuid),
            "nurse": str(nurse2.uuid),
            "starts_at": at(MONDAY, 9, 30).isoformat(),
            "route": "iv",
        },
        content_type=JSON,
    )
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "chair_booked"
    assert response.json()["field"] == "chair"
    assert rows() == before


def test_a_time_without_its_offset_is_refused_naming_the_field(
    clinic, patient, chair1, nurse, front_desk
):
    response = client_for(front_desk).post(
        API,
        {
            "patient": str(patient.uuid),
            "chair": str(chair1.uuid),
            "nurse": str(nurse.uuid),
            "starts_at": "2031-06-02T09:00:00",
            "route": "iv",
        },
        content_type=JSON,
    )
    assert response.status_code == 422
    assert [item["loc"] for item in response.json()["detail"]] == [["body", "starts_at"]]
    assert not Appointment.objects.exists()


# --------------------------------------------------------------------------- If-Match


def test_a_change_without_if_match_is_428_and_writes_nothing(booked, front_desk):
    before = rows()
    response = client_for(front_desk).post(
        f"{API}/{booked.uuid}/cancel", {"reason": "Unwell"}, content_type=JSON
    )
    assert (response.status_code, response.json()["code"]) == (428, "precondition_required")
    assert rows() == before


def test_two_devices_the_second_write_is_412_and_nothing_is_overwritten(
    booked, front_desk, clinic_admin
):
    """Both read the appointment; the first cancels it; the second, moving it with the tag
    it read, is refused and the appointment stays as the first left it."""
    tag = etag_of(booked, front_desk)
    assert etag_of(booked, clinic_admin) == tag
    first = client_for(front_desk).post(
        f"{API}/{booked.uuid}/cancel", {"reason": "Unwell"}, content_type=JSON, HTTP_IF_MATCH=tag
    )
    assert first.status_code == 200, first.content
    assert first["ETag"] != tag
    after_first = rows()
    second = client_for(clinic_admin).post(
        f"{API}/{booked.uuid}/reschedule",
        {"starts_at": at(TUESDAY, 10).isoformat(), "reason": "Moved"},
        content_type=JSON,
        HTTP_IF_MATCH=tag,
    )
    assert (second.status_code, second.json()["code"]) == (412, "precondition_failed")
    assert rows() == after_first
    booked.refresh_from_db()
    assert booked.status == "cancelled" and booked.starts_at == at(MONDAY, 9)
    # With the tag it reads now, the second device's change is judged on its merits.
    retry = client_for(clinic_admin).post(
        f"{API}/{booked.uuid}/reschedule",
        {"starts_at": at(TUESDAY, 10).isoformat(), "reason": "Moved"},
        content_type=JSON,
        HTTP_IF_MATCH=first["ETag"],
    )
    assert (retry.status_code, retry.json()["code"]) == (409, "appointment_not_booked")


def test_a_reschedule_with_the_current_tag_moves_it(booked, front_desk):
    tag = etag_of(booked, front_desk)
    response = client_for(front_desk).post(
        f"{API}/{booked.uuid}/reschedule",
        {"starts_at": at(TUESDAY, 10).isoformat(), "reason": "Patient asked for Tuesday"},
        content_type=JSON,
        HTTP_IF_MATCH=f'W/{tag}, "other", {tag}',
    )
    assert response.status_code == 200, response.content
    booked.refresh_from_db()
    assert booked.starts_at == at(TUESDAY, 10)
    assert response["ETag"] == etag_of(booked, front_desk)


@pytest.mark.parametrize("value", ["*", "W/{tag}"])
def test_a_wildcard_or_weak_tag_never_matches(booked, front_desk, value):
    tag = etag_of(booked, front_desk)
    response = client_for(front_desk).post(
        f"{API}/{booked.uuid}/cancel",
        {"reason": "Unwell"},
        content_type=JSON,
        HTTP_IF_MATCH=value.format(tag=tag),
    )
    assert response.status_code == (428 if value == "*" else 412)


# --------------------------------------------------------------------------- paging


def _appointments(patient, chair, nurse, by, times) -> list[Appointment]:
    """Half-hour appointments (written directly: the list, not booking, is under test)."""
    return [
        Appointment.objects.create(
            patient=patient,
            chair=chair,
            nurse=nurse,
            starts_at=start,
            ends_at=start + datetime.timedelta(minutes=30),
            route="im",
            created_by=by,
        )
        for start in times
    ]


def _walk(client, url: str) -> tuple[list[str], int]:
    seen, pages = [], 0
    while url:
        body = client.get(url).json()
        seen += [item["uuid"] for item in body["items"]]
        pages += 1
        url = (
            f"{API}?date={MONDAY}&limit=2&cursor={body['next_cursor']}"
            if body["next_cursor"]
            else ""
        )
    return seen, pages


def test_each_appointment_comes_once_across_pages_even_when_one_is_added_meanwhile(
    clinic, patient, chair1, nurse, front_desk
):
    made = _appointments(patient, chair1, nurse, front_desk, half_hours(at(MONDAY, 9), 5))
    client = client_for(front_desk)
    first = client.get(f"{API}?date={MONDAY}&limit=2").json()
    assert [i["uuid"] for i in first["items"]] == [str(a.uuid) for a in made[:2]]
    # Added between pages: one before the cursor (never shown now), one after it.
    early, late = _appointments(patient, chair1, nurse, front_desk, [at(MONDAY, 8), at(MONDAY, 15)])
    rest, pages = _walk(client, f"{API}?date={MONDAY}&limit=2&cursor={first['next_cursor']}")
    assert rest == [str(a.uuid) for a in made[2:]] + [str(late.uuid)]
    assert pages == 2


def test_a_cursor_altered_or_sent_with_other_filters_is_refused(
    clinic, patient, chair1, nurse, front_desk
):
    _appointments(patient, chair1, nurse, front_desk, [at(MONDAY, 9), at(MONDAY, 10)])
    client = client_for(front_desk)
    cursor = client.get(f"{API}?date={MONDAY}&limit=1").json()["next_cursor"]
    for url in (
        f"{API}?date={MONDAY}&limit=1&cursor={cursor[:-2]}xx",
        f"{API}?date={MONDAY}&limit=1&cursor={cursor}&chair={chair1.uuid}",
    ):
        response = client.get(url)
        assert response.status_code == 422, url
        assert response.json()["detail"][0]["loc"] == ["query", "cursor"]


def test_limit_is_bounded(clinic, front_desk):
    assert client_for(front_desk).get(f"{API}?date={MONDAY}&limit=201").status_code == 422


@pytest.mark.parametrize("who", ["front_desk", "nurse_off_team"])
def test_list_queries_do_not_grow_with_the_page(
    clinic, patient, other_patient, chair1, chair2, nurse, nurse2, front_desk, actors, who
):
    def count(limit: int) -> int:
        client = client_for(actors[who])
        client.get(f"{API}?date={MONDAY}&limit=1")  # the session warmed up
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{API}?date={MONDAY}&limit={limit}")
        assert len(response.json()["items"]) == limit
        return len(queries)

    _appointments(patient, chair1, nurse, front_desk, half_hours(at(MONDAY, 8), 5))
    _appointments(other_patient, chair2, nurse2, front_desk, half_hours(at(MONDAY, 8), 5))
    assert count(2) == count(10)
