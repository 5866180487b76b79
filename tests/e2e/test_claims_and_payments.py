"""Issue 15's money in Chromium. Billing, on a tablet, makes the claim for a signed IV session
under the patient's commercial coverage, exports it as an 837P file from the queue, records
the payer's acceptance and payment, and posts the insurer's payment: the balance is zero. A
self-pay patient's session is paid at the front desk, on a phone, which hands over the
superbill PDF. A paid claim is then replaced (frequency 7, naming the payer's claim number).
Claims are also made from the queue's list of insured charges and paid by posting the payer's
835 remittance.

The sessions are run and signed through the services (the chair side has its own browser
test)."""

from __future__ import annotations

import datetime

from django.utils import timezone
from playwright.sync_api import expect

from clinic.billing.models import Charge
from clinic.billing.services import charges, diagnoses
from clinic.billing.tests.factories import give_npi, payer_with_plan, primary_coverage
from clinic.locations.models import Location
from clinic.patients.models import Patient
from clinic.treatment_sessions import services as sessions
from tests.e2e.conftest import PHONE, TABLET, fits_both_widths
from tests.e2e.test_charges import _discharged_iv_session
from tests.e2e.test_session import chair  # noqa: F401

VALID_NPI = "1234567893"  # CMS's worked example of a valid NPI


def _signed_iv_charge(patient, nurse, prescriber, front_desk, chair):  # noqa: F811
    session = _discharged_iv_session(patient, nurse, prescriber, front_desk, chair)
    sessions.session_sign(actor=prescriber, session=session)
    return Charge.objects.get(session=session)


def _prices(billing):
    first_of_year = timezone.localdate().replace(month=1, day=1)
    for code, cents in (("96365", 250_00), ("J3490", 60_00)):
        charges.fee_set(actor=billing, code=code, price_cents=cents, effective_on=first_of_year)


def billing_ready(settings, patient, prescriber, clinic_admin):
    """What a claim needs besides the session: the clinic's billing details and
    clearinghouse, the location's and the patient's addresses, the prescriber's NPI."""
    settings.BILLING_PROVIDER_NAME = "Harbor Ketamine Clinic"
    settings.BILLING_PROVIDER_NPI = VALID_NPI
    settings.BILLING_TAX_ID = "123456789"
    settings.BILLING_CONTACT_NAME = "Billing Office"
    settings.BILLING_CONTACT_PHONE = "6175550100"
    settings.CLEARINGHOUSE_NAME = "Example Clearinghouse"
    settings.CLEARINGHOUSE_SENDER_ID = "HARBORKC"
    settings.CLEARINGHOUSE_RECEIVER_ID = "EXCHOUSE"
    Location.objects.update(
        address_line1="100 Harbor Street", city="Boston", state="MA", postal_code="02110-1234"
    )
    Patient.objects.filter(pk=patient.pk).update(
        address_line1="12 Elm Street", city="Quincy", region="MA", postal_code="02169"
    )
    give_npi(clinic_admin, prescriber)


def _insured_signed_charge(
    settings,
    patient,
    nurse,
    prescriber,
    front_desk,
    billing,
    clinic_admin,
    chair,  # noqa: F811
):
    """The clinic's billing details, the patient's commercial coverage and diagnosis, the
    prescriber's NPI and prices, then a signed IV session's charge: $250.00 + $60.00."""
    billing_ready(settings, patient, prescriber, clinic_admin)
    _, plan = payer_with_plan(billing)
    primary_coverage(front_desk, patient, plan, starts_on=timezone.localdate())
    diagnoses.diagnosis_record(actor=prescriber, patient=patient, code="F33.2", primary=True)
    _prices(billing)
    return _signed_iv_charge(patient, nurse, prescriber, front_desk, chair)


def test_a_claim_is_exported_paid_and_the_balance_is_zero(
    page,
    live_server,
    login_as,
    patient,
    nurse,
    prescriber,
    front_desk,
    billing,
    clinic_admin,
    settings,
    chair,  # noqa: F811
):
    charge = _insured_signed_charge(
        settings, patient, nurse, prescriber, front_desk, billing, clinic_admin, chair
    )

    page.set_viewport_size(TABLET)
    login_as(billing.username)
    page.goto(f"{live_server.url}/billing/charges/{charge.uuid}/")
    page.get_by_role("button", name="Make the claim to Aetna").click()
    expect(page.get_by_text("Claim ready to export.")).to_be_visible()
    expect(page.get_by_role("heading", name="Status: Ready to export")).to_be_visible()

    page.get_by_role("link", name="Billing queue").click()
    page.get_by_role("button", name="Export the 1 ready as an 837P file").click()
    expect(page.get_by_text("837P file 1 written with 1 claim(s)")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="download it for the clearinghouse").click()
    assert download.value.suggested_filename == "837p-1.txt"

    claim = charge.claims.get()
    page.goto(f"{live_server.url}/billing/claims/{claim.uuid}/")
    page.get_by_label("What happened").select_option("accepted")
    page.get_by_label("Payer's claim number (optional)").fill("AET-2026-0001")
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_role("heading", name="Status: Accepted by the payer")).to_be_visible()
    page.get_by_label("What happened").select_option("paid")
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_role("heading", name="Status: Paid")).to_be_visible()
    fits_both_widths(page)

    page.goto(f"{live_server.url}/billing/patients/{patient.uuid}/account/")
    expect(page.get_by_role("heading", name="Balance: $310.00")).to_be_visible()
    page.get_by_label("From").select_option("insurer")
    page.get_by_label("How").select_option("eft")
    page.get_by_label("Amount ($)").fill("310.00")
    page.get_by_label("Received on").fill(timezone.localdate().isoformat())
    page.get_by_label("For").select_option(index=1)
    page.get_by_label("Reference").fill("EFT-TRACE-88812")
    page.get_by_role("button", name="Record it").click()
    expect(page.get_by_role("heading", name="Balance: $0.00")).to_be_visible()
    fits_both_widths(page)

    # The payer paid the wrong units: billing sends a replacement naming the payer's number.
    page.goto(f"{live_server.url}/billing/claims/{claim.uuid}/")
    page.get_by_label("Replacement (frequency 7)").check()
    page.get_by_label("What it corrects").fill("J3490 units")
    page.get_by_role("button", name="Make the correction claim").click()
    expect(page.get_by_text("Replacement claim ready")).to_be_visible()
    expect(page.get_by_text(f"Replaces claim {claim.claim_number}")).to_be_visible()
    expect(page.get_by_text("Frequency 7, original AET-2026-0001")).to_be_visible()
    fits_both_widths(page)


def test_a_self_pay_patient_pays_at_the_desk_and_takes_the_superbill(
    page,
    live_server,
    login_as,
    patient,
    nurse,
    prescriber,
    front_desk,
    billing,
    chair,  # noqa: F811
):
    _prices(billing)
    charge = _signed_iv_charge(patient, nurse, prescriber, front_desk, chair)
    assert charge.payer_rules == "self_pay"

    page.set_viewport_size(PHONE)
    login_as(front_desk.username)
    page.goto(f"{live_server.url}/patients/{patient.uuid}/")
    page.get_by_role("link", name="Balance due: $310.00.").click()
    page.get_by_label("How").select_option("card_terminal")
    page.get_by_label("Amount ($)").fill("310")
    page.get_by_label("Received on").fill(timezone.localdate().isoformat())
    page.get_by_label("Reference").fill("4111 1111 1111 1111")
    page.get_by_role("button", name="Record it").click()
    expect(page.get_by_text("This looks like a card number")).to_be_visible()
    page.get_by_label("Reference").fill("TERM-0042-7781")
    page.get_by_role("button", name="Record it").click()
    expect(page.get_by_role("heading", name="Balance: $0.00")).to_be_visible()

    href = page.get_by_role("link", name="Superbill (PDF)").get_attribute("href")
    pdf = page.request.get(f"{live_server.url}{href}")  # the signed-in browser's cookies
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    fits_both_widths(page)
    assert timezone.localdate() - charge.date_of_service < datetime.timedelta(days=2)


def test_claims_are_made_from_the_queue_and_the_payers_835_posts_them(
    page,
    live_server,
    login_as,
    patient,
    nurse,
    prescriber,
    front_desk,
    billing,
    clinic_admin,
    settings,
    chair,  # noqa: F811
    tmp_path,
):
    from clinic.billing.tests.test_remittances import an_835

    charge = _insured_signed_charge(
        settings, patient, nurse, prescriber, front_desk, billing, clinic_admin, chair
    )
    page.set_viewport_size(TABLET)
    login_as(billing.username)
    page.goto(f"{live_server.url}/billing/")
    page.get_by_role("button", name="Make the claims for the 1 listed").click()
    expect(page.get_by_text("1 claim ready to export.")).to_be_visible()
    page.get_by_role("button", name="Export the 1 ready as an 837P file").click()
    expect(page.get_by_text("837P file 1 written with 1 claim(s)")).to_be_visible()

    # The payer paid $248.00, adjusted $22.00 off (CO-45) and left the patient $40.00.
    claim = charge.claims.get()
    era = tmp_path / "era.835"
    era.write_text(an_835(claim.claim_number, paid_on=timezone.localdate().strftime("%Y%m%d")))
    page.get_by_role("link", name="Post a remittance (835)").click()
    page.get_by_label("835 file").set_input_files(str(era))
    page.get_by_role("button", name="Post it").click()
    expect(page.get_by_text("1 claim posted.")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("the patient owes $40.00")
    fits_both_widths(page)
    page.goto(f"{live_server.url}/billing/patients/{patient.uuid}/account/")
    expect(page.get_by_role("heading", name="Balance: $40.00")).to_be_visible()
