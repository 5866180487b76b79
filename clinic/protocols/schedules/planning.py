"""The dates a template gives from a start date (`plan_schedule`), and the frequency guard
(`frequency_warnings`): the "Date layout" and "Frequency guard" of the package's docstring."""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from clinic.protocols.dosing import DEFAULT_POLICY, DosingPolicy
from clinic.protocols.schedules.definition import (
    DAYS_PER_WEEK,
    DOSE_FIELDS,
    MAX_SESSIONS_PER_SCHEDULE,
    SLOTS,
    SPACINGS,
    DoseSpec,
    Number,
    OptionRef,
    Scalar,
    ScheduleDefinition,
    ScheduleError,
    json_value,
)

# --------------------------------------------------------------------------- schedule


@dataclass(frozen=True)
class SessionDose:
    """A planned session's dose as the template gives it (no weight: a plan computes mg)."""

    route: str | None = None
    dose_mg_per_kg: Number | None = None
    dose_mg: Number | None = None
    infusion_minutes: int | None = None
    setting: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            name: json_value(getattr(self, name))
            for name in ("route", "dose_mg_per_kg", "dose_mg", "infusion_minutes", "setting")
            if getattr(self, name) is not None
        }


@dataclass(frozen=True)
class ScheduledSession:
    number: int  # 1-based over the whole schedule
    date: datetime.date
    phase: str
    dose: SessionDose

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "date": self.date.isoformat(),
            "phase": self.phase,
            "dose": self.dose.as_dict(),
        }


@dataclass(frozen=True)
class ReviewPoint:
    after_session: int
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"after_session": self.after_session, "reason": self.reason}


@dataclass(frozen=True)
class Schedule:
    """A planned schedule. `as_dict()` is the contract's response (calculators.md §5);
    `options` holds every option's value used (defaults included) and `warnings` the frequency
    warnings (not part of the contract's response)."""

    protocol: str
    sessions: tuple[ScheduledSession, ...]
    review_points: tuple[ReviewPoint, ...]
    options: Mapping[str, Scalar] = field(default_factory=lambda: MappingProxyType({}))
    warnings: tuple[str, ...] = ()

    @property
    def dates(self) -> tuple[datetime.date, ...]:
        return tuple(session.date for session in self.sessions)

    def as_dict(self) -> dict[str, Any]:
        return {
            "protocol": self.protocol,
            "sessions": [session.as_dict() for session in self.sessions],
            "review_points": [review.as_dict() for review in self.review_points],
        }


def _resolve_options(definition: ScheduleDefinition, given: Mapping[str, Any]) -> dict[str, Scalar]:
    known = {option.name for option in definition.options}
    for name in given:
        if name not in known:
            listed = ", ".join(sorted(known)) or "none"
            raise ScheduleError(
                f"Unknown option for this protocol. Options: {listed}.", field=str(name)
            )
    return {option.name: option.resolve(given.get(option.name)) for option in definition.options}


class _Filler:
    """Fills a definition's option references and re-checks every value against the policy."""

    def __init__(self, values: Mapping[str, Scalar], policy: DosingPolicy):
        self.values = values
        self.policy = policy

    def __call__(self, value: Any, slot_name: str, path: str) -> Any:
        slot = SLOTS[slot_name]
        if isinstance(value, OptionRef):
            where, value = value.option, self.values[value.option]
        else:
            where = path
        if message := slot.check(value, self.policy):
            raise ScheduleError(f"{slot.label} {message}.", field=where)
        return value

    def dose(self, spec: DoseSpec, path: str) -> SessionDose:
        if spec.route is None:
            return SessionDose()
        values: dict[str, Any] = {"route": spec.route, "setting": spec.setting}
        for key, slot_name in DOSE_FIELDS[spec.route].items():
            values[key] = self(getattr(spec, key), slot_name, f"{path}.{key}")
        return SessionDose(**values)


def _layout(count: int, spacing: str, every: int) -> tuple[list[int], int]:
    """Day offsets of a phase's sessions from its first day, and the days the phase spans."""
    if spacing == "sessions_per_week":
        pattern = [DAYS_PER_WEEK * k // every for k in range(every)]
        offsets = [(i // every) * DAYS_PER_WEEK + pattern[i % every] for i in range(count)]
        return offsets, math.ceil(count / every) * DAYS_PER_WEEK
    step = every * (DAYS_PER_WEEK if spacing == "interval_weeks" else 1)
    return [i * step for i in range(count)], count * step


def plan_schedule(
    definition: ScheduleDefinition,
    start_date: datetime.date,
    options: Mapping[str, Any] | None = None,
    *,
    protocol: str = "",
    policy: DosingPolicy = DEFAULT_POLICY,
) -> Schedule:
    """The sessions and review points of `definition` from `start_date` (session 1's date).

    `options` are the request's option values (None = not given → the option's default).
    Raises ScheduleError naming the option, "start_date" or the definition path at fault."""
    if not isinstance(start_date, datetime.date) or isinstance(start_date, datetime.datetime):
        raise ScheduleError("start_date must be a date.", field="start_date")
    values = _resolve_options(definition, options or {})
    fill = _Filler(values, policy)
    sessions: list[ScheduledSession] = []
    reviews: list[ReviewPoint] = []
    phase_start = 0  # days from start_date
    try:
        for index, phase in enumerate(definition.phases):
            path = f"phases[{index}]"
            name = fill(phase.phase, "phase", f"{path}.phase")
            count = fill(phase.sessions, "sessions", f"{path}.sessions")
            if len(sessions) + count > MAX_SESSIONS_PER_SCHEDULE:
                raise ScheduleError(
                    f"A schedule holds at most {MAX_SESSIONS_PER_SCHEDULE} sessions "
                    "(software limit).",
                    field=phase.sessions.option
                    if isinstance(phase.sessions, OptionRef)
                    else f"{path}.sessions",
                )
            spacing = next(key for key in SPACINGS if getattr(phase, key) is not None)
            every = fill(getattr(phase, spacing), spacing, f"{path}.{spacing}")
            offsets, span = _layout(count, spacing, every)
            doses = [fill.dose(phase.dose, f"{path}.dose")]
            starts = [1]
            for change_index, change in enumerate(phase.dose_changes):
                doses.append(fill.dose(change.dose, f"{path}.dose_changes[{change_index}].dose"))
                starts.append(change.from_session)
            first_number = len(sessions) + 1
            for within, offset in enumerate(offsets, start=1):
                dose = doses[max(i for i, s in enumerate(starts) if s <= within)]
                sessions.append(
                    ScheduledSession(
                        number=len(sessions) + 1,
                        date=start_date + datetime.timedelta(days=phase_start + offset),
                        phase=name,
                        dose=dose,
                    )
                )
            for review in phase.review_points:
                after = count if review.after == "end" else review.after
                if after > count:
                    raise ScheduleError(
                        f"A review point after session {after} of {name} is past its "
                        f"{count} sessions.",
                        field=phase.sessions.option
                        if isinstance(phase.sessions, OptionRef)
                        else f"{path}.sessions",
                    )
                reviews.append(ReviewPoint(first_number + after - 1, review.reason))  # type: ignore[operator]
            phase_start += span
    except OverflowError as error:
        raise ScheduleError(
            "The schedule would run past the last date the calendar holds.", field="start_date"
        ) from error
    reviews.sort(key=lambda review: review.after_session)
    return Schedule(
        protocol=protocol,
        sessions=tuple(sessions),
        review_points=tuple(reviews),
        options=MappingProxyType(values),
        warnings=tuple(frequency_warnings([s.date for s in sessions], policy)),
    )


def frequency_warnings(
    dates: Iterable[datetime.date], policy: DosingPolicy = DEFAULT_POLICY
) -> list[str]:
    """Warnings (never errors) for more than `frequency_warning_sessions_per_week` (2) sessions
    in any week after the first `frequency_warning_after_weeks` (8) weeks of the course, weeks
    counted in 7-day blocks from the first date (policy-defaults.md, APA consensus via [A5]).
    One message per such week, in date order."""
    ordered = sorted(dates)
    if not ordered:
        return []
    first = ordered[0]
    weeks: dict[int, list[datetime.date]] = {}
    for day in ordered:
        weeks.setdefault((day - first).days // DAYS_PER_WEEK, []).append(day)
    limit = policy.frequency_warning_sessions_per_week
    after = policy.frequency_warning_after_weeks
    return [
        f"{len(days)} sessions in week {week + 1} of the course (from {days[0].isoformat()}): "
        f"more than {limit} a week beyond {after} weeks. The APA consensus urges caution "
        "(limited safety data) [A5]; clinic policy."
        for week, days in sorted(weeks.items())
        if week >= after and len(days) > limit
    ]
