"""The smallest real flow through a browser: a wrong password is refused, the right one signs in."""

import re

from playwright.sync_api import expect

from conftest import TEST_PASSWORD


def test_staff_sign_in_refuses_a_wrong_password_then_accepts_the_right_one(
    make_staff, page, live_server, login_as
):
    nurse = make_staff("nurse", username="smoke-nurse")

    login_as(nurse.username, password="not-the-password")
    assert "/accounts/login/" in page.url
    expect(page.locator("body")).to_contain_text("That username and password do not match")

    login_as(nurse.username, password=TEST_PASSWORD)
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
    assert "/accounts/login/" not in page.url
    assert page.url.startswith(live_server.url)
