"""Issue 14's "done when": the clinic administrator opens a new location in the browser, says
a nurse works there, adds a room and a chair to it; the nurse switches to it in the top bar
and sees its chair board (one free chair). Every page on the way fits 1024 px and 390 px and
passes axe."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from clinic.locations.models import Location
from clinic.locations.services import location_staff_set
from tests.e2e.conftest import PHONE, fits_both_widths, sign_out


def test_the_admin_opens_a_location_and_a_nurse_switches_to_it(
    make_staff, page, live_server, login_as
):
    admin = make_staff("clinic_admin", username="boss")
    nurse = make_staff("nurse", username="floatnurse", first_name="Fay", last_name="Float")
    # The nurse works at the main location already.
    main = Location.objects.get(is_default=True)
    location_staff_set(actor=admin, location=main, staff_ids=[nurse.pk])

    login_as("boss")
    page.get_by_role("navigation", name="Main").first.get_by_role("link", name="Locations").click()
    expect(page.get_by_role("heading", name="Locations")).to_be_visible()
    fits_both_widths(page)
    page.get_by_role("link", name="Open a new location").click()
    fits_both_widths(page)

    # A DEA number that is not two letters and seven digits is refused next to its field.
    page.fill("#id_name", "Lakeside")
    page.fill("#id_code", "lks")
    page.select_option("#id_time_zone", "America/Chicago")
    page.fill("#id_city", "Madison")
    page.fill("#id_state", "WI")
    page.fill("#id_dea_registration_number", "12345")
    page.get_by_role("button", name="Open the location").click()
    expect(page.locator("#id_dea_registration_number_error")).to_be_visible()
    assert not Location.objects.filter(name="Lakeside").exists()
    page.fill("#id_dea_registration_number", "")
    page.get_by_role("button", name="Open the location").click()
    expect(page.get_by_role("heading", name="Lakeside")).to_be_visible()
    expect(page.locator(".messages")).to_contain_text("Lakeside is open")
    fits_both_widths(page)

    page.get_by_role("link", name="Who works here").click()
    page.get_by_label("Fay Float (Nurse)").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Saved who works at Lakeside")
    fits_both_widths(page)

    page.get_by_role("link", name="Lakeside").first.click()
    page.get_by_role("link", name="Rooms, chairs, opening hours and shifts").click()
    expect(page.get_by_role("heading", name=re.compile("at Lakeside"))).to_be_visible()
    page.fill("#id_room-name", "Lake Room")
    page.get_by_role("button", name="Add room").click()
    expect(page.locator(".messages")).to_contain_text("Room Lake Room added")
    page.select_option("#id_chair-room", label="Lake Room")
    page.fill("#id_chair-name", "Lake 1")
    page.get_by_role("button", name="Add chair").click()
    expect(page.locator(".messages")).to_contain_text("Chair Lake 1 added")
    fits_both_widths(page)
    lakeside = Location.objects.get(name="Lakeside")
    assert lakeside.rooms.get().chairs.get().name == "Lake 1"
    sign_out(page)

    login_as("floatnurse")
    # Working at the main location first; the switcher offers Lakeside.
    switcher = page.locator(".whoami .location-switcher")
    expect(switcher.get_by_label("Location")).to_have_value(str(main.uuid))
    fits_both_widths(page)
    page.goto(f"{live_server.url}/sessions/board/")
    expect(page.get_by_role("heading", name=re.compile("Chair board"))).to_contain_text(main.name)
    switcher.get_by_label("Location").select_option(label="Lakeside")
    switcher.get_by_role("button", name="Switch").click()
    expect(page).to_have_url(re.compile(r"/sessions/board/$"))
    expect(page.get_by_role("heading", name=re.compile("Chair board"))).to_contain_text("Lakeside")
    expect(page.locator(".board-grid")).to_contain_text("Lake 1")
    fits_both_widths(page)
    # Remembered on the next page, and on a phone the switcher sits in the menu.
    page.goto(f"{live_server.url}/")
    page.set_viewport_size(PHONE)
    page.get_by_text("Menu").click()
    expect(page.locator(".nav-compact .location-switcher").get_by_label("Location")).to_have_value(
        str(lakeside.uuid)
    )
