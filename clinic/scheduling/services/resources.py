"""Rooms, chairs, opening hours and staff shifts: what there is to book.

Opening hours start empty: the clinic must set them (`opening_hours_set`) before anything
can be booked, e.g. from a shell or the demo seed:

    opening_hours_set(actor=admin, hours={0: (time(8), time(17)), 5: None})

maps weekdays (Monday is 0) to (opens, closes) in the clinic's time zone, or None for
closed; weekdays left out keep their hours.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping

from django.db import transaction
from django.utils import timezone

from clinic.accounts.choices import STAFF_ROLES
from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.accounts.services import staff_lock
from clinic.core.access import require
from clinic.core.audit import audit_record, diff, snapshot
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, InvalidInput, NotFound
from clinic.core.parsing import clean_text, event_date
from clinic.core.policy import date_policy
from clinic.locations.models import Location
from clinic.locations.selectors import location_default
from clinic.scheduling.choices import (
    ChairCapability,
    Weekday,
)
from clinic.scheduling.models import (
    Appointment,
    AppointmentQuerySet,
    Chair,
    OpeningHours,
    Room,
    StaffShift,
)
from clinic.scheduling.services._common import at, date_text, local


def _name(field: str, text: str | None, what: str) -> str:
    return clean_text(
        field,
        text,
        max_length=100,
        required_message=f"Give the {what} a name.",
        too_long_message="Keep the name under 100 characters.",
    )


def _location(location: Location | None) -> Location:
    """The location a resource belongs to: the one named, else the default location (a
    single-location clinic never names one)."""
    if location is not None:
        return location
    default = location_default()
    if default is None:
        raise Conflict("The clinic has no default location.", code="no_default_location")
    return default


@transaction.atomic
def room_create(*, actor: User, name: str, location: Location | None = None) -> Room:
    """A room at `location` (the default location when none is named)."""
    require(actor, Capability.SCHEDULE_MANAGE_RESOURCES)
    location = _location(location)
    name = _name("name", name, "room")
    if Room.objects.filter(location=location, name__iexact=name).exists():
        raise InvalidInput({"name": [f"There is already a room called {name}."]})
    room = Room.objects.create(name=name, location=location)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="room",
        object_id=room.uuid,
        summary=f"Room {name} added at {location.code}",
    )
    return room


@transaction.atomic
def room_update(
    *,
    actor: User,
    room: Room,
    name: str | None = None,
    active: bool | None = None,
    precondition: Callable[[Room], None] | None = None,
) -> Room:
    require(actor, Capability.SCHEDULE_MANAGE_RESOURCES)
    locked = Room.objects.select_for_update().get(pk=room.pk)
    if precondition is not None:  # the API's If-Match, on the locked row
        precondition(locked)
    before = snapshot(locked, ["name", "active"])
    if name is not None:
        name = _name("name", name, "room")
        same_place = Room.objects.filter(location=locked.location, name__iexact=name)
        if same_place.exclude(pk=locked.pk).exists():
            raise InvalidInput({"name": [f"There is already a room called {name}."]})
        locked.name = name
    if active is False and locked.active:
        _refuse_if_booked(
            Appointment.objects.filter(chair__room=locked), f"Room {locked.name}", field="active"
        )
    if active is not None:
        locked.active = active
    locked.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="room",
        object_id=locked.uuid,
        summary=f"Room {locked.name} changed",
        changes=diff(before, snapshot(locked, ["name", "active"])),
    )
    return locked


def _capabilities(values: Iterable[str]) -> list[str]:
    values = list(dict.fromkeys(values))
    unknown = [v for v in values if v not in ChairCapability.values]
    if unknown:
        raise InvalidInput({"capabilities": [f"Unknown equipment: {', '.join(unknown)}."]})
    return [c for c in ChairCapability.values if c in values]


def _refuse_if_booked(appointments: AppointmentQuerySet, what: str, *, field: str) -> None:
    upcoming = appointments.active().filter(ends_at__gt=timezone.now()).order_by("starts_at")
    count = upcoming.count()
    first = upcoming.first() if count else None
    if first is not None:
        raise Conflict(
            f"{what} has {count} upcoming appointment(s), the first on "
            f"{date_text(local(first.starts_at).date())} at {local(first.starts_at):%H:%M}: "
            "move or cancel them first.",
            code="resource_in_use",
            field=field,
        )


@transaction.atomic
def chair_create(*, actor: User, room: Room, name: str, capabilities: Iterable[str] = ()) -> Chair:
    require(actor, Capability.SCHEDULE_MANAGE_RESOURCES)
    name = _name("name", name, "chair")
    if Chair.objects.filter(room=room, name__iexact=name).exists():
        raise InvalidInput({"name": [f"{room.name} already has a chair called {name}."]})
    chair = Chair.objects.create(room=room, name=name, capabilities=_capabilities(capabilities))
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="chair",
        object_id=chair.uuid,
        summary=f"Chair {name} added to {room.name}",
        changes={"capabilities": {"before": None, "after": chair.capabilities}},
    )
    return chair


@transaction.atomic
def chair_update(
    *,
    actor: User,
    chair: Chair,
    name: str | None = None,
    capabilities: Iterable[str] | None = None,
    active: bool | None = None,
    precondition: Callable[[Chair], None] | None = None,
) -> Chair:
    require(actor, Capability.SCHEDULE_MANAGE_RESOURCES)
    locked = Chair.objects.select_for_update().get(pk=chair.pk)
    if precondition is not None:  # the API's If-Match, on the locked row
        precondition(locked)
    fields = ["name", "capabilities", "active"]
    before = snapshot(locked, fields)
    if name is not None:
        name = _name("name", name, "chair")
        if Chair.objects.filter(room_id=locked.room_id, name__iexact=name).exclude(pk=locked.pk):
            raise InvalidInput({"name": ["The room already has a chair of that name."]})
        locked.name = name
    if capabilities is not None:
        locked.capabilities = _capabilities(capabilities)
    if active is False and locked.active:
        _refuse_if_booked(locked.appointments.all(), f"Chair {locked.name}", field="active")
    if active is not None:
        locked.active = active
    locked.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="chair",
        object_id=locked.uuid,
        summary=f"Chair {locked.name} changed",
        changes=diff(before, snapshot(locked, fields)),
    )
    return locked


@transaction.atomic
def opening_hours_set(
    *,
    actor: User,
    hours: Mapping[int, tuple[datetime.time | None, datetime.time | None] | None],
    location: Location | None = None,
    precondition: Callable[[Location], None] | None = None,
) -> list[OpeningHours]:
    """Set a location's opening hours (the default location's when none is named): weekday
    (Monday 0 … Sunday 6) → (opens, closes) in the location's time zone, or None for closed.
    Weekdays left out keep their hours. Appointments already booked are kept as they are."""
    require(actor, Capability.SCHEDULE_MANAGE_RESOURCES)
    location = _location(location)
    here = OpeningHours.objects.filter(location=location)
    if precondition is not None:
        # The API's If-Match, on the location's hours held locked. A location with no hours
        # yet has no row to lock: two first settings at once are not told apart.
        list(here.select_for_update())
        precondition(location)
    errors: dict[str, list[str]] = {}
    checked: dict[int, tuple[datetime.time, datetime.time] | None] = {}
    for weekday, value in hours.items():
        if weekday not in Weekday.values:
            errors[f"weekday_{weekday}"] = ["Weekdays are 0 (Monday) to 6 (Sunday)."]
        elif value is None:
            checked[weekday] = None
        else:
            opens, closes = value
            if opens is None or closes is None:
                errors[f"weekday_{weekday}"] = ["Give both the opening and the closing time."]
            elif closes <= opens:
                errors[f"weekday_{weekday}"] = ["The clinic must close after it opens."]
            else:
                checked[weekday] = (opens, closes)
    if errors:
        raise InvalidInput(errors)
    before = {str(h.weekday): f"{h.opens:%H:%M}–{h.closes:%H:%M}" for h in here}
    for weekday, day_hours in checked.items():
        if day_hours is None:
            here.filter(weekday=weekday).delete()
        else:
            OpeningHours.objects.update_or_create(
                location=location,
                weekday=weekday,
                defaults={"opens": day_hours[0], "closes": day_hours[1]},
            )
    rows = list(here.order_by("weekday"))
    after = {str(h.weekday): f"{h.opens:%H:%M}–{h.closes:%H:%M}" for h in rows}
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="opening_hours",
        object_id=location.uuid,
        summary=f"Opening hours set at {location.code}",
        changes=diff(before, after),
    )
    return rows


@transaction.atomic
def staff_shift_add(
    *,
    actor: User,
    staff: User,
    date: datetime.date,
    start: datetime.time,
    end: datetime.time,
    location: Location | None = None,
) -> StaffShift:
    """A shift at `location` (the default location when none is named). A staff member has
    one shift at a time, wherever it is."""
    require(actor, Capability.SCHEDULE_MANAGE_RESOURCES)
    location = _location(location)
    if not staff.is_active or staff.role not in STAFF_ROLES:
        raise InvalidInput({"staff": ["Choose an active member of staff."]})
    if end <= start:
        raise InvalidInput({"end": ["A shift must end after it starts."]})
    event_date(
        "date", date, today=timezone.localdate(), days_ahead=date_policy().booking_days_ahead
    )
    # Lock the staff member so two admins adding shifts for them serialise.
    staff_lock(staff_id=staff.pk)
    clash = StaffShift.objects.filter(staff=staff, date=date, start__lt=end, end__gt=start).first()
    if clash:
        raise Conflict(
            f"{staff.display_name} already has a shift from {clash.start:%H:%M} to "
            f"{clash.end:%H:%M} that day.",
            code="shift_overlap",
            field="start",
        )
    shift = StaffShift.objects.create(
        location=location, staff=staff, date=date, start=start, end=end, created_by=actor
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="staff_shift",
        object_id=shift.uuid,
        summary=f"Shift for {staff.username} on {date:%Y-%m-%d} {start:%H:%M}–{end:%H:%M}",
    )
    return shift


@transaction.atomic
def staff_shift_remove(*, actor: User, shift: StaffShift) -> None:
    """Remove a shift, unless the staff member has active appointments inside it."""
    require(actor, Capability.SCHEDULE_MANAGE_RESOURCES)
    staff_lock(staff_id=shift.staff_id)
    locked = StaffShift.objects.select_related("staff").filter(pk=shift.pk).first()
    if locked is None:
        raise NotFound()
    inside = (
        Appointment.objects.active()
        .filter(nurse_id=locked.staff_id)
        .overlapping(at(locked.date, locked.start), at(locked.date, locked.end))
    )
    if inside.exists():
        raise Conflict(
            f"{locked.staff.display_name} has {inside.count()} appointment(s) in this shift: "
            "move them to another nurse first.",
            code="resource_in_use",
        )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="staff_shift",
        object_id=locked.uuid,
        summary=(
            f"Shift removed: {locked.staff.username} on {locked.date:%Y-%m-%d} "
            f"{locked.start:%H:%M}–{locked.end:%H:%M}"
        ),
    )
    locked.delete()
