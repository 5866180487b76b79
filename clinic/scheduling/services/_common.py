"""Helpers the schedule's services share: clock times in the clinic's time zone, and how many
appointments run at once (booking refuses a nurse's next chair by it, proposals spread
patients by it)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone


def local(moment: datetime.datetime) -> datetime.datetime:
    """An aware datetime in the clinic's time zone (settings.TIME_ZONE)."""
    return timezone.localtime(moment)


def at(day: datetime.date, clock: datetime.time) -> datetime.datetime:
    """The aware moment of a wall-clock time on a date in the clinic's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, clock))


def span(starts_at: datetime.datetime, ends_at: datetime.datetime) -> str:
    return f"{local(starts_at):%H:%M} to {local(ends_at):%H:%M}"


def date_text(day: datetime.date) -> str:
    """The weekday and date as the clinic writes them: Monday 06/01/2031."""
    return f"{day:%A} {day:%m/%d/%Y}"


@dataclass(frozen=True)
class Peak:
    """The most appointments running at one instant, and the first instant there are that
    many (None when there are none)."""

    count: int
    first_at: datetime.datetime | None


def peak_concurrency(
    intervals: Iterable[tuple[datetime.datetime, datetime.datetime]],
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
) -> Peak:
    """How many of `intervals` ([start, end) pairs) run at once at the busiest instant of
    [starts_at, ends_at): a sweep over their start and end points, clipped to the window.
    Half-open like the rest of the module: one ending at 10:00 and one starting at 10:00 never
    run together."""
    events: list[tuple[datetime.datetime, int]] = []
    for start, end in intervals:
        start, end = max(start, starts_at), min(end, ends_at)
        if start < end:
            events += [(start, 1), (end, -1)]
    # At one instant the ends (-1) sort before the starts (+1).
    events.sort()
    running = best = 0
    when = None
    for moment, change in events:
        running += change
        if running > best:
            best, when = running, moment
    return Peak(best, when)
