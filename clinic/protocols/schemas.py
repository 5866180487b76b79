"""Treatment-plan API schemas (clinic/protocols/api.py)."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import Literal

from ninja import Field, Schema

from clinic.core.api_schemas import RequestBody
from clinic.core.text import MultiLine, OneLine
from clinic.patients.schemas import DecimalIn

WeightBasisCode = Literal["actual", "ideal", "adjusted"]
PlanStatusCode = Literal["draft", "active", "completed", "discontinued"]


class PlanChoices(RequestBody):
    """What the prescriber chooses on the plan page; the fields a route does not take are
    refused for it (IV: dose_mg_per_kg, infusion_minutes, weight_basis; IM: dose_mg_per_kg,
    weight_basis; esketamine: esketamine_dose_mg from session 2). Left out: the protocol's."""

    template: OneLine = Field(..., min_length=1, max_length=64, description="A protocol's code")
    start_date: datetime.date
    dose_mg_per_kg: DecimalIn | None = Field(None, description="IV and IM, mg/kg")
    weight_basis: WeightBasisCode | None = Field(None, description="IV and IM")
    esketamine_dose_mg: int | None = Field(None, description="Esketamine, from session 2")
    infusion_minutes: int | None = Field(None, description="IV")
    # The keys are matched against the protocol's own option names by the plan form (an
    # unknown name is refused with 422, never stored): a lookup key, like a path parameter.
    options: dict[str, int | float | OneLine] = Field(
        default_factory=dict,
        max_length=20,
        description="The protocol's own options, as POST /protocols/{code}/schedule takes them.",
    )
    notes: MultiLine = Field("", max_length=2000)


class PlannedDoseRead(Schema):
    dose_mg: Decimal | None
    dose_mg_per_kg: Decimal | None
    weight_used_kg: Decimal | None
    infusion_minutes: int | None


class PreviewSessionRead(PlannedDoseRead):
    number: int
    planned_date: datetime.date
    phase: str
    devices: int | None


class TemplateRef(Schema):
    code: str
    version: int
    name: str
    route: str


class PlanPreviewRead(Schema):
    template: TemplateRef
    start_date: datetime.date
    weight_kg: Decimal | None = Field(description="The latest weight the doses are from")
    weight_measured_on: datetime.date | None
    height_cm: Decimal | None
    warnings: list[str]
    sessions: list[PreviewSessionRead]


class PrescriberRef(Schema):
    uuid: uuid.UUID
    name: str


class PlannedSessionRead(PlannedDoseRead):
    uuid: uuid.UUID
    number: int
    planned_date: datetime.date
    phase: str
    dose_change_reason: str
    cancelled: bool


class PlanSummary(Schema):
    uuid: uuid.UUID
    template: TemplateRef
    route: str
    status: PlanStatusCode
    start_date: datetime.date
    session_count: int
    prescribed_by: PrescriberRef
    activated_at: datetime.datetime | None
    ended_at: datetime.datetime | None
    updated_at: datetime.datetime


class PlanRead(PlanSummary):
    dose_mg_per_kg: Decimal | None
    weight_basis: WeightBasisCode
    esketamine_dose_mg: int | None
    infusion_minutes: int | None
    maintenance_interval_weeks: int | None
    notes: str
    end_reason: str
    sessions: list[PlannedSessionRead]


class PlanPage(Schema):
    items: list[PlanSummary]
    next_cursor: str | None


class PlanEnd(RequestBody):
    reason: MultiLine = Field("", max_length=300, description="Required to discontinue")
