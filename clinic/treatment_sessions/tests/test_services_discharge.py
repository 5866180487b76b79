"""Recovery, discharge and stopping a session.

Discharge needs (policy-defaults.md, rules.discharge_check): the minimum observation after dosing
is complete (IV 30 min after the infusion ends [E11]; esketamine 2 h after the last device
[C9], [C10]), a modified Aldrete ≥ 9 scored after dosing [E8], and an escort [C3], [E11];
otherwise only a prescriber's override with a reason.
"""

from __future__ import annotations

import pytest

from clinic.core.exceptions import Conflict, InvalidInput, PermissionDenied
from clinic.core.models import AuditEvent
from clinic.scheduling.models import Appointment
from clinic.treatment_sessions import services, state
from clinic.treatment_sessions.models import SessionOverride
from clinic.treatment_sessions.tests.conftest import MONDAY, at, fresh, identity_of

pytestmark = pytest.mark.django_db

FULL_ALDRETE = [2, 2, 2, 2, 2]  # 10
ALDRETE_9 = [2, 2, 2, 2, 1]
ALDRETE_8 = [2, 2, 2, 1, 1]


def _aldrete(actor, session, answers):
    return services.session_score_record(
        actor=actor, session=session, kind="modified-aldrete", answers=answers
    )


def _discharge(actor, session, **kwargs):
    kwargs.setdefault("escort_present", True)
    kwargs.setdefault("instructions_given", True)
    return services.session_discharge(actor=actor, session=session, **kwargs)


def _codes(result) -> list[str]:
    return [f.code for f in result.blocking_reasons]


# --------------------------------------------------------------------------- IV


def test_iv_observation_is_30_minutes_after_the_infusion_ends(iv_stopped, nurse, clock):
    # The infusion stopped at 09:40.
    clock.move_to(at(MONDAY, 10, 9))
    _aldrete(nurse, iv_stopped, ALDRETE_9)
    status = state.discharge_status(fresh(iv_stopped), escort_present=True)
    assert _codes(status) == ["observation_not_complete"]
    assert status.observation_ends_at == at(MONDAY, 10, 10)

    with pytest.raises(Conflict) as error:
        _discharge(nurse, iv_stopped)
    assert error.value.code == "discharge_blocked"
    assert error.value.message == (
        "Discharge is blocked: Observation is not complete: 1 min to go (clinic policy: 30 min "
        "after dosing is complete)."
    )
    assert fresh(iv_stopped).phase == "monitoring"

    clock.move_to(at(MONDAY, 10, 10))
    session = _discharge(
        nurse, iv_stopped, instructions_text="No driving until tomorrow after a night's sleep."
    )

    session = fresh(session)
    assert session.phase == "discharged"
    assert (session.discharged_at, session.discharged_by) == (at(MONDAY, 10, 10), nurse)
    assert session.escort_present_at_discharge is True
    assert session.instructions_given is True
    assert session.instructions_text == "No driving until tomorrow after a night's sleep."
    assert Appointment.objects.get(pk=session.appointment_id).status == "completed"
    assert not SessionOverride.objects.exists()


def test_an_aldrete_of_8_blocks_discharge(iv_stopped, nurse, clock):
    clock.move_to(at(MONDAY, 10, 10))
    _aldrete(nurse, iv_stopped, ALDRETE_8)

    with pytest.raises(Conflict) as error:
        _discharge(nurse, iv_stopped)

    assert error.value.message == (
        "Discharge is blocked: Modified Aldrete 8 is below 9 (clinic policy [E8])."
    )


def test_the_latest_aldrete_counts(iv_stopped, nurse, clock):
    clock.move_to(at(MONDAY, 10, 5))
    _aldrete(nurse, iv_stopped, ALDRETE_8)
    clock.move_to(at(MONDAY, 10, 10))
    _aldrete(nurse, iv_stopped, ALDRETE_9)

    assert state.discharge_status(fresh(iv_stopped), escort_present=True).allowed


def test_without_an_aldrete_discharge_is_blocked(iv_stopped, nurse, clock):
    clock.move_to(at(MONDAY, 10, 10))

    status = state.discharge_status(fresh(iv_stopped), escort_present=True)

    assert _codes(status) == ["aldrete_not_scored"]
    with pytest.raises(Conflict):
        _discharge(nurse, iv_stopped)


def test_an_aldrete_scored_before_dosing_was_complete_does_not_count(iv_running, nurse, clock):
    clock.move_to(at(MONDAY, 9, 30))
    _aldrete(nurse, iv_running, FULL_ALDRETE)
    clock.move_to(at(MONDAY, 9, 40))
    services.infusion_stop(actor=nurse, session=iv_running, given_mg="40")
    clock.move_to(at(MONDAY, 10, 10))

    status = state.discharge_status(fresh(iv_running), escort_present=True)

    assert _codes(status) == ["aldrete_not_scored"]


def test_without_an_escort_discharge_is_blocked(iv_stopped, nurse, clock):
    clock.move_to(at(MONDAY, 10, 10))
    _aldrete(nurse, iv_stopped, ALDRETE_9)

    with pytest.raises(Conflict) as error:
        _discharge(nurse, iv_stopped, escort_present=False)

    assert error.value.message.startswith("Discharge is blocked: No escort present")
    assert fresh(iv_stopped).phase == "monitoring"


def test_an_open_alert_blocks_discharge(iv_stopped, nurse, clock):
    clock.move_to(at(MONDAY, 10, 10))
    _aldrete(nurse, iv_stopped, ALDRETE_9)
    _entry, alerts = services.vitals_record(actor=nurse, session=iv_stopped, spo2_percent=91)

    with pytest.raises(Conflict) as error:
        _discharge(nurse, iv_stopped)
    assert error.value.code == "alerts_open"

    services.session_alert_acknowledge(
        actor=nurse, alert=alerts[0], action="intervention", note="Deep breaths; SpO2 96 %"
    )
    assert _discharge(nurse, iv_stopped).phase == "discharged"


def test_the_instructions_must_be_given(iv_stopped, nurse, clock):
    clock.move_to(at(MONDAY, 10, 10))
    _aldrete(nurse, iv_stopped, ALDRETE_9)

    with pytest.raises(InvalidInput) as error:
        _discharge(nurse, iv_stopped, instructions_given=False)

    assert "instructions_given" in error.value.errors
    assert fresh(iv_stopped).phase == "monitoring"


def test_a_nurse_cannot_override_a_prescriber_can_with_a_reason(
    iv_stopped, iv_checked_in, nurse, prescriber, clock
):
    clock.move_to(at(MONDAY, 10))
    _aldrete(nurse, iv_stopped, ALDRETE_8)

    with pytest.raises(PermissionDenied):
        _discharge(nurse, iv_stopped, override_reason="Husband waiting")
    assert not SessionOverride.objects.exists()
    assert fresh(iv_stopped).phase == "monitoring"

    # `iv_checked_in` is the same session as loaded at check-in (a stale copy).
    session = _discharge(prescriber, iv_checked_in, override_reason="Seen by me; alert, walking")

    assert fresh(session).phase == "discharged"
    override = SessionOverride.objects.get()
    assert (override.kind, override.prescriber, override.reason) == (
        "discharge",
        prescriber,
        "Seen by me; alert, walking",
    )
    assert [item["key"] for item in override.unmet] == [
        "observation_not_complete",
        "aldrete_below_minimum",
    ]
    event = AuditEvent.objects.get(summary__startswith="Discharged")
    assert event.summary == "Discharged by override: Seen by me; alert, walking"
    assert event.changes["phase"] == {"before": "monitoring", "after": "discharged"}
    assert Appointment.objects.get(pk=session.appointment_id).status == "completed"


def test_discharge_needs_dosing_done(iv_cleared, nurse):
    with pytest.raises(Conflict) as error:
        _discharge(nurse, iv_cleared)

    assert error.value.code == "wrong_phase"
    status = state.discharge_status(iv_cleared, escort_present=True)
    assert _codes(status) == ["dose_not_complete"]


def test_recovery_follows_monitoring_once(iv_stopped, nurse, clock):
    clock.move_to(at(MONDAY, 9, 50))

    services.recovery_start(actor=nurse, session=iv_stopped)

    session = fresh(iv_stopped)
    assert (session.phase, session.recovery_started_at) == ("recovery", at(MONDAY, 9, 50))
    with pytest.raises(Conflict):
        services.recovery_start(actor=nurse, session=iv_stopped)
    clock.move_to(at(MONDAY, 10, 10))
    _aldrete(nurse, iv_stopped, ALDRETE_9)
    assert _discharge(nurse, iv_stopped).phase == "discharged"


# --------------------------------------------------------------------------- esketamine


def test_esketamine_observation_is_two_hours_after_the_last_device(esketamine_dosed, nurse, clock):
    # The last device was at 09:05.
    clock.move_to(at(MONDAY, 10, 35))
    _aldrete(nurse, esketamine_dosed, FULL_ALDRETE)

    status = state.discharge_status(fresh(esketamine_dosed), escort_present=True)
    assert _codes(status) == ["observation_not_complete"]
    assert status.observation_ends_at == at(MONDAY, 11, 5)
    with pytest.raises(Conflict) as error:
        _discharge(nurse, esketamine_dosed)
    assert "Observation is not complete" in error.value.message

    clock.move_to(at(MONDAY, 11, 5))
    assert state.discharge_status(fresh(esketamine_dosed), escort_present=True).allowed
    assert _discharge(nurse, esketamine_dosed).phase == "discharged"


# --------------------------------------------------------------------------- IM


def test_im_observation_is_60_minutes_after_the_injection(im_appointment, nurse, vials, clock):
    from clinic.treatment_sessions.tests.conftest import pass_prechecks

    clock.move_to(at(MONDAY, 8, 50))
    session = pass_prechecks(
        nurse,
        services.session_check_in(
            actor=nurse, appointment=im_appointment, identity=identity_of(im_appointment)
        ),
    )
    clock.move_to(at(MONDAY, 9))
    services.im_injection_record(
        actor=nurse,
        session=session,
        container=vials[0],
        drawn_mg="40",
        given_mg="40",
        site="deltoid_right",
    )
    clock.move_to(at(MONDAY, 9, 59))
    _aldrete(nurse, session, FULL_ALDRETE)

    status = state.discharge_status(fresh(session), escort_present=True)
    assert _codes(status) == ["observation_not_complete"]
    assert status.observation_ends_at == at(MONDAY, 10)

    clock.move_to(at(MONDAY, 10))
    assert _discharge(nurse, session).phase == "discharged"


# --------------------------------------------------------------------------- stop


def test_a_session_stopped_before_dosing_keeps_its_reason(iv_checked_in, nurse, clock):
    clock.move_to(at(MONDAY, 8, 58))

    with pytest.raises(InvalidInput) as error:
        services.session_stop(actor=nurse, session=iv_checked_in, reason=" ")
    assert error.value.errors == {"reason": ["Say why the session is stopped."]}

    services.session_stop(actor=nurse, session=iv_checked_in, reason="Patient unwell today")

    session = fresh(iv_checked_in)
    assert (session.phase, session.stop_reason) == ("stopped", "Patient unwell today")
    assert (session.stopped_at, session.stopped_by) == (at(MONDAY, 8, 58), nurse)
    assert Appointment.objects.get(pk=session.appointment_id).status == "completed"
    with pytest.raises(Conflict) as error:
        services.session_stop(actor=nurse, session=iv_checked_in, reason="Again")
    assert error.value.code == "wrong_phase"


def test_a_session_cannot_stop_while_its_infusion_runs(iv_running, nurse):
    with pytest.raises(Conflict) as error:
        services.session_stop(actor=nurse, session=iv_running, reason="Patient asked")

    assert error.value.code == "infusion_running"
    assert fresh(iv_running).phase == "dosing"


def test_after_a_dose_only_a_prescriber_stops_the_session(iv_stopped, nurse, prescriber, clock):
    # Stopping skips the discharge criteria (here: 30 min of observation, Aldrete, escort).
    clock.move_to(at(MONDAY, 9, 45))

    with pytest.raises(PermissionDenied):
        services.session_stop(actor=nurse, session=iv_stopped, reason="Wants to leave")
    assert fresh(iv_stopped).phase == "monitoring"

    services.session_stop(
        actor=prescriber, session=iv_stopped, reason="Leaving against advice; risks explained"
    )
    assert fresh(iv_stopped).phase == "stopped"


def test_esketamine_stopped_after_one_device_completes_dosing_at_that_device(
    esketamine_cleared, nurse, prescriber, devices, clock
):
    clock.move_to(at(MONDAY, 9))
    services.esketamine_device_record(actor=nurse, session=esketamine_cleared, container=devices[0])
    clock.move_to(at(MONDAY, 9, 3))

    with pytest.raises(PermissionDenied):
        services.session_stop(actor=nurse, session=esketamine_cleared, reason="Dissociation")
    services.session_stop(
        actor=prescriber, session=esketamine_cleared, reason="Severe dissociation"
    )

    session = fresh(esketamine_cleared)
    assert session.phase == "stopped"
    assert session.dose_completed_at == at(MONDAY, 9)
