# ruff: noqa: F811 (the session fixtures are imported by name, then used)
"""Signed sessions for the charge tests, built through the session services on the session
tests' clinic day (Monday 2 June 2031, America/New_York; see
clinic/treatment_sessions/tests/conftest.py): an IV infusion of 40 mg run 09:00-09:40, and an
esketamine session of two 28 mg devices (56 mg), each signed by the root `prescriber`."""

from __future__ import annotations

import pytest

from clinic.treatment_sessions import services
from clinic.treatment_sessions.tests.conftest import (  # noqa: F401
    COMPLETE_REMS,
    MONDAY,
    at,
    chair,
    clock,
    device_product,
    devices,
    esketamine_appointment,
    esketamine_checked_in,
    esketamine_cleared,
    esketamine_dosed,
    fresh,
    iv_appointment,
    iv_checked_in,
    iv_cleared,
    iv_running,
    iv_stopped,
    receive,
    vial_product,
    vials,
    weighed_patient,
)
from clinic.treatment_sessions.tests.test_services_rems import esketamine_discharged  # noqa: F401


@pytest.fixture
def iv_discharged(iv_stopped, nurse, clock):
    clock.move_to(at(MONDAY, 10, 10))
    services.session_score_record(
        actor=nurse, session=iv_stopped, kind="modified-aldrete", answers=[2, 2, 2, 2, 2]
    )
    services.session_discharge(
        actor=nurse, session=iv_stopped, escort_present=True, instructions_given=True
    )
    return fresh(iv_stopped)


def sign(session, nurse, prescriber):
    services.nurse_note_save(actor=nurse, session=session, text="Uneventful.")
    services.session_sign(actor=prescriber, session=session)
    return fresh(session)


@pytest.fixture
def iv_signed(iv_discharged, nurse, prescriber, clock):
    clock.move_to(at(MONDAY, 10, 30))
    return sign(iv_discharged, nurse, prescriber)


@pytest.fixture
def esketamine_signed(esketamine_discharged, nurse, prescriber):  # noqa: F811
    services.rems_form_save(actor=nurse, session=esketamine_discharged, values=COMPLETE_REMS)
    return sign(esketamine_discharged, nurse, prescriber)
