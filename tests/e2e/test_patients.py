"""Issue 2's main path in Chromium: the front desk registers a patient and opens the chart;
a nurse off that patient's care team is told "not found"; the nurse on it sees the chart."""

import re

from playwright.sync_api import expect

from clinic.patients import services
from clinic.patients.models import Patient


def _sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_front_desk_registers_a_patient_and_a_nurse_off_the_team_gets_not_found(
    make_staff, page, live_server, login_as
):
    make_staff("front_desk", username="desk")
    make_staff("nurse", username="offteam")

    login_as("desk")
    expect(page.get_by_role("heading", name="Front desk")).to_be_visible()
    page.get_by_role("link", name="Register a patient").first.click()

    # A first attempt with mistakes: errors sit next to their fields and nothing is saved.
    page.fill("#id_legal_family_name", "Okonkwo")
    page.fill("#id_date_of_birth", "2099-01-01")
    page.fill("#id_phone_mobile", "call me")
    page.get_by_role("button", name="Register patient").click()
    expect(page.locator("#id_legal_given_name_error")).to_contain_text("required")
    expect(page.locator("#id_date_of_birth_error")).to_contain_text("cannot be in the future")
    expect(page.locator("#id_phone_mobile_error")).to_contain_text("phone number")
    assert Patient.objects.count() == 0

    page.fill("#id_legal_given_name", "Adaeze")
    page.fill("#id_date_of_birth", "1984-03-09")
    page.fill("#id_phone_mobile", "(555) 010-4477")
    page.select_option("#id_sex", "female")
    page.get_by_role("button", name="Register patient").click()

    patient = Patient.objects.get(legal_family_name="Okonkwo")
    expect(page).to_have_url(re.compile(rf"/patients/{patient.uuid}/$"))
    header = page.get_by_role("region", name="Patient summary")
    expect(header).to_contain_text("Okonkwo, Adaeze")
    expect(header).to_contain_text(f"MRN {patient.mrn}")
    expect(page.get_by_role("list", name="Alerts")).to_contain_text("No primary prescriber")
    # The front desk never sees clinical sections.
    expect(page.get_by_role("heading", name="Weight and height")).to_have_count(0)

    # Found again through the search box (a POST: no name in the URL).
    page.get_by_role("link", name="Patients", exact=True).click()
    page.fill("#id_q", "okonk")
    expect(page.locator("#patient-results")).to_contain_text("1 match")
    assert "okonk" not in page.url
    chart_url = f"{live_server.url}/patients/{patient.uuid}/"
    _sign_out(page)

    login_as("offteam")
    response = page.goto(chart_url)
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Okonkwo")


def test_nurse_on_the_care_team_sees_the_chart_and_records_a_weight(
    make_staff, page, live_server, login_as
):
    desk = make_staff("front_desk", username="desk")
    nurse = make_staff("nurse", username="teamnurse", first_name="Rosa", last_name="Diaz")
    patient = services.patient_create(
        actor=desk,
        data={
            "legal_given_name": "Tomás",
            "legal_family_name": "Reyes",
            "date_of_birth": "1971-07-04",
            "sex": "male",
        },
    )
    services.care_team_set(actor=desk, patient=patient, primary_prescriber=None, nurses=[nurse])

    login_as("teamnurse")
    expect(page.get_by_role("heading", name="My patients")).to_be_visible()
    # The patient appears twice on the home page: under "Assessments due" and "My patients".
    page.get_by_role("link", name="Reyes, Tomás").last.click()
    expect(page.get_by_role("list", name="Alerts")).to_contain_text("No weight recorded")
    page.get_by_role("link", name="Record weight / height").click()
    page.fill("#id_weight_kg", "400")
    page.get_by_role("button", name="Record").click()
    expect(page.locator("#id_weight_kg_error")).to_contain_text("between 25 and 350 kg")
    page.fill("#id_weight_kg", "82.4")
    page.fill("#id_height_cm", "178")
    page.get_by_role("button", name="Record").click()
    # 82.4 / 1.78² = 26.0
    expect(page.locator("body")).to_contain_text("82.4 kg")
    expect(page.locator("body")).to_contain_text("26.0 kg/m²")
