"""Exports for an inspector: the receipts, the administration log and the inventories, as CSV
(UTF-8) or PDF (fpdf2, generated on the server, nothing fetched).

Records must be readily retrievable for at least two years [J4]: every export takes any date
range, and nothing in the ledger is ever pruned (ADR 0007). Patients appear by MRN only, never
by name; staff by name and credentials (the person administering [J6]).

Each location is its own registrant (21 CFR 1301.12(a)): an export is one location's records
only, and its header names that location, its address and its own DEA registration number
(ADR 0007, "Locations"). File names carry the location's code, never anything about a patient.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from fpdf import FPDF

from clinic.controlled_substances import selectors
from clinic.controlled_substances.choices import EntryKind
from clinic.controlled_substances.selectors import Period
from clinic.controlled_substances.wording import refers_to_words, session_words
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.spreadsheet import csv_text
from clinic.locations.models import Location

FORMATS = ("csv", "pdf")


@dataclass(frozen=True)
class Report:
    key: str
    title: str
    columns: list[tuple[str, float]]  # heading, relative width in the PDF
    rows: list[list[str]]
    # The registrant whose records these are: the location (name and code) and its DEA
    # registration number. The PDF says it in its header; the CSV in two last columns of every
    # row, so that a row read on its own still says whose record it is.
    registrant: tuple[str, str] = ("", "")

    @property
    def headings(self) -> list[str]:
        return [heading for heading, _width in self.columns]


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _mg(value: Decimal | None) -> str:
    return "" if value is None else f"{value:f}"


def _person(user) -> str:
    return user.display_name if user is not None else ""


def _registrant(location: Location) -> tuple[str, str]:
    return (f"{location.name} ({location.code})", selectors.registrant_dea_number(location))


EXPORT_MOMENT = "%Y-%m-%d %H:%M"
EXPORT_DAY = "%Y-%m-%d"


# --------------------------------------------------------------------------- the three reports


def receipts_report(*, actor, period: Period, location: Location | None = None) -> Report:
    """21 CFR 1304.22(c) receipt records [J5], [J6] of one location."""
    location = selectors.ledger_location(actor, location)
    rows = [
        [
            _when(r.received_at),
            r.product.name,
            r.product.get_schedule_display(),
            r.product.form_description,
            r.product.ndc,
            r.lot.lot_number,
            f"{r.lot.expiry:%Y-%m-%d}",
            str(r.container_count),
            _mg(r.content_mg_per_container),
            _mg(r.total_mg),
            r.supplier_name,
            r.supplier_address,
            r.supplier_dea_number,
            r.invoice_number,
            _person(r.received_by),
            _person(r.witness),
        ]
        for r in selectors.receipts_for_export(actor=actor, period=period, location=location)
    ]
    columns = [
        ("Received", 1.3),
        ("Product", 1.6),
        ("Schedule", 0.9),
        ("Form and units", 1.8),
        ("NDC", 1.0),
        ("Lot", 0.9),
        ("Expiry", 0.9),
        ("Containers", 0.8),
        ("mg each", 0.8),
        ("Total mg", 0.8),
        ("Supplier", 1.3),
        ("Supplier address", 1.8),
        ("Supplier DEA no.", 1.0),
        ("Invoice", 0.9),
        ("Received by", 1.2),
        ("Witness", 1.2),
    ]
    return Report(
        "receipts", "Receipts of controlled substances", columns, rows, _registrant(location)
    )


def _address(patient) -> str:
    parts = [
        patient.address_line1,
        patient.address_line2,
        " ".join(p for p in (patient.city, patient.region, patient.postal_code) if p),
        patient.country,
    ]
    return ", ".join(p for p in parts if p)


def administration_report(
    *, actor, period: Period, location: Location | None = None, named: bool = False
) -> Report:
    """Each administration and waste (and any reversal of one), with the patient's MRN; with
    `named`, also the patient's name and address, as the DEA's dispensing record asks
    (21 CFR 1304.22(c) [J6]) — the clinic administrator's export for an inspector. One location's
    entries."""
    location = selectors.ledger_location(actor, location)
    rows = []
    entries = (
        selectors.administration_log_for_export_named(actor=actor, period=period, location=location)
        if named
        else selectors.administration_log_for_export(actor=actor, period=period, location=location)
    )
    for entry in entries:
        kind = entry.get_kind_display()
        if entry.kind == EntryKind.REVERSAL:
            kind = f"Reversal of {entry.reverses.get_kind_display().lower()}"
        elif entry.kind == EntryKind.WASTE:
            kind = "Waste (residual)" if entry.administration_id else "Waste (container)"
        rows.append(
            [
                _when(entry.occurred_at),
                kind,
                entry.patient.mrn if entry.patient else "",
                entry.container.product.name,
                entry.container.label,
                entry.container.lot.lot_number,
                _mg(entry.drawn_mg),
                _mg(entry.given_mg),
                _mg(entry.wasted_mg),
                _mg(entry.quantity_mg),
                _mg(entry.balance_after_mg),
                _person(entry.actor),
                _person(entry.witness),
                session_words(entry, day_format=EXPORT_DAY),
                entry.reason,
                # A reversal names the entry it reverses; a residual waste, its draw: in words,
                # by time, container and MRN, never by an id.
                refers_to_words(entry, moment_format=EXPORT_MOMENT),
            ]
        )
        if named:
            patient = entry.patient
            rows[-1][3:3] = [
                patient.full_name if patient else "",
                _address(patient) if patient else "",
            ]
    columns = [
        ("Date and time", 1.3),
        ("Entry", 1.3),
        ("Patient MRN", 1.0),
        *([("Patient name", 1.4), ("Patient address", 2.2)] if named else []),
        ("Product", 1.5),
        ("Container", 1.0),
        ("Lot", 0.9),
        ("Drawn mg", 0.7),
        ("Given mg", 0.7),
        ("Wasted mg", 0.7),
        ("Change mg", 0.7),
        ("Balance mg", 0.7),
        ("By", 1.3),
        ("Witness", 1.3),
        ("Session", 1.3),
        ("Reason", 2.0),
        ("Refers to", 2.0),
    ]
    if named:
        return Report(
            "administrations-named",
            "Administration and waste log, with patients' names and addresses",
            columns,
            rows,
            _registrant(location),
        )
    return Report(
        "administrations", "Administration and waste log", columns, rows, _registrant(location)
    )


def administration_report_named(
    *, actor, period: Period, location: Location | None = None
) -> Report:
    return administration_report(actor=actor, period=period, location=location, named=True)


def inventory_report(*, actor, period: Period, location: Location | None = None) -> Report:
    """One location's counts and inventories [J7], line by line; an inventory with no stock
    records zero."""
    location = selectors.ledger_location(actor, location)
    rows = []
    for count in selectors.counts_for_export(actor=actor, period=period, location=location):
        head = [
            _when(count.counted_at),
            count.get_kind_display(),
            count.get_taken_at_display() if count.taken_at else "",
            _person(count.counted_by),
            _person(count.witness),
        ]
        lines = list(count.lines.all())
        if not lines:
            rows.append([*head, "", "No stock on hand (zero)", "", "0", "0", "0", ""])
            continue
        for line in lines:
            discrepancy = getattr(line, "discrepancy", None)
            note = ""
            if discrepancy is not None:
                note = discrepancy.get_status_display()
                if discrepancy.resolution_reason:
                    note += f": {discrepancy.resolution_reason}"
            rows.append(
                [
                    *head,
                    line.container.product.name,
                    line.container.label,
                    line.container.lot.lot_number,
                    _mg(line.expected_mg),
                    _mg(line.counted_mg),
                    _mg(line.difference_mg),
                    note,
                ]
            )
    columns = [
        ("Counted", 1.3),
        ("Kind", 1.3),
        ("Opening/close", 1.1),
        ("Counted by", 1.4),
        ("Witness", 1.4),
        ("Product", 1.6),
        ("Container", 1.2),
        ("Lot", 1.0),
        ("Book mg", 0.8),
        ("Counted mg", 0.8),
        ("Difference mg", 0.9),
        ("Discrepancy", 2.2),
    ]
    return Report("inventories", "Counts and inventories", columns, rows, _registrant(location))


REPORTS: dict[str, Callable[..., Report]] = {
    "receipts": receipts_report,
    "administrations": administration_report,
    "administrations-named": administration_report_named,
    "inventories": inventory_report,
}


# --------------------------------------------------------------------------- formats


REGISTRANT_HEADINGS = ["Location", "Location DEA no."]


def as_csv(report: Report) -> bytes:
    """The rows, each ending with the registrant's location and DEA number."""
    registrant = list(report.registrant)
    return csv_text(
        [*report.headings, *REGISTRANT_HEADINGS], [[*row, *registrant] for row in report.rows]
    ).encode("utf-8")


_ASCII_FOR = {"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "≤": "<="}


def pdf_text(text: str) -> str:
    """Text the PDF's built-in font can show (Latin-1): accents dropped where needed, anything
    else as '?'. The CSV keeps every character."""
    out = []
    for character in str(text):
        character = _ASCII_FOR.get(character, character)
        try:
            character.encode("latin-1")
        except UnicodeEncodeError:
            stripped = "".join(
                c for c in unicodedata.normalize("NFKD", character) if not unicodedata.combining(c)
            )
            try:
                stripped.encode("latin-1")
                character = stripped
            except UnicodeEncodeError:
                character = "?"
        out.append(character)
    return "".join(out)


class _Document(FPDF):
    def footer(self):
        self.set_y(-10)
        self.set_font("Helvetica", size=7)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="C")


def as_pdf(report: Report, *, header_lines: list[str]) -> bytes:
    pdf = _Document(orientation="L", unit="mm", format="letter")
    pdf.set_title(pdf_text(report.title))
    pdf.set_creator("KetaCare")
    pdf.set_auto_page_break(True, margin=14)
    pdf.set_margins(8, 8, 8)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 7, pdf_text(report.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=8)
    for line in header_lines:
        pdf.cell(0, 4.5, pdf_text(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Helvetica", size=6)
    widths = tuple(width for _heading, width in report.columns)
    with pdf.table(col_widths=widths, line_height=3, padding=0.8, text_align="LEFT") as table:
        heading = table.row()
        for text in report.headings:
            heading.cell(pdf_text(text))
        for values in report.rows:
            row = table.row()
            for value in values:
                row.cell(pdf_text(value))
    if not report.rows:
        pdf.ln(2)
        pdf.set_font("Helvetica", "I", 8)
        pdf.cell(0, 5, "No records in this period.", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    content: bytes


def registrant_lines(location: Location) -> list[str]:
    """The registrant an export is the record of: the location, its address and its own DEA
    registration number (the default location may fall back to the clinic policy's)."""
    number = selectors.registrant_dea_number(location)
    if not number:
        number = (
            "not set (the location's DEA registration number, or CLINIC_POLICY)"
            if location.is_default
            else "not set (the location's DEA registration number)"
        )
    address = location.address_one_line or "address not set"
    return [
        f"{settings.CLINIC_NAME} - location: {location.name} ({location.code}), {address}",
        f"Registrant DEA number: {number}",
    ]


def file_code(location: Location) -> str:
    """The location's code as a file name part: letters, digits and hyphens only."""
    return re.sub(r"[^A-Za-z0-9-]+", "-", location.code).strip("-").upper() or "LOCATION"


def export_build(
    *, actor, report_key: str, fmt: str, period: Period, location: Location | None = None
) -> ExportFile:
    """One report of one location (by default the actor's current one) in one format, audited
    as an export. The selectors check `ledger.export` and the location."""
    location = selectors.ledger_location(actor, location)
    report = REPORTS[report_key](actor=actor, period=period, location=location)
    now = timezone.localtime()
    header_lines = [
        *registrant_lines(location),
        f"Period: {period.describe()}. Times in {settings.TIME_ZONE}.",
        f"Generated {now:%Y-%m-%d %H:%M} by {actor.display_name}. Rows: {len(report.rows)}.",
        (
            "Patients are identified by MRN, name and address."
            if report_key == "administrations-named"
            else "Patients are identified by MRN."
        )
        + " Schedule III (ketamine, esketamine).",
    ]
    if fmt == "pdf":
        content = as_pdf(report, header_lines=header_lines)
        content_type = "application/pdf"
    else:
        content = as_csv(report)
        content_type = "text/csv; charset=utf-8"
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type=f"cs_{report.key}",
        summary=(
            f"{report.title} of {location.name} exported as {fmt.upper()} ({period.describe()})"
        )[:300],
        changes={"rows": len(report.rows)},
    )
    return ExportFile(
        f"{report.key}-{file_code(location)}-{now:%Y%m%d-%H%M}.{fmt}", content_type, content
    )
