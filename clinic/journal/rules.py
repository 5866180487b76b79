"""When the patient may write: pure checks on an appointment's state and the clock.

No clinical numbers here. The reminder horizon is a product choice (how far ahead a patient may
ask to be reminded to reflect), not a clinical value.
"""

from __future__ import annotations

import datetime
from typing import Protocol

# "Remind me to reflect later" may be set up to this many days ahead.
REMIND_LATER_MAX_DAYS = 30
# The intention the chair-side pre-check holds is limited to this many characters
# (clinic/treatment_sessions/services/check_in.py); the portal's is the same, so it fits when
# prefilled.
INTENTION_MAX_CHARS = 2000
JOURNAL_TEXT_MAX_CHARS = 10_000

# Appointment statuses as plain values (scheduling's `AppointmentStatus`), so these rules
# import no Django; tests/test_rules.py holds them equal to scheduling's.
# Still ahead: booked, or checked in before it starts (scheduling's ACTIVE_STATUSES).
ACTIVE_STATUSES = ("booked", "checked_in")
# A session the patient can write about: they came (checked in) and it has begun.
PAST_SESSION_STATUSES = ("checked_in", "completed")


class AppointmentState(Protocol):
    """What the rules read of an appointment."""

    @property
    def status(self) -> str: ...

    @property
    def starts_at(self) -> datetime.datetime: ...


def intention_open(appointment: AppointmentState, now: datetime.datetime) -> bool:
    """The patient may write or change the intention: the appointment is still booked (or
    checked in) and has not started."""
    return appointment.status in ACTIVE_STATUSES and now < appointment.starts_at


def is_past_session(appointment: AppointmentState, now: datetime.datetime) -> bool:
    """A session of theirs that a journal entry may be about."""
    return appointment.status in PAST_SESSION_STATUSES and appointment.starts_at <= now
