"""A visitor asks for a consultation on the public site; the front desk finds the request in
its queue and converts it to a patient, landing on the new patient's chart."""

import re

from django.core.cache import cache
from playwright.sync_api import expect

from clinic.patients.models import Patient
from clinic.screening.models import ConsultationRequest


def test_a_visitor_asks_and_the_front_desk_converts_the_request(
    make_staff, page, live_server, login_as
):
    cache.clear()  # the public form's rate limit lives in the cache
    make_staff("front_desk", username="desk")

    # The visitor, without an account.
    page.goto(f"{live_server.url}/consultation/")
    expect(page.get_by_role("heading", name="Ask for a consultation")).to_be_visible()
    # A first try without a way to reach them: the errors sit next to the fields.
    page.fill("#id_given_name", "Maribel")
    page.fill("#id_family_name", "Achterberg")
    page.get_by_label("Phone call").check()
    page.select_option("#id_seeking_help_with", "treatment_resistant_depression")
    page.get_by_label("I agree that the clinic may contact me").check()
    page.get_by_role("button", name="Send my request").click()
    expect(page.locator("#id_phone_error")).to_contain_text("Give an e-mail address or a phone")
    assert not ConsultationRequest.objects.exists()

    page.fill("#id_phone", "(555) 010-7788")
    page.fill("#id_date_of_birth", "1988-02-14")
    page.fill("#id_message", "Evenings are best.")
    page.get_by_label("I agree that the clinic may contact me").check()
    page.get_by_role("button", name="Send my request").click()
    expect(page).to_have_url(re.compile(r"/consultation/thanks/$"))
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Achterberg")
    request = ConsultationRequest.objects.get()

    # The front desk.
    login_as("desk")
    page.goto(f"{live_server.url}/screening/consultations/")
    expect(page.get_by_role("heading", name="Consultation requests")).to_be_visible()
    page.get_by_role("link", name="Achterberg, Maribel").click()
    expect(page).to_have_url(re.compile(rf"/screening/consultations/{request.uuid}/$"))
    expect(page.get_by_role("region", name="Request summary")).to_contain_text("New")
    page.get_by_role("link", name="Convert to patient").click()

    expect(page.get_by_role("heading", name="Convert to patient")).to_be_visible()
    expect(page.locator("#id_legal_family_name")).to_have_value("Achterberg")
    expect(page.locator("#id_date_of_birth")).to_have_value("1988-02-14")
    expect(page.locator("#id_phone_mobile")).to_have_value("(555) 010-7788")
    page.select_option("#id_sex", "female")
    page.get_by_role("button", name="Register patient").click()

    patient = Patient.objects.get()
    expect(page).to_have_url(re.compile(rf"/patients/{patient.uuid}/$"))
    header = page.get_by_role("region", name="Patient summary")
    expect(header).to_contain_text("Achterberg, Maribel")
    expect(header).to_contain_text(f"MRN {patient.mrn}")
    request.refresh_from_db()
    assert request.patient == patient
    assert request.status == "new"
