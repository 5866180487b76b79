"""Issue 15's problem list in Chromium: a prescriber adds the diagnosis the intake suggests,
finds a second one by words, makes it primary, and a header code is explained, not accepted;
the biller then reads the list on the chart, on a phone, without the clinical sections."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from clinic.billing.models import Diagnosis
from clinic.screening.models import Intake
from tests.e2e.conftest import PHONE


def test_a_prescriber_builds_the_problem_list_and_billing_reads_it(
    page, live_server, login_as, patient, billing
):
    Intake.objects.create(patient=patient, indication="treatment_resistant_depression")
    login_as("prescriber")
    page.goto(f"{live_server.url}/patients/{patient.uuid}/")
    section = page.get_by_role("region", name="Diagnoses (problem list)")
    expect(section).to_contain_text("No active diagnosis on the problem list.")
    section.get_by_role("link", name="Add a diagnosis").click()

    # The intake's indication offers codes; picking one fills the field in, saving nothing.
    suggestions = page.get_by_role("group", name=re.compile("Suggested by the intake"))
    expect(suggestions).to_contain_text("Treatment-resistant depression")
    suggestions.get_by_role("button", name=re.compile("^F33.2")).click()
    expect(page.locator("#id_icd10_code")).to_have_value("F33.2")
    expect(page.get_by_role("status").first).to_contain_text(
        "Major depressive disorder, recurrent severe without psychotic features"
    )
    assert not Diagnosis.objects.exists()
    page.fill("#id_onset_date", "2023-09-01")
    page.get_by_label("Primary diagnosis for treatment").check()
    page.get_by_role("button", name="Add to the problem list").click()
    expect(page).to_have_url(re.compile(rf"/patients/{patient.uuid}/#diagnoses$"))
    expect(page.get_by_text("F33.2 added to the problem list.")).to_be_visible()

    # A heading code is refused with the codes under it; the search finds billable ones.
    page.get_by_role("link", name="Add a diagnosis").click()
    page.fill("#id_icd10_code", "F43.1")
    page.get_by_role("button", name="Add to the problem list").click()
    expect(page.locator("#id_icd10_code_error")).to_contain_text(
        "is a heading, not a billable code. Choose a more specific code: F43.10, F43.11, F43.12"
    )
    page.fill("#icd10-search", "chronic post-traumatic")
    results = page.locator("#icd10-results")
    results.get_by_role("button", name=re.compile("^F43.12")).click()
    expect(page.locator("#id_icd10_code")).to_have_value("F43.12")
    page.get_by_role("button", name="Add to the problem list").click()

    section = page.get_by_role("region", name="Diagnoses (problem list)")
    expect(section.get_by_role("row", name=re.compile("F33.2 primary"))).to_be_visible()
    expect(section).to_contain_text("Post-traumatic stress disorder, chronic")
    assert Diagnosis.objects.get(icd10_code="F33.2").is_primary
    page.get_by_role("button", name="Sign out").click()

    # The biller, on a phone: the list is there, the clinical chart is not, nothing to change.
    page.set_viewport_size(PHONE)
    login_as(billing.username)
    page.goto(f"{live_server.url}/patients/{patient.uuid}/")
    section = page.get_by_role("region", name="Diagnoses (problem list)")
    expect(section).to_contain_text("F33.2")
    expect(section).to_contain_text("F43.12")
    expect(section.get_by_role("link", name="Add a diagnosis")).to_have_count(0)
    expect(page.get_by_role("heading", name="Weight and height")).to_have_count(0)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the chart scrolls sideways on a phone ({width}px)"
