"""Issue 13's trust features in Chromium.

Break the glass: a nurse off a patient's care team opens the chart and is refused, states a
reason, sees the chart with the "emergency access in effect" banner; the care team is e-mailed;
the clinic administrator reviews the grant. Staff management: the administrator invites a
nurse, who chooses a password through the e-mailed link and signs in; the administrator
deactivates someone. Every page on the way fits 1024 px and 390 px and passes axe.
"""

from __future__ import annotations

import re

from django.core import mail
from playwright.sync_api import expect

from clinic.accounts.models import User
from clinic.notifications.models import Notification
from clinic.patients.models import EmergencyAccess
from clinic.patients.services import care_team_set
from clinic.patients.tests.factories import register
from tests.e2e.conftest import TABLET, fits_both_widths, sign_out

REASON = "Patient fainted at the front desk; I need the allergies and current doses."
NEW_PASSWORD = "a-long-Staff-passphrase-42"


def test_nurse_breaks_the_glass_and_the_admin_reviews(make_staff, page, live_server, login_as):
    desk = make_staff("front_desk", username="desk")
    make_staff("clinic_admin", username="boss")
    team_nurse = make_staff("nurse", username="teamnurse")
    prescriber = make_staff("prescriber", username="doc", credentials="MD")
    make_staff("nurse", username="floatnurse", first_name="Fay", last_name="Float")
    patient = register(desk, legal_given_name="Adaeze", legal_family_name="Okonkwo")
    care_team_set(actor=desk, patient=patient, primary_prescriber=prescriber, nurses=[team_nurse])
    chart_url = f"{live_server.url}/patients/{patient.uuid}/"

    login_as("floatnurse")
    response = page.goto(chart_url)
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Okonkwo")
    fits_both_widths(page)

    # Too short a reason: refused, nothing granted.
    page.fill("#id_reason", "urgent")
    page.get_by_role("button", name="Open the chart in an emergency").click()
    expect(page.locator("#id_reason_error")).to_contain_text("at least")
    assert not EmergencyAccess.objects.exists()

    page.fill("#id_reason", REASON)
    page.get_by_role("button", name="Open the chart in an emergency").click()
    expect(page).to_have_url(chart_url)
    expect(page.get_by_role("region", name="Patient summary")).to_contain_text("Okonkwo")
    banner = page.get_by_role("alert").filter(has_text="Emergency access in effect")
    expect(banner).to_contain_text(REASON)
    expect(page.get_by_role("heading", name="Weight and height")).to_be_visible()
    fits_both_widths(page)
    assert {n.recipient.username for n in Notification.objects.all()} == {"teamnurse", "doc"}
    sign_out(page)

    login_as("boss")
    page.get_by_role("link", name="Staff", exact=True).first.click()
    page.get_by_role("link", name="Emergency access to review").click()
    row = page.get_by_role("row").filter(has_text="Fay Float")
    expect(row).to_contain_text(REASON)
    expect(row).to_contain_text("(in effect)")
    fits_both_widths(page)
    row.get_by_label("Review note").fill("Confirmed with the charge nurse.")
    row.get_by_role("button", name="Mark reviewed").click()
    expect(page.get_by_role("row").filter(has_text="Fay Float")).to_contain_text("Reviewed by")
    assert EmergencyAccess.objects.get().reviewed_by.username == "boss"


def test_admin_invites_a_nurse_who_sets_a_password_then_is_deactivated(
    make_staff, page, live_server, login_as, browser
):
    make_staff("clinic_admin", username="boss")
    make_staff("billing", username="ledgers")

    login_as("boss")
    page.get_by_role("link", name="Staff", exact=True).first.click()
    expect(page.get_by_role("heading", name="Staff")).to_be_visible()
    fits_both_widths(page)
    page.get_by_role("link", name="Invite staff").click()
    fits_both_widths(page)
    page.fill("#id_username", "newnurse")
    page.fill("#id_first_name", "Robin")
    page.fill("#id_last_name", "Lee")
    page.fill("#id_email", "robin@clinic.example")
    page.select_option("#id_role", "nurse")
    page.fill("#id_credentials", "RN")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("heading", name=re.compile("Robin Lee"))).to_be_visible()
    expect(page.locator("body")).to_contain_text("Invited")
    fits_both_widths(page)

    # The outbox removes links from its copy once sent: the link is read from the e-mail itself.
    sent = [m for m in mail.outbox if "robin@clinic.example" in m.to]
    link = re.search(r"(/accounts/welcome/\S+/)", sent[-1].body).group(1)
    invitee = browser.new_context(viewport=TABLET).new_page()
    invitee.goto(f"{live_server.url}{link}")
    expect(invitee).to_have_url(re.compile(r"/accounts/welcome/$"))
    fits_both_widths(invitee)
    invitee.fill("#id_new_password1", NEW_PASSWORD)
    invitee.fill("#id_new_password2", NEW_PASSWORD)
    invitee.get_by_role("button", name="Set password").click()
    expect(invitee).to_have_url(re.compile(r"/accounts/login/"))
    invitee.fill("#id_username", "newnurse")
    invitee.fill("#id_password", NEW_PASSWORD)
    invitee.get_by_role("button", name="Sign in").click()
    expect(invitee.get_by_role("button", name="Sign out")).to_be_visible()

    # The administrator deactivates the new nurse: their open page is signed out at once.
    page.goto(f"{live_server.url}/accounts/staff/")
    page.get_by_role("link", name="Robin Lee").click()
    page.get_by_role("button", name="Deactivate").click()
    expect(page.locator("body")).to_contain_text("Inactive")
    assert not User.objects.get(username="newnurse").is_active
    invitee.goto(f"{live_server.url}/patients/")
    expect(invitee).to_have_url(re.compile(r"/accounts/login/"))
    invitee.context.close()
