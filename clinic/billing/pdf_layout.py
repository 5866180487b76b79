"""What the billing PDFs (the superbill, the patient statement) share: a US-letter page with
the same margins, and the line that says when and by whom the file was printed."""

from __future__ import annotations

from django.utils import timezone
from fpdf import FPDF

from clinic.accounts.models import User
from clinic.controlled_substances.exports import pdf_text


def letter_page(pdf: FPDF, *, title: str) -> None:
    """The document's metadata, margins and first page."""
    pdf.set_title(title)
    pdf.set_creator("KetaCare")
    pdf.set_auto_page_break(True, margin=16)
    pdf.set_margins(16, 14, 16)
    pdf.add_page()


def printed_by(pdf: FPDF, actor: User) -> None:
    pdf.set_font("Helvetica", size=8)
    pdf.cell(
        0,
        5,
        pdf_text(f"Printed {timezone.localtime():%m/%d/%Y %H:%M} by {actor.display_name}."),
        new_x="LMARGIN",
        new_y="NEXT",
    )
