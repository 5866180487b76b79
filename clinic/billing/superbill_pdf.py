"""The superbill: what a self-pay patient sends their insurer to claim out of network. The
same content as a claim (docs/clinical/billing.md §5): the clinic (name, address, NPI, tax
ID), the rendering clinician with credentials and NPI, the patient, the date and place of
service, the diagnoses, each line's code, modifiers, units and amount, what was paid and
when. Codes only: CPT descriptors are © AMA, so lines carry our own short words. Audited as an
export."""

from __future__ import annotations

from django.conf import settings
from fpdf import FPDF

from clinic.accounts.models import User
from clinic.billing.models import Charge
from clinic.billing.pdf_layout import letter_page, printed_by
from clinic.billing.selectors_accounts import charge_paid_on
from clinic.billing.services.claims import billed_diagnoses
from clinic.billing.templatetags.money import dollars
from clinic.controlled_substances.exports import pdf_text
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction

# Our own words for what each code stands for (never the AMA's descriptors).
LINE_WORDS = {
    "96365": "IV infusion, first hour",
    "96366": "IV infusion, each added hour",
    "96374": "IV push",
    "96372": "Injection (IM)",
    "J3490": "Ketamine (unclassified drug)",
    "J0013": "Esketamine, per mg",
    "S0013": "Esketamine, per mg",
    "G2082": "Esketamine session, up to 56 mg",
    "G2083": "Esketamine session, over 56 mg",
}


def _words(code: str) -> str:
    if code in LINE_WORDS:
        return LINE_WORDS[code]
    if code.startswith("992"):
        return "Office visit (E/M)"
    if code in ("90791", "90792"):
        return "Psychiatric diagnostic evaluation"
    return "Psychotherapy"


class _Superbill(FPDF):
    def footer(self):
        self.set_y(-12)
        self.set_font("Helvetica", size=7)
        self.cell(
            0,
            4,
            pdf_text(
                "Superbill for the patient's own claim to their insurer. CPT codes are shown "
                "without descriptors (CPT is a registered trademark of the AMA)."
            ),
            align="C",
        )


def superbill_pdf_build(*, actor: User, charge: Charge) -> bytes:
    patient = charge.patient
    clinician = charge.rendering_provider
    location = charge.location
    lines = list(charge.lines.filter(entered_in_error_at__isnull=True).order_by("position"))
    diagnoses = billed_diagnoses(patient.pk)
    paid, paid_on = charge_paid_on(charge)
    total = sum(line.amount_cents or 0 for line in lines)
    pdf = _Superbill(orientation="P", unit="mm", format="letter")
    letter_page(pdf, title="Superbill")
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 8, "Superbill (statement of services)", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9.5)

    def row(table, label: str, value: str) -> None:
        cells = table.row()
        cells.cell(pdf_text(label))
        cells.cell(pdf_text(value or "-"))

    place = ""
    if location is not None:
        place = ", ".join(
            p
            for p in (location.address_line1, location.city, location.state, location.postal_code)
            if p
        )
    with pdf.table(
        col_widths=(1, 2.6), line_height=5.5, padding=1.2, first_row_as_headings=False
    ) as table:
        row(table, "Provider (billing)", settings.BILLING_PROVIDER_NAME)
        row(table, "Group NPI", settings.BILLING_PROVIDER_NPI or "not set")
        row(table, "Federal tax ID", settings.BILLING_TAX_ID or "not set")
        row(
            table,
            "Rendering clinician",
            f"{clinician.display_name}, NPI {clinician.npi or 'not on file'}",
        )
        row(
            table,
            "Place of service",
            f"{location.name} ({place}); POS {location.place_of_service_code}"
            if location is not None
            else "",
        )
        row(table, "Patient", f"{patient.full_name}, born {patient.date_of_birth:%m/%d/%Y}")
        row(table, "Date of service", f"{charge.date_of_service:%m/%d/%Y}")
        row(
            table,
            "Diagnoses (ICD-10-CM)",
            "; ".join(f"{d.icd10_code} {d.description}" for d in diagnoses) or "none recorded",
        )
    pdf.ln(4)
    with pdf.table(col_widths=(1, 3, 1.2, 0.8, 1.2), line_height=5.5, padding=1.2) as table:
        head = table.row()
        for title in ("Code", "Service (our words)", "Modifiers", "Units", "Amount"):
            head.cell(title)
        for line in lines:
            cells = table.row()
            cells.cell(line.code)
            words = _words(line.code) + (f" (NDC {line.ndc})" if line.ndc else "")
            cells.cell(pdf_text(words))
            cells.cell(", ".join(line.modifier_list) or "-")
            cells.cell(str(line.units))
            cells.cell(dollars(line.amount_cents))
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 6, pdf_text(f"Total charged: {dollars(total)}"), new_x="LMARGIN", new_y="NEXT")
    paid_text = f"Paid: {dollars(paid)}" + (
        f" (last payment {paid_on:%m/%d/%Y})" if paid_on else ""
    )
    pdf.cell(0, 6, pdf_text(paid_text), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, pdf_text(f"Balance: {dollars(total - paid)}"), new_x="LMARGIN", new_y="NEXT")
    printed_by(pdf, actor)
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type="charge",
        object_id=charge.uuid,
        patient=patient,
        summary=f"Superbill for {charge.date_of_service:%m/%d/%Y} exported as PDF",
    )
    return bytes(pdf.output())
