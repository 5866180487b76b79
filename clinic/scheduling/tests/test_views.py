"""Schedule pages: the permission matrix (anonymous, patient principal, each role on and off
the care team), denials that write nothing, flat query counts on the calendar, the booking,
appointment and resources pages at work, and the iCalendar feed.

Expected values come from clinic/accounts/permissions.py and docs/permissions.md:
schedule.view (clinic admin, front desk, prescriber, nurse, therapist), schedule.book (clinic
admin, front desk), schedule.manage_resources (clinic admin); an appointment whose patient
is out of the actor's reach is a 404, like one that does not exist.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.patients.tests.factories import register
from clinic.scheduling import services
from clinic.scheduling.models import (
    Appointment,
    CalendarFeed,
    Chair,
    OpeningHours,
    Room,
    StaffShift,
)
from clinic.scheduling.tests.conftest import MONDAY, WEEKDAYS, at
from tests.helpers import ACTOR_ORDER
from tests.helpers import client_as as _client
from tests.helpers import status_word as _status_word

pytestmark = pytest.mark.django_db


# fmt: off
PAGE_MATRIX = {
    #                        anon   portal admin presc nurse ther desk bill off-team ×3
    "calendar_get":         ["login", 403, 200, 200, 200, 200, 200, 403, 200, 200, 200],
    "calendar_week_get":    ["login", 403, 200, 200, 200, 200, 200, 403, 200, 200, 200],
    "plan_book_get":        ["login", 403, 200, 403, 403, 403, 200, 403, 403, 403, 403],
    "plan_book_post":       ["login", 403, 302, 403, 403, 403, 302, 403, 403, 403, 403],
    "appointment_get":      ["login", 403, 200, 200, 200, 200, 200, 403, 404, 404, 404],
    "reschedule_post":      ["login", 403, 302, 403, 403, 403, 302, 403, 403, 403, 403],
    "cancel_post":          ["login", 403, 302, 403, 403, 403, 302, 403, 403, 403, 403],
    "no_show_post":         ["login", 403, 302, 403, 403, 403, 302, 403, 403, 403, 403],
    "resources_get":        ["login", 403, 200, 403, 403, 403, 403, 403, 403, 403, 403],
    "resources_post":       ["login", 403, 302, 403, 403, 403, 403, 403, 403, 403, 403],
    "feed_get":             ["login", 403, 200, 200, 200, 200, 200, 403, 200, 200, 200],
    "feed_post":            ["login", 403, 200, 200, 200, 200, 200, 403, 200, 200, 200],
    "ical_get":             [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200],
}
# fmt: on
WRITES = {
    "plan_book_post",
    "reschedule_post",
    "cancel_post",
    "no_show_post",
    "resources_post",
    "feed_post",
}


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


@pytest.fixture
def feed_token(nurse):
    _feed, token = services.calendar_feed_create(actor=nurse)
    return token


def _slot(prefix, day, time, chair, nurse, **extra):
    data = {
        f"{prefix}-date": day.isoformat(),
        f"{prefix}-time": time,
        f"{prefix}-chair": str(chair.uuid),
        f"{prefix}-nurse": str(nurse.uuid),
    }
    data.update({f"{prefix}-{k}": v for k, v in extra.items()})
    return data


def _request(client, page, *, appointment, plan, chair1, nurse, room, token):
    detail = reverse("scheduling:appointment_detail", args=[appointment.uuid])
    session = plan.sessions.get(number=2)
    pages = {
        "calendar_get": ("get", reverse("scheduling:calendar"), {"date": "2031-06-02"}),
        "calendar_week_get": (
            "get",
            reverse("scheduling:calendar"),
            {"date": "2031-06-04", "view": "week", "room": room.uuid, "nurse": nurse.uuid},
        ),
        "plan_book_get": ("get", reverse("scheduling:plan_book", args=[plan.uuid]), None),
        "plan_book_post": (
            "post",
            reverse("scheduling:plan_book", args=[plan.uuid]),
            {"session": str(session.uuid), **_slot("s2", WEEKDAYS[2], "09:00", chair1, nurse)},
        ),
        "appointment_get": ("get", detail, None),
        "reschedule_post": (
            "post",
            detail + "reschedule/",
            _slot("move", MONDAY, "11:00", chair1, nurse, reason="Patient asked"),
        ),
        "cancel_post": ("post", detail + "cancel/", {"cancel-reason": "Patient is unwell"}),
        "no_show_post": ("post", detail + "no-show/", {"noshow-reason": "Did not come"}),
        "resources_get": ("get", reverse("scheduling:resources"), None),
        "resources_post": (
            "post",
            reverse("scheduling:resources"),
            {"action": "room_add", "room-name": "Room B"},
        ),
        "feed_get": ("get", reverse("scheduling:calendar_feed"), None),
        "feed_post": ("post", reverse("scheduling:calendar_feed"), {"action": "create"}),
        "ical_get": ("get", reverse("scheduling:ical_feed", args=[token]), None),
    }
    method, url, data = pages[page]
    if page == "no_show_post":
        past = at(datetime.date(2025, 6, 2), 9)
        Appointment.objects.filter(pk=appointment.pk).update(
            starts_at=past, ends_at=past + datetime.timedelta(minutes=70)
        )
    return getattr(client, method)(url, data or {})


def _state():
    """Every row a schedule page may write (the audit trail aside)."""
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Appointment, Room, Chair, OpeningHours, StaffShift, CalendarFeed)
    }


MATRIX_CASES = [
    pytest.param(page, who, expected, id=f"{page}-{who}")
    for page, row in PAGE_MATRIX.items()
    for who, expected in zip(ACTOR_ORDER, row, strict=True)
]


@pytest.mark.parametrize(("page", "who", "expected"), MATRIX_CASES)
def test_page_permission_matrix(
    client, actors, booked, plan, chair1, nurse, room, feed_token, page, who, expected
):
    got = _request(
        _client(client, actors[who]),
        page,
        appointment=booked,
        plan=plan,
        chair1=chair1,
        nurse=nurse,
        room=room,
        token=feed_token,
    )
    assert _status_word(got) == expected


@pytest.mark.parametrize(
    ("page", "who"),
    [
        pytest.param(page, who, id=f"{page}-{who}")
        for page in sorted(WRITES)
        for who, expected in zip(ACTOR_ORDER, PAGE_MATRIX[page], strict=True)
        if expected not in (200, 302)
    ],
)
def test_a_denied_post_writes_nothing(
    client, actors, booked, plan, chair1, nurse, room, feed_token, page, who
):
    before = _state()
    got = _request(
        _client(client, actors[who]),
        page,
        appointment=booked,
        plan=plan,
        chair1=chair1,
        nurse=nurse,
        room=room,
        token=feed_token,
    )
    assert _status_word(got) not in (200, 302)
    after = _state()
    if page == "no_show_post":  # the helper moved the appointment into the past itself
        for rows in (before, after):
            for row in rows["Appointment"]:
                row.pop("starts_at"), row.pop("ends_at"), row.pop("updated_at")
    assert after == before


# --------------------------------------------------------------------------- calendar


def _week_count(client, actor) -> int:
    client.force_login(actor)
    url = reverse("scheduling:calendar")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, {"date": "2031-06-02", "view": "week"})
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("who", ["front_desk", "nurse"])
def test_the_week_calendar_costs_the_same_queries_however_full(
    client, actors, booked, front_desk, chair1, chair2, nurse, nurse2, who
):
    one = _week_count(client, actors[who])
    for i, day in enumerate(WEEKDAYS[1:], start=1):
        patient = register(front_desk, legal_given_name=f"Week{i}")
        services.appointment_book(
            actor=front_desk,
            patient=patient,
            chair=chair2,
            nurse=nurse2,
            starts_at=at(day, 9),
            route="esketamine",
        )
        services.appointment_book(
            actor=front_desk,
            patient=register(front_desk, legal_given_name=f"Other{i}"),
            chair=chair1,
            nurse=nurse,
            starts_at=at(day, 13),
            route="iv",
        )
    assert Appointment.objects.count() == 9
    many = _week_count(client, actors[who])
    assert many == one
    # 18 on PostgreSQL: the page's audit event takes the hash chain's lock (one query), and
    # the location middleware reads where the user is working (one query, issue 14).
    assert many <= 18


def test_the_day_calendar_costs_the_same_queries_however_full(
    client, booked, front_desk, other_patient, chair1, nurse
):
    client.force_login(front_desk)
    url = reverse("scheduling:calendar")
    with CaptureQueriesContext(connection) as first:
        client.get(url, {"date": "2031-06-02"})
    services.appointment_book(
        actor=front_desk,
        patient=other_patient,
        chair=chair1,
        nurse=nurse,
        starts_at=at(MONDAY, 13),
        route="iv",
    )
    with CaptureQueriesContext(connection) as second:
        html = client.get(url, {"date": "2031-06-02"}).content.decode()
    assert len(second.captured_queries) == len(first.captured_queries)
    assert "Rivera, Jordan" in html and "Morgan, Casey" in html


def test_clinicians_see_only_their_care_teams_names(client, actors, booked):
    url = reverse("scheduling:calendar")
    client.force_login(actors["prescriber"])
    html = client.get(url, {"date": "2031-06-02"}).content.decode()
    assert "Rivera, Jordan" in html
    assert reverse("scheduling:appointment_detail", args=[booked.uuid]) in html
    client.force_login(actors["nurse_off_team"])
    html = client.get(url, {"date": "2031-06-02"}).content.decode()
    assert "Rivera" not in html and "Booked" in html and "09:00–10:10" in html
    assert str(booked.uuid) not in html


def test_the_calendar_filters_by_room_and_nurse_and_refuses_unknown_ones(
    client, booked, front_desk, nurse2, room
):
    client.force_login(front_desk)
    url = reverse("scheduling:calendar")
    html = client.get(url, {"date": "2031-06-02", "nurse": nurse2.uuid}).content.decode()
    assert "Rivera" not in html
    html = client.get(url, {"date": "2031-06-02", "room": room.uuid}).content.decode()
    assert "Rivera, Jordan" in html
    assert client.get(url, {"room": "not-a-uuid"}).status_code == 404
    assert client.get(url, {"nurse": str(front_desk.uuid)}).status_code == 404


def test_the_calendar_answers_htmx_with_the_grid_only(client, booked, front_desk):
    client.force_login(front_desk)
    response = client.get(
        reverse("scheduling:calendar"), {"date": "2031-06-02"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="calendar-grid"') and "<html" not in html


# --------------------------------------------------------------------------- booking a plan


def test_the_booking_page_proposes_and_books_a_session(
    client, clinic, plan, front_desk, chair1, nurse
):
    client.force_login(front_desk)
    url = reverse("scheduling:plan_book", args=[plan.uuid])
    html = client.get(url).content.decode()
    assert 'name="s1-date" value="2031-06-02"' in html
    assert 'name="s1-time" value="08:00"' in html
    assert f'<option value="{chair1.uuid}" selected>' in html
    session = plan.sessions.get(number=1)
    response = client.post(
        url, {"session": str(session.uuid), **_slot("s1", MONDAY, "10:00", chair1, nurse)}
    )
    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.planned_session == session and appointment.starts_at == at(MONDAY, 10)
    html = client.get(url).content.decode()
    assert "Session 1 booked for Monday 06/02/2031 at 10:00." in html
    assert 'name="s1-date"' not in html and 'name="s2-date"' in html


def test_a_refused_booking_shows_why_next_to_the_form(
    client, booked, plan, front_desk, other_patient, chair1, nurse
):
    client.force_login(front_desk)
    url = reverse("scheduling:plan_book", args=[plan.uuid])
    session = plan.sessions.get(number=2)
    # Chair 1 is taken on Wednesday from 09:00 by another patient.
    services.appointment_book(
        actor=front_desk,
        patient=other_patient,
        chair=chair1,
        nurse=nurse,
        starts_at=at(WEEKDAYS[2], 9),
        route="iv",
    )
    response = client.post(
        url, {"session": str(session.uuid), **_slot("s2", WEEKDAYS[2], "09:30", chair1, nurse)}
    )
    assert response.status_code == 200
    assert "That chair is already booked from 09:00 to 10:10." in response.content.decode()
    assert not Appointment.objects.filter(planned_session=session).exists()


def test_an_unknown_plan_is_not_found(client, front_desk, plan):
    client.force_login(front_desk)
    missing = "00000000-0000-4000-8000-000000000000"
    assert client.get(reverse("scheduling:plan_book", args=[missing])).status_code == 404


# --------------------------------------------------------------------------- one appointment


def test_the_appointment_page_cancels_with_a_reason(client, booked, front_desk):
    client.force_login(front_desk)
    detail = reverse("scheduling:appointment_detail", args=[booked.uuid])
    response = client.post(detail + "cancel/", {"cancel-reason": ""})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    response = client.post(detail + "cancel/", {"cancel-reason": "Patient is unwell"})
    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.status == "cancelled" and booked.status_reason == "Patient is unwell"
    html = client.get(detail).content.decode()
    assert "Cancelled: Patient is unwell" in html and "Move the appointment" not in html


def test_the_appointment_page_refuses_a_clash_on_reschedule(
    client, booked, front_desk, other_patient, chair1, nurse2
):
    services.appointment_book(
        actor=front_desk,
        patient=other_patient,
        chair=chair1,
        nurse=nurse2,
        starts_at=at(MONDAY, 13),
        route="iv",
    )
    client.force_login(front_desk)
    detail = reverse("scheduling:appointment_detail", args=[booked.uuid])
    response = client.post(
        detail + "reschedule/",
        _slot("move", MONDAY, "13:30", chair1, booked.nurse, reason="Later, please"),
    )
    assert response.status_code == 200
    assert "That chair is already booked from 13:00 to 14:10." in response.content.decode()


def test_the_appointment_page_shows_the_reminders_and_their_status(
    client, booked, front_desk, django_capture_on_commit_callbacks
):
    from clinic.patients.models import Patient

    Patient.objects.filter(pk=booked.patient_id).update(email="jordan.rivera@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_reminders_send(booked.starts_at - datetime.timedelta(hours=20))
    client.force_login(front_desk)
    html = client.get(reverse("scheduling:appointment_detail", args=[booked.uuid])).content
    assert "24 h before" in html.decode() and "Sent" in html.decode()


# --------------------------------------------------------------------------- resources


def test_the_admin_sets_up_hours_rooms_chairs_and_shifts(client, clinic_admin, nurse):
    client.force_login(clinic_admin)
    url = reverse("scheduling:resources")
    assert "No opening hours yet" in client.get(url).content.decode()
    hours = {"action": "hours", "hours-opens_0": "08:00", "hours-closes_0": "17:00"}
    assert client.post(url, hours).status_code == 302
    assert [(h.weekday, h.opens) for h in OpeningHours.objects.all()] == [(0, datetime.time(8))]
    bad = {"action": "hours", "hours-opens_1": "17:00", "hours-closes_1": "08:00"}
    response = client.post(url, bad)
    assert response.status_code == 200
    assert "The clinic must close after it opens." in response.content.decode()
    assert client.post(url, {"action": "room_add", "room-name": "Room A"}).status_code == 302
    room = Room.objects.get()
    chair = {
        "action": "chair_add",
        "chair-room": str(room.uuid),
        "chair-name": "Chair 1",
        "chair-capabilities": ["iv_pump", "cardiac_monitor"],
    }
    assert client.post(url, chair).status_code == 302
    assert Chair.objects.get().capabilities == ["iv_pump", "cardiac_monitor"]
    shift = {
        "action": "shift_add",
        "shift-staff": str(nurse.uuid),
        "shift-date": "2031-06-02",
        "shift-start": "08:00",
        "shift-end": "12:00",
    }
    assert client.post(url, shift).status_code == 302
    response = client.post(url, {**shift, "shift-start": "11:00", "shift-end": "13:00"})
    assert response.status_code == 200
    assert "already has a shift from 08:00 to 12:00" in response.content.decode()
    assert StaffShift.objects.count() == 1


# --------------------------------------------------------------------------- calendar feed

ICAL_LINE = re.compile(r"^(?:[A-Z-]+(?:;[^:]*)?:.*| .*)$")


def _feed_url(token: str) -> str:
    return reverse("scheduling:ical_feed", args=[token])


def test_a_clinicians_feed_is_valid_icalendar_without_patient_names(client, booked, nurse, patient):
    client.force_login(nurse)
    html = client.post(reverse("scheduling:calendar_feed"), {"action": "create"}).content
    token = re.search(r"/schedule/ical/([A-Za-z0-9_-]+)\.ics", html.decode()).group(1)
    assert CalendarFeed.objects.get().digest_sha256 == services.feed_token_digest(token)
    assert token not in CalendarFeed.objects.values_list("digest_sha256", flat=True)[0]

    response = Client().get(_feed_url(token))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:")
    assert body.endswith("END:VCALENDAR\r\n")
    lines = body.split("\r\n")[:-1]
    assert all(len(line.encode()) <= 75 for line in lines)
    assert all(ICAL_LINE.match(line) for line in lines), lines
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT") == 6  # 1 visit, 5 shifts
    assert "SUMMARY:Appointment (Chair 1)" in lines
    assert "DTSTART:20310602T130000Z" in lines and "DTEND:20310602T141000Z" in lines
    for secret in (patient.legal_given_name, patient.legal_family_name, patient.mrn, "IV"):
        assert secret not in body


def test_a_revoked_or_replaced_feed_is_not_found(client, nurse, feed_token):
    client.force_login(nurse)
    assert Client().get(_feed_url(feed_token)).status_code == 200
    _feed, new_token = services.calendar_feed_create(actor=nurse)
    assert Client().get(_feed_url(feed_token)).status_code == 404
    assert Client().get(_feed_url(new_token)).status_code == 200
    assert client.post(reverse("scheduling:calendar_feed"), {"action": "revoke"}).status_code == 302
    assert Client().get(_feed_url(new_token)).status_code == 404
    assert Client().get(_feed_url("not-a-token")).status_code == 404


def test_a_feed_stops_when_its_owner_leaves(nurse, feed_token):
    nurse.is_active = False
    nurse.save(update_fields=["is_active"])
    assert Client().get(_feed_url(feed_token)).status_code == 404
