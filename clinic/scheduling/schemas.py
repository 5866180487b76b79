"""The schedule's API schemas (clinic/scheduling/api.py)."""

from __future__ import annotations

import datetime
from typing import Literal
from uuid import UUID

from ninja import Field, Schema

from clinic.core.api_pages import CursorQuery
from clinic.core.api_schemas import RequestBody
from clinic.core.text import MultiLine, OneLine

RouteCode = Literal["iv", "im", "esketamine"]
StatusCode = Literal["booked", "checked_in", "completed", "cancelled", "no_show"]


class AppointmentListQuery(CursorQuery):
    date: datetime.date = Field(description="The day, in the clinic's time zone.")
    location: OneLine | None = Field(
        None,
        max_length=40,
        description="A location's id; `all` (clinic administrator) for every location; "
        "left out: the location you work at.",
    )
    room: UUID | None = None
    chair: UUID | None = None
    nurse: UUID | None = None
    patient: UUID | None = Field(None, description="A patient you may open.")
    include_cancelled: bool = False


class Named(Schema):
    uuid: UUID
    name: str


class ChairRef(Named):
    room: Named
    location: Named


class PatientRef(Schema):
    uuid: UUID
    mrn: str
    name: str


class PlannedSessionRef(Schema):
    uuid: UUID
    number: int
    plan_uuid: UUID


class AppointmentRead(Schema):
    uuid: UUID
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    duration_min: int
    route: RouteCode
    status: StatusCode
    patient: PatientRef | None = Field(
        description="Who, when you may open the patient; null otherwise (shown as booked)."
    )
    planned_session: PlannedSessionRef | None
    status_reason: str | None = Field(description="Why cancelled or a no-show; null when hidden.")
    chair: ChairRef
    nurse: Named
    updated_at: datetime.datetime


class AppointmentPage(Schema):
    items: list[AppointmentRead]
    next_cursor: str | None


class ProposalQuery(Schema):
    plan: UUID = Field(description="An active treatment plan's id.")
    location: UUID | None = Field(
        None, description="Where to book; left out: the location you work at."
    )


class ProposalSession(Schema):
    uuid: UUID
    number: int
    planned_date: datetime.date


class ProposalRead(Schema):
    session: ProposalSession
    found: bool
    starts_at: datetime.datetime | None
    ends_at: datetime.datetime | None
    chair: ChairRef | None
    nurse: Named | None
    note: str


class AppointmentBook(RequestBody):
    patient: UUID
    chair: UUID
    nurse: UUID
    starts_at: datetime.datetime = Field(description="With its UTC offset; to the minute.")
    route: RouteCode
    planned_session: UUID | None = Field(None, description="The plan's session it books.")


class AppointmentReschedule(RequestBody):
    starts_at: datetime.datetime = Field(description="With its UTC offset; to the minute.")
    chair: UUID | None = Field(None, description="Left out: the same chair.")
    nurse: UUID | None = Field(None, description="Left out: the same nurse.")
    reason: MultiLine = Field(..., min_length=1, max_length=300)


class AppointmentReason(RequestBody):
    reason: MultiLine = Field(..., min_length=1, max_length=300)
