"""A patient's whole record as a readable PDF: who they are, their problems and plans, their
appointments, each treatment session with the doses given in it, at-home doses, a summary of
each session's vital signs, weights, every questionnaire's totals with a chart of each
instrument over time, and the journal entries they shared with their care team.

It prints the same facts as the FHIR download (patient_record.py reads them once), in the
clinic's time zone. A section with nothing in it says so, so an empty list never reads as a
page that failed to print.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from fpdf import FPDF
from fpdf.fonts import FontFace

from clinic.assessments.instruments import REGISTRY
from clinic.billing.pdf_layout import paragraph, section_heading
from clinic.controlled_substances.exports import pdf_text
from clinic.fhir.medications import DoseFacts
from clinic.fhir.observations import ScoredResponseFacts, VitalsFacts
from clinic.fhir.record_formats import WholeRecord
from clinic.protocols.choices import PlanStatus
from clinic.scheduling.choices import AppointmentStatus

GREY = 235
INK = (40, 70, 120)


class _RecordPdf(FPDF):
    running_head = ""

    def header(self) -> None:
        if self.page_no() > 1:
            self.set_font("Helvetica", size=8)
            self.cell(0, 5, pdf_text(self.running_head), new_x="LMARGIN", new_y="NEXT")
            self.ln(1)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=7)
        self.cell(0, 4, f"Page {self.page_no()} of {{nb}}", align="C")


def _when(moment: datetime.datetime) -> str:
    return f"{timezone.localtime(moment):%m/%d/%Y %H:%M}"


def _day(moment: datetime.datetime | datetime.date) -> str:
    if isinstance(moment, datetime.datetime):
        moment = timezone.localtime(moment).date()
    return f"{moment:%m/%d/%Y}"


def _heading(pdf: FPDF, text: str) -> None:
    section_heading(pdf, text, size=12, keep_mm=30)


def _line(pdf: FPDF, text: str, *, bold: bool = False) -> None:
    paragraph(pdf, text, bold=bold, line_height=4.6)


def _table(
    pdf: FPDF,
    headings: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[float],
) -> None:
    with pdf.table(
        col_widths=tuple(widths),
        line_height=4.6,
        padding=1,
        text_align="LEFT",
        headings_style=FontFace(emphasis="BOLD", fill_color=GREY),
    ) as table:
        head = table.row()
        for title in headings:
            head.cell(pdf_text(title))
        for row in rows:
            cells = table.row()
            for text in row:
                cells.cell(pdf_text(text))


def _about(pdf: FPDF, record: WholeRecord) -> None:
    patient = record.patient
    name = " ".join(
        n
        for n in (patient.legal_given_name, patient.legal_middle_name, patient.legal_family_name)
        if n
    )
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 8, pdf_text(f"Health record: {name}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9.5)
    lines = [
        f"{settings.CLINIC_NAME}. Printed {timezone.localtime():%m/%d/%Y %H:%M}.",
        f"Date of birth {patient.date_of_birth:%m/%d/%Y}. Medical record number {patient.mrn}.",
    ]
    if patient.preferred_name:
        lines.append(f"Preferred name: {patient.preferred_name}.")
    place = " ".join(p for p in (patient.region, patient.postal_code) if p)
    address = ", ".join(
        p for p in (patient.address_line1, patient.address_line2, patient.city, place) if p
    )
    if address:
        lines.append(f"Address: {address}.")
    reach = [p for p in (patient.phone_mobile, patient.phone_home, patient.email) if p]
    if reach:
        lines.append("Contact: " + ", ".join(reach) + ".")
    for line in lines:
        _line(pdf, line)


def _problems(pdf: FPDF, record: WholeRecord) -> None:
    _heading(pdf, "Problem list")
    if not record.problems:
        _line(pdf, "No diagnoses recorded.")
        return
    rows = [
        (
            p.icd10_code,
            p.description,
            "Active"
            if p.active
            else f"Resolved {_day(p.resolved_on)}"
            if p.resolved_on
            else "Resolved",
            _day(p.recorded_at),
        )
        for p in record.problems
    ]
    _table(pdf, ("ICD-10-CM", "Diagnosis", "Status", "Recorded"), rows, (1, 4, 1.4, 1.1))


def _plans(pdf: FPDF, record: WholeRecord) -> None:
    _heading(pdf, "Treatment plans")
    if not record.plans:
        _line(pdf, "No treatment plans.")
        return
    rows = []
    for plan, _ in record.plans:
        dates = _day(plan.start_date) + (f" to {_day(plan.ended_on)}" if plan.ended_on else "")
        status = PlanStatus(plan.status).label
        if plan.end_reason:
            status += f": {plan.end_reason}"
        rows.append(
            (
                f"{plan.title} ({plan.route})",
                plan.dose or "Set per session",
                str(plan.session_count),
                dates,
                status,
                plan.prescriber_name,
            )
        )
    _table(
        pdf,
        ("Plan", "Dose", "Sessions", "Dates", "Status", "Prescriber"),
        rows,
        (2.5, 1.4, 1.0, 1.6, 1.6, 1.4),
    )


def _appointments(pdf: FPDF, record: WholeRecord) -> None:
    _heading(pdf, "Appointments")
    if not record.appointments:
        _line(pdf, "No appointments.")
        return
    rows = [
        (
            _when(a.starts_at),
            a.kind,
            AppointmentStatus(a.status).label + (f": {a.status_reason}" if a.status_reason else ""),
            a.nurse_name,
        )
        for a in record.appointments
    ]
    _table(pdf, ("When", "What", "Status", "Nurse"), rows, (1.4, 1.6, 2.4, 1.4))


def _mg(amount: Decimal) -> str:
    return f"{amount.normalize():f} mg"


def _vitals_summary(readings: list[VitalsFacts]) -> str:
    """A session's readings in one line: how many, the blood pressure and heart rate ranges,
    the lowest SpO2."""
    if not readings:
        return "No vital signs recorded."
    bp = [(r.systolic_mmhg, r.diastolic_mmhg) for r in readings if r.systolic_mmhg]
    heart = [r.heart_rate_bpm for r in readings if r.heart_rate_bpm]
    spo2 = [r.spo2_percent for r in readings if r.spo2_percent]
    parts = [f"{len(readings)} vital-sign reading{'' if len(readings) == 1 else 's'}"]
    if bp:
        low, high = min(bp), max(bp)
        parts.append(f"blood pressure {low[0]}/{low[1]} to {high[0]}/{high[1]} mmHg")
    if heart:
        parts.append(f"heart rate {min(heart)} to {max(heart)} /min")
    if spo2:
        parts.append(f"lowest SpO2 {min(spo2)} %")
    return ", ".join(parts) + "."


def _dose_words(dose: DoseFacts) -> str:
    if dose.given_mg is not None:
        words = f"{_mg(dose.given_mg)} {dose.medication_name}"
    elif dose.status == "in-progress":
        words = f"Infusion running (not yet recorded as given), {dose.medication_name}"
    else:
        reason = f" ({dose.status_reason})" if dose.status_reason else ""
        words = f"None given: infusion stopped before any ran in{reason}, {dose.medication_name}"
    if dose.infusion_started_at is not None:
        words += f", from {_when(dose.infusion_started_at)}"
        if dose.given_at is not None:
            words += f" to {timezone.localtime(dose.given_at):%H:%M}"
    elif dose.given_at is not None:
        words += f", {_when(dose.given_at)}"
    if dose.device_number is not None:
        words += f", device {dose.device_number}"
    if dose.im_site:
        words += f", {dose.im_site}"
    if dose.lot_number:
        words += f", lot {dose.lot_number}"
    if dose.course:
        course = "; ".join(dose.course)
        words += ". " + course[:1].upper() + course[1:]
    if dose.note:
        words += f". {dose.note}"
    return words + "."


def _sessions(pdf: FPDF, record: WholeRecord) -> None:
    _heading(pdf, "Treatment sessions")
    doses: dict[str, list[DoseFacts]] = {}
    for dose in record.doses:
        doses.setdefault(dose.encounter_uuid, []).append(dose)
    readings: dict[str, list[VitalsFacts]] = {}
    for reading in record.vitals:
        readings.setdefault(reading.encounter_uuid, []).append(reading)
    if not record.sessions:
        _line(pdf, "No treatment sessions.")
    for session in record.sessions:
        ended = f" to {timezone.localtime(session.ended_at):%H:%M}" if session.ended_at else ""
        nurse = f", nurse {session.nurse_name}" if session.nurse_name else ""
        _line(pdf, f"{_when(session.started_at)}{ended}: {session.kind}{nurse}", bold=True)
        given = doses.get(session.uuid, [])
        for dose in given:
            _line(pdf, f"    Dose: {_dose_words(dose)}")
        if not given:
            _line(pdf, "    No dose recorded.")
        _line(pdf, f"    {_vitals_summary(readings.get(session.uuid, []))}")
        pdf.ln(1)
    at_home = doses.get("", [])
    _heading(pdf, "At-home doses")
    if not at_home:
        _line(pdf, "No at-home doses logged.")
        return
    _table(
        pdf,
        ("Taken", "Dose"),
        [
            (_when(d.given_at), f"{_mg(d.given_mg)} {d.medication_name}")
            for d in at_home
            if d.given_at is not None and d.given_mg is not None  # logged doses only
        ],
        (1, 3),
    )


def _weights(pdf: FPDF, record: WholeRecord) -> None:
    _heading(pdf, "Weight and height")
    if not record.body:
        _line(pdf, "No weights or heights recorded.")
        return
    rows = [
        (
            _day(m.measured_on),
            f"{m.weight_kg.normalize():f} kg" if m.weight_kg is not None else "",
            f"{m.height_cm.normalize():f} cm" if m.height_cm is not None else "",
        )
        for m in record.body
    ]
    _table(pdf, ("Measured", "Weight", "Height"), rows, (1, 1, 1))


def _chart(pdf: FPDF, code: str, totals: list[tuple[datetime.datetime, int]]) -> None:
    """An instrument's totals over time: a line from the first to the latest, on the scale of
    the instrument's whole range, with the first and latest dates beneath."""
    low, high = REGISTRY[code].total_range or (0, max(t for _, t in totals))
    width, height = 120.0, 34.0
    if pdf.get_y() + height + 10 > pdf.page_break_trigger:
        pdf.add_page()
    left, top = pdf.l_margin + 10, pdf.get_y() + 2
    pdf.set_draw_color(160, 160, 160)
    pdf.rect(left, top, width, height)
    pdf.set_font("Helvetica", size=7)
    pdf.text(pdf.l_margin, top + 3, str(high))
    pdf.text(pdf.l_margin, top + height, str(low))
    first, last = totals[0][0], totals[-1][0]
    span = max((last - first).total_seconds(), 1.0)

    def point(moment: datetime.datetime, total: int) -> tuple[float, float]:
        x = left + 3 + (width - 6) * ((moment - first).total_seconds() / span)
        y = top + height - height * ((total - low) / max(high - low, 1))
        return x, y

    pdf.set_draw_color(*INK)
    pdf.set_fill_color(*INK)
    points = [point(moment, total) for moment, total in totals]
    for (x1, y1), (x2, y2) in zip(points, points[1:], strict=False):
        pdf.line(x1, y1, x2, y2)
    for x, y in points:
        pdf.circle(x, y, 0.8, style="F")
    pdf.text(left, top + height + 4, _day(first))
    pdf.text(left + width - 16, top + height + 4, _day(last))
    pdf.set_draw_color(0, 0, 0)
    pdf.set_fill_color(255, 255, 255)
    pdf.set_y(top + height + 5)
    pdf.set_font("Helvetica", size=7.5)
    pdf.cell(
        0,
        4,
        pdf_text(f"Totals over time, drawn on the scale's whole range, {low} to {high}."),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("Helvetica", size=9)


def _band(code: str, total: int) -> str:
    for band in REGISTRY[code].bands:
        if band.low <= total <= band.high:
            return band.label
    return ""


def _answer_words(code: str, answers: Sequence[int | None]) -> str:
    """Each answered item as "its short label: the answer's words"; items skipped by design
    (asked only after another answer) are left out, never printed as "No"."""
    words = []
    for item, value in zip(REGISTRY[code].items, answers, strict=False):
        if value is None:
            continue
        label = next((o.label for o in item.options if o.value == value), str(value))
        words.append(f"{item.short_label or f'Item {item.number}'}: {label}")
    return "; ".join(words) or "No answers"


def _questionnaires(pdf: FPDF, record: WholeRecord) -> None:
    _heading(pdf, "Questionnaires")
    by_instrument: dict[str, list[ScoredResponseFacts]] = {}
    for response in record.responses:
        by_instrument.setdefault(response.instrument_code, []).append(response)
    if not by_instrument:
        _line(pdf, "No questionnaires answered.")
        return
    for code, responses in by_instrument.items():
        instrument = REGISTRY[code]
        _line(pdf, instrument.name, bold=True)
        if instrument.total_range is None:
            # A screener without a total (C-SSRS): its answers are the result.
            answers = [(_when(r.taken_at), _answer_words(code, r.answers)) for r in responses]
            _table(pdf, ("Answered", "Answers"), answers, (1.2, 3))
            pdf.ln(2)
            continue
        rows = [
            (
                _when(r.taken_at),
                str(r.total) if r.total is not None else "Not scored (incomplete)",
                _band(code, r.total) if r.total is not None else "",
            )
            for r in responses
        ]
        _table(pdf, ("Answered", "Total", "Severity"), rows, (1.2, 1.4, 1.6))
        totals = [(r.taken_at, r.total) for r in responses if r.total is not None]
        if len(totals) >= 2 and instrument.total_range is not None:
            _chart(pdf, code, totals)
        pdf.ln(2)


def _journal(pdf: FPDF, record: WholeRecord) -> None:
    _heading(pdf, "Journal entries you shared with your care team")
    if not record.journal:
        _line(pdf, "No shared journal entries.")
        return
    for entry in record.journal:
        _line(
            pdf,
            f"{_when(entry.written_at)}: mood {entry.mood_before} before, "
            f"{entry.mood_after} after (1 to 10)",
            bold=True,
        )
        for label, text in (("Reflections", entry.reflections), ("Insights", entry.insights)):
            if text:
                _line(pdf, f"{label}: {text}")
        pdf.ln(1)


def record_pdf(record: WholeRecord) -> bytes:
    pdf = _RecordPdf(format="letter")
    pdf.set_title("Health record")
    pdf.set_creator("KetaCare")
    pdf.set_auto_page_break(True, margin=16)
    pdf.set_margins(16, 14, 16)
    patient = record.patient
    pdf.running_head = (
        f"Health record: {patient.legal_given_name} {patient.legal_family_name}, MRN {patient.mrn}"
    )
    pdf.add_page()
    _about(pdf, record)
    _problems(pdf, record)
    _plans(pdf, record)
    _appointments(pdf, record)
    _sessions(pdf, record)
    _weights(pdf, record)
    _questionnaires(pdf, record)
    _journal(pdf, record)
    return bytes(pdf.output())
