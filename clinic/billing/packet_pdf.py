"""The prior-authorization packet as a PDF: the request as the payer's reviewer reads it (the
patient, the coverage, the diagnosis, the prescriber and NPI, the failed antidepressant trials
with dose and duration, the TRD verdict, the latest scores, REMS enrolment), then the payer's
checklist with what is documented and what is missing. Built from the packet kept on the
request, so it prints what was prepared; audited as an export."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from fpdf import FPDF

from clinic.accounts.models import User
from clinic.billing.models import PriorAuthorization
from clinic.billing.prior_auth import CheckedCriterion, us_date
from clinic.billing.services.prior_auth import ROUTES
from clinic.controlled_substances.exports import pdf_text
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction


class _Packet(FPDF):
    def footer(self):
        self.set_y(-12)
        self.set_font("Helvetica", size=7)
        self.cell(
            0,
            4,
            pdf_text(
                f"Prepared with KetaCare. Page {self.page_no()}. Confidential: protected health "
                "information for the payer's review only."
            ),
            align="C",
        )


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 6, pdf_text(text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9.5)


def _facts(pdf: FPDF, rows: list[tuple[str, str]]) -> None:
    with pdf.table(
        col_widths=(1, 2.6), line_height=5.5, padding=1.2, first_row_as_headings=False
    ) as table:
        for label, value in rows:
            row = table.row()
            row.cell(pdf_text(label))
            row.cell(pdf_text(value or "-"))


def _score(score: dict[str, Any] | None) -> str:
    return "not on record" if score is None else f"{score['total']} on {us_date(score['taken_on'])}"


def packet_pdf_build(
    *, actor: User, authorization: PriorAuthorization, checklist: list[CheckedCriterion]
) -> bytes:
    packet = authorization.packet
    patient, coverage = packet["patient"], packet["coverage"]
    pdf = _Packet(orientation="P", unit="mm", format="letter")
    pdf.set_title("Prior authorization request")
    pdf.set_creator("KetaCare")
    pdf.set_auto_page_break(True, margin=16)
    pdf.set_margins(16, 14, 16)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    route = ROUTES.get(authorization.route, authorization.route)
    pdf.cell(0, 8, pdf_text(f"Prior authorization request: {route}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=8)
    pdf.cell(
        0,
        4.5,
        pdf_text(
            f"Prepared {us_date(packet['prepared_on'])} from the clinical record; status "
            f"{authorization.get_status_display().lower()}"
            + (
                f", authorization {authorization.authorization_number}"
                if authorization.authorization_number
                else ""
            )
            + f". Printed {timezone.localtime():%m/%d/%Y %H:%M} by {actor.display_name}."
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    _heading(pdf, "Patient and coverage")
    _facts(
        pdf,
        [
            ("Patient", patient["name"]),
            (
                "Date of birth",
                f"{us_date(patient['date_of_birth'])} ({patient['age_years']} years)",
            ),
            ("Clinic MRN", patient["mrn"]),
            ("Payer and plan", f"{coverage['payer']} - {coverage['plan']}"),
            ("Member ID", coverage["member_id"]),
            ("Group number", coverage["group_number"]),
        ],
    )
    diagnosis = packet["diagnosis"]
    prescriber = packet["prescriber"]
    decision = packet["decision"]
    rems = packet["rems"]
    _heading(pdf, "Diagnosis, prescriber and history")
    _facts(
        pdf,
        [
            (
                "Diagnosis (ICD-10-CM)",
                f"{diagnosis['code']} {diagnosis['description']}"
                if diagnosis
                else "none on the problem list",
            ),
            ("Prescriber", prescriber["name"]),
            ("Prescriber NPI", prescriber["npi"] or "not on file"),
            (
                "Failed adequate trials (current episode)",
                "no intake"
                if packet["failed_adequate_trials"] is None
                else str(packet["failed_adequate_trials"]),
            ),
            (
                "Treatment-resistant",
                "not evaluated"
                if packet["treatment_resistant"] is None
                else ("yes" if packet["treatment_resistant"] else "no"),
            ),
            (
                "Eligibility decision",
                f"{decision['outcome']}, signed {us_date(decision['signed_on'])} by "
                f"{decision['signed_by']}"
                if decision
                else "not signed",
            ),
            ("Latest PHQ-9", _score(packet["phq9"])),
            ("Latest MADRS", _score(packet["madrs"])),
            (
                "Spravato REMS",
                f"enrolled {us_date(rems['enrolled_on'])}"
                + (
                    f", REMS ID {rems['rems_patient_id']}"
                    if rems and rems["rems_patient_id"]
                    else ""
                )
                if rems
                else "not enrolled",
            ),
        ],
    )
    _heading(pdf, "Antidepressant trials (from the intake)")
    if packet["trials"]:
        with pdf.table(col_widths=(2, 1.6, 1, 1, 1.6, 1), line_height=5.5, padding=1.2) as table:
            head = table.row()
            for title in ("Drug", "Dose", "Weeks", "Adequate", "Outcome", "This episode"):
                head.cell(title)
            for trial in packet["trials"]:
                row = table.row()
                row.cell(pdf_text(trial["drug"]))
                row.cell(pdf_text(trial["dose"] or "-"))
                row.cell("-" if trial["duration_weeks"] is None else str(trial["duration_weeks"]))
                row.cell("yes" if trial["adequate"] else "no")
                row.cell(pdf_text(trial["outcome"]))
                row.cell("yes" if trial["current_episode"] else "no")
    else:
        pdf.cell(0, 6, "No antidepressant trials recorded.", new_x="LMARGIN", new_y="NEXT")
    _heading(pdf, f"The payer's criteria ({coverage['payer']})")
    if checklist:
        with pdf.table(col_widths=(2.4, 1, 2.4), line_height=5.5, padding=1.2) as table:
            head = table.row()
            for title in ("Criterion", "Documented", "Where"):
                head.cell(title)
            for item in checklist:
                row = table.row()
                row.cell(pdf_text(item.criterion.text))
                row.cell("yes" if item.documented else "MISSING")
                row.cell(pdf_text(item.detail))
    else:
        pdf.cell(0, 6, "No checklist configured for this payer.", new_x="LMARGIN", new_y="NEXT")
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type="prior_authorization",
        object_id=authorization.uuid,
        patient=authorization.patient,
        summary="Prior-authorization packet exported as PDF",
    )
    return bytes(pdf.output())
