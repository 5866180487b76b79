"""Reads of locations. Every list or page that is per location asks `location_current` for
the location the actor is working at, and `locations_for` for the ones they may switch to."""

from __future__ import annotations

import uuid as uuid_module
from typing import Any

from django.db.models import QuerySet

from clinic.core.exceptions import NotFound
from clinic.locations.models import Location, LocationChoice, default_location

NETWORK = "location.network"


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
