"""No double booking under concurrency, and in the database itself: PostgreSQL only (SQLite
has no exclusion constraints and serialises all writers).

Chairs and patients: the row locks, and under them the exclusion constraints. Nurses, who run
up to `nurse_max_concurrent_chairs` chairs at once: the count taken under the nurse's row lock
alone (migration 0003 dropped the nurse's exclusion constraint).
"""

from __future__ import annotations

import datetime
import time

import pytest
from django.db import IntegrityError, connection, transaction

from clinic.core.exceptions import Conflict
from clinic.patients.tests.factories import register
from clinic.scheduling import services
from clinic.scheduling.models import Appointment
from clinic.scheduling.services import booking
from clinic.scheduling.tests.conftest import MONDAY, at
from tests.concurrency import in_threads

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_two_desks_booking_one_chair_at_once_get_one_appointment(
    clinic, patient, other_patient, front_desk, make_staff, chair1, nurse, nurse2
):
    second_desk = make_staff("front_desk", username="front_desk_2")
    desks, patients, nurses = [front_desk, second_desk], [patient, other_patient], [nurse, nurse2]

    def work(i):
        return services.appointment_book(
            actor=desks[i],
            patient=patients[i],
            chair=chair1,
            nurse=nurses[i],
            starts_at=at(MONDAY, 9),
            route="iv",
        )

    results = in_threads(2, work)
    booked = [r for r in results if isinstance(r, Appointment)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(booked) == 1 and len(refused) == 1, results
    assert refused[0].message == "That chair is already booked from 09:00 to 10:10."
    assert Appointment.objects.count() == 1


def _chairs_in_rooms(admin, count: int, capabilities=()) -> list:
    """One chair in each of `count` new rooms: locking a chair also locks its room's row (the
    chair query joins the room), so chairs of one room would queue behind each other anyway."""
    return [
        services.chair_create(
            actor=admin,
            room=services.room_create(actor=admin, name=f"Race room {i}"),
            name=f"Race chair {i}",
            capabilities=capabilities,
        )
        for i in range(count)
    ]


def _pause_after_the_check(monkeypatch):
    """Hold each booking for a moment between its check and its insert: without the nurse's row
    lock, every desk would pass the check before any of them wrote its appointment."""
    check = booking._check_bookable

    def check_then_wait(**kwargs):
        check(**kwargs)
        time.sleep(0.5)

    monkeypatch.setattr(booking, "_check_bookable", check_then_wait)


def test_two_desks_booking_one_patient_at_once_get_one_appointment(
    clinic, patient, front_desk, make_staff, chair1, chair2, nurse, nurse2
):
    second_desk = make_staff("front_desk", username="front_desk_2")
    desks, chairs, nurses = [front_desk, second_desk], [chair1, chair2], [nurse, nurse2]

    def work(i):
        return services.appointment_book(
            actor=desks[i],
            patient=patient,
            chair=chairs[i],
            nurse=nurses[i],
            starts_at=at(MONDAY, 9),
            route="esketamine",
        )

    results = in_threads(2, work)
    booked = [r for r in results if isinstance(r, Appointment)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(booked) == 1 and len(refused) == 1, results
    assert refused[0].message == "The patient already has an appointment from 09:00 to 11:10."
    assert Appointment.objects.count() == 1


def test_with_one_chair_per_nurse_two_desks_booking_one_nurse_get_one_appointment(
    settings,
    monkeypatch,
    clinic,
    clinic_admin,
    patient,
    other_patient,
    front_desk,
    make_staff,
    nurse,
):
    # Two chairs in two rooms, two patients: no exclusion constraint and no other lock stands
    # behind this, the nurse's row lock alone serialises the desks.
    settings.CLINIC_POLICY = {"scheduling": {"nurse_max_concurrent_chairs": 1}}
    _pause_after_the_check(monkeypatch)
    second_desk = make_staff("front_desk", username="front_desk_2")
    chairs = _chairs_in_rooms(clinic_admin, 2, capabilities=["pulse_oximeter"])
    desks, patients = [front_desk, second_desk], [patient, other_patient]

    def work(i):
        return services.appointment_book(
            actor=desks[i],
            patient=patients[i],
            chair=chairs[i],
            nurse=nurse,
            starts_at=at(MONDAY, 9),
            route="esketamine",
        )

    results = in_threads(2, work)
    booked = [r for r in results if isinstance(r, Appointment)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(booked) == 1 and len(refused) == 1, results
    assert refused[0].message == (
        "nurse, RN already has 1 patient at 09:00; the clinic's limit is 1 chair at once."
    )
    assert Appointment.objects.count() == 1


def test_three_desks_booking_a_nurse_limited_to_two_chairs_get_two_appointments(
    settings, monkeypatch, clinic, clinic_admin, front_desk, make_staff, nurse
):
    settings.CLINIC_POLICY = {"scheduling": {"nurse_max_concurrent_chairs": 2}}
    _pause_after_the_check(monkeypatch)
    desks = [front_desk] + [make_staff("front_desk", username=f"desk_{i}") for i in (2, 3)]
    chairs = _chairs_in_rooms(clinic_admin, 3)  # IM needs no equipment
    patients = [register(front_desk, legal_given_name=f"Race{i}") for i in range(3)]

    def work(i):
        return services.appointment_book(
            actor=desks[i],
            patient=patients[i],
            chair=chairs[i],
            nurse=nurse,
            starts_at=at(MONDAY, 9, 10 * i),
            route="im",
        )

    results = in_threads(3, work)
    booked = [r for r in results if isinstance(r, Appointment)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(booked) == 2 and len(refused) == 1, results
    # Whichever comes last, the other two both run from 09:20 (IM holds a chair 60 minutes).
    assert refused[0].message == (
        "nurse, RN already has 2 patients at 09:20; the clinic's limit is 2 chairs at once."
    )
    assert Appointment.objects.filter(nurse=nurse).count() == 2


def _raw(patient, chair, nurse, creator, starts_at, minutes=70, status="booked"):
    """An INSERT that goes around the booking service."""
    with transaction.atomic():
        return Appointment.objects.create(
            patient=patient,
            chair=chair,
            nurse=nurse,
            starts_at=starts_at,
            ends_at=starts_at + datetime.timedelta(minutes=minutes),
            route="iv",
            status=status,
            status_reason="" if status == "booked" else "test",
            created_by=creator,
        )


def _exclusion_constraints() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint "
            "WHERE conrelid = 'scheduling_appointment'::regclass AND contype = 'x'"
        )
        return {row[0] for row in cursor.fetchall()}


def test_the_database_refuses_an_overlap_that_bypasses_the_service(
    clinic, patient, other_patient, front_desk, chair1, chair2, nurse, nurse2
):
    assert _exclusion_constraints() == {
        "appointment_chair_no_overlap",
        "appointment_patient_no_overlap",
    }
    _raw(patient, chair1, nurse, front_desk, at(MONDAY, 9))
    cases = [
        ("appointment_chair_no_overlap", (other_patient, chair1, nurse2)),
        ("appointment_patient_no_overlap", (patient, chair2, nurse2)),
    ]
    for constraint, (who, chair, staff) in cases:
        with pytest.raises(IntegrityError) as caught:
            _raw(who, chair, staff, front_desk, at(MONDAY, 9, 30))
        assert caught.value.__cause__.diag.constraint_name == constraint
    # Back to back is fine ('[)' ranges), and so is an overlap with a cancelled row.
    _raw(other_patient, chair1, nurse, front_desk, at(MONDAY, 10, 10))
    _raw(other_patient, chair2, nurse2, front_desk, at(MONDAY, 9), status="cancelled")
    # A nurse's overlaps are the booking service's to count, not the database's to refuse.
    third = register(front_desk, legal_given_name="Third")
    _raw(third, chair2, nurse, front_desk, at(MONDAY, 9, 30))
    assert Appointment.objects.count() == 4


def test_a_constraint_refusal_becomes_the_same_conflict(
    clinic, patient, other_patient, front_desk, chair1, nurse, nurse2, monkeypatch
):
    services.appointment_book(
        actor=front_desk,
        patient=patient,
        chair=chair1,
        nurse=nurse,
        starts_at=at(MONDAY, 9),
        route="iv",
    )
    # Without the service's own check, the exclusion constraint is what refuses the row.
    monkeypatch.setattr(booking, "_check_bookable", lambda **kwargs: None)
    with pytest.raises(Conflict) as caught:
        services.appointment_book(
            actor=front_desk,
            patient=other_patient,
            chair=chair1,
            nurse=nurse2,
            starts_at=at(MONDAY, 9, 30),
            route="iv",
        )
    assert caught.value.message == "That chair is already booked from 09:00 to 10:10."
    assert caught.value.code == "chair_booked"
    assert Appointment.objects.count() == 1
