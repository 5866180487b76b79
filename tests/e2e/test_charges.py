"""Issue 15's charges in Chromium: a prescriber signs an IV session on a tablet and finds its
charge already coded from the record (96365 for a 41-minute infusion, J3490 with the vial's
NDC); they add their E/M, which takes modifier 25 beside the infusion. Billing, on a phone,
finds the charge on its home queue with a line no price covers, sets the price in the fee
schedule, codes the charge again and sees the total and the line it replaced.

The session is run through the services (the chair side has its own browser test); its
infusion start is moved 41 minutes back, as if recorded then, because the browser runs in real
time."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

from django.utils import timezone
from playwright.sync_api import expect

from clinic.billing.models import Charge
from clinic.billing.services import charges
from clinic.billing.tests.factories import payer_with_plan, primary_coverage
from clinic.controlled_substances import services as ledger
from clinic.controlled_substances.tests.conftest import receive
from clinic.patients.services import body_measurement_record
from clinic.scheduling.models import Appointment
from clinic.scheduling.tests.conftest import make_plan
from clinic.treatment_sessions import services
from clinic.treatment_sessions.models import InfusionEvent, TreatmentSession
from clinic.treatment_sessions.tests.conftest import identity_of, pass_prechecks
from tests.e2e.conftest import PHONE, TABLET, fits_both_widths
from tests.e2e.test_session import chair  # noqa: F401


def _discharged_iv_session(patient, nurse, prescriber, front_desk, chair):  # noqa: F811
    today = timezone.localdate()
    body_measurement_record(actor=nurse, patient=patient, measured_on=today, weight_kg="80")
    plan = make_plan(
        patient,
        nurse=nurse,
        prescriber=prescriber,
        route="iv",
        dose_mg_per_kg=Decimal("0.5"),
        dates=[today],
    )
    starts_at = timezone.now().replace(second=0, microsecond=0)
    appointment = Appointment.objects.create(
        patient=patient,
        chair=chair,
        nurse=nurse,
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(minutes=70),
        route="iv",
        planned_session=plan.sessions.order_by("number").first(),
        created_by=front_desk,
    )
    product = ledger.product_create(
        actor=prescriber,
        name="Ketamine HCl 10 mg/mL, 10 mL vial",
        kind="racemic_ketamine_vial",
        strength_mg_per_ml=Decimal("10"),
        volume_ml=Decimal("10"),
        ndc="12345-6789-01",
    )
    vial = receive(prescriber, product, containers=1, lot_number="KV-2031").containers.get()
    session = services.session_check_in(
        actor=nurse, appointment=appointment, identity=identity_of(appointment)
    )
    now = timezone.now()
    session = pass_prechecks(
        nurse,
        session,
        last_food_at=now - datetime.timedelta(hours=6),
        last_liquid_at=now - datetime.timedelta(hours=3),
    )
    services.infusion_start(actor=nurse, session=session, container=vial, drawn_mg="40")
    started = timezone.now() - datetime.timedelta(minutes=41)
    InfusionEvent.objects.filter(session=session, kind="start").update(occurred_at=started)
    TreatmentSession.objects.filter(pk=session.pk).update(dose_started_at=started)
    session = TreatmentSession.objects.get(pk=session.pk)
    services.infusion_stop(actor=nurse, session=session, given_mg="40")
    TreatmentSession.objects.filter(pk=session.pk).update(
        dose_completed_at=timezone.now() - datetime.timedelta(minutes=31)
    )
    session = TreatmentSession.objects.get(pk=session.pk)
    services.session_score_record(
        actor=nurse, session=session, kind="modified-aldrete", answers=[2, 2, 2, 2, 2]
    )
    services.session_discharge(
        actor=nurse, session=session, escort_present=True, instructions_given=True
    )
    services.nurse_note_save(actor=nurse, session=session, text="Uneventful infusion.")
    return TreatmentSession.objects.get(pk=session.pk)


def test_a_signed_session_is_coded_and_billing_prices_and_re_codes_it(
    page,
    live_server,
    login_as,
    patient,
    nurse,
    prescriber,
    front_desk,
    billing,
    chair,  # noqa: F811
):
    _, plan = payer_with_plan(billing)
    primary_coverage(front_desk, patient, plan, starts_on=timezone.localdate())
    first_of_year = timezone.localdate().replace(month=1, day=1)
    for code, cents in (("96365", 250_00), ("99214", 180_00)):
        charges.fee_set(actor=billing, code=code, price_cents=cents, effective_on=first_of_year)
    session = _discharged_iv_session(patient, nurse, prescriber, front_desk, chair)

    page.set_viewport_size(TABLET)
    login_as(prescriber.username)
    page.goto(f"{live_server.url}/sessions/{session.uuid}/")
    page.get_by_role("button", name="Sign the session record").click()
    expect(page.get_by_text(re.compile("signed", re.I)).first).to_be_visible()

    page.goto(f"{live_server.url}/patients/{patient.uuid}/")
    charges_table = page.locator("#charges")
    expect(charges_table).to_contain_text("IV")
    charges_table.get_by_role("link").first.click()
    lines = page.locator("#lines-heading").locator("xpath=..")
    expect(lines).to_contain_text("96365")
    expect(lines).to_contain_text("12345678901")  # the vial's NDC, 11 digits
    expect(page.get_by_text("41 min (pauses excluded)")).to_be_visible()

    page.get_by_label("What was done").select_option("e_m")
    page.get_by_label("E/M or evaluation code").select_option("99214")
    page.get_by_role("button", name="Add the code").click()
    expect(page.get_by_text("Visit code 99214 added; the charge is coded again.")).to_be_visible()
    row = page.locator("#lines-heading").locator("xpath=..").locator("tbody tr", has_text="99214")
    expect(row).to_contain_text("25")  # beside the infusion: modifier 25
    page.get_by_role("button", name="Sign out").click()

    page.set_viewport_size(PHONE)
    login_as(billing.username)
    expect(page.get_by_role("heading", name="Billing", exact=True)).to_be_visible()
    unpriced = page.locator("section", has=page.locator("#unpriced-heading"))
    expect(unpriced).to_contain_text("1 line without a price")
    unpriced.get_by_role("link", name=re.compile(patient.legal_family_name)).click()
    expect(page.get_by_text("1 line without a price")).to_be_visible()
    page.get_by_role("link", name="fee schedule").click()

    page.get_by_role("combobox", name="Code", exact=True).select_option("J3490")
    page.get_by_role("spinbutton", name="Price ($)", exact=True).fill("60")
    page.get_by_label("In force from").fill(first_of_year.isoformat())
    page.get_by_role("button", name="Save the price").click()
    expect(page.get_by_text("J3490: new price from")).to_be_visible()

    charge = Charge.objects.get(session=session)
    page.goto(f"{live_server.url}/billing/charges/{charge.uuid}/")
    page.get_by_label("Why code it again?").fill("J3490 priced")
    page.get_by_role("button", name="Code it again").click()
    expect(page.get_by_text("Coded again from the signed session.")).to_be_visible()
    # 96365 $250.00 + J3490 $60.00 + 99214 $180.00
    expect(page.locator("tfoot")).to_contain_text("$490.00")
    expect(page.get_by_role("heading", name="Lines replaced")).to_be_visible()
    fits_both_widths(page)
