"""A patient's own API token in the browser: the patient signs in, opens "Your API tokens" from
their account page, makes a token and copies it (shown once), and an app uses it to write a
journal entry at /api/v1/me, which the patient then finds in their journal on the portal. The
same token opens no staff operation. The page fits a phone and a tablet and passes axe."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from playwright.sync_api import expect

from clinic.accounts.models import ApiToken, User
from clinic.patients.models import Patient
from conftest import TEST_PASSWORD  # the root conftest.py
from tests.e2e.conftest import PHONE, TABLET, assert_accessible, assert_fits_width


def _api(url: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    # The live test server's own address (http://localhost:…).
    request = urllib.request.Request(  # noqa: S310
        url,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST" if body is not None else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _check_both_widths(page) -> None:
    for viewport in (PHONE, TABLET):
        page.set_viewport_size(viewport)
        assert_fits_width(page)
        assert_accessible(page)


def test_a_patient_makes_a_token_and_an_app_writes_to_their_journal(page, live_server, patient):
    user = User.objects.create_user(username="jordan", password=TEST_PASSWORD, role="patient")
    Patient.objects.filter(pk=patient.pk).update(user=user)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/accounts/login/patient/")
    page.fill("#id_username", "jordan")
    page.fill("#id_password", TEST_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/portal/account/")
    page.get_by_role("link", name="Your API tokens").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your API tokens")
    expect(page.locator("main")).to_contain_text("You have no tokens.")
    _check_both_widths(page)

    page.get_by_label("What the token is for").fill("Mood app")
    page.get_by_role("button", name="Make token").click()
    shown = page.get_by_label("Your new token, Mood app")
    expect(shown).to_be_visible()
    plain = shown.input_value()
    token = ApiToken.objects.get(user=user)
    assert token.audience == "patient" and plain.startswith(f"kc_{token.prefix}_")
    _check_both_widths(page)

    # The app writes a private entry with the token.
    status, entry = _api(
        f"{live_server.url}/api/v1/me/journal/entries",
        plain,
        {"mood_before": 4, "mood_after": 7, "reflections": "Written from my app."},
    )
    assert status == 201 and entry["shared_with_care_team"] is False
    # It opens nothing of the staff's.
    status, refused = _api(f"{live_server.url}/api/v1/patients", plain)
    assert (status, refused["code"]) == (401, "unauthenticated")

    page.goto(f"{live_server.url}/portal/journal/")
    expect(page.locator("main")).to_contain_text("mood 4 → 7")
    page.goto(f"{live_server.url}/portal/journal/{entry['uuid']}/")
    expect(page.locator("main")).to_contain_text("Written from my app.")

    # Shown once: back on the token page, only its prefix and its last use.
    page.goto(f"{live_server.url}/portal/account/api-tokens/")
    assert plain not in page.content()
    expect(page.locator("table")).to_contain_text(f"{token.prefix}…")
    expect(page.locator("table")).to_contain_text("Works")
    page.get_by_role("button", name="Revoke token Mood app").click()
    expect(page.locator(".messages")).to_contain_text("It no longer works.")
    status, _ = _api(f"{live_server.url}/api/v1/me/journal/entries", plain)
    assert status == 401
