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
from clinic.core.text import CONTROL_CHARACTER_MESSAGE, has_control_characters

# A tablet's or phone's clock may run a little ahead of the server's; a time further ahead
# than this is a typing mistake, not a clock difference.
CLOCK_SKEW = datetime.timedelta(minutes=5)
NO_CLOCK_SKEW = datetime.timedelta(0)

# No clinical event recorded in KetaCare happened before this: an earlier year is a typo.
EARLIEST_EVENT_AT = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


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
) -> datetime.datetime:
    """When something happened: `now` when not given; otherwise an aware datetime that is not
    further ahead than `clock_skew`, not before EARLIEST_EVENT_AT, and not before `not_before`.

    A naive datetime is refused, never guessed: the same wall-clock time names two instants
    on the night clocks go back, and a clinical record must say which. A record that must
    carry the actual time of the event by law (the controlled-substance ledger) passes
    `clock_skew=NO_CLOCK_SKEW`: nothing ahead of the server's clock."""
    if value is None:
        return now
    if not isinstance(value, datetime.datetime):
        raise InvalidInput({field: ["Enter a date and time."]})
    if timezone.is_naive(value):
        raise InvalidInput({field: ["Give the date and time with its time zone."]})
    if value > now + clock_skew:
        raise InvalidInput({field: [future_message]})
    if value < EARLIEST_EVENT_AT:
        raise InvalidInput({field: ["This date is too far in the past to be right."]})
    if not_before is not None and value < not_before:
        message = not_before_message or (
            f"This time is before {timezone.localtime(not_before):%H:%M}."
        )
        raise InvalidInput({field: [message]})
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
