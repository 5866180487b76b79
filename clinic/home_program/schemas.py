"""The patient's own at-home sessions over the API (clinic/home_program/api.py, /api/v1/me).

Named apart from other apps' schemas (the OpenAPI document keys components by class name).
Bodies go to the services the portal pages use: every rule (plausible numbers, the clinic's
blood-pressure limit, the prescribed dose, what may follow what) is theirs, worded as on the
page.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from uuid import UUID

from ninja import Field, Schema

from clinic.core.api_schemas import RequestBody
from clinic.core.text import MultiLine, OneLine
from clinic.home_program.choices import Severity, SideEffectKind

_WHEN = "With a time zone; left out: now."


class OwnHomeProgramRead(Schema):
    plan: UUID | None = Field(description="Your active at-home plan, if you have one.")
    prescribed_dose_mg: Decimal | None = Field(description="The dose of your next session.")
    sessions_planned: int
    sessions_dosed: int
    can_start: bool
    blocked_reason: str = Field(description="Why a session cannot start now, in words.")


class OwnHomeSideEffectRead(Schema):
    kind: str
    label: str
    severity: str
    noticed_at: datetime.datetime


class OwnHomeBpAlertRead(Schema):
    raised_at: datetime.datetime
    care_team_told: bool = Field(
        description="True: your prescriber and nurses were sent word to review it."
    )
    status: str = Field(description="`open` until someone on your care team acknowledges it.")


class OwnHomeSessionRead(Schema):
    uuid: UUID
    status: str
    status_text: str
    message: str | None = Field(description="What to do now, when there is something to say.")
    started_at: datetime.datetime
    systolic_mmhg: int
    diastolic_mmhg: int
    limit_systolic_mmhg: int
    limit_diastolic_mmhg: int
    monitor_name: str
    prescribed_dose_mg: Decimal
    dose_taken_mg: Decimal | None
    dose_taken_at: datetime.datetime | None
    not_taken_at: datetime.datetime | None
    checked_in_at: datetime.datetime | None
    feeling: str
    mood_after: int | None
    side_effects: list[OwnHomeSideEffectRead]
    bp_alert: OwnHomeBpAlertRead | None = Field(
        description="Raised when your blood pressure was over the clinic's at-home limit."
    )


class OwnHomeSessionPage(Schema):
    items: list[OwnHomeSessionRead]
    next_cursor: str | None


class OwnHomeSessionStart(RequestBody):
    systolic_mmhg: int = Field(description="Your blood pressure now, the upper number (mmHg).")
    diastolic_mmhg: int = Field(description="The lower number (mmHg).")
    monitor_name: OneLine = Field(
        description="The adult who stays with you, in the same place, for the whole session."
    )


class OwnHomeDose(RequestBody):
    dose_mg: Decimal = Field(description="The dose you took: exactly the prescribed dose.")
    taken_at: datetime.datetime | None = Field(None, description=_WHEN)


class OwnHomeSideEffect(RequestBody):
    kind: OneLine = Field(description="One of: " + ", ".join(SideEffectKind.values) + ".")
    severity: OneLine = Field(description="One of: " + ", ".join(Severity.values) + ".")
    other_text: OneLine = Field("", description="What it is, when `kind` is `other`.")
    noticed_at: datetime.datetime | None = Field(None, description=_WHEN)


class OwnHomeCheckIn(RequestBody):
    feeling: MultiLine = Field(description="How you feel now, in a few words.")
    mood_after: int | None = Field(None, description="Optional: 1 (very low) to 10 (very good).")
    checked_in_at: datetime.datetime | None = Field(None, description=_WHEN)
