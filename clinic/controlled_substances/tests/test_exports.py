"""Exports for an inspector: the right rows in CSV and PDF, patients by MRN (by name and address
only in the clinic administrator's DEA log), periods and products filtered, each export audited
and refused to roles without ledger.export."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.controlled_substances import exports, services
from clinic.controlled_substances.policy import controlled_substance_policy
from clinic.controlled_substances.selectors import Period
from clinic.controlled_substances.tests.conftest import EXPIRY, receive
from clinic.core.exceptions import PermissionDenied
from clinic.core.models import AuditEvent
from clinic.locations.models import Location
from tests.helpers import text_drawn_in_pdf

pytestmark = pytest.mark.django_db


def _registrant() -> list[str]:
    """The last two CSV columns of every row: the registrant location (name and code) and its
    DEA registration number (ADR 0007, "Locations"); here the default location."""
    main = Location.objects.get(is_default=True)
    number = main.dea_registration_number or controlled_substance_policy().registrant_dea_number
    return [f"{main.name} ({main.code})", number]


@pytest.fixture
def log(nurse, prescriber, patient, vials):
    """On the first vial: 40 mg drawn, 35 given, the 5 mg residual wasted; 10 mg drawn and
    given, then reversed; 2 mg wasted from the vial. Then the initial inventory of both vials,
    the first counted 1 mg short."""
    vial = vials[0]
    given = services.administration_record(
        actor=nurse, container=vial, patient=patient, drawn_mg="40", given_mg="35"
    )
    services.waste_record(
        actor=nurse,
        container=vial,
        quantity_mg="5",
        witness=prescriber,
        reason="Residual in the syringe",
        administration=given,
    )
    wrong = services.administration_record(
        actor=nurse, container=vial, patient=patient, drawn_mg="10", given_mg="10"
    )
    services.entry_reverse(actor=nurse, entry=wrong, reason="Recorded twice")
    services.waste_record(
        actor=nurse, container=vial, quantity_mg="2", witness=prescriber, reason="Spilled"
    )
    services.count_record(
        actor=prescriber,
        kind="initial",
        taken_at="close",
        lines={vials[0]: "57", vials[1]: "100"},
        witness=nurse,
    )
    return {"given": given, "wrong": wrong}


def _csv(report) -> list[list[str]]:
    return list(csv.reader(io.StringIO(exports.as_csv(report).decode("utf-8"))))


def test_the_administration_log_lists_each_dose_and_waste_by_mrn(prescriber, patient, log):
    rows = _csv(exports.administration_report(actor=prescriber, period=Period()))

    assert rows[0] == [
        "Date and time",
        "Entry",
        "Patient MRN",
        "Product",
        "Container",
        "Lot",
        "Drawn mg",
        "Given mg",
        "Wasted mg",
        "Change mg",
        "Balance mg",
        "By",
        "Witness",
        "Session",
        "Reason",
        "Refers to",
        "Location",
        "Location DEA no.",
    ]
    assert all(row[-2:] == _registrant() for row in rows[1:])
    body = [row[1:13] for row in rows[1:]]
    product = "Ketamine HCl 10 mg/mL, 10 mL vial"
    assert body == [
        ["Administration", patient.mrn, product, "L100-001", "L100", "40.000", "35.000", "",
         "-40.000", "60.000", "nurse, RN", ""],
        ["Waste (residual)", patient.mrn, product, "L100-001", "L100", "", "", "5.000",
         "0.000", "60.000", "nurse, RN", "prescriber, MD"],
        ["Administration", patient.mrn, product, "L100-001", "L100", "10.000", "10.000", "",
         "-10.000", "50.000", "nurse, RN", ""],
        ["Reversal of administration", patient.mrn, product, "L100-001", "L100", "", "", "",
         "10.000", "60.000", "nurse, RN", ""],
        ["Waste (container)", "", product, "L100-001", "L100", "", "", "2.000",
         "-2.000", "58.000", "nurse, RN", "prescriber, MD"],
    ]  # fmt: skip
    # What an entry refers to, in words (issue 11: never an id): the residual names its draw,
    # the reversal what it reverses, by time, container and MRN.
    given_at = f"{timezone.localtime(log['given'].occurred_at):%Y-%m-%d %H:%M}"
    wrong_at = f"{timezone.localtime(log['wrong'].occurred_at):%Y-%m-%d %H:%M}"
    assert rows[2][15] == f"Residual of the 40.000 mg drawn at {given_at} (MRN {patient.mrn})"
    assert rows[4][15] == (
        f"Reverses the administration of {wrong_at} (L100-001, MRN {patient.mrn})"
    )
    assert [row[15] for row in rows[1:]] == ["", rows[2][15], "", rows[4][15], ""]
    # No cell holds an entry's id, whole or shortened.
    from clinic.controlled_substances.models import LedgerEntry

    text = "\n".join(",".join(row) for row in rows)
    assert not any(
        str(key)[:8] in text for key in LedgerEntry.objects.values_list("uuid", flat=True)
    )


def test_no_export_but_the_dea_log_names_a_patient(client, prescriber, patient, log):
    client.force_login(prescriber)
    for report in exports.REPORTS:
        if report == "administrations-named":
            continue
        for fmt in exports.FORMATS:
            response = client.get(reverse("controlled_substances:export", args=[report, fmt]))
            assert response.status_code == 200
            text = (
                text_drawn_in_pdf(response.content)
                if fmt == "pdf"
                else response.content.decode("utf-8")
            )
            for private in (
                patient.legal_given_name,
                patient.legal_family_name,
                patient.phone_mobile,
                patient.emergency_contact_name,
            ):
                assert private not in text, (report, fmt, private)
            if report == "administrations":
                assert patient.mrn in text


def test_the_receipts_export_keeps_the_receipt_record(prescriber, nurse, vial_product):
    receive(prescriber, vial_product, containers=2, witness=nurse)
    rows = _csv(exports.receipts_report(actor=prescriber, period=Period()))

    assert rows[1][1:] == [
        "Ketamine HCl 10 mg/mL, 10 mL vial",
        "Schedule III",
        "vial, 10 mg/mL × 10 mL",
        "00000-0000-00",
        "L100",
        EXPIRY.isoformat(),
        "2",
        "100.000",
        "200.000",
        "Acme Pharma Distribution",
        "1 Warehouse Way, Newark, NJ",
        "RA1234567",
        "INV-001",
        "prescriber, MD",
        "nurse, RN",
        *_registrant(),
    ]
    assert len(rows) == 2


def test_the_inventories_export_has_each_line_and_its_discrepancy(prescriber, log):
    rows = _csv(exports.inventory_report(actor=prescriber, period=Period()))

    assert [row[1:] for row in rows[1:]] == [
        ["Initial inventory", "Close of business", "prescriber, MD", "nurse, RN",
         "Ketamine HCl 10 mg/mL, 10 mL vial", "L100-001", "L100", "58.000", "57.000",
         "-1.000", "Open", *_registrant()],
        ["Initial inventory", "Close of business", "prescriber, MD", "nurse, RN",
         "Ketamine HCl 10 mg/mL, 10 mL vial", "L100-002", "L100", "100.000", "100.000",
         "0.000", "", *_registrant()],
    ]  # fmt: skip


def test_an_inventory_of_no_stock_exports_as_zero(prescriber):
    services.count_record(actor=prescriber, kind="initial", taken_at="opening", lines={})
    rows = _csv(exports.inventory_report(actor=prescriber, period=Period()))
    assert rows[1][1:] == [
        "Initial inventory",
        "Opening of business",
        "prescriber, MD",
        "",
        "",
        "No stock on hand (zero)",
        "",
        "0",
        "0",
        "0",
        "",
        *_registrant(),
    ]


def test_exports_follow_the_period_and_product(prescriber, log, device_product):
    receive(prescriber, device_product, lot_number="ESK1", containers=1)
    today = timezone.localdate()
    tomorrow = today + datetime.timedelta(days=1)

    later = Period(date_from=tomorrow)
    assert _csv(exports.administration_report(actor=prescriber, period=later))[1:] == []
    assert _csv(exports.receipts_report(actor=prescriber, period=later))[1:] == []
    assert _csv(exports.inventory_report(actor=prescriber, period=later))[1:] == []

    devices = Period(date_from=today, date_to=today, product=device_product)
    (receipt,) = _csv(exports.receipts_report(actor=prescriber, period=devices))[1:]
    assert receipt[1] == "Spravato 28 mg device"
    assert _csv(exports.administration_report(actor=prescriber, period=devices))[1:] == []


def test_an_export_is_audited_and_the_pdf_shows_the_rows(client, prescriber, patient, log):
    client.force_login(prescriber)
    response = client.get(
        reverse("controlled_substances:export", args=["administrations", "pdf"]),
        {"date_from": timezone.localdate().isoformat()},
    )
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="administrations-')
    text = text_drawn_in_pdf(response.content)
    assert "Administration and waste log" in text
    assert "(Waste (residual)) Tj" in text
    assert "(Reversal of) Tj" in text and "(administration) Tj" in text  # wrapped in its cell
    assert f"({patient.mrn}) Tj" in text
    event = AuditEvent.objects.filter(action="export").get()
    assert event.actor == prescriber and event.object_type == "cs_administrations"
    assert event.changes == {"rows": 5}


def test_an_unknown_report_or_format_is_not_found(client, prescriber):
    client.force_login(prescriber)
    for report, fmt in (("patients", "csv"), ("receipts", "xlsx")):
        url = reverse("controlled_substances:export", args=[report, fmt])
        assert client.get(url).status_code == 404


def test_the_dea_log_names_each_patient_and_address_for_the_administrator_only(
    client, clinic_admin, prescriber, front_desk, patient, log
):
    """21 CFR 1304.22(c) [J6]: patient name and address beside each administration."""
    from clinic.patients.services import patient_update

    patient_update(
        actor=front_desk,
        patient=patient,
        data={
            "address_line1": "12 Elm Street",
            "city": "Albany",
            "region": "NY",
            "postal_code": "12207",
        },
    )
    url = reverse("controlled_substances:export", args=["administrations-named", "csv"])
    client.force_login(prescriber)
    assert client.get(url).status_code == 403
    assert (
        "administrations-named"
        not in client.get(reverse("controlled_substances:export_list")).content.decode()
    )
    client.force_login(clinic_admin)
    assert (
        "administrations-named"
        in client.get(reverse("controlled_substances:export_list")).content.decode()
    )
    response = client.get(url)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
    assert rows[0][:5] == [
        "Date and time",
        "Entry",
        "Patient MRN",
        "Patient name",
        "Patient address",
    ]
    given = next(row for row in rows[1:] if row[1] == "Administration")
    assert given[2:5] == [patient.mrn, "Jordan Rivera", "12 Elm Street, Albany NY 12207, US"]
    event = AuditEvent.objects.filter(action="export").latest("id")
    assert event.object_type == "cs_administrations-named" and event.actor == clinic_admin


def test_nurses_do_not_export(nurse, log):
    with pytest.raises(PermissionDenied):
        exports.export_build(actor=nurse, report_key="receipts", fmt="csv", period=Period())


def test_pdf_text_keeps_latin_1_and_simplifies_the_rest():
    assert exports.pdf_text("Zoë – Šimon “ok” 字") == 'Zoë - Simon "ok" ?'
