"""Issue 4's main path in Chromium: a consultation request → the front desk converts it → the
intake is completed by the patient through a link → the prescriber reviews a psychosis_history
finding, must write a justification, and signs "eligible for IV and esketamine"."""

import re

from django.core.cache import cache
from playwright.sync_api import expect

from clinic.patients import services as patient_services
from clinic.patients.models import Patient
from clinic.screening.choices import Condition
from clinic.screening.models import EligibilityDecision, Intake


def test_from_consultation_request_to_a_signed_decision(make_staff, page, live_server, login_as):
    cache.clear()
    make_staff("front_desk", username="desk")
    prescriber = make_staff("prescriber", username="okafor", first_name="Maya", last_name="Okafor")
    nurse = make_staff("nurse", username="liu")

    # A visitor asks for a consultation.
    page.goto(f"{live_server.url}/consultation/")
    page.fill("#id_given_name", "Maribel")
    page.fill("#id_family_name", "Achterberg")
    page.fill("#id_phone", "(555) 010-7788")
    page.fill("#id_date_of_birth", "1988-02-14")
    page.get_by_label("Phone call").check()
    page.select_option("#id_seeking_help_with", "treatment_resistant_depression")
    page.get_by_label("I agree that the clinic may contact me").check()
    page.get_by_role("button", name="Send my request").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()

    # The front desk converts it into a patient.
    login_as("desk")
    page.get_by_role("link", name="Consultation requests").first.click()
    page.get_by_role("link", name="Achterberg, Maribel").click()
    page.get_by_role("link", name="Convert to patient").click()
    page.select_option("#id_sex", "female")
    page.get_by_role("button", name="Register patient").click()
    patient = Patient.objects.get()
    expect(page).to_have_url(re.compile(rf"/patients/{patient.uuid}/$"))
    patient_services.care_team_set(
        actor=patient.created_by, patient=patient, primary_prescriber=prescriber, nurses=[nurse]
    )
    page.context.clear_cookies()

    # The nurse records the indication and vitals, then sends the intake link.
    login_as("liu")
    page.goto(f"{live_server.url}/patients/{patient.uuid}/intake/")
    page.select_option("#id_indication", "treatment_resistant_depression")
    page.fill("#id_systolic_mmhg", "128")
    page.fill("#id_diastolic_mmhg", "82")
    page.fill("#id_heart_rate_bpm", "70")
    page.get_by_role("button", name="Save draft").click()
    page.goto(f"{live_server.url}/patients/{patient.uuid}/")
    page.get_by_role("button", name="Send the patient an intake link").click()
    link = page.get_by_role("textbox", name="Intake link").input_value()
    assert "/intake/" in link
    page.context.clear_cookies()

    # The patient fills in the intake through the link, with a past psychosis: every question
    # an explicit yes or no (issue 11).
    page.goto(link)
    expect(page).to_have_url(re.compile(r"/intake/$"))
    expect(page.get_by_role("heading", name="Your health history")).to_be_visible()
    for _code, label in Condition.choices:
        answer = "Yes" if label.startswith("Past psychosis") else "No"
        page.get_by_role("group", name=label, exact=True).get_by_label(answer).check()
    page.get_by_role("group", name="Are you pregnant, or could you be?").get_by_label("No").check()
    page.get_by_role("group", name="Are you breastfeeding?").get_by_label("No").check()
    page.get_by_role("group", name="Do you take any medicines now?").get_by_label("No").check()
    page.get_by_role("group", name="Have you taken any antidepressants?").get_by_label(
        "Yes"
    ).check()
    page.fill("#id_weight_kg", "68")
    page.fill("#id_height_cm", "165")
    page.fill("#id_trial-0-drug", "sertraline")
    page.check("#id_trial-0-adequate_0")
    page.select_option("#id_trial-0-outcome", "no_response")
    page.check("#id_trial-0-current_episode_0")
    # A second antidepressant needs a second row: added without losing what was typed.
    page.get_by_role("button", name="Add an antidepressant row").click()
    expect(page.locator("#id_trial-0-drug")).to_have_value("sertraline")
    page.fill("#id_trial-1-drug", "venlafaxine")
    page.check("#id_trial-1-adequate_0")
    page.select_option("#id_trial-1-outcome", "partial_response")
    page.check("#id_trial-1-current_episode_0")
    page.get_by_role("button", name="Send my answers").click()
    # Straight on to the baseline questionnaires.
    expect(page).to_have_url(re.compile(r"/q/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("PHQ-9")
    intake = Intake.objects.get(patient=patient)
    assert intake.status == "submitted" and intake.source == "patient_link"
    page.context.clear_cookies()

    # The prescriber reviews: psychosis_history is a relative finding for IV and esketamine.
    login_as("okafor")
    page.goto(f"{live_server.url}/patients/{patient.uuid}/eligibility/")
    iv = page.get_by_role("region", name="IV infusion")
    expect(iv).to_contain_text("Eligible with precautions")
    expect(iv).to_contain_text("Past psychosis")
    expect(iv).not_to_contain_text("psychosis_history")
    expect(page.get_by_role("region", name="At-home sublingual")).to_contain_text("Not eligible")
    expect(page.locator("main")).to_contain_text("Treatment-resistant")
    page.get_by_label("Eligible for the routes chosen below").check()
    page.get_by_role("checkbox", name="IV infusion").check()
    page.get_by_role("checkbox", name="Esketamine nasal spray").check()
    page.get_by_role("button", name="Sign decision").click()
    expect(page.locator(".field-error")).to_contain_text("needs a written justification")
    assert not EligibilityDecision.objects.exists()

    page.locator("#justification_psychosis_history").fill(
        "Single brief episode in 2009 on cannabis; none since; psychiatrist agrees."
    )
    page.get_by_role("button", name="Sign decision").click()
    expect(page.locator(".messages")).to_contain_text("Eligibility decision signed")
    decision = EligibilityDecision.objects.get()
    assert decision.outcome == "eligible" and decision.approved_routes == ["iv", "esketamine"]
    assert "psychosis_history" in decision.justifications
    expect(page.locator("main")).to_contain_text("Current decision: Eligible for the chosen routes")
