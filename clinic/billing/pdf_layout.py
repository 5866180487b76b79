"""What the clinic's PDFs (the superbill, the patient statement, the patient's record) share: a
US-letter page with the same margins, the line that says when and by whom the file was printed,
section headings and wrapped paragraphs."""

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


def section_heading(pdf: FPDF, text: str, *, size: float = 11, keep_mm: float = 25) -> None:
    """A section's title, never alone at the foot of a page: with less than `keep_mm` left
    under it, it starts the next page."""
    pdf.ln(3)
    if pdf.get_y() > pdf.page_break_trigger - keep_mm:
        pdf.add_page()
    pdf.set_font("Helvetica", "B", size)
    pdf.cell(0, 7, pdf_text(text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)


def paragraph(pdf: FPDF, text: str, *, bold: bool = False, line_height: float = 4.5) -> None:
    """Wrapped text at the body's size, across the page."""
    pdf.set_font("Helvetica", "B" if bold else "", 9)
    pdf.multi_cell(0, line_height, pdf_text(text), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
