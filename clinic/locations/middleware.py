"""Where a staff member is working, on every staff request: `request.location` (the current
location, `selectors.location_current`'s rule) and `request.workplace` (it and the locations
they may switch to), in one query; the location's time zone is activated for the request so
the day list, the calendar and the chair board show its local times."""

from __future__ import annotations

import zoneinfo

from django.utils import timezone

from clinic.locations.selectors import NO_WORKPLACE, workplace_for

_SKIP_PREFIXES = ("/static/", "/api/", "/fhir/", "/favicon.ico")


class LocationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        workplace = NO_WORKPLACE
        if (
            user is not None
            and user.is_authenticated
            and getattr(user, "is_clinic_staff", False)
            and not request.path.startswith(_SKIP_PREFIXES)
        ):
            workplace = workplace_for(user)
        request.workplace = workplace
        request.location = workplace.current
        zone = _zone(workplace.current.time_zone) if workplace.current is not None else None
        if zone is None:
            return self.get_response(request)
        timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
