"""No double booking under concurrency, and in the database itself: PostgreSQL only (SQLite
has no exclusion constraints and serialises all writers)."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import IntegrityError, connection, transaction

from clinic.core.exceptions import Conflict
from clinic.scheduling import services
from clinic.scheduling.models import Appointment
from clinic.scheduling.tests.conftest import MONDAY, at

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _in_threads(count, work):
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index):
        try:
            barrier.wait(timeout=10)
            results[index] = work(index)
        except Exception as error:  # collected and asserted by the test
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


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

    results = _in_threads(2, work)
    booked = [r for r in results if isinstance(r, Appointment)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(booked) == 1 and len(refused) == 1, results
    assert refused[0].message == "That chair is already booked from 09:00 to 10:10."
    assert Appointment.objects.count() == 1


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


def test_the_database_refuses_an_overlap_that_bypasses_the_service(
    clinic, patient, other_patient, front_desk, chair1, chair2, nurse, nurse2
):
    _raw(patient, chair1, nurse, front_desk, at(MONDAY, 9))
    cases = [
        ("appointment_chair_no_overlap", (other_patient, chair1, nurse2)),
        ("appointment_nurse_no_overlap", (other_patient, chair2, nurse)),
        ("appointment_patient_no_overlap", (patient, chair2, nurse2)),
    ]
    for constraint, (who, chair, staff) in cases:
        with pytest.raises(IntegrityError) as caught:
            _raw(who, chair, staff, front_desk, at(MONDAY, 9, 30))
        assert caught.value.__cause__.diag.constraint_name == constraint
    # Back to back is fine ('[)' ranges), and so is an overlap with a cancelled row.
    _raw(other_patient, chair1, nurse, front_desk, at(MONDAY, 10, 10))
    _raw(other_patient, chair2, nurse2, front_desk, at(MONDAY, 9), status="cancelled")
    assert Appointment.objects.count() == 3


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
    monkeypatch.setattr(services, "_check_bookable", lambda **kwargs: None)
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
