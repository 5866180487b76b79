"""Self-pay packages and billing's reports in Chromium. Billing adds a three-infusion IV
package at $900.00 on the fee schedule (tablet); the front desk sells it on the patient's
account and takes the $900.00 for the account as a whole (phone), so the account shows a
$900.00 credit. The session signed next is charged its share, $900.00 // 3 = $300.00 (the
list prices, $250.00 + $60.00, do not apply), leaving a $600.00 credit and 1 of 3 used.
Billing then reads the charges report by payer and downloads it as CSV.

The session is run and signed through the services (the chair side has its own browser
test)."""

from __future__ import annotations

import csv
import io

from django.utils import timezone
from playwright.sync_api import expect

from clinic.billing.models import Charge
from clinic.treatment_sessions import services as sessions
from tests.e2e.conftest import PHONE, TABLET, fits_both_widths
from tests.e2e.test_charges import _discharged_iv_session
from tests.e2e.test_claims_and_payments import _prices
from tests.e2e.test_session import chair  # noqa: F401


def test_a_package_is_sold_used_by_a_session_and_reported(
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
    session = _discharged_iv_session(patient, nurse, prescriber, front_desk, chair)

    page.set_viewport_size(TABLET)
    login_as(billing.username)
    page.goto(f"{live_server.url}/billing/fees/")
    page.get_by_label("Name").fill("IV induction, three infusions")
    page.get_by_label("Route").select_option("iv")
    page.get_by_label("Sessions included").fill("3")
    page.get_by_label("Package price ($)").fill("900")
    page.get_by_role("button", name="Add the package").click()
    expect(page.get_by_text("Package added: IV induction, three infusions.")).to_be_visible()
    fits_both_widths(page)

    page.context.clear_cookies()
    page.set_viewport_size(PHONE)
    login_as(front_desk.username)
    page.goto(f"{live_server.url}/billing/patients/{patient.uuid}/account/")
    page.get_by_role("combobox", name="Package").select_option(index=1)
    page.get_by_label("Sold on").fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="Sell the package").click()
    expect(page.get_by_text("IV induction, three infusions sold.")).to_be_visible()
    page.get_by_label("From").select_option("patient")
    page.get_by_label("How").select_option("card_terminal")
    page.get_by_label("Amount ($)").fill("900")
    page.get_by_label("Received on").fill(timezone.localdate().isoformat())
    page.get_by_label("Reference").fill("TERM-0042-9001")
    page.get_by_role("button", name="Record it").click()
    expect(page.get_by_role("heading", name="Credit on the account: $900.00")).to_be_visible()

    sessions.session_sign(actor=prescriber, session=session)
    charge = Charge.objects.get(session=session)
    assert charge.package_session == 1

    page.reload()
    expect(page.get_by_role("heading", name="Credit on the account: $600.00")).to_be_visible()
    expect(page.get_by_text("1 of 3 used")).to_be_visible()
    fits_both_widths(page)

    page.context.clear_cookies()
    page.set_viewport_size(TABLET)
    login_as(billing.username)
    page.goto(f"{live_server.url}/billing/reports/")
    page.get_by_role("combobox", name="Report").select_option("charges")
    page.get_by_role("combobox", name="By").select_option("payer")
    page.get_by_role("button", name="Show the report").click()
    table = page.get_by_role("table")
    expect(table.get_by_role("row", name="Self-pay (no coverage on the charge)")).to_contain_text(
        "$300.00"
    )
    href = page.get_by_role("link", name="Download as CSV").get_attribute("href")
    response = page.request.get(f"{live_server.url}/billing/reports/{href}")
    rows = list(csv.reader(io.StringIO(response.text())))
    assert rows[1] == ["Self-pay (no coverage on the charge)", "1", "2", "300.00", "0"]
    fits_both_widths(page)
