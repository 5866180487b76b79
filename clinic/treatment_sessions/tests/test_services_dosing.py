"""Dosing through the controlled-substance ledger: IM injection and esketamine devices, and what
runs across the routes (draws for an infusion in progress, dosing charted later). The IV
infusion's start, pump and stop are in test_services_infusion.py.

Figures: the 80 kg patient's plan is 0.5 mg/kg, so today's dose is 40 mg (IV over 40 min, IM);
the esketamine plan is 56 mg = 2 devices of 28 mg used whole (label [C2]) at least 5 minutes
apart. Vials hold 100 mg (10 mg/mL × 10 mL).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from clinic.controlled_substances.models import LedgerEntry
from clinic.core.exceptions import Conflict, InvalidInput, NotFound, PermissionDenied
from clinic.treatment_sessions import services, state
from clinic.treatment_sessions.models import DoseAdministration
from clinic.treatment_sessions.tests.conftest import (
    MONDAY,
    at,
    balance_of,
    fresh,
    identity_of,
    pass_prechecks,
)

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------- IM


@pytest.fixture
def im_cleared(im_appointment, nurse, clock):
    clock.move_to(at(MONDAY, 8, 50))
    session = services.session_check_in(
        actor=nurse, appointment=im_appointment, identity=identity_of(im_appointment)
    )
    return pass_prechecks(nurse, session)


def test_an_im_injection_with_its_site_writes_the_ledger(
    im_cleared, nurse, prescriber, patient, vials, clock
):
    clock.move_to(at(MONDAY, 9))

    administration = services.im_injection_record(
        actor=nurse,
        session=im_cleared,
        container=vials[0],
        drawn_mg="40",
        given_mg="40",
        site="deltoid_left",
    )

    session = fresh(im_cleared)
    assert session.phase == "monitoring"
    assert session.dose_started_at == session.dose_completed_at == at(MONDAY, 9)
    assert session.dose_planned_mg == Decimal("40.0")
    assert (administration.kind, administration.im_site) == ("im_injection", "deltoid_left")
    assert (administration.drawn_mg, administration.given_mg) == (
        Decimal("40.000"),
        Decimal("40.000"),
    )
    assert administration.ledger_entry.patient == patient
    assert balance_of(vials[0]) == Decimal("60.000")
    assert state.residual_outstanding(session) == []


def test_an_im_injection_gives_exactly_todays_dose(im_cleared, nurse, vials):
    with pytest.raises(InvalidInput) as error:
        services.im_injection_record(
            actor=nurse,
            session=im_cleared,
            container=vials[0],
            drawn_mg="40",
            given_mg="35",
            site="deltoid_left",
        )

    assert error.value.errors == {
        "given_mg": ["Today's dose is 40 mg; the prescriber changes doses in the plan."]
    }
    assert balance_of(vials[0]) == Decimal("100.000")


def test_an_im_injection_needs_a_site(im_cleared, nurse, vials):
    with pytest.raises(InvalidInput) as error:
        services.im_injection_record(
            actor=nurse,
            session=im_cleared,
            container=vials[0],
            drawn_mg="40",
            given_mg="40",
            site="",
        )

    assert error.value.errors == {"site": ["Choose one of the options."]}


def test_an_im_residual_is_left_for_a_witnessed_waste(im_cleared, nurse, vials):
    administration = services.im_injection_record(
        actor=nurse,
        session=im_cleared,
        container=vials[0],
        drawn_mg="50",
        given_mg="40",
        site="vastus_lateralis_right",
    )

    assert state.residual_outstanding(fresh(im_cleared)) == [(administration, Decimal("10.000"))]
    assert balance_of(vials[0]) == Decimal("50.000")


# --------------------------------------------------------------------------- esketamine


def test_esketamine_devices_are_used_whole_five_minutes_apart(
    esketamine_cleared, nurse, devices, clock
):
    session = esketamine_cleared
    clock.move_to(at(MONDAY, 9))
    first = services.esketamine_device_record(actor=nurse, session=session, container=devices[0])

    after_one = fresh(session)
    assert after_one.phase == "dosing"
    assert after_one.dose_started_at == at(MONDAY, 9)
    assert after_one.dose_planned_mg == Decimal("56.0")
    assert state.devices_needed(after_one) == 2
    assert (first.device_number, first.drawn_mg, first.given_mg) == (
        1,
        Decimal("28.000"),
        Decimal("28.000"),
    )
    assert balance_of(devices[0]) == Decimal("0.000")

    clock.move_to(at(MONDAY, 9, 4) + datetime.timedelta(seconds=59))
    with pytest.raises(Conflict) as error:
        services.esketamine_device_record(actor=nurse, session=session, container=devices[1])
    assert error.value.code == "device_too_soon"
    assert error.value.message == ("Wait 0 min 01 s more: devices are 5 minutes apart (label).")
    assert balance_of(devices[1]) == Decimal("28.000")

    clock.move_to(at(MONDAY, 9, 5))
    second = services.esketamine_device_record(actor=nurse, session=session, container=devices[1])

    done = fresh(session)
    assert second.device_number == 2
    assert done.phase == "monitoring"
    assert done.dose_completed_at == at(MONDAY, 9, 5)
    assert balance_of(devices[1]) == Decimal("0.000")
    entries = LedgerEntry.objects.filter(kind="administration", session_ref=str(session.uuid))
    assert sorted(e.given_mg for e in entries) == [Decimal("28.000"), Decimal("28.000")]


def test_a_third_device_for_a_56_mg_dose_is_refused(esketamine_dosed, nurse, devices, clock):
    clock.move_to(at(MONDAY, 9, 20))

    with pytest.raises(Conflict):
        services.esketamine_device_record(
            actor=nurse, session=esketamine_dosed, container=devices[2]
        )

    assert balance_of(devices[2]) == Decimal("28.000")
    assert esketamine_dosed.administrations.count() == 2


def test_a_vial_is_refused_for_esketamine(esketamine_cleared, nurse, vials, clock):
    clock.move_to(at(MONDAY, 9))

    with pytest.raises(InvalidInput) as error:
        services.esketamine_device_record(
            actor=nurse, session=esketamine_cleared, container=vials[0]
        )

    assert error.value.errors == {"container": ["This session needs an esketamine nasal device."]}
    assert fresh(esketamine_cleared).phase == "checked_in"
    assert balance_of(vials[0]) == Decimal("100.000")


def test_a_used_device_cannot_be_given_again(esketamine_cleared, nurse, devices, clock):
    clock.move_to(at(MONDAY, 9))
    services.esketamine_device_record(actor=nurse, session=esketamine_cleared, container=devices[0])
    clock.move_to(at(MONDAY, 9, 5))

    with pytest.raises(InvalidInput):
        services.esketamine_device_record(
            actor=nurse, session=esketamine_cleared, container=devices[0]
        )

    assert esketamine_cleared.administrations.count() == 1


def test_esketamine_is_refused_until_the_pre_checks_pass(
    esketamine_checked_in, nurse, devices, clock
):
    clock.move_to(at(MONDAY, 9))

    with pytest.raises(Conflict) as error:
        services.esketamine_device_record(
            actor=nurse, session=esketamine_checked_in, container=devices[0]
        )

    assert error.value.code == "pre_checks_unmet"
    assert balance_of(devices[0]) == Decimal("28.000")


def test_only_the_care_teams_clinicians_give_doses(
    esketamine_cleared, make_staff, therapist, devices, clock
):
    clock.move_to(at(MONDAY, 9))
    stranger = make_staff("nurse", username="nurse_elsewhere")

    with pytest.raises(NotFound):
        services.esketamine_device_record(
            actor=stranger, session=esketamine_cleared, container=devices[0]
        )
    with pytest.raises(PermissionDenied):
        services.esketamine_device_record(
            actor=therapist, session=esketamine_cleared, container=devices[0]
        )
    assert balance_of(devices[0]) == Decimal("28.000")


# --------------------------------------------------------------------------- one vial, two chairs


def test_a_draw_for_an_infusion_in_progress_is_not_in_the_vial(
    iv_running, second_iv_cleared, nurse, prescriber, vials, clock
):
    # 100 mg in the vial, 50 mg of it drawn for the first infusion: 60 mg cannot be drawn.
    clock.move_to(at(MONDAY, 9, 10))
    with pytest.raises(InvalidInput) as error:
        services.infusion_start(
            actor=nurse, session=second_iv_cleared, container=vials[0], drawn_mg="60"
        )
    assert error.value.errors == {
        "drawn_mg": ["L100-001 holds 100 mg, 50 mg of it drawn for another infusion in progress."]
    }

    services.infusion_start(
        actor=nurse, session=second_iv_cleared, container=vials[0], drawn_mg="50"
    )
    clock.move_to(at(MONDAY, 9, 40))
    services.infusion_stop(actor=nurse, session=iv_running, given_mg="40", witness=prescriber)
    clock.move_to(at(MONDAY, 9, 50))
    services.infusion_stop(
        actor=nurse, session=second_iv_cleared, given_mg="40", witness=prescriber
    )

    # 100 − 50 − 50.
    assert balance_of(vials[0]) == Decimal("0.000")
    assert LedgerEntry.objects.filter(kind="administration").count() == 2


def test_an_infusion_stopped_before_any_ran_in_wastes_the_whole_draw(
    iv_running, nurse, prescriber, vials, clock
):
    """0 mg given: no administration; the 50 mg drawn leave the vial as a witnessed waste."""
    clock.move_to(at(MONDAY, 9, 1))
    with pytest.raises(InvalidInput) as error:
        services.infusion_stop(
            actor=nurse, session=iv_running, given_mg="0", reason="Cannula failed"
        )
    assert "witness" in error.value.errors
    assert balance_of(vials[0]) == Decimal(100)

    result = services.infusion_stop(
        actor=nurse,
        session=iv_running,
        given_mg="0",
        reason="Cannula failed",
        witness=prescriber,
    )

    assert result is None
    assert balance_of(vials[0]) == Decimal(50)
    waste = LedgerEntry.objects.get(kind="waste")
    assert (waste.wasted_mg, waste.witness, waste.session_ref) == (
        Decimal(50),
        prescriber,
        str(iv_running.uuid),
    )
    assert not DoseAdministration.objects.filter(session=iv_running).exists()
    assert fresh(iv_running).phase == "monitoring"


def test_esketamine_dosing_can_end_before_the_last_device(
    esketamine_cleared, nurse, devices, clock
):
    """After device 1 (09:00) the patient cannot take device 2: dosing is complete at 09:00,
    so observation ends 120 minutes later, at 11:00 [C9]; the form's dose is then 'other'."""
    clock.move_to(at(MONDAY, 9))
    services.esketamine_device_record(actor=nurse, session=esketamine_cleared, container=devices[0])
    clock.move_to(at(MONDAY, 9, 3))

    with pytest.raises(InvalidInput):
        services.esketamine_dosing_end(actor=nurse, session=esketamine_cleared, reason="  ")
    session = services.esketamine_dosing_end(
        actor=nurse, session=esketamine_cleared, reason="Severe nausea after device 1"
    )

    assert session.phase == "monitoring"
    assert session.dose_completed_at == at(MONDAY, 9)
    assert session.dosing_ended_early_reason == "Severe nausea after device 1"
    clock.move_to(at(MONDAY, 10, 59))
    assert not state.discharge_status(fresh(session), escort_present=True).allowed
    assert state.discharge_status(fresh(session), escort_present=True).observation_ends_at == at(
        MONDAY, 11
    )
    assert state.rems_form_prefill(fresh(session))["dose"] == "other"
    with pytest.raises(Conflict):
        services.esketamine_device_record(actor=nurse, session=session, container=devices[1])


def test_dosing_ends_early_only_while_devices_are_being_given(esketamine_cleared, nurse):
    with pytest.raises(Conflict) as error:
        services.esketamine_dosing_end(actor=nurse, session=esketamine_cleared, reason="No")
    assert error.value.code == "wrong_phase"


# --------------------------------------------------------------------------- when a dose was given
# A dose may be charted a little after it was given: the time given is bounded by the pre-dose
# reading (08:50 in these fixtures) and now, and the label's 5 minutes between esketamine devices
# are judged on the times given.


def test_an_im_injection_charted_later_keeps_the_time_it_was_given(im_cleared, nurse, vials, clock):
    clock.move_to(at(MONDAY, 9, 10))

    administration = services.im_injection_record(
        actor=nurse,
        session=im_cleared,
        container=vials[0],
        drawn_mg="40",
        given_mg="40",
        site="deltoid_left",
        given_at=at(MONDAY, 9, 2),
    )

    session = fresh(im_cleared)
    assert administration.given_at == at(MONDAY, 9, 2)
    assert (session.dose_started_at, session.dose_completed_at) == (
        at(MONDAY, 9, 2),
        at(MONDAY, 9, 2),
    )
    assert administration.ledger_entry.occurred_at == at(MONDAY, 9, 2)


@pytest.mark.parametrize(
    ("given_at", "message"),
    [
        (at(MONDAY, 8, 45), "This time is before 08:50."),  # before the pre-dose reading
        (at(MONDAY, 9, 30), "This time is in the future."),
    ],
)
def test_an_im_injection_time_is_after_the_pre_dose_reading_and_not_ahead(
    im_cleared, nurse, vials, clock, given_at, message
):
    clock.move_to(at(MONDAY, 9, 10))

    with pytest.raises(InvalidInput) as error:
        services.im_injection_record(
            actor=nurse,
            session=im_cleared,
            container=vials[0],
            drawn_mg="40",
            given_mg="40",
            site="deltoid_left",
            given_at=given_at,
        )

    assert error.value.errors == {"given_at": [message]}
    assert not DoseAdministration.objects.exists()
    assert fresh(im_cleared).phase == "checked_in"


def test_esketamine_devices_charted_later_are_spaced_on_the_times_given(
    esketamine_cleared, nurse, devices, clock
):
    session = esketamine_cleared
    clock.move_to(at(MONDAY, 9))
    services.esketamine_device_record(actor=nurse, session=session, container=devices[0])
    clock.move_to(at(MONDAY, 9, 8))

    # Charted at 09:08 as given at 09:04: only 4 minutes after device 1.
    with pytest.raises(Conflict) as error:
        services.esketamine_device_record(
            actor=nurse, session=session, container=devices[1], given_at=at(MONDAY, 9, 4)
        )
    assert error.value.message == "Wait 1 min 00 s more: devices are 5 minutes apart (label)."
    # Before device 1 is not a time device 2 can have been given.
    with pytest.raises(InvalidInput) as error:
        services.esketamine_device_record(
            actor=nurse, session=session, container=devices[1], given_at=at(MONDAY, 8, 55)
        )
    assert error.value.errors == {
        "given_at": ["Device 1 was given at 09:00: the next one comes after it."]
    }

    second = services.esketamine_device_record(
        actor=nurse, session=session, container=devices[1], given_at=at(MONDAY, 9, 6)
    )

    assert second.given_at == at(MONDAY, 9, 6)
    assert fresh(session).dose_completed_at == at(MONDAY, 9, 6)  # observation runs from it
