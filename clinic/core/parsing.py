"""One rule for the values every service receives: record ids, event times and free text.

Forms and Ninja schemas parse input at the edge; services call these helpers for the checks
that must hold however a value arrived (a page, the API, a management command), so every
app refuses the same things with the same words.
"""

from __future__ import annotations

import datetime
import uuid

from django.utils import timezone

from clinic.core.exceptions import InvalidInput, NotFound
from clinic.core.policy import date_policy
from clinic.core.text import CONTROL_CHARACTER_MESSAGE, has_control_characters

# A tablet's or phone's clock may run a little ahead of the server's; a time further ahead
# than this is a typing mistake, not a clock difference.
CLOCK_SKEW = datetime.timedelta(minutes=5)
NO_CLOCK_SKEW = datetime.timedelta(0)

# No clinical event recorded in KetaCare happened before this: an earlier year is a typo.
EARLIEST_EVENT_AT = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
EARLIEST_EVENT_DATE = EARLIEST_EVENT_AT.date()
TOO_EARLY_MESSAGE = "This date is too far in the past to be right."


def record_uuid(value: object) -> uuid.UUID:
    """The public id of a record. Anything that is not a UUID is simply "not found"."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError) as error:
        raise NotFound() from error


def event_moment(
    field: str,
    value: object,
    *,
    now: datetime.datetime,
    not_before: datetime.datetime | None = None,
    not_before_message: str | None = None,
    clock_skew: datetime.timedelta = CLOCK_SKEW,
    future_message: str = "This time is in the future.",
    born_on: datetime.date | None = None,
) -> datetime.datetime:
    """When something happened: `now` when not given; otherwise an aware datetime that is not
    further ahead than `clock_skew`, not before EARLIEST_EVENT_AT, and not before `not_before`.

    A naive datetime is refused, never guessed: the same wall-clock time names two instants
    on the night clocks go back, and a clinical record must say which. A record that must
    carry the actual time of the event by law (the controlled-substance ledger) passes
    `clock_skew=NO_CLOCK_SKEW`: nothing ahead of the server's clock. A patient's record passes
    `born_on`, their date of birth: nothing before the day they were born."""
    if value is None:
        return now
    if not isinstance(value, datetime.datetime):
        raise InvalidInput({field: ["Enter a date and time."]})
    if timezone.is_naive(value):
        raise InvalidInput({field: ["Give the date and time with its time zone."]})
    if value > now + clock_skew:
        raise InvalidInput({field: [future_message]})
    # Before birth first: the more telling words when both hold. Before the floor the day is
    # read in UTC: a year-1 instant cannot be converted to local time.
    day = value.date() if value < EARLIEST_EVENT_AT else timezone.localdate(value)
    if born_on is not None and day < born_on:
        raise InvalidInput({field: [before_birth_message(born_on)]})
    if value < EARLIEST_EVENT_AT:
        raise InvalidInput({field: [TOO_EARLY_MESSAGE]})
    if not_before is not None and value < not_before:
        message = not_before_message or (
            f"This time is before {timezone.localtime(not_before):%H:%M}."
        )
        raise InvalidInput({field: [message]})
    return value


def before_birth_message(born_on: datetime.date) -> str:
    return f"This is before the date of birth ({born_on:%m/%d/%Y}): check the year."


def date_problem(
    value: datetime.date,
    *,
    today: datetime.date,
    days_ahead: int = 0,
    born_on: datetime.date | None = None,
    future_message: str = "This date is in the future.",
) -> str:
    """Why a calendar date is implausible, in words ("" when it is not): before the clinic's
    founding-era floor, before `born_on`, or more than `days_ahead` days after `today`."""
    # Before birth first: the more telling words when both hold.
    if born_on is not None and value < born_on:
        return before_birth_message(born_on)
    if value < EARLIEST_EVENT_DATE:
        return TOO_EARLY_MESSAGE
    if value > today + datetime.timedelta(days=days_ahead):
        if days_ahead == 0:
            return future_message
        latest = today + datetime.timedelta(days=days_ahead)
        return f"This date is too far ahead: {latest:%m/%d/%Y} at the latest. Check the year."
    return ""


def event_date(
    field: str,
    value: object,
    *,
    today: datetime.date,
    days_ahead: int = 0,
    born_on: datetime.date | None = None,
    future_message: str = "This date is in the future.",
) -> datetime.date:
    """A calendar date a service stores: a date (not a datetime) inside `date_problem`'s
    bounds, or InvalidInput naming `field`."""
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        raise InvalidInput({field: ["Enter a date."]})
    problem = date_problem(
        value, today=today, days_ahead=days_ahead, born_on=born_on, future_message=future_message
    )
    if problem:
        raise InvalidInput({field: [problem]})
    return value


def birth_date_problem(value: datetime.date, *, today: datetime.date) -> str:
    """Why a date of birth is implausible ("" when it is not): in the future, or older than
    the clinic's `oldest_patient_age_years` (clinic/core/policy.py)."""
    oldest = date_policy().oldest_patient_age_years
    if value > today:
        return "The date of birth cannot be in the future."
    if today.year - value.year > oldest:
        return f"Check the year: that would make the patient over {oldest}."
    return ""


def planned_moment(
    field: str, value: object, *, now: datetime.datetime, days_ahead: int | None = None
) -> datetime.datetime:
    """A time something is planned for (an appointment, a reminder): aware, not before the
    founding-era floor, and at most `days_ahead` (the clinic's `booking_days_ahead` by default)
    days after `now`. Whether it may be in the past is the caller's rule."""
    if not isinstance(value, datetime.datetime):
        raise InvalidInput({field: ["Enter a date and time."]})
    if timezone.is_naive(value):
        raise InvalidInput({field: ["Give the date and time with its time zone."]})
    if value < EARLIEST_EVENT_AT:
        raise InvalidInput({field: [TOO_EARLY_MESSAGE]})
    ahead = date_policy().booking_days_ahead if days_ahead is None else days_ahead
    if value > now + datetime.timedelta(days=ahead):
        latest = timezone.localdate(now) + datetime.timedelta(days=ahead)
        raise InvalidInput(
            {field: [f"This is too far ahead: {latest:%m/%d/%Y} at the latest. Check the year."]}
        )
    return value


def trimmed_text(value: object) -> str:
    """A value as text without the spaces around it; nothing (None) is "". For a caller that
    gathers every problem of a form or table first and checks the characters itself."""
    return "" if value is None else str(value).strip()


def clean_text(
    field: str,
    value: object,
    *,
    max_length: int,
    required_message: str | None = None,
    too_long_message: str | None = None,
) -> str:
    """Free text, trimmed: no control characters other than line breaks and tabs, at most
    `max_length` characters, and not empty when `required_message` is given."""
    text = trimmed_text(value)
    if not text and required_message:
        raise InvalidInput({field: [required_message]})
    if has_control_characters(text):
        raise InvalidInput({field: [CONTROL_CHARACTER_MESSAGE]})
    if len(text) > max_length:
        raise InvalidInput({field: [too_long_message or f"Keep this to {max_length} characters."]})
    return text
