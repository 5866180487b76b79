"""Issue 11 in Chromium: unanswered is never "no" at intake.

1. A fresh patient's intake submitted with nothing filled in is reviewed as incomplete, with what
   is missing in words; the prescriber is not offered "eligible", and a forged "eligible" is
   refused by the server, naming the route and what is missing.
2. The intake filled in fully, with a second medicine added through "Add a medicine row", is
   signed eligible for IV.
3. Registering an exact duplicate (same name and date of birth) warns and needs "register anyway".

Each page changed is checked at phone (390 px) and tablet (1024 px) width for sideways scrolling
and with axe-core for accessibility.
"""

import re

from django.core.cache import cache
from playwright.sync_api import expect

from clinic.patients import services as patient_services
from clinic.patients.models import Patient
from clinic.patients.tests.factories import register
from clinic.screening import services as screening_services
from clinic.screening.choices import Condition
from clinic.screening.models import EligibilityDecision, Intake
from tests.e2e.conftest import PHONE, TABLET, assert_accessible, assert_fits_width

# What the review must say is missing for an empty intake, in its words (rules.py
# MISSING_INPUT_TITLES); the age comes from the date of birth on record.
EMPTY_MISSING = (
    "weight, screening blood pressure (systolic and diastolic), heart rate, indication, "
    "medical history (a yes or no for every condition), current medicines (yes or no, and "
    "each medicine's class), pregnancy, breastfeeding"
)


def _check_layout(page, *, accessible=True):
    for size in (PHONE, TABLET):
        page.set_viewport_size(size)
        assert_fits_width(page)
    if accessible:
        assert_accessible(page)


def _team(make_staff):
    desk = make_staff("front_desk", username="desk")
    prescriber = make_staff("prescriber", username="okafor", first_name="Maya", last_name="Okafor")
    nurse = make_staff("nurse", username="liu", first_name="Grace", last_name="Liu")
    patient = register(desk, legal_given_name="Imani", legal_family_name="Schmidt")
    patient_services.care_team_set(
        actor=desk, patient=patient, primary_prescriber=prescriber, nurses=[nurse]
    )
    return patient


def test_an_empty_intake_cannot_be_signed_eligible(make_staff, page, live_server, login_as):
    cache.clear()
    patient = _team(make_staff)

    # The nurse opens the intake and submits it without answering anything.
    login_as("liu")
    page.goto(f"{live_server.url}/patients/{patient.uuid}/intake/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Screening intake")
    _check_layout(page)
    page.get_by_role("button", name="Save and submit for review").click()
    expect(page).to_have_url(re.compile(rf"/patients/{patient.uuid}/eligibility/$"))
    assert Intake.objects.get(patient=patient).status == "submitted"
    page.context.clear_cookies()

    # The prescriber's review: IV and IM incomplete, with what is missing; a link to the intake.
    login_as("okafor")
    page.goto(f"{live_server.url}/patients/{patient.uuid}/eligibility/")
    for route in ("IV infusion", "IM injection"):
        card = page.get_by_role("region", name=route)
        expect(card).to_contain_text(
            f"Incomplete — cannot be signed eligible until: {EMPTY_MISSING}"
        )
        expect(card.get_by_role("link", name=f"Complete the intake for {route}")).to_be_visible()
    expect(page.get_by_role("region", name="Esketamine nasal spray")).to_contain_text(
        "Not eligible"
    )
    expect(page.get_by_role("heading", name="The intake is incomplete")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("esketamine_off_label")
    expect(page.locator("main")).to_contain_text("Indication outside the esketamine label")
    # "Eligible" is not offered; not eligible and deferred are.
    expect(page.get_by_label("Eligible for the routes chosen below")).to_have_count(0)
    expect(page.get_by_label("Not eligible")).to_be_visible()
    expect(page.locator("#no-eligible")).to_contain_text("“Eligible” is not offered")
    _check_layout(page)

    # A forged "eligible" for IV (as a stale page or a crafted request would send it) is
    # refused by the server, naming the route and what is missing.
    page.evaluate(
        """() => {
          const form = document.querySelector('input[name="revision"]').form;
          for (const [name, value] of [["outcome", "eligible"], ["approved_routes", "iv"]]) {
            const input = document.createElement("input");
            input.type = "hidden"; input.name = name; input.value = value;
            form.appendChild(input);
          }
        }"""
    )
    page.get_by_role("button", name="Sign decision").click()
    expect(page.locator(".field-error")).to_have_text(
        "IV infusion cannot be signed eligible: the intake is incomplete. "
        f"Not answered yet: {EMPTY_MISSING}."
    )
    assert not EligibilityDecision.objects.exists()

    # Not eligible can still be signed on an incomplete intake.
    page.get_by_role("radio", name="Deferred").check()
    page.fill("#id_awaiting", "Vitals and history at the first visit")
    page.get_by_role("button", name="Sign decision").click()
    expect(page.locator(".messages")).to_contain_text("Eligibility decision signed")
    decision = EligibilityDecision.objects.get()
    assert decision.outcome == "deferred" and decision.evaluation["missing"][0] == "weight_kg"


def test_a_complete_intake_with_two_medicines_is_signed_eligible(
    make_staff, page, live_server, login_as
):
    cache.clear()
    patient = _team(make_staff)
    login_as("liu")
    page.goto(f"{live_server.url}/patients/{patient.uuid}/intake/")
    page.select_option("#id_indication", "treatment_resistant_depression")
    page.fill("#id_systolic_mmhg", "126")
    page.fill("#id_diastolic_mmhg", "80")
    page.fill("#id_heart_rate_bpm", "72")
    page.fill("#id_weight_kg", "70")
    page.fill("#id_height_cm", "168")
    page.get_by_role("group", name="Are you pregnant, or could you be?").get_by_label("No").check()
    page.get_by_role("group", name="Are you breastfeeding?").get_by_label("No").check()
    for _code, label in Condition.choices:
        page.get_by_role("group", name=label, exact=True).get_by_label("No").check()
    medicines = page.get_by_role("group", name="Do you take any medicines now?")
    medicines.get_by_label("Yes").check()
    page.fill("#id_med-0-name", "Sertraline")
    page.select_option("#id_med-0-medication_class", "other")
    page.fill("#id_med-0-dose", "100 mg")
    # A second medicine: the row is added without JavaScript, keeping everything typed.
    page.get_by_role("button", name="Add a medicine row").click()
    expect(page.locator("#id_med-1-name")).to_be_focused()
    expect(page.locator("#id_med-0-name")).to_have_value("Sertraline")
    expect(page.locator("#id_weight_kg")).to_have_value("70")
    expect(medicines.get_by_label("Yes")).to_be_checked()
    page.fill("#id_med-1-name", "Lorazepam")
    page.select_option("#id_med-1-medication_class", "benzodiazepine")
    page.fill("#id_med-1-dose", "0.5 mg at night")
    page.get_by_role("group", name="Have you taken any antidepressants?").get_by_label(
        "Yes"
    ).check()
    for index, (drug, outcome) in enumerate(
        (("sertraline", "no_response"), ("venlafaxine", "partial_response"))
    ):
        if index:
            page.get_by_role("button", name="Add an antidepressant row").click()
        page.fill(f"#id_trial-{index}-drug", drug)
        page.fill(f"#id_trial-{index}-duration_weeks", "8")
        page.select_option(f"#id_trial-{index}-outcome", outcome)
        page.check(f"#id_trial-{index}-adequate_0")
        page.check(f"#id_trial-{index}-current_episode_0")
    _check_layout(page)
    page.get_by_role("button", name="Save and submit for review").click()
    expect(page).to_have_url(re.compile(rf"/patients/{patient.uuid}/eligibility/$"))
    intake = Intake.objects.get(patient=patient)
    assert [(m.name, m.medication_class) for m in intake.medications.all()] == [
        ("Sertraline", "other"),
        ("Lorazepam", "benzodiazepine"),
    ]
    page.context.clear_cookies()

    login_as("okafor")
    page.goto(f"{live_server.url}/patients/{patient.uuid}/eligibility/")
    iv = page.get_by_role("region", name="IV infusion")
    expect(iv).to_contain_text("Eligible with precautions")
    expect(iv).to_contain_text("Takes a benzodiazepine")
    expect(page.get_by_role("heading", name="The intake is incomplete")).to_have_count(0)
    _check_layout(page)
    page.get_by_label("Eligible for the routes chosen below").check()
    page.get_by_role("checkbox", name="IV infusion").check()
    page.get_by_role("button", name="Sign decision").click()
    expect(page.locator(".messages")).to_contain_text("Eligibility decision signed")
    decision = EligibilityDecision.objects.get()
    assert (decision.outcome, decision.approved_routes) == ("eligible", ["iv"])
    assert decision.evaluation["missing"] == []


def test_the_intake_shows_every_error_at_once_next_to_its_field(
    make_staff, page, live_server, login_as
):
    cache.clear()
    patient = _team(make_staff)
    login_as("liu")
    page.goto(f"{live_server.url}/patients/{patient.uuid}/intake/")
    page.fill("#id_systolic_mmhg", "150")
    page.fill("#id_weight_kg", "900")
    page.get_by_role("group", name="Do you take any medicines now?").get_by_label("Yes").check()
    page.select_option("#id_trial-0-outcome", "no_response")
    page.get_by_role("button", name="Save draft").click()
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("Nothing was saved.")
    expect(page.locator("#id_diastolic_mmhg_error")).to_have_text(
        "Enter both blood-pressure values, or neither."
    )
    expect(page.locator("#id_weight_kg_error")).to_contain_text("between 25 and 350")
    expect(page.locator("#id_takes_medications_error")).to_contain_text("list at least one")
    expect(page.locator("#id_trial-0-drug_error")).to_contain_text("a trial is of a named drug")
    expect(page.locator("#id_weight_kg")).to_have_value("900")  # nothing typed is lost
    # The summary's links go to the fields.
    summary.get_by_role("link", name=re.compile("^Weight")).click()
    expect(page.locator("#id_weight_kg")).to_be_focused()
    _check_layout(page)
    assert Intake.objects.get(patient=patient).weight_kg is None


def test_registering_an_exact_duplicate_warns_first(make_staff, page, live_server, login_as):
    cache.clear()
    desk = make_staff("front_desk", username="desk")
    existing = register(desk, legal_given_name="Imani", legal_family_name="Schmidt")
    login_as("desk")
    page.goto(f"{live_server.url}/patients/new/")
    page.fill("#id_legal_given_name", "Imani")
    page.fill("#id_legal_family_name", "Schmidt")
    page.fill("#id_date_of_birth", existing.date_of_birth.isoformat())
    page.select_option("#id_sex", "female")
    page.get_by_role("button", name="Register patient").click()
    warning = page.get_by_role("region", name="This person may already be registered")
    expect(warning).to_contain_text("same name and date of birth")
    expect(warning.get_by_role("link", name="Schmidt, Imani")).to_be_visible()
    assert Patient.objects.count() == 1
    _check_layout(page)
    page.get_by_label(re.compile("this is a different person")).check()
    page.get_by_role("button", name="Register a new patient anyway").click()
    expect(page.locator(".messages")).to_contain_text("Registered Imani Schmidt")
    assert Patient.objects.count() == 2


def test_the_patient_link_asks_the_same_explicit_questions(make_staff, page, live_server):
    """The patient's own form: the same yes/no questions, none of the staff-only ones; it fits a
    phone and passes axe-core. Sent as it is, the intake stays incomplete until staff add the
    indication and the screening vitals."""
    cache.clear()
    patient = _team(make_staff)
    nurse = patient.care_team_members.get(team_role="nurse").staff
    intake = screening_services.intake_start(actor=nurse, patient=patient)
    _, token = screening_services.intake_link_create(actor=nurse, intake=intake)
    page.goto(f"{live_server.url}/intake/{token}/")
    expect(page.get_by_role("heading", name="Your health history")).to_be_visible()
    expect(page.locator("#id_indication")).to_have_count(0)
    expect(page.locator("#id_systolic_mmhg")).to_have_count(0)
    expect(page.get_by_role("group", name="Are you pregnant, or could you be?")).to_be_visible()
    for _code, label in Condition.choices:
        page.get_by_role("group", name=label, exact=True).get_by_label("No").check()
    _check_layout(page)
    page.get_by_role("button", name="Send my answers").click()
    expect(page).to_have_url(re.compile(r"/q/$"))
    intake.refresh_from_db()
    assert intake.status == "submitted" and intake.conditions_known
