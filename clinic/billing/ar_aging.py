"""Accounts-receivable aging: how long an open balance has been owed, in the 30-day bands
billing works by (the issue's "balances over 30/60/90 days"). Age runs from the date of
service, the day the debt arose, to the report's as-of day. Pure: no Django."""

from __future__ import annotations

import datetime
from dataclasses import dataclass


@dataclass(frozen=True)
class AgingBand:
    key: str
    label: str
    oldest_days: int | None  # None: no upper end


AGING_BANDS: tuple[AgingBand, ...] = (
    AgingBand("current", "0–30 days", 30),
    AgingBand("over_30", "31–60 days", 60),
    AgingBand("over_60", "61–90 days", 90),
    AgingBand("over_90", "Over 90 days", None),
)


def age_days(date_of_service: datetime.date, as_of: datetime.date) -> int:
    return (as_of - date_of_service).days


def band_for(days: int) -> AgingBand:
    """The band of a balance `days` old (0 is the day of service itself)."""
    for band in AGING_BANDS:
        if band.oldest_days is None or days <= band.oldest_days:
            return band
    raise AssertionError("the last band has no upper end")


def band_starts(as_of: datetime.date) -> list[tuple[AgingBand, datetime.date]]:
    """Each bounded band with the earliest date of service it holds as of `as_of`; older
    dates fall in the next band (the database's CASE uses these)."""
    return [
        (band, as_of - datetime.timedelta(days=band.oldest_days))
        for band in AGING_BANDS
        if band.oldest_days is not None
    ]
