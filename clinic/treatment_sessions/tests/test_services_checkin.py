"""Check-in, through the services: today's booked appointment, the patient's identity, the
chair's nurse and who may check in. The pre-checks that follow are in test_services_prechecks.py.
"""

from __future__ import annotations

import datetime

import pytest

from clinic.core.exceptions import Conflict, NotFound, PermissionDenied
from clinic.core.models import AuditEvent
from clinic.scheduling.models import Appointment
from clinic.treatment_sessions import services
from clinic.treatment_sessions.models import TreatmentSession
from clinic.treatment_sessions.tests.conftest import (
    MONDAY,
    at,
    fresh,
    identity_of,
)

pytestmark = pytest.mark.django_db

TUESDAY = MONDAY + datetime.timedelta(days=1)


# --------------------------------------------------------------------------- check-in


def test_a_nurse_checks_in_todays_booked_appointment(iv_appointment, nurse, patient, clock):
    clock.move_to(at(MONDAY, 8, 50))

    session = services.session_check_in(
        actor=nurse, appointment=iv_appointment, identity=identity_of(iv_appointment)
    )

    session = fresh(session)
    assert session.phase == "checked_in"
    assert session.route == "iv"
    assert session.patient == patient
    assert session.planned_session == iv_appointment.planned_session
    assert session.checked_in_by == nurse
    assert session.checked_in_at == at(MONDAY, 8, 50)
    appointment = Appointment.objects.get(pk=iv_appointment.pk)
    assert appointment.status == "checked_in"
    assert appointment.status_changed_by == nurse
    events = AuditEvent.objects.filter(patient=patient, object_id=str(session.uuid))
    assert [(e.action, e.summary) for e in events] == [
        (
            "create",
            "Checked in: identity confirmed by full name and date of birth; the chair's nurse "
            "is nurse, RN",
        )
    ]
    assert AuditEvent.objects.filter(
        patient=patient, object_type="appointment", object_id=str(appointment.uuid)
    ).exists()


def test_the_session_records_the_policy_it_runs_under(iv_appointment, nurse, clock):
    session = services.session_check_in(
        actor=nurse, appointment=iv_appointment, identity=identity_of(iv_appointment)
    )

    values = fresh(session).policy_values
    # policy-defaults.md: IV observation 30 min, esketamine 120 min after the dose, Aldrete ≥ 9,
    # pre-dose confirmation above 140/90, devices 5 min apart; plausibility systolic 50–300.
    assert values["iv_observation_minutes"] == 30
    assert values["esketamine_observation_minutes"] == 120
    assert values["im_observation_minutes"] == 60
    assert values["discharge_aldrete_minimum"] == 9
    assert values["pre_dose_confirm_systolic_above_mmhg"] == 140
    assert values["pre_dose_confirm_diastolic_above_mmhg"] == 90
    assert values["esketamine_minutes_between_devices"] == 5
    assert values["plausible_systolic_mmhg"] == [50, 300]
    assert values["plausible_temperature_c"] == ["30", "43"]


def test_a_prescriber_on_the_care_team_may_check_in(iv_appointment, prescriber, clock):
    session = services.session_check_in(
        actor=prescriber, appointment=iv_appointment, identity=identity_of(iv_appointment)
    )

    assert fresh(session).checked_in_by == prescriber


def test_checking_in_twice_is_refused(iv_checked_in, iv_appointment, prescriber):
    with pytest.raises(Conflict) as error:
        services.session_check_in(
            actor=prescriber, appointment=iv_appointment, identity=identity_of(iv_appointment)
        )

    assert error.value.code == "already_checked_in"
    assert TreatmentSession.objects.count() == 1


def test_an_appointment_of_another_day_cannot_be_checked_in(iv_appointment, nurse, clock):
    Appointment.objects.filter(pk=iv_appointment.pk).update(
        starts_at=at(TUESDAY, 9), ends_at=at(TUESDAY, 10, 10)
    )

    with pytest.raises(Conflict) as error:
        services.session_check_in(
            actor=nurse, appointment=iv_appointment, identity=identity_of(iv_appointment)
        )

    assert error.value.code == "not_today"
    assert "06/03/2031" in error.value.message
    assert not TreatmentSession.objects.exists()


def test_yesterdays_appointment_cannot_be_checked_in_today(iv_appointment, nurse, clock):
    clock.move_to(at(TUESDAY, 8, 50))

    with pytest.raises(Conflict) as error:
        services.session_check_in(
            actor=nurse, appointment=iv_appointment, identity=identity_of(iv_appointment)
        )

    assert error.value.code == "not_today"


@pytest.mark.parametrize("status", ["cancelled", "no_show", "completed"])
def test_only_a_booked_appointment_is_checked_in(iv_appointment, nurse, status):
    Appointment.objects.filter(pk=iv_appointment.pk).update(status=status, status_reason="Test")

    with pytest.raises(Conflict) as error:
        services.session_check_in(
            actor=nurse, appointment=iv_appointment, identity=identity_of(iv_appointment)
        )

    assert error.value.code == "appointment_not_booked"
    assert not TreatmentSession.objects.exists()


def test_a_nurse_off_the_care_team_gets_not_found_and_writes_nothing(
    iv_appointment, make_staff, clock
):
    stranger = make_staff("nurse", username="nurse_elsewhere")
    events = AuditEvent.objects.count()

    with pytest.raises(NotFound):
        services.session_check_in(
            actor=stranger, appointment=iv_appointment, identity=identity_of(iv_appointment)
        )

    assert not TreatmentSession.objects.exists()
    assert AuditEvent.objects.count() == events
    assert Appointment.objects.get(pk=iv_appointment.pk).status == "booked"


@pytest.mark.parametrize("role", ["front_desk", "therapist", "billing", "clinic_admin"])
def test_roles_without_session_run_are_refused_and_write_nothing(
    iv_appointment, role, request, clock
):
    actor = request.getfixturevalue(role)
    events = AuditEvent.objects.count()

    with pytest.raises(PermissionDenied):
        services.session_check_in(
            actor=actor, appointment=iv_appointment, identity=identity_of(iv_appointment)
        )

    assert not TreatmentSession.objects.exists()
    assert AuditEvent.objects.count() == events
    assert Appointment.objects.get(pk=iv_appointment.pk).status == "booked"


def test_anonymous_is_refused(iv_appointment, clock):
    with pytest.raises(PermissionDenied):
        services.session_check_in(
            actor=None, appointment=iv_appointment, identity=identity_of(iv_appointment)
        )

    assert not TreatmentSession.objects.exists()
