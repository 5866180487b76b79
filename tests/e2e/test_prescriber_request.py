"""Issue 11: the prescriber always knows who is waiting, and the nurse never loses her place.

A nurse checks a patient in (two identifiers), records a pre-dose blood pressure of 190/120 at
a tablet; dosing now waits for a prescriber (clinic policy: above 140/90 the prescriber confirms
[C2], [E1]). The chair board and the session's header say "awaiting prescriber"; the prescriber,
on a phone, finds the request in the in-basket on their home page and confirms it with a
reason; the nurse's page then shows the confirmation. Every page on the way fits its width
without sideways scrolling and has no axe-core violation.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic.controlled_substances import services as ledger
from clinic.controlled_substances.tests.conftest import receive
from clinic.patients.services import body_measurement_record
from clinic.scheduling import services as scheduling
from clinic.scheduling.models import Appointment
from clinic.scheduling.tests.conftest import make_plan
from clinic.treatment_sessions.models import PrescriberRequest
from conftest import TEST_PASSWORD
from tests.e2e.conftest import PHONE, TABLET, assert_accessible, assert_fits_width


@pytest.fixture
def iv_today(patient, nurse, prescriber, front_desk, clinic_admin):
    """`patient`'s IV appointment starting now in Chair 1, 0.5 mg/kg × 80 kg, and a vial."""
    room = scheduling.room_create(actor=clinic_admin, name="Infusion suite")
    chair = scheduling.chair_create(
        actor=clinic_admin,
        room=room,
        name="Chair 1",
        capabilities=["iv_pump", "cardiac_monitor", "pulse_oximeter"],
    )
    body_measurement_record(
        actor=nurse, patient=patient, measured_on=timezone.localdate(), weight_kg=Decimal("80")
    )
    plan = make_plan(
        patient,
        nurse=nurse,
        prescriber=prescriber,
        route="iv",
        dose_mg_per_kg=Decimal("0.5"),
        dates=[timezone.localdate()],
    )
    starts_at = timezone.now().replace(second=0, microsecond=0)
    appointment = Appointment.objects.create(
        patient=patient,
        chair=chair,
        nurse=nurse,
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(minutes=70),
        route="iv",
        planned_session=plan.sessions.order_by("number").first(),
        created_by=front_desk,
    )
    product = ledger.product_create(
        actor=prescriber,
        name="Ketamine HCl 10 mg/mL, 10 mL vial",
        kind="racemic_ketamine_vial",
        strength_mg_per_ml=Decimal("10"),
        volume_ml=Decimal("10"),
    )
    receive(prescriber, product, containers=1, lot_number="KV-2031")
    return appointment


def _sign_in(browser, live_server, username, viewport):
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", TEST_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    return page


def test_a_high_pre_dose_bp_reaches_the_prescribers_in_basket_and_is_answered(
    browser, live_server, patient, nurse, prescriber, iv_today
):
    # Today's sessions at the chair: the check-in list fits a tablet and a phone.
    chair_side = _sign_in(browser, live_server, nurse.username, TABLET)
    chair_side.goto(f"{live_server.url}/sessions/")
    row = chair_side.get_by_role("row", name=re.compile("Rivera, Jordan"))
    expect(row).to_contain_text("DOB 04/12/1985")
    expect(row).to_contain_text("Allergies not recorded")
    assert_fits_width(chair_side)
    assert_accessible(chair_side)
    chair_side.set_viewport_size(PHONE)
    assert_fits_width(chair_side)
    chair_side.set_viewport_size(TABLET)

    # Check-in: the patient says their name and date of birth; a wrong date is refused.
    chair_side.get_by_role("link", name=re.compile("Check in")).click()
    assert_accessible(chair_side)
    chair_side.get_by_label(re.compile("The patient said their full name")).check()
    chair_side.get_by_label("Date of birth, as the patient says it").fill("1985-12-04")
    chair_side.get_by_role("button", name="Check in").click()
    expect(chair_side.locator(".field-error")).to_contain_text("not the date of birth on record")
    chair_side.get_by_label("Date of birth, as the patient says it").fill("1985-04-12")
    with chair_side.expect_navigation():
        chair_side.get_by_role("button", name="Check in").click()

    # The header names the patient and their allergies at all times.
    bar = chair_side.locator("#session-bar")
    expect(bar).to_contain_text("Jordan Rivera")
    expect(bar).to_contain_text("DOB 04/12/1985")
    expect(bar).to_contain_text("Allergies: not recorded")

    # The prescriber's home is open on a phone, nothing waiting yet.
    office = _sign_in(browser, live_server, prescriber.username, PHONE)
    expect(office.locator("#basket")).to_contain_text("Nothing is waiting for you.")
    expect(office.locator("#inbasket-badge[hx-vals]")).to_have_count(1)  # the count has loaded

    # A pre-dose reading of 190/120 from the vitals entry; the nurse stays where she was.
    vitals = chair_side.locator("#vitals-entry")
    vitals.get_by_label("Systolic (mmHg)").fill("190")
    vitals.get_by_label("Diastolic (mmHg)").fill("120")
    vitals.get_by_label("Heart rate (/min)").fill("84")
    vitals.get_by_role("button", name="Record vitals").click()
    expect(chair_side.locator(".session-messages")).to_contain_text("Vitals recorded with 1 alert")
    expect(bar).to_contain_text("Awaiting prescriber")
    expect(bar).to_contain_text("Confirm the pre-dose blood pressure")
    panel = chair_side.locator("#prescriber")
    expect(panel).to_contain_text("Waiting for a prescriber")
    expect(panel).to_contain_text("In the care team's prescribers' in-basket now")
    assert PrescriberRequest.objects.get().status == "open"
    assert_fits_width(chair_side)
    assert_accessible(chair_side)
    chair_side.set_viewport_size(PHONE)
    assert_fits_width(chair_side)
    assert_accessible(chair_side)
    chair_side.set_viewport_size(TABLET)

    # The chair board says it too.
    chair_side.goto(f"{live_server.url}/sessions/board/")
    expect(chair_side.locator(".board-waiting")).to_contain_text("Awaiting prescriber")
    assert_fits_width(chair_side)
    assert_accessible(chair_side)

    # The prescriber, on a phone between patients: the top bar's next count (every 20 s; run
    # now rather than waited for) sees that what waits has changed, and the list reloads.
    office.evaluate(
        """() => {
            const badge = document.getElementById("inbasket-badge");
            const seen = JSON.parse(badge.getAttribute("hx-vals")).seen;
            htmx.ajax("GET", badge.getAttribute("hx-get") + "?seen=" + seen,
                      {source: badge, target: badge, swap: "outerHTML"});
        }"""
    )
    basket = office.locator("#basket")
    expect(basket).to_contain_text("A nurse is waiting for a prescriber")
    expect(basket).to_contain_text("Pre-dose BP 190/120 mmHg")
    expect(office.locator("#inbasket-badge")).to_contain_text(re.compile(r"\d"))
    assert_fits_width(office)
    assert_accessible(office)
    basket.locator("summary", has_text="Answer").click()
    basket.get_by_label("Reason (goes in the record)").fill(
        "Known white-coat hypertension; recheck at 15 minutes"
    )
    basket.get_by_role("button", name="Confirm the BP for dosing").click()
    expect(office.locator(".messages")).to_contain_text("Confirm the pre-dose blood pressure: done")
    expect(office.locator("#basket")).not_to_contain_text("A nurse is waiting for a prescriber")
    assert PrescriberRequest.objects.get().status == "answered"

    # Back at the chair: the confirmation is on the checklist, and nobody is awaited.
    chair_side.goto(f"{live_server.url}/sessions/")
    chair_side.get_by_role("link", name=re.compile("Open session")).click()
    expect(chair_side.locator("#pre-checks")).to_contain_text(
        "BP 190/120 mmHg confirmed by the prescriber."
    )
    expect(chair_side.locator("#session-bar")).not_to_contain_text("Awaiting prescriber")
    chair_side.context.close()
    office.context.close()


@pytest.mark.parametrize("viewport", [TABLET, PHONE], ids=["tablet", "phone"])
def test_the_nurse_stays_where_she_was_after_each_save(
    browser, live_server, patient, nurse, iv_today, viewport
):
    from clinic.treatment_sessions import services
    from clinic.treatment_sessions.services import IdentityCheck

    session = services.session_check_in(
        actor=nurse,
        appointment=iv_today,
        identity=IdentityCheck(
            full_name_confirmed=True, stated_date_of_birth=patient.date_of_birth
        ),
    )
    page = _sign_in(browser, live_server, nurse.username, viewport)
    page.goto(f"{live_server.url}/sessions/{session.uuid}/")

    # Halfway down the pre-checks, the intention is saved: the section stays put on screen.
    page.get_by_label("Intention, in the patient's own words").fill("To rest")
    section = page.locator("#pre-checks")
    before = section.evaluate("e => e.getBoundingClientRect().top")
    page.get_by_role("button", name="Save pre-checks").click()
    expect(page.locator(".session-messages")).to_contain_text("Pre-checks saved")
    after = page.locator("#pre-checks").evaluate("e => e.getBoundingClientRect().top")
    assert abs(after - before) <= 2, (before, after)

    # A reading from the vitals entry: the page does not jump; the confirmation is on screen.
    page.locator("#vitals-entry").get_by_label("Systolic (mmHg)").fill("128")
    page.locator("#vitals-entry").get_by_label("Diastolic (mmHg)").fill("80")
    y = page.evaluate("window.scrollY")
    page.locator("#vitals-entry").get_by_role("button", name="Record vitals").click()
    expect(page.locator(".session-messages")).to_contain_text("Vitals recorded")
    assert abs(page.evaluate("window.scrollY") - y) <= 60
    expect(page.locator(".session-messages")).to_be_in_viewport()
    page.context.close()
