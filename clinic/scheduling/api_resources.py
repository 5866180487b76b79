"""The schedule's resources through the API: rooms, chairs, opening hours and staff shifts.

As the resources page (views.resources): the clinic administrator's (schedule.manage_resources),
one location at a time, the one asked for or the one worked at (`location_scope`, as the
appointments router); a record by its id only at a location the caller works at. Writes are the
page's: add a room or a chair, take one out of service or back (If-Match: they change), set the
week's opening hours (If-Match), add a shift or remove one (a shift is never changed, so its
removal needs no tag). Each body goes through the page's form and the same audited service."""

from __future__ import annotations

import uuid

from django.http import HttpResponse
from django.utils import timezone
from ninja import Query, Router, Status

from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.api_forms import form_checked
from clinic.core.api_pages import cursor_decode, cursor_encode
from clinic.core.api_schemas import ApiError
from clinic.core.api_versions import IfMatch, entity_tag, etag_openapi, precondition
from clinic.core.exceptions import InvalidInput, NotFound
from clinic.core.text import OneLine
from clinic.locations.models import Location
from clinic.locations.selectors import location_scope, workplace_for
from clinic.scheduling import selectors_resources as selectors
from clinic.scheduling import services
from clinic.scheduling.choices import Weekday
from clinic.scheduling.forms import ChairForm, OpeningHoursForm, RoomForm, ShiftForm
from clinic.scheduling.models import Chair, Room, StaffShift
from clinic.scheduling.schemas_resources import (
    ChairCreate,
    ChairListQuery,
    ChairPage,
    ChairRead,
    InService,
    LocationQuery,
    OpeningHoursRead,
    OpeningHoursSet,
    ResourceListQuery,
    RoomCreate,
    RoomPage,
    RoomRead,
    ShiftListQuery,
    StaffShiftCreate,
    StaffShiftPage,
    StaffShiftRead,
)

router = Router(tags=["schedule resources"])

LIST_ERRORS = {404: ApiError}
CHANGE_ERRORS = {409: ApiError, 412: ApiError, 428: ApiError}
DAYS = [(weekday, label.lower()) for weekday, label in Weekday.choices]


def _location(request, requested: object) -> Location:
    """The location the call is about, after the role (a refusal reads nothing): as the page,
    one location, never every location at once."""
    actor = request.auth
    require(actor, Capability.SCHEDULE_MANAGE_RESOURCES)
    location = location_scope(
        actor=actor,
        requested=str(requested) if requested else None,
        current=workplace_for(actor).current,
    )
    if location is None:
        raise NotFound("Choose one location.")
    return location


def _place(record) -> dict:
    return {"uuid": record.uuid, "name": record.name}


def room_etag(room: Room) -> str:
    return entity_tag("room", room.uuid, room.updated_at, room.name, room.active)


def chair_etag(chair: Chair) -> str:
    return entity_tag(
        "chair", chair.uuid, chair.updated_at, chair.name, *chair.capabilities, chair.active
    )


def opening_hours_etag(location: Location) -> str:
    return entity_tag(
        "opening_hours",
        location.uuid,
        *((h.weekday, h.opens, h.closes) for h in selectors.opening_hours_of(location)),
    )


def _room(room: Room) -> dict:
    return {
        **_place(room),
        "active": room.active,
        "location": _place(room.location),
        "updated_at": room.updated_at,
    }


def _chair(chair: Chair) -> dict:
    return {
        **_place(chair),
        "capabilities": chair.capabilities,
        "active": chair.active,
        "room": _place(chair.room),
        "location": _place(chair.room.location),
        "updated_at": chair.updated_at,
    }


def _shift(shift: StaffShift) -> dict:
    return {
        "uuid": shift.uuid,
        "date": shift.date,
        "start": shift.start,
        "end": shift.end,
        "staff": {
            "uuid": shift.staff.uuid,
            "name": shift.staff.display_name,
            "role": shift.staff.role,
        },
        "location": _place(shift.location),
    }


def _hours(response: HttpResponse, location: Location) -> dict:
    response["ETag"] = opening_hours_etag(location)
    rows = {h.weekday: h for h in selectors.opening_hours_of(location)}
    return {
        "location": _place(location),
        "days": [
            {
                "weekday": weekday,
                "day": label,
                "opens": rows[weekday].opens if weekday in rows else None,
                "closes": rows[weekday].closes if weekday in rows else None,
            }
            for weekday, label in Weekday.choices
        ],
    }


def _page(page, read, *, scope: str, filters: dict) -> dict:
    return {
        "items": [read(record) for record in page.items],
        "next_cursor": cursor_encode(page.next_after, scope=scope, filters=filters)
        if page.next_after
        else None,
    }


# ------------------------------------------------------------------------------------- rooms


@router.get("/rooms", response={200: RoomPage, **LIST_ERRORS}, summary="A location's rooms")
def room_list(request, params: Query[ResourceListQuery]):
    location = _location(request, params.location)
    filters = {"location": str(location.uuid)}
    page = selectors.room_page(
        actor=request.auth,
        location=location,
        after=cursor_decode(params.cursor, scope="rooms", filters=filters),
        limit=params.limit,
    )
    return _page(page, _room, scope="rooms", filters=filters)


@router.post(
    "/rooms",
    response={201: RoomRead, 404: ApiError},
    openapi_extra=etag_openapi(201),
    summary="Add a room",
    description="422 for a name the location already has.",
)
def room_create(request, payload: RoomCreate, response: HttpResponse):
    location = _location(request, payload.location)
    data = form_checked(RoomForm({"name": payload.name})).cleaned_data
    room = services.room_create(actor=request.auth, name=data["name"], location=location)
    response["ETag"] = room_etag(room)
    return Status(201, _room(room))


@router.get(
    "/rooms/{room_uuid}", response=RoomRead, openapi_extra=etag_openapi(200), summary="One room"
)
def room_detail(request, room_uuid: uuid.UUID, response: HttpResponse):
    room = selectors.resource_in_reach(actor=request.auth, model=Room, resource_uuid=room_uuid)
    response["ETag"] = room_etag(room)
    return _room(room)


@router.put(
    "/rooms/{room_uuid}/active",
    response={200: RoomRead, **CHANGE_ERRORS},
    openapi_extra=etag_openapi(200),
    summary="Take a room out of service, or back",
    description=(
        "409 `resource_in_use` while appointments are booked in it from now on: move or cancel "
        "them first. `If-Match` required."
    ),
)
def room_in_service(
    request,
    room_uuid: uuid.UUID,
    payload: InService,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    room = selectors.resource_in_reach(actor=request.auth, model=Room, resource_uuid=room_uuid)
    changed = services.room_update(
        actor=request.auth,
        room=room,
        active=payload.active,
        precondition=precondition(if_match, room_etag),
    )
    response["ETag"] = room_etag(changed)
    return _room(changed)


# ------------------------------------------------------------------------------------ chairs


@router.get("/chairs", response={200: ChairPage, **LIST_ERRORS}, summary="A location's chairs")
def chair_list(request, params: Query[ChairListQuery]):
    location = _location(request, params.location)
    room = None
    if params.room:
        room = selectors.resource_in_reach(
            actor=request.auth, model=Room, resource_uuid=params.room
        )
    filters = {"location": str(location.uuid), "room": str(params.room or "")}
    page = selectors.chair_page(
        actor=request.auth,
        location=location,
        room=room,
        after=cursor_decode(params.cursor, scope="chairs", filters=filters),
        limit=params.limit,
    )
    return _page(page, _chair, scope="chairs", filters=filters)


@router.post(
    "/chairs",
    response={201: ChairRead, 404: ApiError},
    openapi_extra=etag_openapi(201),
    summary="Add a chair to a room",
    description=(
        "In an active room (an unknown one, or one at a location you do not work at: 404; one "
        "out of service: 422 naming `room`), with its equipment."
    ),
)
def chair_create(request, payload: ChairCreate, response: HttpResponse):
    room = selectors.resource_in_reach(actor=request.auth, model=Room, resource_uuid=payload.room)
    form = ChairForm(
        {"room": str(room.uuid), "name": payload.name, "capabilities": payload.capabilities},
        location=room.location,
    )
    data = form_checked(form).cleaned_data
    chair = services.chair_create(
        actor=request.auth, room=data["room"], name=data["name"], capabilities=data["capabilities"]
    )
    response["ETag"] = chair_etag(chair)
    return Status(201, _chair(chair))


@router.get(
    "/chairs/{chair_uuid}",
    response=ChairRead,
    openapi_extra=etag_openapi(200),
    summary="One chair",
)
def chair_detail(request, chair_uuid: uuid.UUID, response: HttpResponse):
    chair = selectors.resource_in_reach(actor=request.auth, model=Chair, resource_uuid=chair_uuid)
    response["ETag"] = chair_etag(chair)
    return _chair(chair)


@router.put(
    "/chairs/{chair_uuid}/active",
    response={200: ChairRead, **CHANGE_ERRORS},
    openapi_extra=etag_openapi(200),
    summary="Take a chair out of service, or back",
    description=(
        "409 `resource_in_use` while appointments are booked in it from now on: move or cancel "
        "them first. `If-Match` required."
    ),
)
def chair_in_service(
    request,
    chair_uuid: uuid.UUID,
    payload: InService,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    chair = selectors.resource_in_reach(actor=request.auth, model=Chair, resource_uuid=chair_uuid)
    changed = services.chair_update(
        actor=request.auth,
        chair=chair,
        active=payload.active,
        precondition=precondition(if_match, chair_etag),
    )
    response["ETag"] = chair_etag(changed)
    return _chair(changed)


# ----------------------------------------------------------------------------- opening hours


@router.get(
    "/opening-hours",
    response={200: OpeningHoursRead, **LIST_ERRORS},
    openapi_extra=etag_openapi(200),
    summary="A location's opening hours, Monday to Sunday",
)
def opening_hours_detail(request, params: Query[LocationQuery], response: HttpResponse):
    return _hours(response, _location(request, params.location))


# A change names its location in the path: never "wherever the caller works today".
@router.put(
    "/opening-hours/{location_uuid}",
    response={200: OpeningHoursRead, 412: ApiError, 428: ApiError},
    openapi_extra=etag_openapi(200),
    summary="Set a location's opening hours",
    description=(
        "Every weekday, in the location's time zone: opening and closing time, or null for "
        "closed (422 naming the day when it closes before it opens). Appointments already "
        "booked are kept. `If-Match` required: the tag of GET /opening-hours for the location. "
        "A location you do not work at (or a closed or unknown one): 403."
    ),
)
def opening_hours_set(
    request,
    location_uuid: uuid.UUID,
    payload: OpeningHoursSet,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    location = _location(request, location_uuid)
    data: dict[str, str] = {}
    for weekday, name in DAYS:
        day = getattr(payload, name)
        if day is not None:
            data[f"hours-opens_{weekday}"] = day.opens.isoformat()
            data[f"hours-closes_{weekday}"] = day.closes.isoformat()
    form = OpeningHoursForm(data, prefix="hours")
    form_checked(form)
    try:
        services.opening_hours_set(
            actor=request.auth,
            hours=form.hours(),
            location=location,
            precondition=precondition(if_match, opening_hours_etag),
        )
    except InvalidInput as error:
        # The service names a weekday by its number; the body names it by its name.
        names = {f"weekday_{weekday}": name for weekday, name in DAYS}
        raise InvalidInput(
            {names.get(field, field): messages for field, messages in error.errors.items()}
        ) from error
    return _hours(response, location)


# ------------------------------------------------------------------------------ staff shifts


@router.get(
    "/staff-shifts",
    response={200: StaffShiftPage, **LIST_ERRORS},
    summary="A location's staff shifts",
    description=(
        "From `first_day` (today when left out) to `last_day`, by date and start, a page at a "
        "time. Each names who works it as the resources page does: name and role."
    ),
)
def staff_shift_list(request, params: Query[ShiftListQuery]):
    location = _location(request, params.location)
    first_day = params.first_day or timezone.localdate()
    if params.last_day is not None and params.last_day < first_day:
        raise InvalidInput({"last_day": ["The last day comes on or after the first."]})
    filters = {
        "location": str(location.uuid),
        "first_day": first_day.isoformat(),
        "last_day": params.last_day.isoformat() if params.last_day else "",
    }
    page = selectors.shift_page(
        actor=request.auth,
        location=location,
        first_day=first_day,
        last_day=params.last_day,
        after=cursor_decode(params.cursor, scope="staff-shifts", filters=filters),
        limit=params.limit,
    )
    return _page(page, _shift, scope="staff-shifts", filters=filters)


@router.post(
    "/staff-shifts",
    response={201: StaffShiftRead, 404: ApiError, 409: ApiError},
    summary="Add a staff shift",
    description=(
        "An active member of staff at the location on a date, from `start` to `end` in its "
        "time zone. 409 `shift_overlap` when they already have a shift then, wherever it is."
    ),
)
def staff_shift_create(request, payload: StaffShiftCreate):
    location = _location(request, payload.location)
    form = ShiftForm(
        {
            "staff": str(payload.staff),
            "date": payload.date.isoformat(),
            "start": payload.start.isoformat(),
            "end": payload.end.isoformat(),
        }
    )
    shift = services.staff_shift_add(
        actor=request.auth, location=location, **form_checked(form).cleaned_data
    )
    return Status(201, _shift(shift))


@router.delete(
    "/staff-shifts/{shift_uuid}",
    response={204: None, 409: ApiError},
    summary="Remove a staff shift",
    description=(
        "Refused with 409 `resource_in_use` while the staff member has appointments inside it. "
        "A shift is never changed, only added or removed: no `If-Match`."
    ),
)
def staff_shift_remove(request, shift_uuid: uuid.UUID):
    shift = selectors.resource_in_reach(
        actor=request.auth, model=StaffShift, resource_uuid=shift_uuid
    )
    services.staff_shift_remove(actor=request.auth, shift=shift)
    return Status(204, None)
