"""How often one address may send a consultation request: the public page and the public API
share one count per address (CONSULTATION_RATE_LIMIT_COUNT in a fixed window of
CONSULTATION_RATE_LIMIT_WINDOW_MIN minutes), so neither is a way round the other. In screening,
below both the public site and the API (the import-linter's layers)."""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache

from clinic.core.middleware import client_ip


def _key(request) -> str:
    # The address is hashed: the cache holds no visitor's address in the clear. The key is the
    # public page's, unchanged, so counts already in the cache carry on.
    address = client_ip(request) or "unknown"
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{address}".encode()).hexdigest()[:32]
    return f"public_site:consultation:{digest}"


def _window_s() -> int:
    return settings.CONSULTATION_RATE_LIMIT_WINDOW_MIN * 60


def consultation_over_limit(request) -> bool:
    return cache.get(_key(request), 0) >= settings.CONSULTATION_RATE_LIMIT_COUNT


def consultation_counted(request) -> None:
    """Count a submission. Fixed window: it starts with an address's first submission and
    lapses CONSULTATION_RATE_LIMIT_WINDOW_MIN minutes later (when that was is kept beside the
    count, for Retry-After)."""
    key = _key(request)
    if cache.add(key, 0, timeout=_window_s()):
        cache.set(f"{key}:ends", time.time() + _window_s(), timeout=_window_s())
    try:
        cache.incr(key)
    except ValueError:  # lapsed between add and incr
        cache.set(key, 1, timeout=_window_s())
        cache.set(f"{key}:ends", time.time() + _window_s(), timeout=_window_s())


def consultation_retry_after_s(request) -> int:
    """Seconds until the address's window lapses (the whole window when it is not known)."""
    ends = cache.get(f"{_key(request)}:ends")
    if ends is None:
        return _window_s()
    return max(1, math.ceil(ends - time.time()))
