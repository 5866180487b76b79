from __future__ import annotations

import datetime
import uuid
from typing import Literal

from ninja import Field, Schema
from pydantic import StrictInt

from clinic.core.api_schemas import RequestBody
from clinic.core.text import MultiLine, OneLine


class ResponseCreate(RequestBody):
    instrument: OneLine = Field(..., description="Instrument code, e.g. phq9, gad7, cssrs-screen")
    # Strict: "2", 2.0 and true are refused, as the score calculator refuses them.
    answers: list[StrictInt | None] = Field(..., description="One value per item, in item order")
    timepoint: OneLine = "unscheduled"
    taken_at: datetime.datetime | None = None


class AlertRead(Schema):
    uuid: uuid.UUID
    kind: str
    trigger: str
    status: str
    follow_up: bool = Field(
        ...,
        description=(
            "True when these answers joined an alert already waiting for a clinician (and "
            "`trigger` is what they showed); false when they raised it."
        ),
    )


class ResponseRead(Schema):
    uuid: uuid.UUID
    instrument: str
    instrument_version: str
    answers: list[int | None]
    complete: bool
    total: int | None
    severity: str | None
    flags: list[str]
    subscales: dict[str, int]
    taken_at: datetime.datetime
    timepoint: str
    source: str
    entered_in_error: bool
    alerts: list[AlertRead]


# --------------------------------------------------------------------------- suicidality alerts


class AlertPatient(Schema):
    uuid: uuid.UUID
    mrn: str
    name: str


class AlertStaff(Schema):
    uuid: uuid.UUID
    name: str


class AlertAnswerRead(Schema):
    response_uuid: uuid.UUID
    instrument: str
    taken_at: datetime.datetime
    result: str
    trigger: str = Field(description="What was positive, in words.")
    answers_text: str
    follow_up: bool


class SuicidalityAlertSummary(Schema):
    uuid: uuid.UUID
    kind: Literal["suicidal_ideation", "high_suicide_risk"]
    status: Literal["open", "acknowledged", "resolved"]
    trigger: str
    patient: AlertPatient
    assigned_to: AlertStaff | None
    created_at: datetime.datetime
    escalated_at: datetime.datetime | None
    follow_up_count: int = Field(description="Answers that joined it since it was raised.")
    updated_at: datetime.datetime


class SuicidalityAlertRead(SuicidalityAlertSummary):
    answers: list[AlertAnswerRead] = Field(description="Every answer behind it, in order.")
    acknowledged_at: datetime.datetime | None
    acknowledged_by: AlertStaff | None
    acknowledgement_note: str
    resolved_at: datetime.datetime | None
    resolved_by: AlertStaff | None
    resolution_note: str
    can_acknowledge: bool
    can_resolve: bool


class SuicidalityAlertPage(Schema):
    items: list[SuicidalityAlertSummary]
    next_cursor: str | None


class AlertNote(RequestBody):
    note: MultiLine = Field(
        ..., min_length=1, max_length=2000, description="What you did or decided."
    )
