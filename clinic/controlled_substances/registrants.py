"""Each location is its own DEA registrant (21 CFR 1301.12(a)): it keeps its own ledger,
balances, counts, inventories, discrepancies, loss reports and exports (ADR 0007, "Locations").
Which location's records an actor may see or act on, shared by the selectors and the services.

- The clinic administrator (`sees_network`) reaches every location, open or closed: a closed
  location's records stay readily retrievable for the retention period [J4].
- Anyone else reaches the open locations they work at (`locations_for`; in a network of one
  location, everyone works there, so a single-location clinic sees no extra step).

An explicit request for a location out of reach is a refusal (PermissionDenied, audited as a
denial); a record kept at a location out of reach reads exactly like one that does not exist
(NotFound), as a patient off the care team does.
"""

from __future__ import annotations

import uuid as uuid_module
from typing import Any

from django.db.models import QuerySet

from clinic.controlled_substances.policy import controlled_substance_policy
from clinic.core.exceptions import PermissionDenied
from clinic.locations.models import Location
from clinic.locations.selectors import NO_LOCATION, location_current, locations_for, sees_network

NOT_YOURS = "You do not work at that location."


def ledger_locations(actor: Any) -> QuerySet[Location]:
    """The locations whose controlled-substance records `actor` may reach."""
    if sees_network(actor):
        return Location.objects.all()
    return locations_for(actor)


def reaches(actor: Any, location_id: int | None) -> bool:
    """Whether `actor` may see or act on the records of the location with this id."""
    return location_id is not None and ledger_locations(actor).filter(pk=location_id).exists()


def ledger_location(
    actor: Any, location: Location | uuid_module.UUID | str | None = None
) -> Location:
    """The location whose ledger `actor` works on: the one asked for (a Location or its UUID,
    refused when out of reach), else the actor's current location (the switcher's choice)."""
    if location in (None, ""):
        current = location_current(actor)
        if current is None:
            raise PermissionDenied(NO_LOCATION)
        return current
    if isinstance(location, Location):
        if not reaches(actor, location.pk):
            raise PermissionDenied(NOT_YOURS)
        return location
    try:
        key = uuid_module.UUID(str(location))
    except ValueError as error:
        raise PermissionDenied(NOT_YOURS) from error
    found = ledger_locations(actor).filter(uuid=key).first()
    if found is None:
        raise PermissionDenied(NOT_YOURS)
    return found


def registrant_dea_number(location: Location) -> str:
    """The location's own DEA registration number. Only the default location falls back to the
    clinic policy's `registrant_dea_number` (the number of the clinic before it had locations)."""
    if location.dea_registration_number:
        return location.dea_registration_number
    if location.is_default:
        return controlled_substance_policy().registrant_dea_number
    return ""
