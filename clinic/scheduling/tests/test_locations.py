"""The schedule per location (issue 14): rooms, hours and shifts belong to a location; a chair
is booked within its own location's opening hours with a nurse on shift there; the resources
page manages one location at a time; booking offers the current location's chairs. The care
team is the network's: the same patient is booked at any location."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clinic.core.models import AuditEvent
from clinic.locations import services as locations
from clinic.locations.models import Location, LocationStaff
from clinic.scheduling import selectors, services
from clinic.scheduling.models import Appointment, OpeningHours, Room, StaffShift
from clinic.scheduling.tests.conftest import (
    CLOSE,
    MONDAY,
    OPEN,
    WEEKDAYS,
    at,
    book,
    conflict,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def main():
    return Location.objects.get(is_default=True)


@pytest.fixture
def riverside(clinic_admin):
    return locations.location_open(
        actor=clinic_admin,
        details=locations.LocationDetails(
            name="Riverside", code="RVS", time_zone="America/New_York"
        ),
    )


@pytest.fixture
def river_chair(clinic_admin, riverside):
    room = services.room_create(actor=clinic_admin, name="Room A", location=riverside)
    return services.chair_create(
        actor=clinic_admin,
        room=room,
        name="River 1",
        capabilities=["iv_pump", "cardiac_monitor", "pulse_oximeter"],
    )


def test_rooms_of_the_same_name_may_be_at_two_locations(clinic_admin, room, river_chair):
    assert Room.objects.filter(name="Room A").count() == 2


def test_each_location_keeps_its_own_opening_hours(clinic_admin, opening_hours, riverside):
    services.opening_hours_set(actor=clinic_admin, hours={5: (OPEN, CLOSE)}, location=riverside)
    assert list(
        OpeningHours.objects.filter(location=riverside).values_list("weekday", flat=True)
    ) == [5]
    # The main location's Monday-to-Friday hours are untouched.
    assert OpeningHours.objects.filter(location__is_default=True).count() == 5


def test_a_chair_is_booked_within_its_own_location_s_hours(
    clinic, clinic_admin, front_desk, patient, nurse, riverside, river_chair
):
    """The main location is open (the `clinic` fixture); Riverside has no hours yet."""
    refused = conflict(lambda: book(front_desk, patient, river_chair, nurse, at(MONDAY, 9)))
    assert refused.code == "outside_opening_hours"
    services.opening_hours_set(
        actor=clinic_admin, hours={d: (OPEN, CLOSE) for d in range(5)}, location=riverside
    )
    # The nurse's shifts are at the main location, not at Riverside.
    refused = conflict(lambda: book(front_desk, patient, river_chair, nurse, at(MONDAY, 9)))
    assert refused.code == "nurse_off_shift"
    tuesday = WEEKDAYS[1]
    # One shift at a time, wherever it is: her Tuesday moves from the main location.
    refused = conflict(
        lambda: services.staff_shift_add(
            actor=clinic_admin, staff=nurse, date=tuesday, start=OPEN, end=CLOSE, location=riverside
        )
    )
    assert refused.code == "shift_overlap"
    services.staff_shift_remove(
        actor=clinic_admin, shift=StaffShift.objects.get(staff=nurse, date=tuesday)
    )
    services.staff_shift_add(
        actor=clinic_admin, staff=nurse, date=tuesday, start=OPEN, end=CLOSE, location=riverside
    )
    appointment = book(front_desk, patient, river_chair, nurse, at(tuesday, 9))
    assert appointment.chair.room.location == riverside


def test_booking_offers_only_the_location_s_chairs(clinic, river_chair, main, riverside):
    assert "River 1" not in {c.name for c in selectors.booking_chairs(main)}
    assert {c.name for c in selectors.booking_chairs(riverside)} == {"River 1"}


def test_the_resources_page_manages_the_chosen_location(client, clinic_admin, room, riverside):
    client.force_login(clinic_admin)
    url = f"{reverse('scheduling:resources')}?location={riverside.uuid}"
    page = client.get(url).content.decode()
    assert "at Riverside" in page and "Room A" not in page
    response = client.post(url, {"action": "room_add", "room-name": "Garden"})
    assert response.status_code == 302 and response["Location"] == url
    assert Room.objects.get(name="Garden").location == riverside
    response = client.post(
        url,
        {
            "action": "hours",
            **{f"hours-opens_{d}": "09:00" for d in range(5)},
            **{f"hours-closes_{d}": "15:00" for d in range(5)},
        },
    )
    assert response.status_code == 302
    assert OpeningHours.objects.filter(location=riverside).count() == 5
    assert not OpeningHours.objects.filter(location__is_default=True).exists()


def test_the_resources_page_of_the_location_worked_at(client, clinic_admin, room, riverside):
    client.force_login(clinic_admin)
    page = client.get(reverse("scheduling:resources")).content.decode()
    assert "Room A" in page


# --------------------------------------------------------------------------- one appointment's page
# An appointment is its chair's location's: staff of another location are refused its page and
# its changes as they are refused that location's schedule (403, audited), even when the patient
# is on their care team. The clinic administrator reaches every location.


@pytest.fixture
def river_appointment(front_desk, patient, nurse, river_chair):
    """`patient` (on `nurse`'s care team) at 09:00 on Monday in Riverside's chair."""
    return Appointment.objects.create(
        patient=patient,
        chair=river_chair,
        nurse=nurse,
        starts_at=at(MONDAY, 9),
        ends_at=at(MONDAY, 10),
        route="iv",
        created_by=front_desk,
    )


@pytest.fixture
def only_at_main(clinic_admin, main, riverside, nurse, front_desk, prescriber):
    locations.location_staff_set(
        actor=clinic_admin, location=main, staff_ids=[nurse.pk, front_desk.pk, prescriber.pk]
    )


def _detail_url(appointment):
    return reverse("scheduling:appointment_detail", args=[appointment.uuid])


def _denials(user):
    return list(
        AuditEvent.objects.filter(actor=user, action="denied").values_list("summary", flat=True)
    )


@pytest.mark.parametrize("who", ["nurse", "front_desk"])
def test_staff_of_another_location_read_the_appointment_but_may_not_change_it(
    client, request, only_at_main, river_appointment, who
):
    """The patient can be seen at any location of the network; the appointment page says
    where it is and offers no rescheduling or cancelling to staff who do not work there."""
    user = request.getfixturevalue(who)
    client.force_login(user)
    response = client.get(_detail_url(river_appointment))
    html = response.content.decode()
    assert response.status_code == 200
    if who == "front_desk":
        assert "This appointment is at <strong>Riverside</strong>, where you do not work" in html
    assert _detail_url(river_appointment) + "cancel/" not in html
    assert not _denials(user)


def test_staff_of_another_location_cannot_cancel_its_appointment(
    client, front_desk, only_at_main, river_appointment
):
    client.force_login(front_desk)
    response = client.post(
        _detail_url(river_appointment) + "cancel/", {"cancel-reason": "Patient is unwell"}
    )
    assert response.status_code == 403
    river_appointment.refresh_from_db()
    assert river_appointment.status == "booked"
    assert len(_denials(front_desk)) == 1


def test_staff_of_the_appointment_s_location_open_it(
    client, clinic_admin, riverside, front_desk, only_at_main, river_appointment
):
    locations.location_staff_set(actor=clinic_admin, location=riverside, staff_ids=[front_desk.pk])
    client.force_login(front_desk)
    assert client.get(_detail_url(river_appointment)).status_code == 200


def test_the_clinic_administrator_opens_an_appointment_at_any_location(
    client, clinic_admin, only_at_main, river_appointment
):
    client.force_login(clinic_admin)
    assert client.get(_detail_url(river_appointment)).status_code == 200
    assert not _denials(clinic_admin)


def test_a_clinic_of_one_location_opens_its_appointments_as_before(
    client, front_desk, patient, nurse, chair1
):
    """No second location, no membership rows: the appointment page opens as it did."""
    assert Location.objects.count() == 1
    assert not LocationStaff.objects.exists()
    appointment = Appointment.objects.create(
        patient=patient,
        chair=chair1,
        nurse=nurse,
        starts_at=at(MONDAY, 9),
        ends_at=at(MONDAY, 10),
        route="iv",
        created_by=front_desk,
    )
    for user in (front_desk, nurse):
        client.force_login(user)
        assert client.get(_detail_url(appointment)).status_code == 200
    assert not AuditEvent.objects.filter(action="denied").exists()
