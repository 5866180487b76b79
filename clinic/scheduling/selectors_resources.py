"""Reads of the schedule's resources for the API, as the resources page reads them
(views.resources): the clinic administrator's (schedule.manage_resources), one location at a
time, each list in a fixed order a page at a time (clinic/core/api_pages.py). Rooms, chairs,
hours and shifts are no patient's record: nothing here is audited, as on the page."""

from __future__ import annotations

import datetime

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.api_pages import Keyset, KeysetPage, keyset_page
from clinic.locations.models import Location
from clinic.locations.selectors import require_works_at
from clinic.scheduling import selectors
from clinic.scheduling.models import Chair, OpeningHours, Room, StaffShift

ROOM_ORDER = Keyset(("name",))
CHAIR_ORDER = Keyset(("name",))
SHIFT_ORDER = Keyset(("date", "start"))


def room_page(
    *, actor: User, location: Location, after: list | None, limit: int
) -> KeysetPage[Room]:
    require(actor, Capability.SCHEDULE_MANAGE_RESOURCES)
    rooms = Room.objects.filter(location=location).select_related("location")
    return keyset_page(rooms, keyset=ROOM_ORDER, after=after, limit=limit)


def chair_page(
    *, actor: User, location: Location, room: Room | None, after: list | None, limit: int
) -> KeysetPage[Chair]:
    require(actor, Capability.SCHEDULE_MANAGE_RESOURCES)
    chairs = Chair.objects.filter(room__location=location).select_related("room__location")
    if room is not None:
        chairs = chairs.filter(room=room)
    return keyset_page(chairs, keyset=CHAIR_ORDER, after=after, limit=limit)


def shift_page(
    *,
    actor: User,
    location: Location,
    first_day: datetime.date,
    last_day: datetime.date | None,
    after: list | None,
    limit: int,
) -> KeysetPage[StaffShift]:
    """A location's shifts from `first_day` (to `last_day`), by date and start."""
    require(actor, Capability.SCHEDULE_MANAGE_RESOURCES)
    shifts = StaffShift.objects.filter(location=location, date__gte=first_day).select_related(
        "staff", "location"
    )
    if last_day is not None:
        shifts = shifts.filter(date__lte=last_day)
    return keyset_page(shifts, keyset=SHIFT_ORDER, after=after, limit=limit)


def opening_hours_of(location: Location) -> list[OpeningHours]:
    """A location's opening hours, Monday first (a weekday without a row is closed)."""
    return list(OpeningHours.objects.filter(location=location).order_by("weekday"))


def resource_in_reach[ResourceT: (Room, Chair, StaffShift)](
    *, actor: User, model: type[ResourceT], resource_uuid: object
) -> ResourceT:
    """A room, chair or shift by its public id (the page's `resource_get`), refused unless the
    actor works at its location, as a list of another location is."""
    found = selectors.resource_get(actor=actor, model=model, resource_uuid=resource_uuid)
    require_works_at(actor, location_of(found))
    return found


def location_of(resource: Room | Chair | StaffShift) -> Location:
    if isinstance(resource, Chair):
        return resource.room.location
    return resource.location
