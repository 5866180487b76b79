"""A visitor without an account opens the public site, finds the conditions page by its links,
reads the conditions table, and follows "Request a consultation" to send a request."""

import re

from django.core.cache import cache
from playwright.sync_api import expect

from clinic.screening.models import ConsultationRequest


def test_a_visitor_reads_the_conditions_and_asks_for_a_consultation(page, live_server):
    cache.clear()  # the consultation form's rate limit lives in the cache
    fetched_elsewhere = []
    page.on(
        "request",
        lambda request: (
            None
            if request.url.startswith(live_server.url)
            else fetched_elsewhere.append(request.url)
        ),
    )

    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Ketamine therapy when other treatments have not helped"
    )
    # The first Tab reaches the skip link, which jumps to the main content.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    expect(page.get_by_role("contentinfo")).to_contain_text("Call or text 988")

    page.get_by_role("navigation", name="Site").get_by_role("link", name="Conditions").click()
    expect(page).to_have_url(re.compile(r"/learn/conditions/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Conditions we treat")
    table = page.get_by_role("table", name=re.compile("^Conditions treated with ketamine"))
    expect(table.get_by_role("rowheader")).to_have_count(7)
    # seed-facts.md: PTSD, moderate–strong evidence, 50–60% typical response.
    ptsd = table.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name="PTSD", exact=True)
    )
    expect(ptsd.get_by_role("cell")).to_have_text(
        ["Moderate–strong", "50–60%", "Especially when other treatments have not worked."]
    )

    page.get_by_role("main").get_by_role("link", name="Request a consultation").click()
    expect(page).to_have_url(re.compile(r"/consultation/$"))
    expect(page.get_by_role("heading", name="Ask for a consultation")).to_be_visible()
    page.fill("#id_given_name", "Maribel")
    page.fill("#id_family_name", "Achterberg")
    page.fill("#id_email", "maribel.achterberg@example.org")
    page.get_by_role("radio", name="E-mail").check()
    page.select_option("#id_seeking_help_with", "ptsd")
    page.get_by_label("I agree that the clinic may contact me").check()
    page.get_by_role("button", name="Send my request").click()

    expect(page).to_have_url(re.compile(r"/consultation/thanks/$"))
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Achterberg")
    stored = ConsultationRequest.objects.get()
    assert (stored.family_name, stored.seeking_help_with) == ("Achterberg", "ptsd")
    assert fetched_elsewhere == []
