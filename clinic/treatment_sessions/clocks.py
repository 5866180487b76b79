"""The session's clocks as the chair sees them: when the next vitals are due, when a running
infusion should end (pauses included), and the words for elapsed and remaining time that
clock.js keeps ticking in the browser. Read by the session page and the chair board alike.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from clinic.screening.choices import Route
from clinic.treatment_sessions import rules, state
from clinic.treatment_sessions.choices import (
    RULES_PHASE,
    InfusionEventKind,
    SessionPhase,
)
from clinic.treatment_sessions.models import (
    TreatmentSession,
    VitalsEntry,
)


def duration_text(delta: datetime.timedelta) -> str:
    """ "m min" under an hour, "h:mm" from an hour (what clock.js shows for elapsed time)."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60}:{minutes % 60:02d}"


def countdown_text(target: datetime.datetime, now: datetime.datetime) -> str:
    """ "m:ss" (or "h:mm:ss") to go, "due now" at the time, "overdue by n min" after it (the
    same words clock.js writes)."""
    seconds = int((target - now).total_seconds())
    if seconds > 0:
        hours, rest = divmod(seconds, 3600)
        minutes, secs = divmod(rest, 60)
        return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
    late = -seconds // 60
    return "due now" if late < 1 else f"overdue by {late} min"


def iso(moment: datetime.datetime | None) -> str:
    """An ISO-8601 instant to the second, for clock.js (data-countdown-to, data-elapsed-since)."""
    return "" if moment is None else moment.replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class Countdown:
    at: datetime.datetime
    text: str
    passed: bool

    @property
    def iso(self) -> str:
        return iso(self.at)


def countdown_of(at: datetime.datetime | None, now: datetime.datetime) -> Countdown | None:
    if at is None:
        return None
    return Countdown(at=at, text=countdown_text(at, now), passed=at <= now)


def last_full_reading(vitals: list[VitalsEntry]) -> datetime.datetime | None:
    """The last valid set with a blood pressure (pulse oximetry alone is not a reading)."""
    times = [v.taken_at for v in vitals if v.is_valid and v.has_bp]
    return max(times) if times else None


def infusion_planned_end(
    session: TreatmentSession, now: datetime.datetime
) -> datetime.datetime | None:
    """When a running IV infusion should end: its start + the infusion minutes, moved on by
    the time it spent paused (a pause still going counts up to `now`)."""
    if session.dose_started_at is None or not session.infusion_minutes:
        return None
    paused = datetime.timedelta(0)
    paused_at = None
    for event in session.infusion_events.all():
        if event.kind == InfusionEventKind.PAUSE and paused_at is None:
            paused_at = event.occurred_at
        elif event.kind in (InfusionEventKind.RESUME, InfusionEventKind.STOP) and paused_at:
            paused += event.occurred_at - paused_at
            paused_at = None
    if paused_at is not None:
        paused += max(now - paused_at, datetime.timedelta(0))
    return session.dose_started_at + datetime.timedelta(minutes=session.infusion_minutes) + paused


def vitals_due_at(
    session: TreatmentSession,
    *,
    last_reading_at: datetime.datetime | None,
    now: datetime.datetime,
    policy: rules.SessionPolicy | None = None,
) -> datetime.datetime | None:
    """rules.next_vitals_due for the session as it stands, under the policy it runs under (an
    IV infusion under way counts to its planned end, pauses included). None where no reading
    is scheduled, or a phase lacks its anchor time (the page shows the details)."""
    completed = session.dose_completed_at
    if (
        session.route == Route.IV
        and session.phase == SessionPhase.DOSING
        and session.dose_started_at is not None
        and session.infusion_minutes
    ):
        completed = infusion_planned_end(session, now)
    try:
        return rules.next_vitals_due(
            session.route,
            RULES_PHASE[SessionPhase(session.phase)],
            session.dose_started_at,
            completed,
            last_reading_at,
            now,
            policy or state.policy_of(session),
        )
    except ValueError:
        return None


def next_vitals_due(
    session: TreatmentSession, policy: rules.SessionPolicy, now: datetime.datetime
) -> datetime.datetime | None:
    return vitals_due_at(
        session,
        last_reading_at=last_full_reading(list(session.vitals.all())),
        now=now,
        policy=policy,
    )
