"""Reads of locations. Every list or page that is per location asks `location_current` for
the location the actor is working at, and `locations_for` for the ones they may switch to."""

from __future__ import annotations

import uuid as uuid_module
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, F, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import NotFound, PermissionDenied
from clinic.locations.models import Location, LocationChoice, LocationStaff, default_location

NETWORK = "location.network"
MANAGE = "location.manage"


def sees_network(actor: Any) -> bool:
    """The clinic administrator sees every location's lists."""
    return bool(actor is not None and actor.is_authenticated and actor.can(NETWORK))


def location_default() -> Location:
    return default_location()


def locations_for(actor: Any) -> QuerySet[Location]:
    """The open locations `actor` works at. A network with a single location needs no
    membership: everyone on staff works there (a single-location clinic sees no extra steps)."""
    if actor is None or not actor.is_authenticated or not getattr(actor, "is_clinic_staff", False):
        return Location.objects.none()
    open_locations = Location.objects.open()
    if not open_locations.exists():
        default_location()  # a database emptied by `flush` gets its default location back
    if sees_network(actor):
        return open_locations
    member = open_locations.filter(memberships__user=actor)
    if member.exists():
        return member
    if open_locations.count() == 1:
        return open_locations
    return Location.objects.none()


def actor_works_at(actor: Any, location: Location) -> bool:
    return locations_for(actor).filter(pk=location.pk).exists()


NOT_YOURS = "You do not work at that location."
NO_LOCATION = (
    "You do not work at any location of the clinic yet: ask the clinic administrator to add "
    "you to one."
)


def require_works_at(actor: Any, location: Location) -> None:
    """Refuse an actor who does not work at `location` a record kept there (a session, an
    appointment: their chair's location), as another location's list is refused
    (`location_scope`): a PermissionDenied, audited once the request is answered. The clinic
    administrator (`sees_network`) reaches every location, open or closed; in a network of one
    location everyone works there (`locations_for`'s rules, read in one query)."""
    if sees_network(actor):
        return
    if not any(place.pk == location.pk for place in workplace_for(actor).choices):
        raise PermissionDenied(NOT_YOURS)


def location_get(*, actor: Any, location_uuid: uuid_module.UUID | str) -> Location:
    """One location the actor may work at; any other (or none) is the same not-found."""
    try:
        key = uuid_module.UUID(str(location_uuid))
    except ValueError as error:
        raise NotFound("No such location.") from error
    found = locations_for(actor).filter(uuid=key).first()
    if found is None:
        raise NotFound("No such location.")
    return found


def location_current(actor: Any) -> Location | None:
    """The location `actor` is working at: the one last chosen in the switcher while it is
    still theirs, else the first of theirs (the default location first)."""
    allowed = locations_for(actor)
    choice = (
        LocationChoice.objects.filter(user=actor, location__in=allowed)
        .select_related("location")
        .first()
        if actor is not None and actor.is_authenticated
        else None
    )
    if choice is not None:
        return choice.location
    return allowed.order_by("-is_default", "name", "id").first()


def location_all_for_admin() -> QuerySet[Location]:
    """Every location, open or closed, for the clinic administrator's location pages."""
    return Location.objects.order_by("-active", "name", "id")


@dataclass(frozen=True)
class Workplace:
    """Where a staff member is working (`current`) and the locations they may switch to
    (`choices`, the default location first), read in one query for every staff request."""

    current: Location | None
    choices: list[Location]

    @property
    def switchable(self) -> bool:
        return len(self.choices) > 1


NO_WORKPLACE = Workplace(current=None, choices=[])


def workplace_for(actor: Any) -> Workplace:
    """`location_current` and `locations_for` together in ONE query (the middleware runs it
    on every staff request): the open locations, each marked whether the actor works there
    and whether it is their remembered choice; the rules are `locations_for`'s."""
    if actor is None or not actor.is_authenticated or not getattr(actor, "is_clinic_staff", False):
        return NO_WORKPLACE
    rows = list(
        Location.objects.open()
        .annotate(
            is_member=Exists(
                LocationStaff.objects.filter(location_id=OuterRef("pk"), user_id=actor.pk)
            ),
            is_chosen=Exists(
                LocationChoice.objects.filter(location_id=OuterRef("pk"), user_id=actor.pk)
            ),
        )
        .order_by("-is_default", "name", "id")
    )
    if sees_network(actor):
        allowed = rows
    else:
        allowed = [row for row in rows if row.is_member]
        if not allowed and len(rows) == 1:
            allowed = rows
    if not allowed:
        return NO_WORKPLACE
    chosen = next((row for row in allowed if row.is_chosen), None)
    return Workplace(current=chosen or allowed[0], choices=allowed)


@dataclass(frozen=True)
class NetworkRow:
    location: Location
    staff_count: int
    room_count: int
    chair_count: int


def location_network(*, actor: Any) -> list[NetworkRow]:
    """Every location, open or closed, with how many staff work there and how many rooms and
    chairs it has (the clinic administrator's network list). One query however many
    locations; the counts are subqueries so they do not multiply one another."""
    require(actor, MANAGE)

    def count_of(queryset: QuerySet) -> Subquery:
        return Subquery(
            queryset.order_by().values("location_key").annotate(n=Count("pk")).values("n")[:1],
            output_field=IntegerField(),
        )

    staff = LocationStaff.objects.filter(location_id=OuterRef("pk"), user__is_active=True)
    # Rooms and chairs are the schedule's (an app above this one): named, not imported.
    rooms = apps.get_model("scheduling", "Room").objects.filter(location_id=OuterRef("pk"))
    chairs = apps.get_model("scheduling", "Chair").objects.filter(room__location_id=OuterRef("pk"))
    rows = location_all_for_admin().annotate(
        staff_total=Coalesce(count_of(staff.annotate(location_key=F("location_id"))), 0),
        room_total=Coalesce(count_of(rooms.annotate(location_key=F("location_id"))), 0),
        chair_total=Coalesce(count_of(chairs.annotate(location_key=F("room__location_id"))), 0),
    )
    found = [
        NetworkRow(
            location=row,
            staff_count=row.staff_total,
            room_count=row.room_total,
            chair_count=row.chair_total,
        )
        for row in rows
    ]
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="location",
        summary=f"Locations of the network: {len(found)}",
    )
    return found


def location_for_admin(*, actor: Any, location_uuid: uuid_module.UUID | str) -> Location:
    """Any location, open or closed, for the clinic administrator's pages."""
    require(actor, MANAGE)
    try:
        key = uuid_module.UUID(str(location_uuid))
    except ValueError as error:
        raise NotFound("No such location.") from error
    found = Location.objects.filter(uuid=key).first()
    if found is None:
        raise NotFound("No such location.")
    return found


def location_staff_choices(*, actor: Any, location: Location) -> tuple[QuerySet, set[int]]:
    """Active staff (everyone who could work at `location`) and the ids of those who do."""
    require(actor, MANAGE)
    people = (
        get_user_model()
        .objects.filter(is_active=True)
        .exclude(role="patient")
        .order_by("role", "last_name", "first_name", "username")
    )
    working = set(location.memberships.values_list("user_id", flat=True))
    return people, working


ALL_LOCATIONS = "all"


def location_scope(
    *, actor: Any, requested: str | None, current: Location | None
) -> Location | None:
    """The location a per-location list shows: the one asked for (`?location=<uuid>`) when
    the actor works there; every location (None) when the clinic administrator asks for
    "all"; else the one they are working at (`current`). A location one does not work at (or
    "all" from anyone else) is refused as a PermissionDenied, which is audited; an unknown
    location is refused the same way, so the refusal tells nothing about what exists."""
    if not requested:
        if current is None:
            raise PermissionDenied(NO_LOCATION)
        return current
    if requested == ALL_LOCATIONS:
        if sees_network(actor):
            return None
        raise PermissionDenied("Only the clinic administrator sees every location at once.")
    try:
        return location_get(actor=actor, location_uuid=requested)
    except NotFound as error:
        raise PermissionDenied(NOT_YOURS) from error


@dataclass(frozen=True)
class StaffWorkplaces:
    """Where staff members work, for the staff pages: only shown in a network (a clinic of one
    location needs no membership), each member's open locations by user id."""

    in_network: bool
    by_user: dict[int, list[Location]]

    def of(self, user: Any) -> list[Location]:
        return self.by_user.get(user.pk, [])


def staff_workplaces(*, actor: Any, user_ids: list[int]) -> StaffWorkplaces:
    """The open locations each of these staff members works at (two queries), for whoever
    manages the network's locations; others get an empty answer."""
    if not actor.can(MANAGE):
        return StaffWorkplaces(in_network=False, by_user={})
    open_locations = list(Location.objects.open().order_by("-is_default", "name", "id"))
    by_user: dict[int, list[Location]] = {}
    if len(open_locations) > 1:
        by_pk = {location.pk: location for location in open_locations}
        for user_id, location_id in (
            LocationStaff.objects.filter(user_id__in=user_ids, location_id__in=by_pk)
            .order_by("location__name", "location_id")
            .values_list("user_id", "location_id")
        ):
            by_user.setdefault(user_id, []).append(by_pk[location_id])
    return StaffWorkplaces(in_network=len(open_locations) > 1, by_user=by_user)


def working_at(users: QuerySet, location: Location) -> QuerySet:
    """Those of `users` who work at `location`: its members, or everyone while it is the one
    open location (a clinic of one location needs no membership)."""
    if location.active and not Location.objects.open().exclude(pk=location.pk).exists():
        return users
    return users.filter(location_memberships__location=location)
