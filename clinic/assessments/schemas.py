from __future__ import annotations

import datetime
import uuid

from ninja import Field, Schema
from pydantic import StrictInt

from clinic.core.api_schemas import RequestBody
from clinic.core.text import OneLine


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
