"""What a ledger entry refers to, in words, for the pages and the exports people read: the
chair-side session it was recorded in, the entry a reversal undoes, the draw a residual waste
belongs to. Never an id. Patients appear by MRN only (ADR 0007), as everywhere in the ledger.
"""

from __future__ import annotations

import uuid

from django.utils import timezone

from clinic.controlled_substances.models import LedgerEntry

PAGE_MOMENT = "%m/%d/%Y %H:%M"
PAGE_DAY = "%m/%d/%Y"


def session_uuid(entry: LedgerEntry) -> uuid.UUID | None:
    """The chair-side session an entry was recorded in (the session page stores its UUID in
    `session_ref`), or None for a reference a person typed, or none at all."""
    try:
        return uuid.UUID(entry.session_ref) if entry.session_ref else None
    except ValueError:
        return None


def session_words(entry: LedgerEntry, *, day_format: str = PAGE_DAY) -> str:
    """ "Chair-side session of MRN 00000018 on 06/02/2031"; a typed reference as typed."""
    if not entry.session_ref:
        return ""
    if session_uuid(entry) is None:
        return f"Session {entry.session_ref}"
    words = "Chair-side session"
    if entry.patient is not None:
        words += f" of MRN {entry.patient.mrn}"
    return f"{words} on {timezone.localtime(entry.occurred_at):{day_format}}"


def refers_to_words(entry: LedgerEntry, *, moment_format: str = PAGE_MOMENT) -> str:
    """The entry a reversal undoes, or the draw a residual waste comes from; "" otherwise."""
    target = entry.reverses
    if target is not None:
        words = (
            f"Reverses the {target.get_kind_display().lower()} of "
            f"{timezone.localtime(target.occurred_at):{moment_format}} ({target.container.label}"
        )
        if target.patient is not None:
            words += f", MRN {target.patient.mrn}"
        return words + ")"
    draw = entry.administration
    if draw is not None:
        # An administration is always to a patient, and records what was drawn.
        assert draw.patient is not None and draw.drawn_mg is not None
        return (
            f"Residual of the {draw.drawn_mg:f} mg drawn at "
            f"{timezone.localtime(draw.occurred_at):{moment_format}} (MRN {draw.patient.mrn})"
        )
    return ""
