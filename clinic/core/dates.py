"""Drawing dates that are already stored, whatever they are.

Every door now refuses an implausible date (clinic/core/parsing.py), but a row written before
that, by a restore or by hand may still hold year 1 or year 9999. Such a value must never take
a page down: it is shown as it is (so someone can mark it entered in error), and left out of
charts and "days since" arithmetic, which only draw the plausible era.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from clinic.core.parsing import CLOCK_SKEW, EARLIEST_EVENT_AT

# The instants every time zone can show: one day inside Python's datetime range.
_SHOWABLE_FROM = datetime.datetime.min.replace(tzinfo=datetime.UTC) + datetime.timedelta(days=1)
_SHOWABLE_TO = datetime.datetime.max.replace(tzinfo=datetime.UTC) - datetime.timedelta(days=1)


def showable(value: datetime.datetime) -> datetime.datetime:
    """`value` in the clinic's local time, pinned inside the range a time zone can convert (a
    stored year-1 instant is shown as 1 January of year 1, not as a server error)."""
    if timezone.is_naive(value):
        return value
    pinned = min(max(value, _SHOWABLE_FROM), _SHOWABLE_TO)
    return timezone.localtime(pinned)


def in_era(
    value: datetime.datetime | datetime.date | None,
    *,
    now: datetime.datetime | None = None,
    ahead: datetime.timedelta = CLOCK_SKEW,
) -> bool:
    """True when `value` lies between the clinic's founding-era floor and `now + ahead`: the
    values a chart may draw and a day count may use."""
    if value is None:
        return False
    now = now or timezone.now()
    if not isinstance(value, datetime.datetime):
        return EARLIEST_EVENT_AT.date() <= value <= (now + ahead).date()
    if timezone.is_naive(value):
        return False
    return EARLIEST_EVENT_AT <= value <= now + ahead
