"""Issue 11, follow-up screening, in Chromium: a patient answers a PHQ-9 through a secure link
with item 9 positive, then the C-SSRS the link asks next with a high risk. There is exactly
one alert, escalated, in the prescriber's inbox; the alert page shows both answers. A nurse's
C-SSRS form switches off the questions the screener skips. The staff questionnaire form and
the alert page fit a phone and a tablet and pass axe-core."""

import re

from django.urls import reverse
from playwright.sync_api import expect

from clinic.assessments import services as assessment_services
from clinic.assessments.models import AlertFollowUp, AssessmentResponse, SuicidalityAlert
from clinic.patients import services as patient_services
from tests.e2e.conftest import PHONE, TABLET, assert_accessible, assert_fits_width


def _item(page, number):
    return page.locator("fieldset.item").nth(number - 1)


def test_a_high_risk_cssrs_after_a_phq9_escalates_the_one_alert(
    make_staff, page, live_server, login_as
):
    desk = make_staff("front_desk", username="desk")
    prescriber = make_staff(
        "prescriber", username="okafor", first_name="Maya", last_name="Okafor", credentials="MD"
    )
    nurse = make_staff("nurse", username="reyes", first_name="Ana", last_name="Reyes")
    patient = patient_services.patient_create(
        actor=desk,
        data={
            "legal_given_name": "Sam",
            "legal_family_name": "Lindqvist",
            "date_of_birth": "1988-05-17",
            "sex": "male",
        },
    )
    patient_services.care_team_set(
        actor=desk, patient=patient, primary_prescriber=prescriber, nurses=[nurse]
    )
    _, token = assessment_services.questionnaire_link_create(
        actor=desk, patient=patient, instrument_codes=["phq9"]
    )

    # The patient: PHQ-9 with item 9 "Several days", every other item "Not at all".
    page.goto(live_server.url + reverse("assessments:questionnaire_start", args=[token]))
    expect(page.get_by_role("heading", level=1)).to_contain_text("PHQ-9")
    for number in range(1, 10):
        answer = "Several days" if number == 9 else "Not at all"
        _item(page, number).get_by_label(answer, exact=True).check()
    page.get_by_role("button", name="Submit").click()

    # Crisis resources at once; the C-SSRS is next, with its skips switched off until asked.
    expect(page.get_by_role("alert").filter(has_text="988")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("C-SSRS")
    expect(_item(page, 3).get_by_label("Yes", exact=True)).to_be_disabled()
    expect(_item(page, 3)).to_contain_text("Only if your answer to question 2 is Yes.")
    _item(page, 1).get_by_label("Yes", exact=True).check()
    _item(page, 2).get_by_label("Yes", exact=True).check()
    expect(_item(page, 3).get_by_label("Yes", exact=True)).to_be_enabled()
    _item(page, 3).get_by_label("No", exact=True).check()
    _item(page, 4).get_by_label("Yes", exact=True).check()  # intent: high risk [G13]
    _item(page, 5).get_by_label("No", exact=True).check()
    _item(page, 6).get_by_label("No", exact=True).check()
    expect(
        _item(page, 7).get_by_label("Yes", exact=True)
    ).to_be_disabled()  # within 3 months: only after a yes to 6
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Thank you")
    expect(page.get_by_role("alert").filter(has_text="988")).to_be_visible()

    # Exactly one alert, escalated by the C-SSRS; the C-SSRS is its follow-up.
    alert = SuicidalityAlert.objects.get(patient=patient)
    cssrs = AssessmentResponse.objects.get(patient=patient, instrument_code="cssrs-screen")
    assert cssrs.answers == [1, 1, 0, 1, 0, 0, None]
    assert (alert.kind, alert.escalated_from_kind, alert.escalated_by_response) == (
        "high_suicide_risk",
        "suicidal_ideation",
        cssrs,
    )
    assert AlertFollowUp.objects.get().alert == alert

    # The prescriber's inbox: one alert, escalated, with the follow-up under it.
    page.context.clear_cookies()
    login_as("okafor")
    inbox = page.get_by_role("region", name=re.compile("Waiting for you"))
    expect(inbox.locator("li.alert")).to_have_count(1)
    expect(inbox).to_contain_text("Lindqvist, Sam")
    expect(inbox).to_contain_text("High suicide risk (C-SSRS)")
    expect(inbox).to_contain_text("by the answers of the C-SSRS Screener (risk: high)")
    expect(inbox.get_by_role("list", name="Follow-up answers")).to_contain_text("risk: high")
    inbox.get_by_role("link").first.click()

    expect(page.get_by_role("heading", level=1)).to_have_text("High suicide risk (C-SSRS)")
    answers = page.get_by_role("region", name=re.compile("Answers behind this alert"))
    expect(answers.locator("li")).to_have_count(2)
    expect(answers.locator("li").nth(0)).to_contain_text("PHQ-9 item 9 answered 1")
    expect(answers.locator("li").nth(1)).to_contain_text("Escalated the alert")
    expect(page.locator(".alert-escalated")).to_contain_text("raised from")
    for size in (TABLET, PHONE):
        page.set_viewport_size(size)
        assert_fits_width(page)
        assert_accessible(page)

    # A nurse enters a C-SSRS: the skipped questions are switched off, with the reason.
    page.context.clear_cookies()
    login_as("reyes")
    page.goto(
        live_server.url
        + reverse("assessments:response_create", args=[patient.uuid, "cssrs-screen"])
    )
    expect(page.locator(".how-to-answer")).to_contain_text("The screener branches.")
    expect(_item(page, 4)).to_contain_text("Ask only after a Yes to question 2")
    expect(_item(page, 4).get_by_label("Yes", exact=True)).to_be_disabled()
    expect(_item(page, 4)).to_contain_text("Skipped for now.")
    for size in (TABLET, PHONE):
        page.set_viewport_size(size)
        assert_fits_width(page)
        assert_accessible(page)
    _item(page, 1).get_by_label("No", exact=True).check()
    _item(page, 2).get_by_label("Yes", exact=True).check()
    _item(page, 3).get_by_label("Yes", exact=True).check()
    # Back to No on question 2: questions 3–5 are skipped again and their answer cleared.
    _item(page, 2).get_by_label("No", exact=True).check()
    expect(_item(page, 3).get_by_label("Yes", exact=True)).to_be_disabled()
    expect(_item(page, 3).get_by_label("Yes", exact=True)).not_to_be_checked()
    _item(page, 6).get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Save and score").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("C-SSRS")
    expect(page.locator("main")).to_contain_text("none")
    latest = AssessmentResponse.objects.filter(instrument_code="cssrs-screen").latest("pk")
    assert latest.answers == [0, 0, None, None, None, 0, None]
    assert SuicidalityAlert.objects.filter(patient=patient).count() == 1
