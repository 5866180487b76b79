"""Issue 15's prior authorization in Chromium: a prescriber, on a tablet, drafts the esketamine
request from the chart (prefilled from the record), sees the payer's checklist with what is
missing, records it submitted and approved for one session; that session is given, the chart
then says the approval is used up, and the treatment plan warns that the next booked session
is beyond it. The packet PDF opens. The session is then signed and billed: its claim carries
the authorization, the payer pays, and the balance is zero."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

from django.utils import timezone
from playwright.sync_api import expect

from clinic.billing.models import Claim
from clinic.billing.services import charges, diagnoses
from clinic.billing.services import prior_auth as prior_auth_services
from clinic.billing.tests.factories import payer_with_plan, primary_coverage
from clinic.controlled_substances import services as ledger
from clinic.controlled_substances.tests.conftest import receive
from clinic.patients.services import body_measurement_record
from clinic.scheduling.models import Appointment
from clinic.scheduling.tests.conftest import make_plan
from clinic.treatment_sessions import services as sessions
from clinic.treatment_sessions.tests.conftest import COMPLETE_REMS, identity_of, pass_prechecks
from tests.e2e.conftest import PHONE, TABLET, fits_both_widths
from tests.e2e.test_claims_and_payments import billing_ready
from tests.e2e.test_session import chair  # noqa: F401


def test_an_esketamine_course_is_authorized_and_the_count_running_out_is_warned_of(
    page,
    live_server,
    login_as,
    patient,
    nurse,
    prescriber,
    front_desk,
    billing,
    clinic_admin,
    settings,
    chair,  # noqa: F811
):
    payer, plan = payer_with_plan(billing)
    prior_auth_services.criterion_add(
        actor=billing,
        payer=payer,
        text="Two antidepressants failed, current episode",
        evidence="failed_trials",
        threshold=2,
    )
    prior_auth_services.criterion_add(
        actor=billing,
        payer=payer,
        text="PHQ-9 of 15 or more",
        evidence="baseline_phq9",
        threshold=15,
    )
    primary_coverage(front_desk, patient, plan)
    today = timezone.localdate()
    course = make_plan(
        patient,
        nurse=nurse,
        prescriber=prescriber,
        route="esketamine",
        esketamine_dose_mg=28,
        dates=[today, today + datetime.timedelta(days=3)],
    )
    diagnoses.diagnosis_record(actor=prescriber, patient=patient, code="F33.2", primary=True)

    page.set_viewport_size(TABLET)
    login_as(prescriber.username)
    page.goto(f"{live_server.url}/patients/{patient.uuid}/")
    page.locator("#authorizations").get_by_role("link", name=re.compile("All requests")).click()
    page.get_by_label("Coverage").select_option(index=1)
    page.get_by_label("Route").select_option("esketamine")
    page.get_by_role("button", name="Draft the request").click()
    expect(page.get_by_text("Request drafted from the record")).to_be_visible()
    checklist = page.locator("section", has=page.locator("#checklist-heading"))
    expect(checklist).to_contain_text("2 failed adequate trial(s) in the intake")
    expect(checklist).to_contain_text("No PHQ-9 on record.")
    expect(checklist).to_contain_text("1 of 2 not documented yet.")

    page.get_by_role("button", name="Submitted to the payer").click()
    expect(page.get_by_role("heading", name="Status: Submitted")).to_be_visible()
    page.get_by_label("Authorization number").fill("PA-2026-77")
    page.get_by_label("Sessions approved").fill("1")
    page.get_by_label("First day").fill(today.isoformat())
    page.get_by_label("Last day").fill((today + datetime.timedelta(days=60)).isoformat())
    page.get_by_role("button", name="Record the approval").click()
    expect(page.get_by_role("heading", name="Status: Approved")).to_be_visible()
    expect(page.get_by_text("0 of 1; 1 left")).to_be_visible()
    href = page.get_by_role("link", name="Packet (PDF)").get_attribute("href")
    pdf = page.request.get(f"{live_server.url}{href}")  # the signed-in browser's cookies
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")

    # Today's session is given (its record here stands for the chair side's), and the next
    # one is booked in three days.
    first = course.sessions.order_by("number").first()
    starts = timezone.now().replace(second=0, microsecond=0)
    appointment = Appointment.objects.create(
        patient=patient,
        chair=chair,
        nurse=nurse,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(minutes=150),
        route="esketamine",
        planned_session=first,
        created_by=front_desk,
    )
    product = ledger.product_create(
        actor=prescriber,
        name="Spravato 28 mg device",
        kind="esketamine_device",
        mg_per_device=Decimal("28"),
    )
    device = receive(prescriber, product, containers=1, lot_number="ESK1").containers.get()
    body_measurement_record(actor=nurse, patient=patient, measured_on=today, weight_kg="70")
    session = sessions.session_check_in(
        actor=nurse, appointment=appointment, identity=identity_of(appointment)
    )
    session = pass_prechecks(
        nurse,
        session,
        last_food_at=timezone.now() - datetime.timedelta(hours=6),
        last_liquid_at=timezone.now() - datetime.timedelta(hours=3),
    )
    sessions.esketamine_device_record(actor=nurse, session=session, container=device)
    later = timezone.now() + datetime.timedelta(days=3)
    Appointment.objects.create(
        patient=patient,
        chair=chair,
        nurse=nurse,
        starts_at=later,
        ends_at=later + datetime.timedelta(hours=2, minutes=30),
        route="esketamine",
        planned_session=course.sessions.order_by("number").last(),
        created_by=front_desk,
    )

    page.goto(f"{live_server.url}/patients/{patient.uuid}/")
    alerts = page.get_by_role("list", name="Alerts")
    expect(alerts).to_contain_text(
        "Prior authorization PA-2026-77: all 1 approved sessions are used."
    )
    page.goto(f"{live_server.url}/patients/{patient.uuid}/plans/{course.uuid}/")
    expect(
        page.get_by_text("1 booked session beyond the 0 Prior authorization PA-2026-77 has left.")
    ).to_be_visible()
    page.set_viewport_size(PHONE)
    fits_both_widths(page)

    # The session is discharged and signed, then billed: J0013 × 28 at $40.00 per mg is
    # $1,120.00, claimed with the authorization, paid by the payer, and the balance is zero.
    billing_ready(settings, patient, prescriber, clinic_admin)
    charges.fee_set(
        actor=billing, code="J0013", price_cents=40_00, effective_on=today.replace(day=1)
    )
    # The browser runs in real time, so the two-hour observation cannot pass here: the
    # prescriber discharges by override, with the reason (the discharge rules have their own
    # tests).
    sessions.session_score_record(
        actor=nurse, session=session, kind="modified-aldrete", answers=[2, 2, 2, 2, 2]
    )
    sessions.session_discharge(
        actor=prescriber,
        session=session,
        escort_present=True,
        instructions_given=True,
        override_reason="Observed for two hours on the paper flowsheet during a downtime.",
    )
    sessions.rems_form_save(actor=nurse, session=session, values=COMPLETE_REMS)
    sessions.nurse_note_save(actor=nurse, session=session, text="One device.")
    sessions.session_sign(actor=prescriber, session=session)

    page.context.clear_cookies()
    page.set_viewport_size(TABLET)
    login_as(billing.username)
    page.goto(f"{live_server.url}/billing/")
    page.get_by_role("button", name="Make the claims for the 1 listed").click()
    expect(page.get_by_text("1 claim ready to export.")).to_be_visible()
    page.get_by_role("button", name="Export the 1 ready as an 837P file").click()
    expect(page.get_by_text("837P file 1 written with 1 claim(s)")).to_be_visible()
    claim = Claim.objects.get(patient=patient)
    assert "REF*G1*PA-2026-77~" in claim.batch.content
    assert "SV1*HC:J0013*1120.00*UN*28" in claim.batch.content
    page.goto(f"{live_server.url}/billing/claims/{claim.uuid}/")
    page.get_by_label("What happened").select_option("accepted")
    page.get_by_label("Payer's claim number (optional)").fill("AET-ESK-1")
    page.get_by_role("button", name="Record").click()
    page.get_by_label("What happened").select_option("paid")
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_role("heading", name="Status: Paid")).to_be_visible()
    page.goto(f"{live_server.url}/billing/patients/{patient.uuid}/account/")
    expect(page.get_by_role("heading", name="Balance: $1,120.00")).to_be_visible()
    page.get_by_label("From").select_option("insurer")
    page.get_by_label("How").select_option("eft")
    page.get_by_label("Amount ($)").fill("1120.00")
    page.get_by_label("Received on").fill(today.isoformat())
    page.get_by_label("For").select_option(index=1)
    page.get_by_label("Reference").fill("EFT-ESK-1")
    page.get_by_role("button", name="Record it").click()
    expect(page.get_by_role("heading", name="Balance: $0.00")).to_be_visible()
    fits_both_widths(page)
