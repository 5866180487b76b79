"""Resources: opening hours, rooms, chairs and their equipment, staff shifts."""

from __future__ import annotations

import datetime

import pytest

from clinic.core.exceptions import InvalidInput, PermissionDenied
from clinic.scheduling import services
from clinic.scheduling.models import OpeningHours, StaffShift
from clinic.scheduling.tests.conftest import (
    MONDAY,
    WEDNESDAY,
    at,
    book,
    conflict,
)

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------- resources


def test_opening_hours_are_set_per_weekday(clinic_admin, opening_hours):
    services.opening_hours_set(
        actor=clinic_admin, hours={0: (datetime.time(7, 30), datetime.time(18)), 4: None}
    )
    hours = {h.weekday: (h.opens, h.closes) for h in OpeningHours.objects.all()}
    assert hours[0] == (datetime.time(7, 30), datetime.time(18))
    assert 4 not in hours and hours[1] == (datetime.time(8), datetime.time(17))
    with pytest.raises(InvalidInput) as caught:
        services.opening_hours_set(
            actor=clinic_admin, hours={2: (datetime.time(17), datetime.time(8))}
        )
    assert caught.value.errors == {"weekday_2": ["The clinic must close after it opens."]}


def test_only_clinic_admins_manage_resources(front_desk, room):
    with pytest.raises(PermissionDenied):
        services.room_create(actor=front_desk, name="Room B")
    with pytest.raises(PermissionDenied):
        services.opening_hours_set(actor=front_desk, hours={0: None})


def test_a_shift_cannot_overlap_another_or_be_removed_while_booked(
    clinic, clinic_admin, patient, front_desk, chair1, nurse
):
    error = conflict(
        lambda: services.staff_shift_add(
            actor=clinic_admin,
            staff=nurse,
            date=MONDAY,
            start=datetime.time(16),
            end=datetime.time(19),
        )
    )
    assert error.code == "shift_overlap"
    book(front_desk, patient, chair1, nurse, at(MONDAY, 9))
    monday = StaffShift.objects.get(staff=nurse, date=MONDAY)
    error = conflict(lambda: services.staff_shift_remove(actor=clinic_admin, shift=monday))
    assert error.code == "resource_in_use"
    services.staff_shift_remove(
        actor=clinic_admin, shift=StaffShift.objects.get(staff=nurse, date=WEDNESDAY)
    )
    assert StaffShift.objects.filter(staff=nurse).count() == 4


def test_a_chair_with_upcoming_appointments_stays_in_service(
    clinic, clinic_admin, patient, front_desk, chair1, chair2, nurse
):
    book(front_desk, patient, chair1, nurse, at(MONDAY, 9))
    error = conflict(lambda: services.chair_update(actor=clinic_admin, chair=chair1, active=False))
    assert error.code == "resource_in_use" and "1 upcoming appointment" in error.message
    assert services.chair_update(actor=clinic_admin, chair=chair2, active=False).active is False
    with pytest.raises(InvalidInput):
        book(front_desk, patient, chair2, nurse, at(WEDNESDAY, 9), "esketamine")


def test_chair_equipment_comes_from_the_vocabulary(clinic_admin, room):
    with pytest.raises(InvalidInput) as caught:
        services.chair_create(actor=clinic_admin, room=room, name="Chair 9", capabilities=["ecg"])
    assert caught.value.errors == {"capabilities": ["Unknown equipment: ecg."]}
