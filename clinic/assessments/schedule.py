"""When each assessment is due. Pure: no Django.

Schedule (policy-defaults.md, "Assessment schedule"; [H2]; common practice): a baseline at
screening; before each session; about 24 h after the first session (the 20–28 h window of
[H2]); at the end of induction; every 14 days in maintenance. Which instruments each
timepoint asks for is clinic policy (`SchedulePolicy`).

"Due" means the window is open now; "overdue" means the window has closed (or, for
open-ended items, the due time has passed) with no valid response in it.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SchedulePolicy:
    baseline_instruments: tuple[str, ...] = ("phq9", "gad7", "cssrs-screen")
    pre_session_instruments: tuple[str, ...] = ("phq9",)
    after_first_session_instruments: tuple[str, ...] = ("phq9",)
    after_first_session_window_hours: tuple[int, int] = (20, 28)  # [H2]
    end_of_induction_instruments: tuple[str, ...] = ("phq9", "gad7")
    maintenance_instruments: tuple[str, ...] = ("phq9",)
    maintenance_interval_days: int = 14  # policy-defaults.md


DEFAULT_SCHEDULE_POLICY = SchedulePolicy()


@dataclass(frozen=True)
class Taken:
    instrument: str
    taken_at: datetime.datetime


@dataclass(frozen=True)
class CourseFacts:
    """What the schedule needs to know about one patient's course."""

    taken: Sequence[Taken] = ()
    # Session start times: past and planned. Empty until treatment sessions are recorded.
    sessions: Sequence[datetime.datetime] = ()
    induction_end: datetime.datetime | None = None
    in_maintenance: bool = False


@dataclass(frozen=True)
class DueAssessment:
    timepoint: str
    instruments: tuple[str, ...]
    opens_at: datetime.datetime | None
    closes_at: datetime.datetime | None
    overdue: bool
    missing: tuple[str, ...] = field(default=())


def _taken_between(
    taken: Sequence[Taken],
    instrument: str,
    start: datetime.datetime | None,
    end: datetime.datetime | None,
) -> bool:
    return any(
        t.instrument == instrument
        and (start is None or t.taken_at >= start)
        and (end is None or t.taken_at <= end)
        for t in taken
    )


def _item(timepoint, instruments, taken, start, end, now, *, overdue_after=None):
    missing = tuple(code for code in instruments if not _taken_between(taken, code, start, end))
    if not missing:
        return None
    deadline = overdue_after if overdue_after is not None else end
    return DueAssessment(
        timepoint=timepoint,
        instruments=tuple(instruments),
        opens_at=start,
        closes_at=end,
        overdue=deadline is not None and now > deadline,
        missing=missing,
    )


def due_assessments(
    facts: CourseFacts, now: datetime.datetime, policy: SchedulePolicy = DEFAULT_SCHEDULE_POLICY
) -> list[DueAssessment]:
    """What is due or overdue now, oldest first. Only the next session's pre-session set is
    listed (a missed past session's set can no longer be taken before it)."""
    sessions = sorted(facts.sessions)
    first = sessions[0] if sessions else None
    due: list[DueAssessment] = []

    # Baseline: before the first session; overdue once the first session has started.
    baseline = _item(
        "baseline", policy.baseline_instruments, facts.taken, None, first, now, overdue_after=first
    )
    if baseline:
        due.append(baseline)

    if first is not None:
        opens_hours, closes_hours = policy.after_first_session_window_hours
        opens = first + datetime.timedelta(hours=opens_hours)
        closes = first + datetime.timedelta(hours=closes_hours)
        if now >= opens:
            item = _item(
                "after_first_session",
                policy.after_first_session_instruments,
                facts.taken,
                opens,
                closes,
                now,
            )
            if item:
                due.append(item)

    upcoming = [s for s in sessions if s > now]
    if upcoming:
        next_session = upcoming[0]
        # Taken on the session's day (in the clinic's time, as passed in), before it starts.
        day_start = next_session.replace(hour=0, minute=0, second=0, microsecond=0)
        if now >= day_start:
            item = _item(
                "pre_session",
                policy.pre_session_instruments,
                facts.taken,
                day_start,
                next_session,
                now,
            )
            if item:
                due.append(item)

    if facts.induction_end is not None and now >= facts.induction_end:
        # Taken after the last induction session; overdue once the next session has begun.
        following = min((s for s in sessions if s > facts.induction_end), default=None)
        item = _item(
            "end_of_induction",
            policy.end_of_induction_instruments,
            facts.taken,
            facts.induction_end,
            None,
            now,
            overdue_after=following,
        )
        if item:
            due.append(item)

    if facts.in_maintenance:
        interval = datetime.timedelta(days=policy.maintenance_interval_days)
        for code in policy.maintenance_instruments:
            last = max((t.taken_at for t in facts.taken if t.instrument == code), default=None)
            due_at = (last + interval) if last else now
            if now >= due_at:
                due.append(
                    DueAssessment(
                        timepoint="maintenance",
                        instruments=(code,),
                        opens_at=due_at,
                        closes_at=None,
                        overdue=now > due_at,
                        missing=(code,),
                    )
                )
    return due


# ------------------------------------------------------------------ the history that counts
#
# A course with no induction end and no maintenance (what the due list and the reminders know
# today) is judged by three windows per instrument: up to the first session (baseline), the
# next-day window after it, and the next session's day. Whether any response falls in a window
# is answered as well by one witness per window as by the whole history, so the database sends
# these few rows instead of years of them (clinic/assessments/selectors.py due_for_patients).


@dataclass(frozen=True)
class SessionBounds:
    """The two sessions the schedule reads: the first, and the next one after `now`."""

    first: datetime.datetime | None = None
    next_after_now: datetime.datetime | None = None

    @property
    def sessions(self) -> tuple[datetime.datetime, ...]:
        return tuple(sorted({s for s in (self.first, self.next_after_now) if s is not None}))


@dataclass(frozen=True)
class Witnesses:
    """Per instrument: its first response; its first at or after the next-day window opens;
    its last at or before the next session. Any may be None."""

    first: datetime.datetime | None = None
    first_after_next_day_opens: datetime.datetime | None = None
    last_before_next_session: datetime.datetime | None = None


def next_day_window_opens(
    first_session: datetime.datetime, policy: SchedulePolicy = DEFAULT_SCHEDULE_POLICY
) -> datetime.datetime:
    return first_session + datetime.timedelta(hours=policy.after_first_session_window_hours[0])


@dataclass(frozen=True)
class WitnessesWanted:
    """Which witnesses the policy's timepoints read, by instrument."""

    first: frozenset[str]
    first_after_next_day_opens: frozenset[str]
    last_before_next_session: frozenset[str]

    @property
    def instruments(self) -> list[str]:
        return sorted(self.first | self.first_after_next_day_opens | self.last_before_next_session)


def witnesses_wanted(policy: SchedulePolicy = DEFAULT_SCHEDULE_POLICY) -> WitnessesWanted:
    return WitnessesWanted(
        first=frozenset(policy.baseline_instruments),
        first_after_next_day_opens=frozenset(policy.after_first_session_instruments),
        last_before_next_session=frozenset(policy.pre_session_instruments),
    )


def witnesses_of(
    taken: Sequence[Taken],
    bounds: SessionBounds,
    policy: SchedulePolicy = DEFAULT_SCHEDULE_POLICY,
) -> dict[str, Witnesses]:
    """The witnesses of a whole history, by instrument, those the policy reads: what the
    database's subqueries return (the reference for them, and for the tests that compare)."""
    wanted = witnesses_wanted(policy)
    opens = next_day_window_opens(bounds.first, policy) if bounds.first else None
    result = {}
    for code in wanted.instruments:
        times = sorted(t.taken_at for t in taken if t.instrument == code)
        if not times:
            continue
        result[code] = Witnesses(
            first=times[0] if code in wanted.first else None,
            first_after_next_day_opens=(
                min((t for t in times if t >= opens), default=None)
                if opens and code in wanted.first_after_next_day_opens
                else None
            ),
            last_before_next_session=(
                max((t for t in times if t <= bounds.next_after_now), default=None)
                if bounds.next_after_now and code in wanted.last_before_next_session
                else None
            ),
        )
    return result


def facts_from_witnesses(witnesses: dict[str, Witnesses], bounds: SessionBounds) -> CourseFacts:
    """CourseFacts that give `due_assessments` the same answer as the whole history would,
    for a course with no induction end and no maintenance."""
    taken = [
        Taken(code, at)
        for code, w in witnesses.items()
        for at in {w.first, w.first_after_next_day_opens, w.last_before_next_session}
        if at is not None
    ]
    return CourseFacts(taken=taken, sessions=bounds.sessions)
