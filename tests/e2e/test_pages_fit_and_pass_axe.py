"""Issue 11: every capability's main pages, as the role that uses them, fit a phone (390 px)
and a chair-side tablet (1024 px) without sideways scrolling, and axe-core finds no violation.

The pages are the demo clinic's (`seed_demo`), so they hold what a clinic's pages hold: patients
with care teams, a plan with booked sessions, today's appointments, stock, questionnaires. A
session is checked in through the service so the session page has a patient in its chair.
Capability flows check their own pages at both widths as well (test_prescriber_request.py,
test_intake_incomplete.py, test_follow_up_screening.py, the portal's); this one walks the rest.
Every page with a table is here with rows in it (a count with a discrepancy, a consultation
request that matches a patient, at-home sessions on a chart, a REMS form due), so its tables
are checked as a phone shows them, as cards, with folded ones opened.
"""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.services import api_token_create
from clinic.assessments.models import AssessmentResponse
from clinic.controlled_substances import services as ledger
from clinic.controlled_substances.choices import ON_HAND_STATUSES
from clinic.controlled_substances.models import Container
from clinic.home_program import services as home_services
from clinic.home_program.tests.conftest import link_portal_user, sublingual_plan
from clinic.patients.models import Patient
from clinic.patients.services import care_team_set
from clinic.patients.services_records import records_request_log
from clinic.protocols.models import TreatmentPlan
from clinic.public_site.pages import PAGES as LEARN_PAGES
from clinic.scheduling.models import Appointment
from clinic.screening.services import consultation_request_create
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
    # Today's esketamine patient dosed (one device, pre-checks overridden by the prescriber):
    # a REMS monitoring form is due.
    prescriber = User.objects.get(username="prescriber")
    esketamine = (
        Appointment.objects.filter(
            starts_at__date=timezone.localdate(), status="booked", route="esketamine"
        )
        .select_related("patient")
        .get()
    )
    dosed = chair.session_check_in(
        actor=nurse,
        appointment=esketamine,
        identity=chair.IdentityCheck(
            full_name_confirmed=True, stated_date_of_birth=esketamine.patient.date_of_birth
        ),
    )
    chair.precheck_override(actor=prescriber, session=dosed, reason="Walk of the pages")
    chair.esketamine_device_record(
        actor=nurse,
        session=dosed,
        container=Container.objects.filter(
            lot__product__mg_per_device__isnull=False, status__in=ON_HAND_STATUSES
        )
        .order_by("pk")
        .first(),
    )
    # A count that finds one container a milligram short: an open discrepancy to resolve.
    on_hand = list(Container.objects.filter(status__in=ON_HAND_STATUSES).order_by("pk"))
    count = ledger.count_record(
        actor=nurse,
        kind="daily",
        lines={
            container: container.balance_mg - (1 if index == 0 else 0)
            for index, container in enumerate(on_hand)
        },
    )
    # A request from someone who is already a patient: the conversion page lists the match.
    patient = plan.patient
    consultation = consultation_request_create(
        data={
            "given_name": patient.legal_given_name,
            "family_name": patient.legal_family_name,
            "email": patient.email,
            "phone": "",
            "preferred_contact": "email",
            "seeking_help_with": "treatment_resistant_depression",
            "message": "",
            "heard_about": "",
            "consent_to_contact": True,
        }
    )
    response = AssessmentResponse.objects.filter(patient=patient).order_by("-taken_at").first()
    portal_response = (
        AssessmentResponse.objects.filter(patient__user__username="patient")
        .order_by("-taken_at")
        .first()
    )
    # A patient on an at-home plan with two logged sessions, one refused for its blood pressure
    # (an open alert): the chart's at-home table.
    at_home = Patient.objects.filter(care_team_members__isnull=True).order_by("pk").first()
    care_team_set(
        actor=User.objects.get(username="admin"),
        patient=at_home,
        primary_prescriber=prescriber,
        nurses=[nurse],
    )
    at_home_user = link_portal_user(at_home, "at-home")
    sublingual_plan(at_home, nurse=nurse, prescriber=prescriber)
    for systolic_mmhg, diastolic_mmhg in ((124, 80), (182, 104)):
        home_services.home_session_start(
            actor=at_home_user,
            patient=at_home,
            systolic_mmhg=systolic_mmhg,
            diastolic_mmhg=diastolic_mmhg,
            monitor_name="Sam Rivera",
        )
    # A records request that arrived 40 days ago and is late: the open list, its page.
    records_request = records_request_log(
        actor=User.objects.get(username="frontdesk"),
        patient=patient,
        received_on=timezone.localdate() - datetime.timedelta(days=40),
        requester="representative",
        requester_name="Sam Rivera (health care proxy)",
        wanted_format="pdf",
        deliver_to="Collect in person",
    )
    # API tokens, so the token pages' tables have rows.
    for username in ("admin", "nurse"):
        owner = User.objects.get(username=username)
        api_token_create(actor=owner, user=owner, name="Nightly lab results import")
    return {
        "plan": plan,
        "patient": patient,
        "session": session,
        "count": count,
        "consultation": consultation,
        "response": response,
        "portal_response": portal_response,
        "at_home": at_home,
        "records_request": records_request,
    }


def _pages(demo):
    patient, plan, session = demo["patient"], demo["plan"], demo["session"]
    return {
        None: [
            "/",
            "/learn/",
            *(reverse(f"learn:{page.name}") for page in LEARN_PAGES),
            reverse("public_site:consultation_request"),
            reverse("accounts:login"),
            reverse("accounts:patient_login"),
        ],
        "prescriber": [
            "/",
            reverse("dashboard:inbasket"),
            reverse("patients:patient_list"),
            reverse("patients:patient_chart", args=[patient.uuid]),
            reverse("patients:patient_chart", args=[demo["at_home"].uuid]),
            reverse("intake:eligibility_review", args=[patient.uuid]),
            reverse("billing:diagnosis_add", args=[patient.uuid]),
            reverse("protocols:plan_detail", args=[patient.uuid, plan.uuid]),
            reverse("assessments:response_detail", args=[patient.uuid, demo["response"].uuid]),
            reverse("protocols:template_list"),
            reverse("scheduling:calendar"),
            reverse("scheduling:calendar") + "?view=week",
            reverse("treatment_sessions:day"),
            reverse("treatment_sessions:board"),
            reverse("treatment_sessions:detail", args=[session.uuid]),
            reverse("treatment_sessions:rems_due"),
            reverse("controlled_substances:inventory"),
            reverse("controlled_substances:ledger"),
            reverse("controlled_substances:count_list"),
            reverse("controlled_substances:count_detail", args=[demo["count"].uuid]),
            reverse("intake:rule_set"),
        ],
        "nurse": [
            "/",
            reverse("intake:intake_edit", args=[patient.uuid]),
            reverse("treatment_sessions:detail", args=[session.uuid]),
            reverse("accounts:token_list"),
        ],
        "frontdesk": [
            "/",
            reverse("patients:patient_create"),
            reverse("screening:consultation_list"),
            reverse("screening:consultation_convert", args=[demo["consultation"].uuid]),
            reverse("scheduling:calendar"),
            reverse("scheduling:plan_book", args=[plan.uuid]),
            reverse("patients:records_request_list"),
            reverse("patients:records_request_new", args=[patient.uuid]),
            reverse(
                "patients:records_request_detail",
                args=[patient.uuid, demo["records_request"].uuid],
            ),
        ],
        "admin": [
            "/",
            reverse("core:audit_list"),
            reverse("scheduling:resources"),
            reverse("assessments:outbox"),
            reverse("accounts:token_list"),
            reverse("accounts:token_all"),
            reverse("accounts:staff_list"),
            reverse("accounts:staff_invite"),
            reverse("locations:list"),
            reverse("locations:open"),
            reverse(
                "patients:records_request_detail",
                args=[patient.uuid, demo["records_request"].uuid],
            ),
        ],
        # Billing reads the problem list on the chart (and nothing clinical); its home is the
        # billing queue. (The charge page is checked by tests/e2e/test_charges.py.)
        "billing": [
            "/",
            reverse("patients:patient_chart", args=[patient.uuid]),
            reverse("billing:fee_schedule"),
            reverse("billing:reports") + "?report=aging&group=payer",
            reverse("billing:remittances"),
            reverse("billing:account", args=[patient.uuid]),
        ],
        "patient": [
            "/portal/",
            reverse("portal:progress"),
            reverse("portal:questionnaire_result", args=[demo["portal_response"].uuid]),
        ],
    }


def test_main_pages_fit_a_phone_and_a_tablet_and_pass_axe(browser, live_server, demo_clinic):
    for username, urls in _pages(demo_clinic).items():
        context = browser.new_context(viewport=TABLET)
        context.set_default_timeout(10_000)
        page = context.new_page()
        # A page's own scripts must not fail: htmx reports an attribute it cannot read (a
        # refresh that would silently never run) as a console error.
        errors: list[str] = []
        page.on(
            "console",
            lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None,
        )
        page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
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
                page.wait_for_load_state("networkidle")
                assert errors == [], (username, url, errors)
                assert_fits_width(page)
                assert_accessible(page)
                # Folded sections hold tables too (a chart's measurement history, every score
                # of a course): unfolded, they fit as well.
                page.evaluate(
                    "() => document.querySelectorAll('details').forEach(d => d.open = true)"
                )
                assert_fits_width(page)
        context.close()
