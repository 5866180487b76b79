"""Writes to the schedule. Each service checks the actor's capability, runs in one transaction
and leaves an audit event. By seam:

- `resources`: rooms, chairs, opening hours, staff shifts;
- `booking`: book, reschedule, cancel, no-show and an appointment's length;
- `chair_side`: the chair side's steps on an appointment (`appointment_lock`,
  `appointment_lock_for_check_in`, `appointment_status_from_chair`);
- `proposals`: the earliest free slot for each session of a plan;
- `reminders`: the reminder e-mail's text, and the sending of those due;
- `feeds`: calendar feed tokens;
- `_common`: clock times in the clinic's time zone and the count of appointments at once.

Callers import from here (`from clinic.scheduling import services`); the names below are the
public ones.
"""

from clinic.scheduling.services._common import Peak, at, local, peak_concurrency, span
from clinic.scheduling.services.booking import (
    appointment_book,
    appointment_cancel,
    appointment_length_min,
    appointment_mark_no_show,
    appointment_reschedule,
)
from clinic.scheduling.services.chair_side import (
    appointment_lock,
    appointment_lock_for_check_in,
    appointment_status_from_chair,
)
from clinic.scheduling.services.feeds import (
    FEED_TOKEN_BYTES,
    calendar_feed_create,
    calendar_feed_revoke,
    calendar_feed_touch,
    feed_token_digest,
)
from clinic.scheduling.services.proposals import Proposal, appointment_propose
from clinic.scheduling.services.reminders import appointment_reminders_send, reminder_text
from clinic.scheduling.services.resources import (
    chair_create,
    chair_update,
    opening_hours_set,
    room_create,
    room_update,
    staff_shift_add,
    staff_shift_remove,
)

__all__ = [
    "FEED_TOKEN_BYTES",
    "Peak",
    "Proposal",
    "appointment_book",
    "appointment_cancel",
    "appointment_length_min",
    "appointment_lock",
    "appointment_lock_for_check_in",
    "appointment_mark_no_show",
    "appointment_propose",
    "appointment_reminders_send",
    "appointment_reschedule",
    "appointment_status_from_chair",
    "at",
    "calendar_feed_create",
    "calendar_feed_revoke",
    "calendar_feed_touch",
    "chair_create",
    "chair_update",
    "feed_token_digest",
    "local",
    "opening_hours_set",
    "peak_concurrency",
    "reminder_text",
    "room_create",
    "room_update",
    "span",
    "staff_shift_add",
    "staff_shift_remove",
]
