"""How many requests one user's tokens may send to /fhir/R4/ (issue 16): FHIR_RATE_LIMIT_COUNT
in a fixed window of FHIR_RATE_LIMIT_WINDOW_MIN minutes, counted in Django's cache (Redis in
production, so every app server shares one count), per user: several tokens of one person
share it, so a second token is no way round it. One past the limit is answered 429 with
Retry-After (fhir_endpoint). The public CapabilityStatement is not counted.

The staff JSON API has no per-user limit to share; the default is a clinic-policy choice
sourced on a published FHIR service's limit (docs/configuration.md)."""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.core.cache import cache

from clinic.accounts.models import User


def _key(user: User) -> str:
    # The user's UUID, not the primary key: a key never outlives its person's row.
    return f"fhir:rate:{user.uuid}"


def _window_s() -> int:
    return settings.FHIR_RATE_LIMIT_WINDOW_MIN * 60


def fhir_request_counted(user: User) -> int | None:
    """Count one request. None while within the limit; past it, the seconds until the
    window lapses (for Retry-After), and the request is not served."""
    key = _key(user)
    if cache.add(key, 0, timeout=_window_s()):
        cache.set(f"{key}:ends", time.time() + _window_s(), timeout=_window_s())
    try:
        count = cache.incr(key)
    except ValueError:  # lapsed between add and incr
        cache.set(key, 1, timeout=_window_s())
        cache.set(f"{key}:ends", time.time() + _window_s(), timeout=_window_s())
        count = 1
    if count <= settings.FHIR_RATE_LIMIT_COUNT:
        return None
    ends = cache.get(f"{key}:ends")
    return _window_s() if ends is None else max(1, math.ceil(ends - time.time()))
