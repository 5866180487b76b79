"""Words and audit shared by the portal's read models (care.py, care_questionnaires.py):
dates and times as the patient reads them, in the clinic's time zone, and the audit event of
a portal read."""

from __future__ import annotations

import datetime

from clinic.core.audit import audit_record
from clinic.core.dates import showable


def local(moment: datetime.datetime) -> datetime.datetime:
    """In the clinic's time zone (settings.TIME_ZONE); an odd stored year is shown, not fatal."""
    return showable(moment)


def date_words(day: datetime.date) -> str:
    """ "Monday, June 2, 2031"."""
    return f"{day:%A}, {day:%B} {day.day}, {day.year}"


def clock_words(moment: datetime.datetime, day: datetime.date) -> str:
    """ "05:00", or "23:00 on Sunday, June 1" when it falls on another day than `day`."""
    moment = local(moment)
    if moment.date() == day:
        return f"{moment:%H:%M}"
    return f"{moment:%H:%M} on {moment:%A}, {moment:%B} {moment.day}"


def minutes_words(minutes: int) -> str:
    """240 → "4 hours", 30 → "30 minutes", 90 → "1 hour 30 minutes"."""
    hours, rest = divmod(int(minutes), 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if rest or not hours:
        parts.append(f"{rest} minute{'s' if rest != 1 else ''}")
    return " ".join(parts)


def portal_audit(actor, patient, action, object_type: str, summary: str, object_id="") -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient=patient,
        summary=f"Portal: {summary}",
    )
