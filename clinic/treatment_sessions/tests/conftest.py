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


# A complete REMS monitoring form of the esketamine fixture session (two devices, 56 mg).
COMPLETE_REMS = {
    "patient_id": "P-000123",
    "setting_id": "HCS-0042",
    "session_date": "2031-06-02",
    "dose": "56 mg",
    "lot_number": "ESK1",
    "concomitant_medications": [],
    "total_monitoring_minutes": 125,
    "vitals_acceptable_pre_dose": True,
    "vitals_acceptable_at_completion": True,
    "bp_pre_dose": "130/80 mmHg",
    "bp_about_40_min": "142/88 mmHg",
    "bp_pre_discharge": "128/80 mmHg",
    "sedation_occurred": False,
    "dissociation_occurred": True,
    "respiratory_depression_occurred": False,
    "serious_adverse_events": [],
    "ready_to_leave": "Yes",
}


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


# --------------------------------------------------------------------------- sessions in progress
# Sessions driven through the services to a given point, for the service tests (added by the
# service tests; the fixtures above keep their meaning). Every one returns a fresh row.
#
# Pre-checks that pass for the 09:00 appointments: last food at 03:00 (6 h before), last clear
# liquid at 06:00 (3 h before), escort confirmed, pregnancy test negative (the patient is
# female), no questionnaires due, the patient's intention, the setting; then a pre-dose reading
# of 130/80 (not above 140/90).


def passing_prechecks() -> dict:
    return {
        "last_food_at": at(MONDAY, 3),
        "last_liquid_at": at(MONDAY, 6),
        "escort_name": "Sam Rivera",
        "escort_phone": "(555) 010-9988",
        "escort_confirmed": True,
        "pregnancy_test": "negative",
        "questionnaires": "none_due",
        "intention": "To feel lighter and kinder to myself",
        "setting_eye_mask": True,
        "setting_headphones_music": True,
        "setting_music_choice": "Ambient playlist",
        "setting_lighting": "dimmed",
    }


def pass_prechecks(actor, session, *, systolic=130, diastolic=80, **overrides):
    from clinic.treatment_sessions import services

    services.precheck_record(
        actor=actor, session=session, data={**passing_prechecks(), **overrides}
    )
    services.vitals_record(
        actor=actor,
        session=session,
        systolic_mmhg=systolic,
        diastolic_mmhg=diastolic,
        heart_rate_bpm=72,
        spo2_percent=98,
        respiratory_rate_per_min=14,
    )
    return fresh(session)


def identity_of(appointment):
    """The patient of `appointment` says their name and date of birth at check-in."""
    from clinic.treatment_sessions.services import IdentityCheck

    return IdentityCheck(
        full_name_confirmed=True, stated_date_of_birth=appointment.patient.date_of_birth
    )


def balance_of(container) -> Decimal:
    """A container's balance as the ledger holds it now."""
    from clinic.controlled_substances.models import Container

    return Container.objects.get(pk=container.pk).balance_mg


def fresh(session):
    from clinic.treatment_sessions.models import TreatmentSession

    return TreatmentSession.objects.get(pk=session.pk)


@pytest.fixture
def im_appointment(weighed_patient, chair, nurse, prescriber, front_desk, clock):
    """`patient`'s 09:00 IM appointment at 0.5 mg/kg: 0.5 × 80 kg = 40 mg."""
    plan = make_plan(
        weighed_patient,
        nurse=nurse,
        prescriber=prescriber,
        route="im",
        dose_mg_per_kg=Decimal("0.5"),
        dates=[MONDAY],
    )
    return _appointment(weighed_patient, chair, nurse, front_desk, plan, route="im", minutes=90)


@pytest.fixture
def iv_checked_in(iv_appointment, nurse, clock):
    """The IV appointment checked in by the nurse at 08:50."""
    from clinic.treatment_sessions import services

    clock.move_to(at(MONDAY, 8, 50))
    return services.session_check_in(
        actor=nurse, appointment=iv_appointment, identity=identity_of(iv_appointment)
    )


@pytest.fixture
def iv_cleared(iv_checked_in, nurse):
    """Pre-checks passed at 08:50, pre-dose BP 130/80."""
    return pass_prechecks(nurse, iv_checked_in)


@pytest.fixture
def iv_running(iv_cleared, nurse, vials, clock):
    """Infusion started at 09:00 from the first vial: 50 mg drawn for the 40 mg dose."""
    from clinic.treatment_sessions import services

    clock.move_to(at(MONDAY, 9))
    services.infusion_start(
        actor=nurse, session=iv_cleared, container=vials[0], drawn_mg="50", rate_ml_per_h="150"
    )
    return fresh(iv_cleared)


@pytest.fixture
def iv_stopped(iv_running, nurse, prescriber, clock):
    """Infusion stopped at 09:40 with the 40 mg given; the 10 mg left wasted, witnessed by
    the prescriber."""
    from clinic.treatment_sessions import services

    clock.move_to(at(MONDAY, 9, 40))
    services.infusion_stop(actor=nurse, session=iv_running, given_mg="40", witness=prescriber)
    return fresh(iv_running)


@pytest.fixture
def esketamine_checked_in(esketamine_appointment, nurse, clock):
    from clinic.treatment_sessions import services

    clock.move_to(at(MONDAY, 8, 50))
    return services.session_check_in(
        actor=nurse,
        appointment=esketamine_appointment,
        identity=identity_of(esketamine_appointment),
    )


@pytest.fixture
def esketamine_cleared(esketamine_checked_in, nurse):
    return pass_prechecks(nurse, esketamine_checked_in)


@pytest.fixture
def esketamine_dosed(esketamine_cleared, nurse, devices, clock):
    """Device 1 at 09:00 and device 2 (the last of 56 mg) at 09:05."""
    from clinic.treatment_sessions import services

    clock.move_to(at(MONDAY, 9))
    services.esketamine_device_record(actor=nurse, session=esketamine_cleared, container=devices[0])
    clock.move_to(at(MONDAY, 9, 5))
    services.esketamine_device_record(actor=nurse, session=esketamine_cleared, container=devices[1])
    return fresh(esketamine_cleared)


@pytest.fixture
def second_iv_cleared(chair, nurse, prescriber, front_desk, clock):
    """Another 80 kg patient (Casey Morgan, same care team) with a 10:30 IV appointment in the
    same chair at 0.5 mg/kg → 40 mg, checked in and cleared at the clock's current time."""
    from clinic.patients.services import care_team_set
    from clinic.patients.tests.factories import register
    from clinic.treatment_sessions import services

    other = register(front_desk, legal_given_name="Casey", legal_family_name="Morgan")
    care_team_set(actor=front_desk, patient=other, primary_prescriber=prescriber, nurses=[nurse])
    body_measurement_record(actor=nurse, patient=other, measured_on=MONDAY, weight_kg="80")
    plan = make_plan(
        other,
        nurse=nurse,
        prescriber=prescriber,
        route="iv",
        dose_mg_per_kg=Decimal("0.5"),
        dates=[MONDAY],
    )
    appointment = Appointment.objects.create(
        patient=other,
        chair=chair,
        nurse=nurse,
        starts_at=at(MONDAY, 10, 30),
        ends_at=at(MONDAY, 11, 40),
        route="iv",
        planned_session=plan.sessions.get(),
        created_by=front_desk,
    )
    session = services.session_check_in(
        actor=nurse, appointment=appointment, identity=identity_of(appointment)
    )
    return pass_prechecks(nurse, session)
