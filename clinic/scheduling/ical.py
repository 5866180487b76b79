"""iCalendar (RFC 5545) for a clinician's feed, written by hand: a handful of properties,
CRLF line ends, text escaped and long lines folded at 75 octets.

Calendar apps sync to phones, so an event never names the patient or the treatment: an
appointment reads "Appointment (Chair 2)".
"""

from __future__ import annotations

import datetime

from django.conf import settings

PRODUCT_ID = "-//KetaCare//Schedule//EN"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _utc(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> str:
    """Split a content line into chunks of at most 75 octets, continued with CRLF + space."""
    data = line.encode()
    if len(data) <= 75:
        return line
    parts: list[str] = []
    current = b""
    for char in line:
        encoded = char.encode()
        limit = 75 if not parts else 74  # continuation lines start with a space
        if len(current) + len(encoded) > limit:
            parts.append(current.decode())
            current = b""
        current += encoded
    parts.append(current.decode())
    return "\r\n ".join(parts)


def render(*, name: str, appointments, shifts, now: datetime.datetime, at) -> str:
    """`at(date, time)` makes a shift's wall-clock times aware in the clinic's time zone."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODUCT_ID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_escape(name)}",
    ]
    stamp = _utc(now)
    for appointment in appointments:
        lines += [
            "BEGIN:VEVENT",
            f"UID:appointment-{appointment.uuid}@ketacare",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{_utc(appointment.starts_at)}",
            f"DTEND:{_utc(appointment.ends_at)}",
            f"SUMMARY:{_escape(f'Appointment ({appointment.chair.name})')}",
            f"LOCATION:{_escape(f'{settings.CLINIC_NAME}, {appointment.chair.room.name}')}",
            "STATUS:CONFIRMED",
            "TRANSP:OPAQUE",
            "END:VEVENT",
        ]
    for shift in shifts:
        lines += [
            "BEGIN:VEVENT",
            f"UID:shift-{shift.uuid}@ketacare",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{_utc(at(shift.date, shift.start))}",
            f"DTEND:{_utc(at(shift.date, shift.end))}",
            "SUMMARY:Shift",
            f"LOCATION:{_escape(settings.CLINIC_NAME)}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)
