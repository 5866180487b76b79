"""The bodies and answers of closing a session's record (api/signing.py and the modules it
loads). The parts of the session's own record (its note, addenda, REMS status, requests) are in
schemas.py, with the rest of `SessionRead`."""

from __future__ import annotations

import datetime
from typing import Literal
from uuid import UUID

from ninja import Field, Schema

from clinic.core.api_pages import CursorQuery
from clinic.core.api_schemas import RequestBody
from clinic.core.text import MultiLine, OneLine
from clinic.treatment_sessions.schemas import (
    PrescriberRequestKindCode,
    PrescriberRequestRead,
    SessionNamed,
    SessionPatientRef,
)

# --------------------------------------------------------------------------- notes


class NoteText(RequestBody):
    text: MultiLine = Field(..., max_length=20000)


class NoteDraft(Schema):
    text: str = Field(description="The draft, one line per part of the session.")


# --------------------------------------------------------------------------- REMS form

RemsDoseCode = Literal["56 mg", "84 mg", "other"]
RemsMedicationCode = Literal[
    "benzodiazepines",
    "non-benzodiazepine sedative-hypnotics",
    "psychostimulants",
    "MAOIs",
    "opioids",
]
RemsAnswer = bool | int | str | list[str] | None


class RemsDueQuery(CursorQuery):
    location: OneLine | None = Field(
        None,
        max_length=40,
        description="A location's id; `all` (clinic administrator) for every location; "
        "left out: the location you work at.",
    )


class RemsDueRead(Schema):
    session_uuid: UUID
    patient: SessionPatientRef | None = Field(
        description="Who, when you may open the patient; null otherwise (see `mrn`)."
    )
    mrn: str = Field(description="As the list of forms due shows it, to file the form.")
    location: SessionNamed
    session_date: datetime.date
    due_on: datetime.date
    overdue: bool
    missing: list[str] = Field(description="The form's fields not answered, in form order.")


class RemsDuePage(Schema):
    items: list[RemsDueRead]
    next_cursor: str | None


class RemsFieldRead(Schema):
    key: str
    label: str
    choices: list[str] = Field(description="The form's answers, where it offers a list.")
    answer: RemsAnswer = Field(description="As saved; null when not answered.")
    suggested: RemsAnswer = Field(
        description="From the session record while not answered: check it, then save it."
    )


class RemsFormRead(Schema):
    session_uuid: UUID
    fields: list[RemsFieldRead]
    missing: list[str]
    complete: bool
    session_date: datetime.date
    due_on: datetime.date
    overdue: bool
    submitted_at: datetime.datetime | None
    submitted_by: SessionNamed | None
    can_save: bool = Field(description="You may save answers (session.run, not signed).")
    can_submit: bool = Field(description="You may record it as submitted now.")


class RemsFormAnswers(RequestBody):
    """Any of the form's answers; those left out (or null) stay as saved."""

    patient_id: OneLine | None = Field(None, max_length=200)
    setting_id: OneLine | None = Field(None, max_length=200)
    session_date: datetime.date | None = None
    dose: RemsDoseCode | None = None
    lot_number: OneLine | None = Field(None, max_length=200)
    concomitant_medications: list[RemsMedicationCode] | None = Field(
        None, max_length=5, description="Each that applies; [] for none of these."
    )
    total_monitoring_minutes: int | None = Field(None, ge=0, le=24 * 60)
    vitals_acceptable_pre_dose: bool | None = None
    vitals_acceptable_at_completion: bool | None = None
    bp_pre_dose: OneLine | None = Field(None, max_length=200, description="E.g. 128/82.")
    bp_about_40_min: OneLine | None = Field(None, max_length=200)
    bp_pre_discharge: OneLine | None = Field(None, max_length=200)
    sedation_occurred: bool | None = None
    dissociation_occurred: bool | None = None
    respiratory_depression_occurred: bool | None = None
    serious_adverse_events: list[OneLine] | None = Field(
        None, max_length=20, description="One per item; [] for none."
    )
    ready_to_leave: OneLine | None = Field(None, max_length=200)


# --------------------------------------------------------------------------- prescriber requests


class PrescriberRequestWaiting(PrescriberRequestRead):
    etag: str = Field(
        description="The request's ETag: send it as `If-Match` to answer, decline or withdraw."
    )


class PrescriberRequestPage(Schema):
    items: list[PrescriberRequestWaiting]
    next_cursor: str | None


class PrescriberAsk(RequestBody):
    kind: PrescriberRequestKindCode = Field(
        description="`pre_checks` or `discharge` to override; `pre_dose_bp` again after a "
        "decline (a high pre-dose reading asks by itself)."
    )
    note: OneLine = Field("", max_length=500, description="For the prescriber.")
    escort_present: bool = Field(True, description="For `discharge`: is the escort here?")


class PrescriberAnswer(RequestBody):
    reason: OneLine = Field(..., max_length=500, description="Your reason: it goes in the record.")


class PrescriberDecline(RequestBody):
    note: OneLine = Field(
        ..., max_length=500, description="What the nurse should do instead (shown at the chair)."
    )


class PrescriberWithdraw(RequestBody):
    note: OneLine = Field("", max_length=500)
