"""The controlled-substance pages in Chromium at phone and tablet width (issue 11): the ledger
says what each entry refers to in words (the session by MRN and day, the draw a residual comes
from, what a reversal undoes), and the inventory, the ledger and a container's page fit the
screen with no accessibility violation."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from clinic.controlled_substances import services
from tests.e2e.conftest import PHONE, TABLET, assert_accessible, assert_fits_width


@pytest.fixture
def stock(prescriber, nurse, patient, make_staff):
    product = services.product_create(
        actor=prescriber,
        name="Ketamine HCl 10 mg/mL, 10 mL vial",
        kind="racemic_ketamine_vial",
        strength_mg_per_ml=Decimal("10"),
        volume_ml=Decimal("10"),
    )
    receipt = services.receipt_record(
        actor=prescriber,
        product=product,
        lot_number="L100",
        expiry=datetime.date(datetime.date.today().year + 2, 12, 31),
        containers=2,
        supplier="Acme Pharma Distribution",
        supplier_address="1 Warehouse Way, Newark, NJ",
        supplier_dea_number="RA1234567",
        invoice="INV-001",
    )
    vial = receipt.containers.order_by("pk").first()
    given = services.administration_record(
        actor=nurse,
        container=vial,
        patient=patient,
        drawn_mg="40",
        given_mg="35",
        session_ref=str(uuid.uuid4()),
    )
    services.waste_record(
        actor=nurse,
        container=vial,
        quantity_mg="5",
        witness=make_staff("nurse", username="witness_nurse"),
        reason="Residual in the syringe",
        administration=given,
    )
    return vial


@pytest.mark.parametrize("size", [PHONE, TABLET], ids=["phone", "tablet"])
def test_the_ledger_pages_fit_and_speak_in_words(
    page, live_server, login_as, prescriber, patient, stock, size
):
    page.set_viewport_size(size)
    login_as(prescriber.username)

    page.goto(f"{live_server.url}/controlled-substances/ledger/")
    main = page.locator("main")
    expect(main).to_contain_text(f"Chair-side session of MRN {patient.mrn} on")
    expect(main).to_contain_text("5.000 mg wasted. Residual of the 40.000 mg drawn at")
    assert_fits_width(page)
    assert_accessible(page)

    for path in ("/controlled-substances/", f"/controlled-substances/containers/{stock.uuid}/"):
        page.goto(live_server.url + path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert_fits_width(page)
        assert_accessible(page)
