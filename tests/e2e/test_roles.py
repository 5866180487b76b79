"""Each demo role signs in and lands on a home page that fits the role."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

# What each role's home must show: its heading, and the one thing the role starts its day with.
HOMES = [
    ("admin", "Clinic administration", "Patients without a primary prescriber"),
    ("prescriber", "Good to see you", "My patients"),
    ("nurse", "Good to see you", "My patients"),
    ("therapist", "Good to see you", "My patients"),
    ("frontdesk", "Front desk", "Register a patient"),
    ("billing", "Billing", "Signed sessions not yet charged"),
]


@pytest.fixture
def demo_clinic(transactional_db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


@pytest.mark.parametrize(("username", "heading", "landmark"), HOMES)
def test_each_demo_role_has_a_home_page_that_fits(
    demo_clinic, login_as, page, username, heading, landmark
):
    login_as(username, password="ketacare-demo")
    expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    expect(page.locator("main")).to_contain_text(landmark)
    audit_link = page.get_by_role("link", name="Audit log", exact=True)
    expect(audit_link).to_have_count(1 if username == "admin" else 0)
