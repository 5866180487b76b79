"""API tokens in the browser: a nurse creates a token from the top bar's "API tokens" link, sees
it once, finds it listed by prefix only, and revokes it; the clinic administrator sees every
staff member's tokens and revokes one. The pages fit a tablet and a phone and pass axe."""

from __future__ import annotations

from playwright.sync_api import expect

from clinic.accounts.models import ApiToken
from clinic.accounts.services import api_token_authenticate, api_token_create
from tests.e2e.conftest import PHONE, TABLET, assert_accessible, assert_fits_width


def _check_both_widths(page) -> None:
    for viewport in (TABLET, PHONE):
        page.set_viewport_size(viewport)
        assert_fits_width(page)
        assert_accessible(page)
    page.set_viewport_size(TABLET)


def test_create_see_once_and_revoke(login_as, page, live_server, nurse):
    login_as("nurse")
    page.set_viewport_size(TABLET)
    page.get_by_role("link", name="API tokens", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your API tokens")
    expect(page.locator("main")).to_contain_text("You have no API tokens.")
    _check_both_widths(page)

    page.get_by_label("What the token is for").fill("Lab results import")
    page.get_by_role("button", name="Create token").click()

    shown = page.get_by_label("Your new API token, Lab results import")
    expect(shown).to_be_visible()
    plain = shown.input_value()
    assert plain.startswith("kc_") and api_token_authenticate(plain) == nurse
    token = ApiToken.objects.get(user=nurse)
    expect(page.locator("table")).to_contain_text(f"{token.prefix}…")
    _check_both_widths(page)

    # Shown once: coming back to the page lists the token by its prefix only.
    page.goto(f"{live_server.url}/accounts/tokens/")
    assert plain not in page.content()
    expect(page.locator("table")).to_contain_text("Lab results import")
    expect(page.locator("table")).to_contain_text("Active")

    page.get_by_role("button", name=f"Revoke token {token.prefix}").click()
    expect(page.locator(".messages")).to_contain_text("revoked")
    expect(page.locator("table")).to_contain_text("Revoked")
    assert api_token_authenticate(plain) is None
    _check_both_widths(page)


def test_on_a_phone_the_link_is_in_the_menu(login_as, page, nurse):
    page.set_viewport_size(PHONE)
    login_as("nurse")
    page.get_by_text("Menu", exact=True).click()
    page.get_by_role("link", name="Your API tokens").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your API tokens")


def test_the_clinic_admin_revokes_a_colleagues_token(login_as, page, clinic_admin, nurse, billing):
    token, plain = api_token_create(actor=nurse, user=nurse, name="Nurse's script")
    api_token_create(actor=billing, user=billing, name="Billing export")
    login_as("clinic_admin")
    page.set_viewport_size(TABLET)
    page.get_by_role("link", name="API tokens", exact=True).click()
    page.get_by_role("link", name="Every staff member's tokens").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff API tokens")
    expect(page.locator("table")).to_contain_text("Billing export")
    _check_both_widths(page)

    page.get_by_role("button", name=f"Revoke token {token.prefix}").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Staff API tokens")
    expect(page.locator(".messages")).to_contain_text("revoked")
    assert api_token_authenticate(plain) is None
    _check_both_widths(page)
