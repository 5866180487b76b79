"""What the history seeder's parts share (clinic/demo/history.py, clinic/demo/stock.py): the
options, a location's staff and chairs, explicit ids, progress lines, and the deterministic
draws (uuids, NPIs, local times) every part makes from its own `random.Random`."""

from __future__ import annotations

import datetime
import random
import time
import uuid
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field

from clinic.accounts.models import User
from clinic.core.bulk import reserve_ids
from clinic.locations.identifiers import NPI_PREFIX, luhn_check_digit
from clinic.locations.models import Location
from clinic.scheduling.models import Chair

# Rows per bulk statement.
BATCH = 5000
UTC = datetime.UTC


def weighted(rng: random.Random, pairs) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def seeded_uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def seeded_npi(rng: random.Random) -> str:
    body = "1" + "".join(str(rng.randrange(10)) for _ in range(8))
    return body + str(luhn_check_digit(NPI_PREFIX + body))


def local_moment(
    day: datetime.date, clock: datetime.time, zone: zoneinfo.ZoneInfo
) -> datetime.datetime:
    return datetime.datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class HistoryOptions:
    patients: int
    years: int
    locations: int
    seed: int
    today: datetime.date


@dataclass
class Site:
    location: Location
    zone: zoneinfo.ZoneInfo
    prescribers: list[User] = field(default_factory=list)
    nurses: list[User] = field(default_factory=list)
    therapists: list[User] = field(default_factory=list)
    front_desk: list[User] = field(default_factory=list)
    iv_chairs: list[Chair] = field(default_factory=list)
    esk_chairs: list[Chair] = field(default_factory=list)


class Ids:
    """Explicit primary keys, so that rows can point at rows not yet written."""

    def __init__(self):
        self._next: dict[type, int] = {}

    def take(self, model) -> int:
        if model not in self._next:
            self._next[model] = reserve_ids(model, 0)
        value = self._next[model]
        self._next[model] = value + 1
        return value


class Progress:
    def __init__(self, write: Callable[[str], None]):
        self.write = write
        self.started = time.monotonic()

    def __call__(self, phase: str, rows: int | None = None) -> None:
        elapsed = time.monotonic() - self.started
        tail = f" ({rows:,} rows)" if rows is not None else ""
        self.write(f"[{elapsed:7.1f}s] {phase}{tail}")
