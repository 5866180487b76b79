"""Issue 11: every capability's main pages, as the role that uses them, fit a phone (390 px)
and a chair-side tablet (1024 px) without sideways scrolling, and axe-core finds no violation.

The pages are the demo clinic's (`seed_demo`), so they hold what a clinic's pages hold: patients
with care teams, a plan with booked sessions, today's appointments, stock, questionnaires. A
session is checked in through the service so the session page has a patient in its chair.
Capability flows check their own pages at both widths as well (test_prescriber_request.py,
test_intake_incomplete.py, test_follow_up_screening.py, the portal's); this one walks the rest.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from clinic.accounts.models import User
from clinic.protocols.models import TreatmentPlan
from clinic.scheduling.models import Appointment
from clinic.treatment_sessions import services as chair
from tests.e2e.conftest import PHONE, TABLET, assert_accessible, assert_fits_width

DEMO_PASSWORD = "ketacare-demo"  # the demo's published password (README)


@pytest.fixture
def demo_clinic(settings):
    settings.REQUIRE_STAFF_2FA = False
    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    plan = TreatmentPlan.objects.select_related("patient").order_by("id").first()
    nurse = User.objects.get(username="nurse")
    appointment = (
        Appointment.objects.filter(
            starts_at__date=timezone.localdate(), status="booked", route="iv"
        )
        .select_related("patient")
        .order_by("starts_at")
        .first()
    )
    session = chair.session_check_in(
        actor=nurse,
        appointment=appointment,
        identity=chair.IdentityCheck(
            full_name_confirmed=True, stated_date_of_birth=appointment.patient.date_of_birth
        ),
    )
    return {"plan": plan, "patient": plan.patient, "session": session}


def _pages(demo):
    patient, plan, session = demo["patient"], demo["plan"], demo["session"]
    return {
        None: [
            "/",
            "/learn/",
            reverse("public_site:consultation_request"),
            reverse("accounts:login"),
            reverse("accounts:patient_login"),
        ],
        "prescriber": [
            "/",
            reverse("dashboard:inbasket"),
            reverse("patients:patient_list"),
            reverse("patients:patient_chart", args=[patient.uuid]),
            reverse("intake:eligibility_review", args=[patient.uuid]),
            reverse("protocols:plan_detail", args=[patient.uuid, plan.uuid]),
            reverse("protocols:template_list"),
            reverse("scheduling:calendar"),
            reverse("treatment_sessions:day"),
            reverse("treatment_sessions:board"),
            reverse("treatment_sessions:detail", args=[session.uuid]),
            reverse("treatment_sessions:rems_due"),
            reverse("controlled_substances:inventory"),
            reverse("controlled_substances:ledger"),
            reverse("intake:rule_set"),
        ],
        "nurse": [
            "/",
            reverse("intake:intake_edit", args=[patient.uuid]),
            reverse("treatment_sessions:detail", args=[session.uuid]),
        ],
        "frontdesk": [
            "/",
            reverse("patients:patient_create"),
            reverse("screening:consultation_list"),
            reverse("scheduling:calendar"),
        ],
        "admin": ["/", reverse("core:audit_list"), reverse("scheduling:resources")],
        "patient": ["/portal/"],
    }


def test_main_pages_fit_a_phone_and_a_tablet_and_pass_axe(browser, live_server, demo_clinic):
    for username, urls in _pages(demo_clinic).items():
        context = browser.new_context(viewport=TABLET)
        context.set_default_timeout(10_000)
        page = context.new_page()
        if username is not None:
            page.goto(f"{live_server.url}/accounts/login/")
            page.fill("#id_username", username)
            page.fill("#id_password", DEMO_PASSWORD)
            with page.expect_navigation():
                page.get_by_role("button", name="Sign in").click()
        for url in urls:
            for viewport in (TABLET, PHONE):
                page.set_viewport_size(viewport)
                response = page.goto(f"{live_server.url}{url}")
                assert response.status == 200, (username, url, response.status)
                assert_fits_width(page)
                assert_accessible(page)
        context.close()
