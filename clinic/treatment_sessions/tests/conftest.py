"""A clinic day for the session tests: Monday 2 June 2031 (America/New_York), the schedule
tests' week. The clock is frozen by `clock` (time-machine) and moved with `clock.move_to(...)`.

`iv_appointment` is `patient`'s 09:00 IV appointment in Chair 1 with the root `nurse`, for
session 1 of an active plan at 0.5 mg/kg on actual body weight; the patient weighs 80 kg, so
today's dose is 0.5 × 80 = 40 mg over 40 minutes. `esketamine_appointment` is the same patient's
09:00 esketamine 56 mg appointment (2 devices of 28 mg). Stock: two 100 mg vials (10 mg/mL ×
10 mL) and three 28 mg devices, received by the `prescriber`, who also witnesses wastes.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import time_machine

# The ledger tests' product fixtures, used here by name.
from clinic.controlled_substances.tests.conftest import (  # noqa: F401
    device_product,
    receive,
    vial_product,
)
from clinic.patients.services import body_measurement_record
from clinic.scheduling.models import Appointment
from clinic.scheduling.tests.conftest import MONDAY, at, make_plan

__all__ = ["MONDAY", "at"]


@pytest.fixture
def clock():
    with time_machine.travel(at(MONDAY, 8, 30), tick=False) as traveller:
        yield traveller


@pytest.fixture
def chair(clinic_admin):
    from clinic.scheduling import services

    room = services.room_create(actor=clinic_admin, name="Room A")
    return services.chair_create(
        actor=clinic_admin,
        room=room,
        name="Chair 1",
        capabilities=["iv_pump", "cardiac_monitor", "pulse_oximeter"],
    )


@pytest.fixture
def weighed_patient(patient, nurse, clock):
    body_measurement_record(
        actor=nurse, patient=patient, measured_on=MONDAY, weight_kg=Decimal("80")
    )
    return patient


def _appointment(patient, chair, nurse, front_desk, plan, *, route, minutes):
    return Appointment.objects.create(
        patient=patient,
        chair=chair,
        nurse=nurse,
        starts_at=at(MONDAY, 9),
        ends_at=at(MONDAY, 9) + datetime.timedelta(minutes=minutes),
        route=route,
        planned_session=plan.sessions.order_by("number").first(),
        created_by=front_desk,
    )


@pytest.fixture
def iv_appointment(weighed_patient, chair, nurse, prescriber, front_desk, clock):
    plan = make_plan(
        weighed_patient,
        nurse=nurse,
        prescriber=prescriber,
        route="iv",
        dose_mg_per_kg=Decimal("0.5"),
        dates=[MONDAY],
    )
    return _appointment(weighed_patient, chair, nurse, front_desk, plan, route="iv", minutes=70)


@pytest.fixture
def esketamine_appointment(weighed_patient, chair, nurse, prescriber, front_desk, clock):
    plan = make_plan(
        weighed_patient,
        nurse=nurse,
        prescriber=prescriber,
        route="esketamine",
        esketamine_dose_mg=56,
        dates=[MONDAY],
    )
    return _appointment(
        weighed_patient, chair, nurse, front_desk, plan, route="esketamine", minutes=150
    )


@pytest.fixture
def vials(prescriber, vial_product, clock):  # noqa: F811
    return list(receive(prescriber, vial_product).containers.order_by("pk"))


@pytest.fixture
def devices(prescriber, device_product, clock):  # noqa: F811
    return list(
        receive(prescriber, device_product, containers=3, lot_number="ESK1").containers.order_by(
            "pk"
        )
    )
