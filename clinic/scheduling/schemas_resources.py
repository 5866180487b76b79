"""Schedule-resource API schemas (clinic/scheduling/api_resources.py)."""

from __future__ import annotations

import datetime
import uuid

from ninja import Field, Schema

from clinic.core.api_pages import CursorQuery
from clinic.core.api_schemas import RequestBody
from clinic.core.text import OneLine
from clinic.scheduling.choices import ChairCapability

LOCATION_DESCRIPTION = "A location's UUID: the one you work at when left out."


class ResourcePlace(Schema):
    uuid: uuid.UUID
    name: str


class RoomRead(Schema):
    uuid: uuid.UUID
    name: str
    active: bool = Field(description="False: out of service, nothing is booked in it")
    location: ResourcePlace
    updated_at: datetime.datetime


class ChairRead(Schema):
    uuid: uuid.UUID
    name: str
    capabilities: list[ChairCapability] = Field(description="The equipment at the chair")
    active: bool = Field(description="False: out of service, nothing is booked in it")
    room: ResourcePlace
    location: ResourcePlace
    updated_at: datetime.datetime


class ShiftStaff(Schema):
    """Who works the shift, as the resources page shows them: name and role."""

    uuid: uuid.UUID
    name: str
    role: str


class StaffShiftRead(Schema):
    uuid: uuid.UUID
    date: datetime.date
    start: datetime.time
    end: datetime.time
    staff: ShiftStaff
    location: ResourcePlace


class RoomPage(Schema):
    items: list[RoomRead]
    next_cursor: str | None


class ChairPage(Schema):
    items: list[ChairRead]
    next_cursor: str | None


class StaffShiftPage(Schema):
    items: list[StaffShiftRead]
    next_cursor: str | None


class DayHours(RequestBody):
    opens: datetime.time
    closes: datetime.time


class OpeningDayRead(Schema):
    weekday: int = Field(description="0 Monday … 6 Sunday")
    day: str
    opens: datetime.time | None = Field(description="Null: closed")
    closes: datetime.time | None


class OpeningHoursRead(Schema):
    location: ResourcePlace
    days: list[OpeningDayRead]


class LocationQuery(Schema):
    location: OneLine | None = Field(None, max_length=64, description=LOCATION_DESCRIPTION)


class ResourceListQuery(CursorQuery):
    location: OneLine | None = Field(None, max_length=64, description=LOCATION_DESCRIPTION)


class ChairListQuery(ResourceListQuery):
    room: uuid.UUID | None = Field(None, description="Only this room's chairs")


class ShiftListQuery(ResourceListQuery):
    first_day: datetime.date | None = Field(None, description="From this day on (today)")
    last_day: datetime.date | None = Field(None, description="Up to this day")


class RoomCreate(RequestBody):
    name: OneLine = Field(..., max_length=100)
    location: uuid.UUID | None = Field(None, description=LOCATION_DESCRIPTION)


class ChairCreate(RequestBody):
    room: uuid.UUID = Field(..., description="An active room of the location")
    name: OneLine = Field(..., max_length=100)
    capabilities: list[ChairCapability] = Field(default_factory=list, max_length=10)


class InService(RequestBody):
    active: bool = Field(..., description="False takes it out of service")


class StaffShiftCreate(RequestBody):
    staff: uuid.UUID = Field(..., description="An active member of staff")
    date: datetime.date
    start: datetime.time
    end: datetime.time
    location: uuid.UUID | None = Field(None, description=LOCATION_DESCRIPTION)


class OpeningHoursSet(RequestBody):
    """Every weekday's hours in the location's time zone; null for closed."""

    monday: DayHours | None
    tuesday: DayHours | None
    wednesday: DayHours | None
    thursday: DayHours | None
    friday: DayHours | None
    saturday: DayHours | None
    sunday: DayHours | None
