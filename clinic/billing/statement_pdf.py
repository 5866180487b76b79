"""The patient statement: what the clinic sends a patient about their account. The clinic and
how to reach it, the statement date, the patient (name, MRN, mailing address), each session's
charge with what was paid and adjusted on it, the payments received (entered-in-error ones left
out), and the account's totals with the balance due or the credit.

Every amount comes from the account selector (`selectors_accounts`): the statement prints its
numbers (a charge's balance is its row's charged less paid and adjusted) and never totals the
account itself, so it agrees with the account page and the portal. Coded lines without a price
are named, never shown as $0. Audited as an export."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone
from fpdf import FPDF
from fpdf.enums import TableBordersLayout
from fpdf.fonts import FontFace

from clinic.accounts.models import User
from clinic.billing.models import Charge, ChargeLine, Payment, PaymentSource
from clinic.billing.pdf_layout import letter_page, paragraph, printed_by, section_heading
from clinic.billing.selectors_accounts import Account
from clinic.billing.templatetags.money import dollars
from clinic.controlled_substances.exports import pdf_text
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.clinic_phone import call_the_clinic, clinic_phone
from clinic.locations.models import Location
from clinic.patients.models import Patient

GREY = 235  # the table headings' fill


class _Statement(FPDF):
    running_head = ""  # on every page after the first: whose statement this page belongs to

    def header(self):
        if self.page_no() > 1 and self.running_head:
            self.set_font("Helvetica", size=8)
            self.cell(0, 5, pdf_text(self.running_head), new_x="LMARGIN", new_y="NEXT")
            self.ln(2)

    def footer(self):
        self.set_y(-12)
        self.set_font("Helvetica", size=7)
        ask = call_the_clinic()
        self.cell(
            0,
            4,
            pdf_text(
                f"Questions about this statement? Please {ask}. Page {self.page_no()} of {{nb}}."
            ),
            align="C",
        )


def _clinic_lines() -> list[str]:
    """Under the clinic's name: where it is (the default location: the address claims give
    for the billing provider) and its telephone number."""
    location = Location.objects.filter(is_default=True).first()
    lines = []
    if settings.BILLING_PROVIDER_NAME != settings.CLINIC_NAME:
        lines.append(f"Billed by {settings.BILLING_PROVIDER_NAME}")
    if location is not None:
        if location.address_line1 or location.address_line2:
            lines.append(
                ", ".join(p for p in (location.address_line1, location.address_line2) if p)
            )
        place = " ".join(p for p in (location.state, location.postal_code) if p)
        city = ", ".join(p for p in (location.city, place) if p)
        if city:
            lines.append(city)
    phone = clinic_phone()  # CLINIC_PHONE, as the footer's "call the clinic on ..." uses
    if phone is not None:
        lines.append(f"Phone {phone.shown}")
    return lines


def _mailing_lines(patient: Patient) -> list[str]:
    place = " ".join(p for p in (patient.region, patient.postal_code) if p)
    city = ", ".join(p for p in (patient.city, place) if p)
    lines = [patient.address_line1, patient.address_line2, city]
    if patient.country and patient.country != "US":
        lines.append(patient.country)
    return [line for line in lines if line] or ["No mailing address on file"]


def _services(charges: list[Charge]) -> dict[int, str]:
    """Each charge in words: "Treatment session" and its codes, naming a line not yet priced."""
    codes: dict[int, list[str]] = {c.pk: [] for c in charges}
    unpriced: dict[int, list[str]] = {c.pk: [] for c in charges}
    lines = ChargeLine.objects.filter(
        charge_id__in=list(codes), entered_in_error_at__isnull=True
    ).order_by("charge_id", "position")
    for line in lines:
        codes[line.charge_id].append(line.code)
        if line.amount_cents is None:
            unpriced[line.charge_id].append(line.code)
    words = {}
    for pk, found in codes.items():
        text = "Treatment session" + (f" ({', '.join(found)})" if found else "")
        if unpriced[pk]:
            text += f"; {', '.join(unpriced[pk])} not yet priced"
        words[pk] = text
    return words


def _header(pdf: FPDF, *, patient: Patient, statement_date: datetime.date) -> None:
    top = pdf.get_y()
    left_width = pdf.epw - 72
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(
        left_width, 7, pdf_text(settings.CLINIC_NAME), align="L", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("Helvetica", size=9.5)
    for line in _clinic_lines():
        pdf.multi_cell(left_width, 5, pdf_text(line), align="L", new_x="LMARGIN", new_y="NEXT")
    left_bottom = pdf.get_y()

    right = pdf.l_margin + pdf.epw - 70
    pdf.set_xy(right, top)
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(70, 7, "Patient statement", align="R", new_x="LEFT", new_y="NEXT")
    pdf.set_font("Helvetica", size=9.5)
    for line in (f"Statement date: {statement_date:%m/%d/%Y}", f"MRN: {patient.mrn}"):
        pdf.cell(70, 5, pdf_text(line), align="R", new_x="LEFT", new_y="NEXT")
    pdf.set_y(max(left_bottom, pdf.get_y()) + 6)

    pdf.set_font("Helvetica", size=8)
    pdf.cell(0, 4, "STATEMENT FOR", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 10.5)
    pdf.multi_cell(110, 5.5, pdf_text(patient.full_name), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9.5)
    for line in _mailing_lines(patient):
        pdf.multi_cell(110, 5, pdf_text(line), align="L", new_x="LMARGIN", new_y="NEXT")


def _summary(pdf: FPDF, account: Account) -> None:
    totals = account.totals
    balance = totals.balance_cents
    if balance > 0:
        owed = ("Balance due", dollars(balance))
    elif balance < 0:
        owed = ("Credit on your account (nothing due)", dollars(totals.credit_cents))
    else:
        owed = ("Balance due", dollars(0))
    section_heading(pdf, "Summary")
    rows = [
        ("Charged (priced services)", dollars(totals.charged_cents)),
        ("Paid by you and your insurers", dollars(totals.paid_cents)),
        ("Adjustments", dollars(totals.adjusted_cents)),
    ]
    with pdf.table(
        width=110,
        align="LEFT",
        col_widths=(3, 1.2),
        line_height=5.5,
        padding=1.2,
        first_row_as_headings=False,
        text_align=("LEFT", "RIGHT"),
        borders_layout=TableBordersLayout.HORIZONTAL_LINES,
    ) as table:
        for label, amount in rows:
            cells = table.row()
            cells.cell(pdf_text(label))
            cells.cell(amount)
        cells = table.row(style=FontFace(emphasis="BOLD", size_pt=11))
        cells.cell(pdf_text(owed[0]))
        cells.cell(owed[1])
    pdf.ln(1.5)
    if totals.unpriced_lines:
        n = totals.unpriced_lines
        paragraph(
            pdf,
            (
                f"{n} charge line is not yet priced and is not included in these amounts"
                if n == 1
                else f"{n} charge lines are not yet priced and are not included in these amounts"
            )
            + ": the balance may change once the clinic prices "
            + ("it." if n == 1 else "them."),
            bold=True,
        )


def _charges(pdf: FPDF, account: Account, *, charge_count: int) -> None:
    section_heading(pdf, "Charges")
    if not account.charges:
        paragraph(pdf, "No charges on this account.")
        return
    words = _services([row.charge for row in account.charges])
    with pdf.table(
        col_widths=(1.35, 3.05, 1, 1, 1, 1),
        line_height=4.8,
        padding=1.1,
        text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=FontFace(emphasis="BOLD", fill_color=GREY),
    ) as table:
        head = table.row()
        for title in ("Date of service", "Service", "Charged", "Paid", "Adjusted", "Balance"):
            head.cell(title)
        for row in account.charges:
            cells = table.row()
            cells.cell(f"{row.charge.date_of_service:%m/%d/%Y}")
            cells.cell(pdf_text(words[row.charge.pk]))
            cells.cell(dollars(row.charged_cents))
            cells.cell(dollars(row.paid_cents))
            cells.cell(dollars(row.adjusted_cents))
            cells.cell(dollars(row.charged_cents - row.paid_cents - row.adjusted_cents))
    pdf.ln(1.5)
    if charge_count > len(account.charges):
        paragraph(
            pdf,
            f"Only the latest {len(account.charges)} of {charge_count} sessions are listed; "
            "the summary's totals cover the whole account.",
        )


def _payments(pdf: FPDF, account: Account, *, payment_count: int) -> None:
    section_heading(pdf, "Payments and adjustments")
    valid = [p for p in account.payments if p.is_valid]
    if not valid:
        paragraph(pdf, "None received yet.")
    else:
        with pdf.table(
            col_widths=(1.35, 1.9, 1.7, 1.6, 1),
            line_height=4.8,
            padding=1.1,
            text_align=("LEFT", "LEFT", "LEFT", "LEFT", "RIGHT"),
            headings_style=FontFace(emphasis="BOLD", fill_color=GREY),
        ) as table:
            head = table.row()
            for title in ("Received", "From", "Method", "For", "Amount"):
                head.cell(title)
            for payment in valid:
                cells = table.row()
                cells.cell(f"{payment.received_on:%m/%d/%Y}")
                cells.cell(pdf_text(payment.get_source_display()))
                cells.cell(
                    "-"
                    if payment.source == PaymentSource.ADJUSTMENT
                    else pdf_text(payment.get_method_display())
                )
                cells.cell(
                    f"Session of {payment.charge.date_of_service:%m/%d/%Y}"
                    if payment.charge is not None
                    else "The whole account"
                )
                cells.cell(dollars(payment.amount_cents))
        pdf.ln(1.5)
        if any(p.charge_id is None for p in valid):
            paragraph(
                pdf,
                "A payment for the whole account counts in the summary's totals, not in one "
                "session's balance.",
            )
    if payment_count > len(account.payments):
        paragraph(
            pdf,
            "Only the latest payments are listed; the summary's totals cover every payment.",
        )


def statement_pdf_build(
    *, actor: User, patient: Patient, account: Account, statement_date: datetime.date
) -> bytes:
    """`account` is the patient's, from `account_get` (staff) or `own_account` (the portal,
    where `actor` is the patient's own sign-in)."""
    # The account lists the latest ACCOUNT_ROWS of each: are there more?
    charge_count = Charge.objects.filter(patient=patient, coding_problem="").count()
    payment_count = Payment.objects.filter(patient=patient).count()

    pdf = _Statement(orientation="P", unit="mm", format="letter")
    pdf.running_head = (
        f"Patient statement of {statement_date:%m/%d/%Y} for {patient.full_name}, MRN {patient.mrn}"
    )
    letter_page(pdf, title="Patient statement")
    _header(pdf, patient=patient, statement_date=statement_date)
    _summary(pdf, account)
    _charges(pdf, account, charge_count=charge_count)
    _payments(pdf, account, payment_count=payment_count)
    pdf.ln(3)
    if actor.is_patient_principal:
        pdf.set_font("Helvetica", size=8)
        pdf.cell(
            0,
            5,
            f"Downloaded from the patient portal {timezone.localtime():%m/%d/%Y %H:%M}.",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    else:
        printed_by(pdf, actor)
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type="account",
        object_id=patient.uuid,
        patient=patient,
        summary=f"Patient statement dated {statement_date:%m/%d/%Y} exported as PDF",
    )
    return bytes(pdf.output())
