"""The schedule per location (issue 14): rooms, hours and shifts belong to a location; a chair
is booked within its own location's opening hours with a nurse on shift there; the resources
page manages one location at a time; booking offers the current location's chairs. The care
team is the network's: the same patient is booked at any location."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clinic.locations import services as locations
from clinic.locations.models import Location
from clinic.scheduling import selectors, services
from clinic.scheduling.models import OpeningHours, Room, StaffShift
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
