"""The patient's own journal and intentions over the API (clinic/journal/api.py, /api/v1/me).

Named apart from other apps' schemas (the OpenAPI document keys components by class name).
Bodies go to the services the portal pages use, which check every rule and word each refusal
as the page does.
"""

from __future__ import annotations

import datetime
from uuid import UUID

from ninja import Field, Schema

from clinic.core.api_schemas import RequestBody
from clinic.core.text import MultiLine
from clinic.journal import rules
from clinic.journal.models import MOOD_MAX, MOOD_MIN

_MOOD = f"A whole number from {MOOD_MIN} (very low) to {MOOD_MAX} (very good)."


class OwnSessionRef(Schema):
    """One of the patient's own in-clinic appointments."""

    uuid: UUID
    starts_at: datetime.datetime
    status: str


class OwnJournalEntryRead(Schema):
    uuid: UUID
    appointment: OwnSessionRef | None = Field(description="The session the entry is about.")
    mood_before: int
    mood_after: int
    reflections: str
    insights: str
    shared_with_care_team: bool = Field(description="False: private, read by no one at the clinic.")
    shared_at: datetime.datetime | None
    remind_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class OwnJournalEntryPage(Schema):
    items: list[OwnJournalEntryRead]
    next_cursor: str | None


class OwnJournalEntryCreate(RequestBody):
    appointment: UUID | None = Field(
        None, description="One of your past sessions (begun), when the entry is about it."
    )
    mood_before: int = Field(description=_MOOD)
    mood_after: int = Field(description=_MOOD)
    reflections: MultiLine = ""
    insights: MultiLine = ""
    shared_with_care_team: bool = Field(
        False, description="Share with your therapist and prescriber; private when false."
    )
    remind_at: datetime.datetime | None = Field(
        None,
        description=f"One e-mail reminder at this time, within {rules.REMIND_LATER_MAX_DAYS} "
        "days (with a time zone).",
    )


class OwnJournalEntryUpdate(RequestBody):
    """Only the fields sent change. `shared_with_care_team` alone shares or unshares; a
    `remind_at` of null removes the reminder."""

    mood_before: int | None = Field(None, description=_MOOD)
    mood_after: int | None = Field(None, description=_MOOD)
    reflections: MultiLine | None = None
    insights: MultiLine | None = None
    shared_with_care_team: bool | None = None
    remind_at: datetime.datetime | None = None


class OwnIntentionRead(Schema):
    uuid: UUID
    appointment: OwnSessionRef
    text: str
    written_at: datetime.datetime
    editable: bool = Field(description="Until the session starts.")
    created_at: datetime.datetime


class OwnIntentionPage(Schema):
    items: list[OwnIntentionRead]
    next_cursor: str | None


class OwnIntentionCreate(RequestBody):
    appointment: UUID = Field(description="One of your coming in-clinic sessions.")
    text: MultiLine = Field(description=f"At most {rules.INTENTION_MAX_CHARS:,} characters.")


class OwnIntentionUpdate(RequestBody):
    text: MultiLine = Field(description=f"At most {rules.INTENTION_MAX_CHARS:,} characters.")
