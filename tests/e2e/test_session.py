"""Issue 6's main paths in Chromium, at tablet width.

A nurse runs an IV session from check-in to discharge: pre-checks, a pre-dose reading, the
infusion from a vial of the inventory (the ledger records it), a high blood pressure whose alert
is acknowledged, the modified Aldrete and the discharge. An esketamine session is refused
discharge 90 minutes after its last device and allowed at 120 (the label's two hours [C9]).

The browser runs in real time, so the minutes a session must wait (the 5 minutes between
devices, the observation after dosing) are passed by moving the session's recorded times back,
as if they had been recorded that long ago.
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
from clinic.treatment_sessions.models import DoseAdministration, InfusionEvent, TreatmentSession

TABLET = {"width": 820, "height": 1180}


@pytest.fixture
def chair(clinic_admin):
    room = scheduling.room_create(actor=clinic_admin, name="Room A")
    return scheduling.chair_create(
        actor=clinic_admin,
        room=room,
        name="Chair 1",
        capabilities=["iv_pump", "cardiac_monitor", "pulse_oximeter"],
    )


def _appointment_now(patient, chair, nurse, front_desk, plan, *, route, minutes):
    starts_at = timezone.now().replace(second=0, microsecond=0)
    return Appointment.objects.create(
        patient=patient,
        chair=chair,
        nurse=nurse,
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(minutes=minutes),
        route=route,
        planned_session=plan.sessions.order_by("number").first(),
        created_by=front_desk,
    )


def _local_input(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def _check_in(page, live_server, patient):
    """From today's list: ask the patient's name and date of birth, then check in."""
    page.goto(f"{live_server.url}/sessions/")
    page.get_by_role("link", name=re.compile("Check in")).click()
    page.get_by_label(re.compile("The patient said their full name")).check()
    page.get_by_label("Date of birth, as the patient says it").fill(
        patient.date_of_birth.isoformat()
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Check in").click()
    expect(page.get_by_role("heading", name="Pre-checks", exact=True)).to_be_visible()


def test_a_nurse_runs_an_iv_session_from_check_in_to_discharge(
    login_as, live_server, patient, nurse, prescriber, front_desk, clinic_admin, chair
):
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
    _appointment_now(patient, chair, nurse, front_desk, plan, route="iv", minutes=70)
    product = ledger.product_create(
        actor=prescriber,
        name="Ketamine HCl 10 mg/mL, 10 mL vial",
        kind="racemic_ketamine_vial",
        strength_mg_per_ml=Decimal("10"),
        volume_ml=Decimal("10"),
    )
    vial = receive(prescriber, product, containers=1, lot_number="KV-2031").containers.get()

    page = login_as("nurse")
    page.set_viewport_size(TABLET)
    _check_in(page, live_server, patient)

    # Pre-checks: fasting since 5 h (food) and 3 h (clear liquids), escort, test, intention.
    now = timezone.now()
    page.get_by_label("Last food").fill(_local_input(now - datetime.timedelta(hours=5)))
    page.get_by_label("Last clear liquid").fill(_local_input(now - datetime.timedelta(hours=3)))
    page.get_by_label("Escort's name").fill("Sam Rivera")
    page.get_by_label("Escort home confirmed (no driving today)").check()
    page.get_by_label("Pregnancy test").select_option("negative")
    page.get_by_label("Today's questionnaires").select_option("none_due")
    page.get_by_label("Intention, in the patient's own words").fill("To feel at home in myself")
    page.get_by_label("Eye mask").check()
    page.get_by_label("Lighting").select_option("dimmed")
    page.get_by_role("button", name="Save pre-checks").click()
    expect(page.get_by_text("Pre-checks saved")).to_be_visible()

    # The pre-dose reading is the last check.
    vitals = page.locator("#vitals-entry")
    vitals.get_by_label("Systolic (mmHg)").fill("128")
    vitals.get_by_label("Diastolic (mmHg)").fill("82")
    vitals.get_by_label("Heart rate (/min)").fill("72")
    vitals.get_by_label("SpO2 (%)").fill("98")
    vitals.get_by_role("button", name="Record vitals").click()
    expect(page.locator("#flowsheet").get_by_role("cell", name="128/82")).to_be_visible()

    # Today's dose: 0.5 mg/kg × 80 kg = 40 mg over 40 minutes, drawn from the vial.
    expect(page.locator("#pre-checks").get_by_text("40 mg", exact=True)).to_be_visible()
    dosing = page.locator("#dosing")
    expect(dosing).to_contain_text("KV-2031")
    dosing.locator("select[name$='container']").select_option(index=1)
    dosing.get_by_label("Drawn into the bag (mg)").fill("40")
    dosing.get_by_role("button", name="Start the infusion").click()
    expect(page.locator("#session-live")).to_contain_text("Dosing")

    # 182/100 during the infusion: an alert (≥ 180/110 by either value) to acknowledge.
    vitals = page.locator("#vitals-entry")
    vitals.get_by_label("Systolic (mmHg)").fill("182")
    vitals.get_by_label("Diastolic (mmHg)").fill("100")
    vitals.get_by_label("Heart rate (/min)").fill("88")
    vitals.get_by_role("button", name="Record vitals").click()
    alerts = page.locator("#alerts")
    expect(alerts).to_contain_text("BP 182/100 mmHg: systolic 182 mmHg is at or above 180 mmHg")
    alerts.locator("summary", has_text="Acknowledge").first.click()  # opens the form
    alerts.get_by_label("Action").select_option("continue")
    alerts.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("#alerts")).to_have_count(0)
    expect(page.locator("#session-live")).to_contain_text("Open alerts 0")

    # The infusion ends: all 40 mg given; the ledger takes them off the vial. The browser runs
    # in real time, so the infusion's start is moved 41 minutes back: 40 mg could have run in.
    session = TreatmentSession.objects.get(appointment__patient=patient)
    started = timezone.now() - datetime.timedelta(minutes=41)
    InfusionEvent.objects.filter(session=session, kind="start").update(occurred_at=started)
    TreatmentSession.objects.filter(pk=session.pk).update(dose_started_at=started)
    page.reload()
    dosing = page.locator("#dosing")
    dosing.get_by_label("Given to the patient (mg)").fill("40")
    dosing.get_by_role("button", name="Stop the infusion").click()
    expect(page.locator("#session-live")).to_contain_text("Monitoring")
    vial.refresh_from_db()
    assert vial.balance_mg == Decimal("60")

    # 31 minutes on (observation after IV: 30 min [E11]); the Aldrete is 10.
    session = TreatmentSession.objects.get(appointment__patient=patient)
    TreatmentSession.objects.filter(pk=session.pk).update(
        dose_completed_at=timezone.now() - datetime.timedelta(minutes=31)
    )
    page.reload()
    scores = page.locator("#scores")
    scores.get_by_text("Modified Aldrete").first.click()
    aldrete = scores.locator("form", has=page.get_by_role("button", name=re.compile("Aldrete")))
    for fieldset in aldrete.locator("fieldset").all():
        fieldset.locator("input[value='2']").check()
    aldrete.get_by_role("button", name=re.compile("Aldrete")).click()
    expect(page.locator("#scores")).to_contain_text("Latest modified Aldrete after dosing: 10")

    discharge = page.locator("#discharge")
    discharge.get_by_label("The escort is here to take the patient home").check()
    discharge.get_by_label("Post-session instructions given to the patient and escort").check()
    discharge.get_by_role("button", name="Discharge the patient").click()
    expect(page.locator("#session-live")).to_contain_text("Discharged")
    session.refresh_from_db()
    assert session.phase == "discharged"
    assert session.appointment.status == "completed"
    assert session.alerts.get().action == "continue"


def test_esketamine_discharge_is_refused_at_90_minutes_and_allowed_at_120(
    login_as, live_server, patient, nurse, prescriber, front_desk, chair
):
    plan = make_plan(
        patient,
        nurse=nurse,
        prescriber=prescriber,
        route="esketamine",
        esketamine_dose_mg=56,
        dates=[timezone.localdate()],
    )
    _appointment_now(patient, chair, nurse, front_desk, plan, route="esketamine", minutes=150)
    product = ledger.product_create(
        actor=prescriber,
        name="Esketamine 28 mg nasal device",
        kind="esketamine_device",
        mg_per_device=Decimal("28"),
    )
    receive(prescriber, product, containers=2, lot_number="ESK-7")

    page = login_as("prescriber")
    page.set_viewport_size(TABLET)
    _check_in(page, live_server, patient)
    page.locator("#prescriber").get_by_label("Reason").last.fill(
        "Pre-checks done on paper during a network outage"
    )
    page.get_by_role("button", name="Override and allow dosing").click()

    def give_device(number):
        dosing = page.locator("#dosing")
        dosing.locator("select[name$='container']").select_option(index=1)
        dosing.get_by_role("button", name=f"Device {number} given").click()

    give_device(1)
    expect(page.locator("#dosing")).to_contain_text("Device 1 of 2: given")
    # The next device only 5 minutes later (label [C2]): the first is moved 5 minutes back.
    session = TreatmentSession.objects.get(appointment__patient=patient)
    five_ago = timezone.now() - datetime.timedelta(minutes=5, seconds=5)
    DoseAdministration.objects.filter(session=session).update(given_at=five_ago)
    TreatmentSession.objects.filter(pk=session.pk).update(dose_started_at=five_ago)
    page.reload()
    give_device(2)
    expect(page.locator("#session-live")).to_contain_text("Monitoring")

    def last_device_minutes_ago(minutes):
        TreatmentSession.objects.filter(pk=session.pk).update(
            dose_completed_at=timezone.now() - datetime.timedelta(minutes=minutes)
        )

    last_device_minutes_ago(90)
    page.reload()
    scores = page.locator("#scores")
    scores.get_by_text("Modified Aldrete").first.click()
    aldrete = scores.locator("form", has=page.get_by_role("button", name=re.compile("Aldrete")))
    for fieldset in aldrete.locator("fieldset").all():
        fieldset.locator("input[value='2']").check()
    aldrete.get_by_role("button", name=re.compile("Aldrete")).click()
    expect(page.locator("#scores")).to_contain_text("Latest modified Aldrete after dosing: 10")

    def discharge():
        form = page.locator("#discharge")
        form.get_by_label("The escort is here to take the patient home").check()
        form.get_by_label("Post-session instructions given to the patient and escort").check()
        form.get_by_role("button", name="Discharge the patient").click()

    discharge()
    # 90 of the 120 minutes have passed (give or take the seconds the test itself takes).
    expect(page.locator("#discharge").get_by_role("alert")).to_contain_text(
        re.compile(
            r"Discharge is blocked: Observation is not complete: (30 min|29 min \d+ s) to go"
        )
    )
    session.refresh_from_db()
    assert session.phase == "monitoring"

    last_device_minutes_ago(120)
    page.goto(f"{live_server.url}/sessions/{session.uuid}/")
    discharge()
    expect(page.locator("#session-live")).to_contain_text("Discharged")
    session.refresh_from_db()
    assert session.phase == "discharged"
    assert not session.overrides.filter(kind="discharge").exists()
