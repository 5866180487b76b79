"""Issue 15's coverage in Chromium: billing adds a payer and a plan; the front desk, on a tablet,
adds the patient's primary coverage, is refused a second primary with the reason beside the
field, records the eligibility check the payer gave by phone; a nurse then sees the coverage
line in the chart header, without member IDs."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from clinic.billing.models import EligibilityCheck
from tests.e2e.conftest import TABLET


def test_billing_sets_up_a_payer_and_the_front_desk_records_a_coverage_and_its_check(
    page, live_server, login_as, patient, billing, front_desk, nurse
):
    login_as(billing.username)
    page.get_by_role("link", name="Payers").first.click()
    page.fill("#id_name", "Aetna")
    page.fill("#id_payer_id", "60054")
    page.select_option("#id_kind", "commercial")
    page.get_by_role("button", name="Add the payer").click()
    expect(page.get_by_text("Payer added: Aetna.")).to_be_visible()
    page.get_by_label("New plan of Aetna").fill("Choice POS II")
    page.get_by_role("button", name="Add the plan").click()
    expect(page.get_by_role("list", name="Plans of Aetna")).to_contain_text("Choice POS II")
    page.get_by_role("button", name="Sign out").click()

    page.set_viewport_size(TABLET)
    login_as(front_desk.username)
    page.goto(f"{live_server.url}/patients/{patient.uuid}/")
    page.get_by_role("link", name="No insurance coverage on file (self-pay).").click()
    page.select_option("#id_plan", label="Aetna — Choice POS II")
    page.select_option("#id_priority", "primary")
    page.fill("#id_member_id", "W123456789")
    page.fill("#id_group_number", "0987654")
    page.get_by_role("button", name="Add the coverage").click()
    expect(page.get_by_text("Coverage added: Aetna — Choice POS II (primary).")).to_be_visible()
    expect(page.get_by_text("Eligibility not checked yet.")).to_be_visible()

    # A second primary is refused, with the reason beside the field.
    page.select_option("#id_plan", label="Aetna — Choice POS II")
    page.select_option("#id_priority", "primary")
    page.fill("#id_member_id", "W000")
    page.get_by_role("button", name="Add the coverage").click()
    expect(page.locator("#id_priority_error")).to_contain_text("already has a primary coverage")

    coverage = page.get_by_role("article", name=re.compile("Aetna — Choice POS II"))
    coverage.get_by_text("Record an eligibility check").click()
    coverage.get_by_label("Checked by").select_option("phone")
    coverage.get_by_label("Payer's answer").select_option("active")
    coverage.get_by_label("Copay ($)").fill("40")
    coverage.get_by_label("Coinsurance (%)").fill("20")
    coverage.get_by_label("Call or reference number").fill("CALL-7731")
    coverage.get_by_role("button", name="Record the check").click()
    expect(page.get_by_text("Eligibility recorded for Aetna — Choice POS II")).to_be_visible()
    expect(page.get_by_role("table", name="Eligibility checks")).to_contain_text("$40.00")
    assert EligibilityCheck.objects.get().copay_cents == 4000
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= TABLET["width"], f"the coverage page scrolls sideways ({width}px)"
    page.get_by_role("button", name="Sign out").click()

    login_as(nurse.username)
    page.goto(f"{live_server.url}/patients/{patient.uuid}/")
    alerts = page.get_by_role("list", name="Alerts")
    expect(alerts).to_contain_text("Coverage: Aetna — Choice POS II (primary); eligibility active")
    expect(page.get_by_text("W123456789")).to_have_count(0)
