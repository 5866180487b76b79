"""The IV infusion through the controlled-substance ledger: start, the pump's pauses and rate
changes, and the stop that writes the administration and leaves the residual for a witnessed
waste.

Figures: the 80 kg patient's plan is 0.5 mg/kg, so today's dose is 40 mg over 40 min. Vials hold
100 mg (10 mg/mL × 10 mL).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from clinic.controlled_substances.models import LedgerEntry, Lot
from clinic.core.exceptions import Conflict, InvalidInput
from clinic.core.models import AuditEvent
from clinic.treatment_sessions import services, state
from clinic.treatment_sessions.models import DoseAdministration, InfusionEvent
from clinic.treatment_sessions.tests.conftest import (
    MONDAY,
    at,
    balance_of,
    fresh,
)

pytestmark = pytest.mark.django_db


def _events(session) -> list[str]:
    return list(InfusionEvent.objects.filter(session=session).values_list("kind", flat=True))


# --------------------------------------------------------------------------- IV start


def test_infusion_start_records_the_dose_and_the_vial(iv_running, vials):
    session = iv_running

    assert session.phase == "dosing"
    assert session.dose_started_at == at(MONDAY, 9)
    assert session.dose_planned_mg == Decimal("40.0")
    assert session.dose_mg_per_kg == Decimal("0.50")
    assert session.dose_weight_used_kg == Decimal("80.0")
    assert session.infusion_minutes == 40
    assert session.infusion_container == vials[0]
    assert session.infusion_drawn_mg == Decimal("50.000")
    assert session.infusion_rate_ml_per_h == Decimal("150.0")
    assert _events(session) == ["start"]
    # The ledger entry is written when the infusion stops (drawn and given known).
    assert balance_of(vials[0]) == Decimal("100.000")
    assert state.infusion_running(session)


def test_an_infusion_needs_a_racemic_vial(iv_cleared, nurse, devices):
    with pytest.raises(InvalidInput) as error:
        services.infusion_start(
            actor=nurse, session=iv_cleared, container=devices[0], drawn_mg="28"
        )

    assert error.value.errors == {"container": ["This session needs a racemic ketamine vial."]}
    assert fresh(iv_cleared).phase == "checked_in"


@pytest.mark.parametrize(
    ("drawn", "message"),
    [
        ("39.9", "Today's dose is 40 mg: draw at least that."),
        ("100.5", "L100-001 holds 100 mg."),
        ("0", "Enter the mg drawn."),
        ("forty", "Enter the mg drawn."),
    ],
)
def test_the_draw_covers_todays_dose_within_the_vial(iv_cleared, nurse, vials, drawn, message):
    with pytest.raises(InvalidInput) as error:
        services.infusion_start(actor=nurse, session=iv_cleared, container=vials[0], drawn_mg=drawn)

    assert error.value.errors == {"drawn_mg": [message]}
    assert fresh(iv_cleared).phase == "checked_in"
    assert not InfusionEvent.objects.exists()


def test_a_draw_of_exactly_the_whole_vial_is_allowed(iv_cleared, nurse, vials):
    services.infusion_start(actor=nurse, session=iv_cleared, container=vials[0], drawn_mg="100")

    assert fresh(iv_cleared).infusion_drawn_mg == Decimal("100.000")


def test_an_expired_lot_is_refused(iv_cleared, nurse, vials):
    Lot.objects.filter(pk=vials[0].lot_id).update(expiry=MONDAY - datetime.timedelta(days=1))

    with pytest.raises(InvalidInput) as error:
        services.infusion_start(actor=nurse, session=iv_cleared, container=vials[0], drawn_mg="50")

    assert error.value.errors == {"container": ["Lot L100 has expired."]}
    assert fresh(iv_cleared).phase == "checked_in"


def test_a_lot_expiring_today_may_be_used(iv_cleared, nurse, vials):
    Lot.objects.filter(pk=vials[0].lot_id).update(expiry=MONDAY)

    services.infusion_start(actor=nurse, session=iv_cleared, container=vials[0], drawn_mg="50")

    assert fresh(iv_cleared).phase == "dosing"


def test_only_an_iv_session_has_an_infusion(esketamine_cleared, nurse, vials):
    with pytest.raises(Conflict) as error:
        services.infusion_start(
            actor=nurse, session=esketamine_cleared, container=vials[0], drawn_mg="50"
        )

    assert error.value.code == "route"


def test_an_infusion_is_started_once(iv_running, nurse, vials):
    with pytest.raises(Conflict) as error:
        services.infusion_start(actor=nurse, session=iv_running, container=vials[1], drawn_mg="50")

    assert error.value.code == "wrong_phase"


# --------------------------------------------------------------------------- pause, resume, rate


def test_pause_needs_a_reason_then_resume_and_rate_change(iv_running, nurse, clock):
    clock.move_to(at(MONDAY, 9, 10))
    with pytest.raises(InvalidInput) as error:
        services.infusion_pause(actor=nurse, session=iv_running, reason=" ")
    assert error.value.errors == {"reason": ["Say why the infusion is paused."]}

    pause = services.infusion_pause(actor=nurse, session=iv_running, reason="Nausea")
    assert (pause.kind, pause.occurred_at, pause.reason) == ("pause", at(MONDAY, 9, 10), "Nausea")
    assert not state.infusion_running(fresh(iv_running))
    with pytest.raises(Conflict) as error:
        services.infusion_pause(actor=nurse, session=iv_running, reason="Again")
    assert error.value.code == "not_running"
    with pytest.raises(Conflict) as error:
        services.infusion_rate_change(actor=nurse, session=iv_running, rate_ml_per_h="100")
    assert error.value.code == "not_running"

    clock.move_to(at(MONDAY, 9, 15))
    services.infusion_resume(actor=nurse, session=iv_running)
    assert state.infusion_running(fresh(iv_running))
    with pytest.raises(Conflict) as error:
        services.infusion_resume(actor=nurse, session=iv_running)
    assert error.value.code == "not_paused"

    clock.move_to(at(MONDAY, 9, 16))
    rate = services.infusion_rate_change(
        actor=nurse, session=iv_running, rate_ml_per_h="120", reason="Slower after nausea"
    )
    assert rate.rate_ml_per_h == Decimal("120.0")
    assert fresh(iv_running).infusion_rate_ml_per_h == Decimal("120.0")
    assert _events(iv_running) == ["start", "pause", "resume", "rate"]


@pytest.mark.parametrize("rate", ["0", "-5", "2001", "fast", ""])
def test_a_rate_must_be_a_positive_number_of_ml_per_hour(iv_running, nurse, rate):
    with pytest.raises(InvalidInput) as error:
        services.infusion_rate_change(actor=nurse, session=iv_running, rate_ml_per_h=rate)

    assert "rate_ml_per_h" in error.value.errors
    assert fresh(iv_running).infusion_rate_ml_per_h == Decimal("150.0")


# --------------------------------------------------------------------------- stop and ledger


def test_stop_writes_the_administration_to_the_ledger(iv_running, nurse, patient, vials, clock):
    clock.move_to(at(MONDAY, 9, 40))

    administration = services.infusion_stop(actor=nurse, session=iv_running, given_mg="40")

    session = fresh(iv_running)
    assert session.phase == "monitoring"
    assert session.dose_completed_at == at(MONDAY, 9, 40)
    assert _events(session) == ["start", "stop"]
    entry = administration.ledger_entry
    assert (entry.kind, entry.drawn_mg, entry.given_mg) == (
        "administration",
        Decimal("50.000"),
        Decimal("40.000"),
    )
    assert entry.quantity_mg == Decimal("-50.000")
    assert (entry.patient, entry.actor, entry.session_ref) == (patient, nurse, str(session.uuid))
    assert entry.occurred_at == at(MONDAY, 9, 40)
    # 100 mg − 50 mg drawn.
    assert balance_of(vials[0]) == Decimal("50.000")
    assert (administration.kind, administration.given_at) == ("iv_infusion", at(MONDAY, 9, 40))
    assert not state.infusion_running(session)


def test_a_paused_infusion_can_be_stopped(iv_running, nurse, clock):
    clock.move_to(at(MONDAY, 9, 20))
    services.infusion_pause(actor=nurse, session=iv_running, reason="BP 200/120")

    services.infusion_stop(actor=nurse, session=iv_running, given_mg="20", reason="BP very high")

    assert fresh(iv_running).phase == "monitoring"
    assert _events(iv_running) == ["start", "pause", "stop"]


def test_stopping_short_of_the_dose_needs_a_reason(iv_running, nurse, clock):
    clock.move_to(at(MONDAY, 9, 30))

    with pytest.raises(InvalidInput) as error:
        services.infusion_stop(actor=nurse, session=iv_running, given_mg="30")
    assert error.value.errors == {"reason": ["Less than the planned 40 mg: say why."]}
    assert fresh(iv_running).phase == "dosing"
    assert not LedgerEntry.objects.filter(kind="administration").exists()

    services.infusion_stop(
        actor=nurse, session=iv_running, given_mg="30", reason="Patient asked to stop"
    )
    stop = InfusionEvent.objects.get(session=iv_running, kind="stop")
    assert stop.reason == "Patient asked to stop"
    assert DoseAdministration.objects.get(session=iv_running).given_mg == Decimal("30.000")


def test_more_than_the_pump_could_have_run_in_is_refused(iv_running, nurse, patient, clock):
    # The case: the 40 mg infusion (40 min, 1 mg/min) stopped after 2 minutes cannot
    # have given the whole dose. Nothing is written until the nurse corrects or explains it.
    clock.move_to(at(MONDAY, 9, 2))

    with pytest.raises(InvalidInput) as error:
        services.infusion_stop(actor=nurse, session=iv_running, given_mg="40")

    assert error.value.errors == {
        "given_mg": [
            "The pump ran 2 min (pauses excluded): at the set rate at most 2 mg could have run "
            "in. Record what the pump shows, or say below why more was given."
        ]
    }
    assert fresh(iv_running).phase == "dosing"
    assert not LedgerEntry.objects.filter(kind="administration").exists()

    # Corrected to what the pump shows: short of the plan, so with the stop's reason.
    services.infusion_stop(
        actor=nurse, session=iv_running, given_mg="2", reason="Patient asked to stop"
    )
    administration = DoseAdministration.objects.get(session=iv_running)
    assert (administration.given_mg, administration.expected_max_mg) == (
        Decimal("2.000"),
        Decimal("2.0"),
    )
    assert administration.given_above_expected_reason == ""


def test_more_than_the_pump_could_have_run_in_may_stand_with_a_reason(
    iv_running, nurse, patient, clock
):
    clock.move_to(at(MONDAY, 9, 30))  # 30 of the 40 minutes: 30 mg at most

    services.infusion_stop(
        actor=nurse,
        session=iv_running,
        given_mg="40",
        given_above_expected_reason="Pump started before it was charted",
    )

    administration = DoseAdministration.objects.get(session=iv_running)
    assert administration.given_mg == Decimal("40.000")
    assert administration.expected_max_mg == Decimal("30.0")
    assert administration.given_above_expected_reason == "Pump started before it was charted"
    assert AuditEvent.objects.filter(
        patient=patient,
        summary="Infusion: 40 mg recorded as given, above the 30 mg the pump could have run in "
        "30 min: Pump started before it was charted",
    ).exists()
    content = state.session_content(fresh(iv_running))
    assert content["administrations"][0]["given_above_expected_reason"] == (
        "Pump started before it was charted"
    )


def test_pauses_do_not_count_as_running_time(iv_running, nurse, clock):
    # 09:00–09:10 running, paused to 09:20, running to 09:40: 30 minutes, so 30 mg at most.
    clock.move_to(at(MONDAY, 9, 10))
    services.infusion_pause(actor=nurse, session=iv_running, reason="Nausea")
    clock.move_to(at(MONDAY, 9, 20))
    services.infusion_resume(actor=nurse, session=iv_running)
    clock.move_to(at(MONDAY, 9, 40))

    with pytest.raises(InvalidInput) as error:
        services.infusion_stop(actor=nurse, session=iv_running, given_mg="30.1", reason="Nausea")
    assert "at most 30 mg" in error.value.errors["given_mg"][0]

    services.infusion_stop(actor=nurse, session=iv_running, given_mg="30", reason="Nausea")
    assert DoseAdministration.objects.get(session=iv_running).given_mg == Decimal("30.000")


@pytest.mark.parametrize("given", ["50.5", "-1"])
def test_the_dose_given_is_within_what_was_drawn(iv_running, nurse, clock, given):
    clock.move_to(at(MONDAY, 9, 40))

    with pytest.raises(InvalidInput) as error:
        services.infusion_stop(actor=nurse, session=iv_running, given_mg=given, reason="x")

    assert error.value.errors == {"given_mg": ["Between 0 and the 50 mg drawn."]}


def test_the_residual_awaits_a_witnessed_waste(
    iv_running, nurse, prescriber, make_staff, front_desk, vials, clock
):
    clock.move_to(at(MONDAY, 9, 40))
    administration = services.infusion_stop(actor=nurse, session=iv_running, given_mg="40")
    session = fresh(iv_running)
    assert state.residual_outstanding(session) == [(administration, Decimal("10.000"))]

    with pytest.raises(InvalidInput) as error:
        services.residual_waste(
            actor=nurse, session=session, administration=administration, witness=nurse
        )
    assert error.value.errors == {"witness": ["The witness must be someone other than you."]}
    with pytest.raises(InvalidInput) as error:
        services.residual_waste(
            actor=nurse, session=session, administration=administration, witness=front_desk
        )
    assert "witness" in error.value.errors
    assert state.residual_outstanding(session) == [(administration, Decimal("10.000"))]

    clock.move_to(at(MONDAY, 9, 45))
    waste = services.residual_waste(
        actor=nurse, session=session, administration=administration, witness=prescriber
    )

    assert (waste.kind, waste.wasted_mg, waste.witness) == ("waste", Decimal("10.000"), prescriber)
    assert waste.administration == administration.ledger_entry
    assert state.residual_outstanding(session) == []
    # The residual came off with the draw: the balance stays 100 − 50.
    assert balance_of(vials[0]) == Decimal("50.000")
    with pytest.raises(Conflict) as error:
        services.residual_waste(
            actor=nurse, session=session, administration=administration, witness=prescriber
        )
    assert error.value.code == "nothing_to_waste"


def test_a_witness_at_the_stop_wastes_the_residual_at_once(iv_stopped, prescriber, vials):
    waste = LedgerEntry.objects.get(kind="waste")

    assert (waste.wasted_mg, waste.witness) == (Decimal("10.000"), prescriber)
    assert state.residual_outstanding(iv_stopped) == []
    assert balance_of(vials[0]) == Decimal("50.000")
