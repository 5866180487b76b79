"""The inspector's CSV exports never hand a spreadsheet a formula (issue 13, defect 6): every
free-text value that reaches an export (supplier, address, DEA number, invoice, lot, session
reference, reason, staff names, the patient's name and address, a discrepancy's resolution)
is typed here as a formula, and no cell of any report may start one."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from clinic.controlled_substances import exports, services
from clinic.controlled_substances.selectors import Period
from clinic.controlled_substances.tests.conftest import receive
from clinic.core.tests.test_spreadsheet import formula_cells

pytestmark = pytest.mark.django_db


@pytest.fixture
def hostile_log(clinic_admin, prescriber, nurse, front_desk, patient, vial_product):
    from clinic.patients.services import patient_update

    for user, name in ((nurse, '=HYPERLINK("x")'), (prescriber, "@SUM(1)")):
        user.first_name = name
        user.save(update_fields=["first_name"])
    patient_update(
        actor=front_desk,
        patient=patient,
        data={"address_line1": "@SUM(A1:A9)", "city": "-1+2", "region": "NY", "postal_code": "1"},
    )
    receipt = receive(
        prescriber,
        vial_product,
        supplier='=HYPERLINK("http://evil.example","Acme")',
        supplier_address="@SUM(1+1)*cmd|' /C calc'!A0",
        invoice="+INV-1",
        lot_number="-L1+2",
    )
    vial, other = receipt.containers.order_by("pk")
    given = services.administration_record(
        actor=nurse,
        container=vial,
        patient=patient,
        drawn_mg="10",
        given_mg="8",
        session_ref='=HYPERLINK("http://evil.example")',
    )
    services.waste_record(
        actor=nurse,
        container=vial,
        quantity_mg="2",
        witness=prescriber,
        reason=" =1+2 residual",
        administration=given,
    )
    twice = services.administration_record(
        actor=nurse, container=vial, patient=patient, drawn_mg="5", given_mg="5"
    )
    services.entry_reverse(actor=nurse, entry=twice, reason="@recorded twice")
    count = services.count_record(
        actor=prescriber, kind="daily", lines={vial: "95", other: "100"}, witness=nurse
    )
    return count


def _csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8"))))


@pytest.mark.parametrize("report", list(exports.REPORTS))
def test_no_cell_of_any_report_starts_a_formula(clinic_admin, hostile_log, report):
    built = exports.export_build(actor=clinic_admin, report_key=report, fmt="csv", period=Period())
    rows = _csv(built.content)
    assert len(rows) > 1
    assert formula_cells(rows) == []


def test_the_hostile_text_is_kept_behind_an_apostrophe(client, clinic_admin, hostile_log):
    client.force_login(clinic_admin)
    url = reverse("controlled_substances:export", args=["receipts", "csv"])
    (heading, receipt) = _csv(client.get(url).content)
    row = dict(zip(heading, receipt, strict=True))
    assert row["Supplier"] == '\'=HYPERLINK("http://evil.example","Acme")'
    assert row["Supplier address"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert row["Invoice"] == "'+INV-1"
    assert row["Lot"] == "'-L1+2"
    assert row["Total mg"] == "200.000"  # numbers stay numbers
