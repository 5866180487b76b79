"""Issue 5's main path in Chromium: the prescriber creates an IV induction plan for an eligible
patient, the front desk books all six sessions, the calendar shows them, and a booking in a
chair that is already taken is refused."""

import datetime
import re

from django.utils import timezone
from playwright.sync_api import expect

from clinic.patients import services as patient_services
from clinic.protocols import services as protocol_services
from clinic.protocols.models import ProtocolTemplate
from clinic.scheduling import services as scheduling
from clinic.scheduling.models import Appointment
from clinic.screening import services as screening_services
from clinic.screening.tests.test_eligibility import ANSWERED

TRIALS = [
    {"drug": "sertraline", "adequate": True, "outcome": "no_response", "current_episode": True},
    {"drug": "venlafaxine", "adequate": True, "outcome": "no_response", "current_episode": True},
]


def eligible_patient(desk, prescriber, nurse, family_name):
    patient = patient_services.patient_create(
        actor=desk,
        data={
            "legal_given_name": "Rae",
            "legal_family_name": family_name,
            "date_of_birth": "1979-03-02",
            "sex": "female",
        },
    )
    patient_services.care_team_set(
        actor=desk, patient=patient, primary_prescriber=prescriber, nurses=[nurse]
    )
    patient_services.body_measurement_record(
        actor=nurse,
        patient=patient,
        measured_on=timezone.localdate(),
        weight_kg="72",
        height_cm="165",
    )
    intake = screening_services.intake_start(actor=nurse, patient=patient)
    intake = screening_services.intake_save(
        actor=nurse,
        intake=intake,
        data={
            **ANSWERED,  # every question the rules need answered (issue 11)
            "takes_medications": False,
            "indication": "treatment_resistant_depression",
            "systolic_mmhg": 124,
            "diastolic_mmhg": 78,
            "heart_rate_bpm": 72,
            "weight_kg": "72",
            "height_cm": "165",
        },
        trials=TRIALS,
        submit=True,
    )
    screening_services.decision_sign(
        actor=prescriber, intake=intake, outcome="eligible", approved_routes=["iv"]
    )
    return patient


def next_monday():
    day = timezone.localdate() + datetime.timedelta(days=1)
    return day + datetime.timedelta(days=(7 - day.weekday()) % 7)


def test_plan_and_book_an_iv_induction_and_refuse_a_taken_chair(
    make_staff, page, live_server, login_as
):
    admin = make_staff("clinic_admin", username="admin")
    desk = make_staff("front_desk", username="desk")
    prescriber = make_staff("prescriber", username="okafor")
    nurse = make_staff("nurse", username="liu", first_name="Grace", last_name="Liu")
    opens, closes = datetime.time(8, 0), datetime.time(18, 0)
    scheduling.opening_hours_set(
        actor=admin, hours={d: (opens, closes) if d < 5 else None for d in range(7)}
    )
    room = scheduling.room_create(actor=admin, name="Infusion suite")
    scheduling.chair_create(
        actor=admin,
        room=room,
        name="Chair 1",
        capabilities=["iv_pump", "cardiac_monitor", "pulse_oximeter"],
    )
    for offset in range(35):
        day = timezone.localdate() + datetime.timedelta(days=offset)
        if day.weekday() < 5:
            scheduling.staff_shift_add(actor=admin, staff=nurse, date=day, start=opens, end=closes)
    patient = eligible_patient(desk, prescriber, nurse, "Lindgren")
    start = next_monday()

    # The prescriber previews and creates the plan: six infusions of 0.5 mg/kg × 72 kg = 36.0 mg.
    login_as("okafor")
    page.goto(f"{live_server.url}/patients/{patient.uuid}/plans/new/")
    page.get_by_role("link", name="IV induction, 2 a week (6 infusions over 3 weeks)").click()
    page.fill("#id_start_date", start.isoformat())
    page.get_by_role("button", name="Preview sessions and doses").click()
    preview = page.get_by_role("region", name=re.compile("Preview: 6 sessions"))
    expect(preview).to_contain_text("36.0 mg")
    page.get_by_role("button", name="Create draft plan").click()
    page.get_by_role("button", name="Sign and activate").click()
    expect(page.locator(".messages")).to_contain_text("Plan signed and active")
    plan_url = page.url
    page.context.clear_cookies()

    # The front desk books every proposed session.
    login_as("desk")
    page.goto(
        plan_url.replace(live_server.url, live_server.url)
    )  # the desk cannot open the plan...
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    page.goto(f"{live_server.url}/patients/{patient.uuid}/")
    page.get_by_role("link", name=re.compile("Book sessions")).first.click()
    for number in range(1, 7):
        page.get_by_role("button", name=f"Book session {number}").click()
        expect(page.locator(".messages")).to_contain_text(f"Session {number} booked")
    expect(page.locator("main")).to_contain_text("Every session of this plan is booked")
    booked = list(
        Appointment.objects.filter(patient=patient, status="booked").order_by("starts_at")
    )
    assert len(booked) == 6 and len({a.starts_at.date() for a in booked}) == 6

    # The week calendar shows them.
    first = timezone.localtime(booked[0].starts_at)
    page.goto(f"{live_server.url}/schedule/?date={first.date().isoformat()}&view=week")
    expect(page.locator("main")).to_contain_text("Lindgren")

    # Another patient's session in the same chair at the same time is refused.
    other = eligible_patient(desk, prescriber, nurse, "Moreau")
    other_plan = protocol_services.plan_create(
        actor=prescriber,
        patient=other,
        template=ProtocolTemplate.objects.get(code="iv-induction-2x-weekly"),
        start_date=start,
    )
    protocol_services.plan_activate(actor=prescriber, plan=other_plan)
    page.goto(f"{live_server.url}/schedule/plans/{other_plan.uuid}/book/")
    page.fill("#id_s1-date", first.date().isoformat())
    page.fill("#id_s1-time", first.strftime("%H:%M"))
    page.get_by_role("button", name="Book session 1").click()
    expect(page.locator("#id_s1-chair_error")).to_contain_text("That chair is already booked")
    assert not Appointment.objects.filter(patient=other).exists()
