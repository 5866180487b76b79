"""Two portal patients and their sessions, on the session tests' clinic day: Monday 2 June 2031
(America/New_York), the clock frozen at 08:30 by `clock` (time-machine).

- `patient` (Jordan Rivera, the root fixture, care team prescriber/nurse/therapist) signs in as
  `portal_user`; `coming` is Jordan's IV appointment today at 10:00 (booked), `past_session`
  Jordan's completed IV session on Friday 30 May at 09:00.
- `other_patient` (Casey Morgan, same care team) signs in as `other_user`; `other_coming` and
  `other_past` are Casey's, at the same times in another chair.

The portal tests (clinic/portal/tests/test_journal.py) import these fixtures by name.
"""

from __future__ import annotations

import datetime

import pytest

from clinic.scheduling.models import Appointment

# The session tests' clock and chair (fixtures, used here by name).
from clinic.treatment_sessions.tests.conftest import MONDAY, at, chair, clock  # noqa: F401

FRIDAY_BEFORE = MONDAY - datetime.timedelta(days=3)
PASSWORD = "a-long-portal-password-1"


def make_appointment(
    patient,
    chair,  # noqa: F811
    nurse,
    front_desk,
    *,
    starts_at,
    status="booked",
    route="iv",
    minutes=70,
    status_reason="",
):
    return Appointment.objects.create(
        patient=patient,
        chair=chair,
        nurse=nurse,
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(minutes=minutes),
        route=route,
        status=status,
        status_reason=status_reason,
        created_by=front_desk,
    )


def portal_account(patient, *, username: str, email: str):
    from clinic.accounts.models import User

    user = User.objects.create_user(
        username=username, password=PASSWORD, role="patient", email=email
    )
    patient.user = user
    patient.email = email
    patient.save(update_fields=["user", "email"])
    return user


@pytest.fixture
def second_chair(clinic_admin):
    from clinic.scheduling import services

    room = services.room_create(actor=clinic_admin, name="Room B")
    return services.chair_create(
        actor=clinic_admin,
        room=room,
        name="Chair 2",
        capabilities=["iv_pump", "cardiac_monitor", "pulse_oximeter"],
    )


@pytest.fixture
def portal_user(patient, clock):  # noqa: F811
    return portal_account(patient, username="jordan", email="jordan@example.org")


@pytest.fixture
def other_patient(front_desk, prescriber, nurse, therapist):
    from clinic.patients.services import care_team_set
    from clinic.patients.tests.factories import register

    other = register(front_desk, legal_given_name="Casey", legal_family_name="Morgan")
    care_team_set(
        actor=front_desk,
        patient=other,
        primary_prescriber=prescriber,
        nurses=[nurse],
        therapists=[therapist],
    )
    return other


@pytest.fixture
def other_user(other_patient, clock):  # noqa: F811
    return portal_account(other_patient, username="casey", email="casey@example.org")


@pytest.fixture
def coming(patient, chair, nurse, front_desk, clock):  # noqa: F811
    return make_appointment(patient, chair, nurse, front_desk, starts_at=at(MONDAY, 10))


@pytest.fixture
def past_session(patient, chair, nurse, front_desk, clock):  # noqa: F811
    return make_appointment(
        patient, chair, nurse, front_desk, starts_at=at(FRIDAY_BEFORE, 9), status="completed"
    )


@pytest.fixture
def other_coming(other_patient, second_chair, nurse, front_desk, clock):  # noqa: F811
    return make_appointment(
        other_patient, second_chair, nurse, front_desk, starts_at=at(MONDAY, 10)
    )


@pytest.fixture
def other_past(other_patient, second_chair, nurse, front_desk, clock):  # noqa: F811
    return make_appointment(
        other_patient,
        second_chair,
        nurse,
        front_desk,
        starts_at=at(FRIDAY_BEFORE, 9),
        status="completed",
    )
