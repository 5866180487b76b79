"""The session page's view-model (page.py): the words of the live clock, the vitals schedule as
the page shows it, the stock offered for dosing, and the discharge instructions' defaults.

Expected values come from the session policy (policy-defaults.md, clinical-reference.md §5): an
IV infusion has vitals every 10 minutes while it runs and one at its end [E6]; today's IV dose is
0.5 mg/kg × 80 kg = 40 mg over 40 minutes; no driving until the next day [C3], [E11], after a
restful sleep for esketamine [C3].
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from clinic.controlled_substances.tests.conftest import receive
from clinic.locations.models import default_location
from clinic.treatment_sessions import services
from clinic.treatment_sessions.clocks import countdown_text, duration_text
from clinic.treatment_sessions.page import (
    default_instructions,
    session_page,
    usable_containers,
)
from clinic.treatment_sessions.selectors import session_queryset
from clinic.treatment_sessions.tests.conftest import MONDAY, at, identity_of

MINUTE = datetime.timedelta(minutes=1)


@pytest.mark.parametrize(
    ("seconds_left", "text"),
    [
        (600, "10:00"),
        (59, "0:59"),
        (3900, "1:05:00"),
        (0, "due now"),
        (-59, "due now"),
        (-180, "overdue by 3 min"),
    ],
)
def test_countdown_words(seconds_left, text):
    now = at(MONDAY, 9)
    assert countdown_text(now + datetime.timedelta(seconds=seconds_left), now) == text


@pytest.mark.parametrize(("minutes", "text"), [(0, "0 min"), (45, "45 min"), (70, "1:10")])
def test_elapsed_words(minutes, text):
    assert duration_text(datetime.timedelta(minutes=minutes)) == text


def test_the_instructions_follow_the_route():
    assert "until the next day." in default_instructions("iv")
    assert "until the next day after a restful sleep." in default_instructions("esketamine")


@pytest.mark.django_db
def test_an_iv_infusion_has_vitals_every_10_minutes_and_at_its_planned_end(
    iv_appointment, nurse, prescriber, vials, clock
):
    clock.move_to(at(MONDAY, 8, 55))
    session = services.session_check_in(
        actor=nurse, appointment=iv_appointment, identity=identity_of(iv_appointment)
    )
    services.precheck_override(actor=prescriber, session=session, reason="Test set-up")
    clock.move_to(at(MONDAY, 9, 0))
    services.infusion_start(actor=nurse, session=session, container=vials[0], drawn_mg="40")

    def page():
        fresh = session_queryset().get(pk=session.pk)
        return session_page(fresh, actor=nurse)

    first = page()
    assert first.dose.dose_mg == Decimal(40) and first.dose.infusion_minutes == 40
    assert first.next_vitals.at == at(MONDAY, 9, 10)
    assert first.infusion_running and first.infusion_planned_end == at(MONDAY, 9, 40)
    clock.move_to(at(MONDAY, 9, 32))
    services.vitals_record(
        actor=nurse, session=session, systolic_mmhg=130, diastolic_mmhg=80, heart_rate_bpm=70
    )
    # 09:32 + 10 min is after the planned end: the end comes first.
    assert page().next_vitals.at == at(MONDAY, 9, 40)
    clock.move_to(at(MONDAY, 9, 43))
    late = page().next_vitals
    assert late.passed and late.text == "overdue by 3 min"


@pytest.mark.django_db
def test_a_pause_moves_the_planned_end_of_the_infusion(
    iv_appointment, nurse, prescriber, vials, clock
):
    """40 minutes from 09:00 with a 5-minute pause (09:10–09:15) end at 09:45; a pause still
    going at 09:30 since 09:20 moves the end on by those 10 minutes too."""
    clock.move_to(at(MONDAY, 8, 55))
    session = services.session_check_in(
        actor=nurse, appointment=iv_appointment, identity=identity_of(iv_appointment)
    )
    services.precheck_override(actor=prescriber, session=session, reason="Test set-up")
    clock.move_to(at(MONDAY, 9, 0))
    services.infusion_start(actor=nurse, session=session, container=vials[0], drawn_mg="40")
    clock.move_to(at(MONDAY, 9, 10))
    services.infusion_pause(actor=nurse, session=session, reason="Nausea")
    clock.move_to(at(MONDAY, 9, 15))
    services.infusion_resume(actor=nurse, session=session)

    def planned_end():
        return session_page(session_queryset().get(pk=session.pk), actor=nurse).infusion_planned_end

    assert planned_end() == at(MONDAY, 9, 45)
    clock.move_to(at(MONDAY, 9, 20))
    services.infusion_pause(actor=nurse, session=session, reason="Blood pressure")
    clock.move_to(at(MONDAY, 9, 30))
    assert planned_end() == at(MONDAY, 9, 55)


@pytest.mark.django_db
def test_only_usable_stock_of_the_route_is_offered(prescriber, vial_product, device_product, clock):
    good = receive(prescriber, vial_product, containers=1, lot_number="GOOD").containers.get()
    receive(
        prescriber,
        vial_product,
        containers=1,
        lot_number="OLD",
        expiry=datetime.date(2031, 6, 1),  # the day before the test day
    )
    device = receive(prescriber, device_product, containers=1, lot_number="DEV").containers.get()
    today = datetime.date(2031, 6, 2)
    here = default_location()
    assert [c.pk for c in usable_containers("iv", today, location=here)] == [good.pk]
    assert [c.pk for c in usable_containers("im", today, location=here)] == [good.pk]
    assert [c.pk for c in usable_containers("esketamine", today, location=here)] == [device.pk]


def test_the_discharge_instructions_give_the_clinics_number(settings):
    from clinic.treatment_sessions.page import default_instructions

    settings.CLINIC_PHONE = "(212) 555-0147"
    assert (
        "Call the clinic on (212) 555-0147 if anything about today's session worries you."
        in default_instructions("iv")
    )
    settings.CLINIC_PHONE = ""
    assert "Call the clinic if anything about today's session worries you." in (
        default_instructions("iv")
    )
