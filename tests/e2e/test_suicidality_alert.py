"""Issue 3's main path in Chromium: a patient completes a PHQ-9 through a secure link with
item 9 = 1, sees crisis resources at once, and the primary clinician sees the alert on their
home page and acknowledges it with a note."""

import re

from django.urls import reverse
from playwright.sync_api import expect

from clinic.assessments import services as assessment_services
from clinic.assessments.models import SuicidalityAlert
from clinic.patients import services as patient_services

# Answers 0 to every PHQ-9 item except item 9, which is 1 ("Several days").
PHQ9_ITEM9_SEVERAL_DAYS = {9: "Several days"}


def test_patient_link_with_item_9_alerts_the_primary_clinician(
    make_staff, page, live_server, login_as
):
    desk = make_staff("front_desk", username="desk")
    prescriber = make_staff(
        "prescriber", username="okafor", first_name="Maya", last_name="Okafor", credentials="MD"
    )
    patient = patient_services.patient_create(
        actor=desk,
        data={
            "legal_given_name": "Sam",
            "legal_family_name": "Lindqvist",
            "date_of_birth": "1988-05-17",
            "sex": "male",
        },
    )
    patient_services.care_team_set(actor=desk, patient=patient, primary_prescriber=prescriber)
    _, token = assessment_services.questionnaire_link_create(
        actor=desk, patient=patient, instrument_codes=["phq9"]
    )

    # The patient opens the link: the token leaves the address bar at once.
    page.goto(live_server.url + reverse("assessments:questionnaire_start", args=[token]))
    expect(page).to_have_url(re.compile(r"/q/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("PHQ-9")
    expect(page.locator("body")).not_to_contain_text("Lindqvist")
    for number in range(1, 10):
        answer = PHQ9_ITEM9_SEVERAL_DAYS.get(number, "Not at all")
        page.locator("fieldset.item").nth(number - 1).get_by_label(answer, exact=True).check()
    page.get_by_role("button", name="Submit").click()

    # Crisis resources at once, and the C-SSRS screen is asked next.
    crisis = page.get_by_role("alert").filter(has_text="988")
    expect(crisis).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("C-SSRS")
    alert = SuicidalityAlert.objects.get(patient=patient)
    assert alert.assigned_to == prescriber and alert.status == "open"

    # The primary clinician signs in and finds the alert on the home page.
    page.context.clear_cookies()
    login_as("okafor")
    inbox = page.get_by_role("region", name=re.compile("Waiting for you"))
    expect(inbox).to_contain_text("Suicidality alerts")
    expect(inbox).to_contain_text("Lindqvist, Sam")
    inbox.get_by_role("link", name=re.compile("Lindqvist")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Suicidal ideation reported")
    expect(page.locator("body")).to_contain_text("PHQ-9 item 9 answered 1")

    # A note is required; then the alert is acknowledged, audited and leaves the inbox.
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator(".field-error")).to_contain_text("required")
    page.get_by_label("Note").fill(
        "Phoned the patient; no current plan or intent; safety plan reviewed."
    )
    page.get_by_role("button", name="Acknowledge").click()
    expect(page).to_have_url(re.compile(rf"/patients/{patient.uuid}/$"))
    alert.refresh_from_db()
    assert alert.status == "resolved" and alert.acknowledged_by == prescriber
    page.get_by_role("link", name="Home").click()
    expect(page.locator("main")).not_to_contain_text("Suicidality alerts waiting for you")
