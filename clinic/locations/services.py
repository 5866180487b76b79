"""Writes to locations: opening a location, editing it, saying who works there, and the
switcher's remembered choice. Each is atomic and audited (the clinic administrator's)."""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import asdict, dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from clinic.core.access import require
from clinic.core.audit import audit_record, diff, snapshot
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, DomainError, PermissionDenied
from clinic.locations.identifiers import (
    POSTAL_CODE,
    STATE_CODE,
    TREATMENT_PLACES_OF_SERVICE,
    dea_number_problem,
    npi_problem,
)
from clinic.locations.models import Location, LocationChoice, LocationStaff
from clinic.locations.selectors import actor_works_at

MANAGE = "location.manage"
FIELDS = [
    "name",
    "code",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "time_zone",
    "phone",
    "place_of_service_code",
    "service_facility_npi",
    "dea_registration_number",
    "spravato_rems_setting_id",
    "opened_on",
    "active",
]


@dataclass(frozen=True)
class LocationDetails:
    name: str
    code: str
    time_zone: str
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    phone: str = ""
    place_of_service_code: str = "11"
    service_facility_npi: str = ""
    dea_registration_number: str = ""
    spravato_rems_setting_id: str = ""
    opened_on: datetime.date | None = None
    active: bool = True


def _cleaned(details: LocationDetails) -> dict:
    values = asdict(details)
    for key, value in values.items():
        if isinstance(value, str):
            values[key] = value.strip()
    values["code"] = values["code"].upper()
    values["state"] = values["state"].upper()
    values["dea_registration_number"] = values["dea_registration_number"].upper()
    if not values["name"]:
        raise DomainError("Give the location a name.", code="location_name_missing", field="name")
    if not values["code"]:
        raise DomainError(
            "Give the location a short code.", code="location_code_missing", field="code"
        )
    if values["time_zone"] not in zoneinfo.available_timezones():
        raise DomainError(
            "Choose the location's time zone from the list (e.g. America/Chicago).",
            code="location_time_zone_unknown",
            field="time_zone",
        )
    if values["place_of_service_code"] not in TREATMENT_PLACES_OF_SERVICE:
        raise DomainError(
            "Choose a place of service a treatment location can bill from.",
            code="location_place_of_service_unknown",
            field="place_of_service_code",
        )
    if values["state"] and not STATE_CODE.match(values["state"]):
        raise DomainError(
            "A state is its two-letter code.", code="location_state_invalid", field="state"
        )
    if values["postal_code"] and not POSTAL_CODE.match(values["postal_code"]):
        raise DomainError(
            "A ZIP code is five digits (or ZIP+4).",
            code="location_postal_code_invalid",
            field="postal_code",
        )
    if values["service_facility_npi"] and (problem := npi_problem(values["service_facility_npi"])):
        raise DomainError(problem, code="location_npi_invalid", field="service_facility_npi")
    if values["dea_registration_number"] and (
        problem := dea_number_problem(values["dea_registration_number"])
    ):
        raise DomainError(problem, code="location_dea_invalid", field="dea_registration_number")
    return values


def _keep_staff_where_they_work() -> None:
    """In a clinic of one location nobody needs a membership; when a second location opens,
    everyone on staff who has none is written down as working at the first, so nobody loses
    their schedules, chair board or ledger."""
    open_locations = list(Location.objects.open()[:2])
    if len(open_locations) != 1:
        return
    (only,) = open_locations
    staff = (
        get_user_model()
        .objects.filter(is_active=True, location_memberships__isnull=True)
        .exclude(role="patient")
        .values_list("pk", flat=True)
    )
    LocationStaff.objects.bulk_create([LocationStaff(location=only, user_id=pk) for pk in staff])


def _save(location: Location) -> None:
    try:
        with transaction.atomic():
            location.save()
    except IntegrityError as error:
        raise Conflict(
            "Another location already has this name, code or DEA registration number.",
            code="location_duplicate",
        ) from error


@transaction.atomic
def location_open(*, actor: Any, details: LocationDetails) -> Location:
    """Open a new location of the network (its rooms, chairs and hours come next)."""
    require(actor, MANAGE)
    values = _cleaned(details)
    _keep_staff_where_they_work()
    location = Location(**values)
    _save(location)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="location",
        object_id=location.uuid,
        summary=f"Opened location {location.code}",
        changes=snapshot(location, FIELDS),
    )
    return location


@transaction.atomic
def location_update(*, actor: Any, location: Location, details: LocationDetails) -> Location:
    require(actor, MANAGE)
    location = Location.objects.select_for_update().get(pk=location.pk)
    before = snapshot(location, FIELDS)
    values = _cleaned(details)
    if location.is_default and not values["active"]:
        raise Conflict(
            "The default location cannot be closed; make another location the default first.",
            code="location_default_closed",
            field="active",
        )
    for key, value in values.items():
        setattr(location, key, value)
    _save(location)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="location",
        object_id=location.uuid,
        summary=f"Changed location {location.code}",
        changes=diff(before, snapshot(location, FIELDS)),
    )
    return location


@transaction.atomic
def location_staff_set(*, actor: Any, location: Location, staff_ids: list[int]) -> Location:
    """Say who works at `location` (the whole list: those left out stop working there)."""
    require(actor, MANAGE)
    location = Location.objects.select_for_update().get(pk=location.pk)
    wanted = set(
        get_user_model()
        .objects.filter(pk__in=staff_ids, is_active=True)
        .exclude(role="patient")
        .values_list("pk", flat=True)
    )
    current = set(location.memberships.values_list("user_id", flat=True))
    LocationStaff.objects.filter(location=location, user_id__in=current - wanted).delete()
    LocationStaff.objects.bulk_create(
        [LocationStaff(location=location, user_id=pk) for pk in sorted(wanted - current)]
    )
    if current != wanted:
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="location",
            object_id=location.uuid,
            summary=f"Changed who works at {location.code}",
            changes={"staff_ids": {"before": sorted(current), "after": sorted(wanted)}},
        )
    return location


def location_add_staff_member(*, location: Location, user: Any) -> None:
    """Put a new staff member at a location (the staff invite's own act, audited there)."""
    LocationStaff.objects.get_or_create(location=location, user=user)


@transaction.atomic
def location_choose(*, actor: Any, location: Location) -> Location:
    """Remember the location `actor` is working at (the switcher)."""
    if not actor_works_at(actor, location):
        raise PermissionDenied("You do not work at this location.")
    LocationChoice.objects.update_or_create(user=actor, defaults={"location": location})
    return location
