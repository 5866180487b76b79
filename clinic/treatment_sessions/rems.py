"""The esketamine REMS Patient Monitoring Form: the list of forms due, and the form as a PDF.

A form is due for every esketamine session that was dosed, within 7 days of the session
(`rules.rems_form_due`, REMS [C15]); the session's date is its check-in date in the clinic's
time zone (the date `services.rems_form_prefill` puts on the form). A form stays on the list
until it is recorded as submitted.

The field wording is that of `rules.REMS_MONITORING_FIELDS`, a paraphrase of the form in
clinical-reference.md §3.6: UNCONFIRMED against the current form (see rules.py).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from fpdf import FPDF

from clinic.accounts.permissions import Capability
from clinic.controlled_substances.exports import pdf_text
from clinic.core.access import require
from clinic.core.api_pages import Keyset, keyset_page
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.locations.models import Location
from clinic.patients.models import Patient
from clinic.screening.choices import Route
from clinic.treatment_sessions import rules
from clinic.treatment_sessions.models import TreatmentSession
from clinic.treatment_sessions.state import policy_of

FIELDS = rules.REMS_MONITORING_FIELDS
LABELS = {f.key: f.label for f in FIELDS}
BOOLEAN_FIELDS = frozenset(
    {
        "vitals_acceptable_pre_dose",
        "vitals_acceptable_at_completion",
        "sedation_occurred",
        "dissociation_occurred",
        "respiratory_depression_occurred",
    }
)


def session_date(session: TreatmentSession) -> datetime.date:
    return timezone.localdate(session.checked_in_at)


# --------------------------------------------------------------------------- forms due


@dataclass(frozen=True)
class RemsDue:
    session: TreatmentSession
    reachable: bool  # the actor may open the patient (and the form)
    session_date: datetime.date
    due: datetime.date
    today: datetime.date
    overdue: bool
    missing: list[str]  # labels of the fields not answered, in form order

    @property
    def label(self) -> str:
        patient = self.session.patient
        return patient.display_name if self.reachable else f"MRN {patient.mrn}"

    @property
    def days_left(self) -> int:
        return (self.due - self.today).days

    @property
    def days_overdue(self) -> int:
        return (self.today - self.due).days

    @property
    def complete(self) -> bool:
        return not self.missing


def _due(location: Location | None):
    due = TreatmentSession.objects.filter(
        route=Route.ESKETAMINE, dose_started_at__isnull=False, rems_submitted_at__isnull=True
    )
    if location is not None:
        due = due.filter(appointment__chair__room__location=location)
    return due.select_related("patient", "appointment__chair__room__location")


def _rows(actor, sessions: list[TreatmentSession], today: datetime.date) -> list[RemsDue]:
    """Each session's form: its due date and what is unanswered, and whether the actor may
    open the patient (one query for the page)."""
    patient_ids = {s.patient_id for s in sessions}
    visible = (
        set(
            Patient.objects.visible_to(actor)
            .filter(pk__in=patient_ids)
            .values_list("pk", flat=True)
        )
        if patient_ids
        else set()
    )
    rows = []
    for session in sessions:
        policy = policy_of(session)
        day = session_date(session)
        rows.append(
            RemsDue(
                session=session,
                reachable=session.patient_id in visible,
                session_date=day,
                due=rules.rems_form_due(day, policy),
                today=today,
                overdue=rules.rems_form_overdue(day, today, policy),
                missing=[LABELS[k] for k in rules.rems_form_missing(session.rems_form or {})],
            )
        )
    return rows


def _where(location: Location | None) -> str:
    return f" at {location.code}" if location else " at every location"


def rems_due_list(
    *, actor, now: datetime.datetime | None = None, location: Location | None = None
) -> list[RemsDue]:
    """Dosed esketamine sessions whose monitoring form is not yet submitted, by due date: at
    `location` (each location is its own REMS-certified setting), or at every location when
    it is None (the caller has checked the actor sees the network: `location_scope`)."""
    require(actor, Capability.SESSION_REMS)
    today = timezone.localdate(now or timezone.now())
    rows = _rows(actor, list(_due(location).order_by("checked_in_at", "id")), today)
    rows.sort(key=lambda row: (row.due, row.session.checked_in_at))
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="treatment_session",
        summary=(
            "REMS monitoring forms due"
            + _where(location)
            + f": {len(rows)}, {sum(1 for r in rows if r.overdue)} overdue"
        ),
    )
    return rows


REMS_DUE_ORDER = Keyset(("checked_in_at",))


@dataclass(frozen=True)
class RemsDuePage:
    rows: list[RemsDue]
    next_after: list | None


def rems_due_page(
    *, actor, location: Location | None, after: list | None, limit: int
) -> RemsDuePage:
    """The same forms as `rems_due_list`, a page at a time in session order (oldest first:
    each is due the same number of days after its session, so also by due date, unless the
    clinic shortened that number between sessions); audited as the list is."""
    require(actor, Capability.SESSION_REMS)
    page = keyset_page(_due(location), keyset=REMS_DUE_ORDER, after=after, limit=limit)
    rows = _rows(actor, page.items, timezone.localdate())
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="treatment_session",
        summary=f"REMS monitoring forms due{_where(location)} (API): {len(rows)} on this page",
    )
    return RemsDuePage(rows=rows, next_after=page.next_after)


# --------------------------------------------------------------------------- answers as text


def answer_text(key: str, value: Any) -> str:
    """An answer as the form and the PDF show it; "" when not answered."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    if key in BOOLEAN_FIELDS:
        return "Yes" if value else "No"
    if key in ("concomitant_medications", "serious_adverse_events"):
        items = list(value or [])
        return "; ".join(str(item) for item in items) if items else "None"
    if key == "session_date":
        try:
            return f"{datetime.date.fromisoformat(str(value)):%m/%d/%Y}"
        except ValueError:
            return str(value)
    return str(value)


# --------------------------------------------------------------------------- the PDF


class _Form(FPDF):
    def footer(self):
        self.set_y(-12)
        self.set_font("Helvetica", size=7)
        self.cell(
            0,
            4,
            pdf_text(
                "Field wording follows KetaCare's reading of the Spravato REMS Patient "
                "Monitoring Form; check it against the current form before submitting."
            ),
            align="C",
        )


def rems_pdf_build(*, actor, session: TreatmentSession) -> bytes:
    """The monitoring form on one printable page: the healthcare setting (the session's
    location: each location is its own REMS-certified setting), each field and its answer,
    the clinic's own references (MRN, session) and when it was generated. No address (the
    form has no place for one). Audited as an export. The caller has checked the actor may
    open the session (`session_get`)."""
    require(actor, Capability.SESSION_REMS)
    values = session.rems_form or {}
    missing = rules.rems_form_missing(values)
    now = timezone.localtime()
    pdf = _Form(orientation="P", unit="mm", format="letter")
    pdf.set_title("Esketamine REMS patient monitoring form")
    pdf.set_creator("KetaCare")
    pdf.set_auto_page_break(True, margin=16)
    pdf.set_margins(16, 14, 16)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 8, "Spravato REMS - Patient Monitoring Form", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    setting = session.appointment.chair.room.location
    pdf.cell(0, 5.5, pdf_text(setting.name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=8)
    pdf.cell(
        0,
        4.5,
        pdf_text(
            f"Clinic reference: patient MRN {session.patient.mrn}, session "
            f"{str(session.uuid)[:8]}. Generated {now:%m/%d/%Y %H:%M} by {actor.display_name}."
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    status = "Submitted " + (
        f"{timezone.localtime(session.rems_submitted_at):%m/%d/%Y}"
        if session.rems_submitted_at
        else ""
    )
    if not session.rems_submitted_at:
        status = "Complete, not yet recorded as submitted" if not missing else "INCOMPLETE"
    pdf.cell(0, 4.5, pdf_text(f"Status: {status}."), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", size=10)
    with pdf.table(col_widths=(2, 3), line_height=6, padding=1.5, text_align="LEFT") as table:
        heading = table.row()
        heading.cell("Field")
        heading.cell("Answer")
        for item in FIELDS:
            row = table.row()
            row.cell(pdf_text(item.label))
            answer = answer_text(item.key, values.get(item.key))
            row.cell(pdf_text(answer or "(not answered)"))
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type="treatment_session",
        object_id=session.uuid,
        patient=session.patient,
        summary="REMS monitoring form exported as PDF",
        changes={"missing": missing},
    )
    return bytes(pdf.output())
