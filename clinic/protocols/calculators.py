"""Dose and schedule calculators of the JSON API (calculators.md §4 and §5).

`POST /dosing/calculate` and `POST /protocols/{code}/schedule` compute and store nothing. The
router is mounted under /api/v1/ by clinic/api/api.py, whose default auth (a signed-in staff
session or a staff API token) applies to it. The arithmetic is the pure modules'
(clinic/protocols/dosing.py, clinic/protocols/schedules/) under the clinic's dosing policy
(clinic/protocols/policy.py); the protocols are the built-in templates of schedules (no
database read).

Errors use the API's one envelope. A body field the contract does not have is refused (a
misspelt "dose_mg_per_kilo" must never fall back to the default dose), as is a field that does
not apply to the route; weight and height outside the clinic's plausibility ranges are entry
errors (policy-defaults.md "Vital signs"). Every invalid input is a 422
`{"detail": [{"loc": ["body", "<field>"], "msg", "type"}], "code": "invalid_input"}`; an unknown
protocol is a 404 `{"detail", "code": "not_found"}`.
"""

from __future__ import annotations

import datetime
import json
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError, ValidationError
from pydantic import StrictInt

from clinic.core.api_schemas import NOT_AN_OBJECT, StrictBody
from clinic.core.exceptions import InvalidInput
from clinic.core.parsing import date_problem
from clinic.core.policy import date_policy, plausible_range
from clinic.protocols import dosing, schedules
from clinic.protocols.policy import dosing_policy

router = Router(tags=["calculators"])

Route = Literal["iv", "im", "esketamine"]
WeightBasis = Literal["actual", "ideal", "adjusted"]
Sex = Literal["female", "male", "other", "unknown"]
Phase = Literal["induction", "optimization", "maintenance"]
# A JSON number (integer or decimal); "80", true, NaN and Infinity are refused.
Measurement = Annotated[float, Field(strict=True, allow_inf_nan=False)]
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# --------------------------------------------------------------------------- schemas


class IvDoseRead(Schema):
    route: Literal["iv"]
    weight_basis: WeightBasis
    weight_used_kg: float = Field(description="kg, one decimal")
    dose_mg: float = Field(description="mg, one decimal (half up)")
    infusion_minutes: int
    rate_mg_per_h: float = Field(description="mg/h, one decimal")
    volume_ml: float | None = Field(None, description="mL, one decimal; only with a concentration")
    rate_ml_per_h: float | None = Field(
        None, description="mL/h, one decimal; only with a concentration"
    )


class ImDoseRead(Schema):
    route: Literal["im"]
    weight_basis: WeightBasis
    weight_used_kg: float = Field(description="kg, one decimal")
    dose_mg: float = Field(description="mg, one decimal (half up)")
    volume_ml: float | None = Field(None, description="mL, one decimal; only with a concentration")


class EsketamineDoseRead(Schema):
    route: Literal["esketamine"]
    dose_mg: int
    devices: int = Field(description="28 mg devices [C2]")
    sprays: int = Field(description="2 per device, one per nostril [C1], [C2]")
    minutes_between_devices: int
    administration_minutes: int = Field(description="(devices − 1) × minutes between devices")
    observation_minutes: int = Field(description="at least 120 (label/REMS [C9], [C10])")


DoseRead = Annotated[IvDoseRead | ImDoseRead | EsketamineDoseRead, Field(discriminator="route")]


class ScheduleDoseRead(Schema):
    route: str | None = None
    dose_mg_per_kg: float | None = None
    dose_mg: int | float | None = None
    infusion_minutes: int | None = None
    setting: str | None = Field(None, description='"home" or "clinic" (sublingual)')


class ScheduledSessionRead(Schema):
    number: int
    date: datetime.date
    phase: Phase
    dose: ScheduleDoseRead = Field(description="empty when the treatment plan sets the dose")


class ReviewPointRead(Schema):
    after_session: int
    reason: str


class ScheduleRead(Schema):
    protocol: str
    sessions: list[ScheduledSessionRead]
    review_points: list[ReviewPointRead]


class CalculatorMessage(Schema):
    detail: str
    code: str


class CalculatorInputProblem(Schema):
    loc: list[str | int] = Field(description='["body", "<field>"]')
    msg: str
    type: str


class CalculatorInputProblems(Schema):
    detail: list[CalculatorInputProblem]
    code: str = Field(description='"invalid_input"')


# --------------------------------------------------------------------------- helpers


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _describe_option(option: schedules.OptionSpec) -> str:
    parts = [option.type]
    if option.required:
        parts.append("required")
    else:
        parts.append(f"default {schedules.json_value(option.default)}")
    if option.choices:
        parts.append("one of " + ", ".join(str(schedules.json_value(c)) for c in option.choices))
    if option.minimum is not None:
        parts.append(f"min {schedules.json_value(option.minimum)}")
    if option.maximum is not None:
        parts.append(f"max {schedules.json_value(option.maximum)}")
    return f"`{option.name}` ({', '.join(parts)})"


def _protocols_description() -> str:
    lines = []
    for code, definition in schedules.BUILT_IN.items():
        options = ", ".join(_describe_option(option) for option in definition.options) or "none"
        lines.append(
            f"- `{code}` — {definition.name}. Source: {definition.source}. Options: {options}."
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- endpoints


@router.post(
    "/dosing/calculate",
    response={200: DoseRead, 422: CalculatorInputProblems},
    exclude_none=True,
    summary="Calculate a dose (IV, IM, esketamine)",
    description=(
        "IV and IM: `weight_kg` × `dose_mg_per_kg` (default 0.5; clinic policy ranges IV "
        "0.1–1.0, IM 0.25–1.0 mg/kg) on the actual, ideal (Devine) or adjusted body weight; "
        "ideal and adjusted need `height_cm` and `sex` (male or female) and a height of at "
        "least 60 in (152.4 cm). IV runs over `infusion_minutes` (default 40). Volume fields "
        "appear only with `concentration_mg_per_ml`. Esketamine: `dose_mg` 28, 56 or 84 "
        "(1–3 devices). mg and mL are rounded to one decimal, half up. Stores nothing."
    ),
    operation_id="dosing_calculate",
)
def dosing_calculate(
    request,
    route: StrictBody[Route],
    weight_kg: StrictBody[Measurement | None] = None,
    dose_mg_per_kg: StrictBody[Measurement | None] = None,
    weight_basis: StrictBody[WeightBasis | None] = None,
    height_cm: StrictBody[Measurement | None] = None,
    sex: StrictBody[Sex | None] = None,
    concentration_mg_per_ml: StrictBody[Measurement | None] = None,
    infusion_minutes: StrictBody[StrictInt | None] = None,
    dose_mg: StrictBody[StrictInt | None] = None,
):
    # A field the contract does not have is refused by StrictBody (clinic/core/api_schemas.py).
    problems = []
    for name, value in (("weight_kg", weight_kg), ("height_cm", height_cm)):
        limits = plausible_range(name)
        if value is not None and not limits.contains(value):
            problems.append({"loc": ["body", name], "msg": limits.message(), "type": "implausible"})
    if problems:
        raise ValidationError(problems)
    try:
        result = dosing.calculate_dose(
            route,
            policy=dosing_policy(),
            weight_kg=_decimal(weight_kg),
            dose_mg_per_kg=_decimal(dose_mg_per_kg),
            weight_basis=weight_basis,
            height_cm=_decimal(height_cm),
            sex=sex,
            concentration_mg_per_ml=_decimal(concentration_mg_per_ml),
            infusion_minutes=infusion_minutes,
            dose_mg=dose_mg,
        )
    except dosing.DosingError as error:
        raise InvalidInput({error.field: [error.message]}) from error
    return result.as_dict()


def _schedule_request_schema() -> dict[str, Any]:
    """The request body's OpenAPI schema: start_date, and every built-in protocol's options."""
    properties: dict[str, Any] = {
        "start_date": {"type": "string", "format": "date", "description": "Session 1's date."}
    }
    for code, definition in schedules.BUILT_IN.items():
        for option in definition.options:
            entry = properties.setdefault(option.name, {"description": ""})
            line = f"{code}: {_describe_option(option)}"
            entry["description"] = f"{entry['description']}\n{line}".strip()
    return {
        "type": "object",
        "required": ["start_date"],
        "properties": properties,
        "additionalProperties": False,
    }


def _schedule_body(request) -> tuple[datetime.date, dict[str, Any]]:
    """start_date and the protocol options from the body. The body is read here (not by Ninja:
    one declared Body parameter would be taken as the whole body), so errors name the field as
    ["body", "<field>"] like every other calculator."""
    try:
        data = json.loads(request.body) if request.body else None
    except ValueError as error:
        raise HttpError(400, "Cannot parse request body") from error
    if not isinstance(data, dict):
        raise ValidationError([{"loc": ["body"], "msg": NOT_AN_OBJECT, "type": "dict_type"}])
    raw = data.get("start_date")
    if raw is None:
        raise ValidationError(
            [{"loc": ["body", "start_date"], "msg": "Field required", "type": "missing"}]
        )
    try:
        if not isinstance(raw, str) or not ISO_DATE.fullmatch(raw):
            raise ValueError(raw)
        start = datetime.date.fromisoformat(raw)
    except ValueError as error:
        raise InvalidInput(
            {"start_date": ["An ISO calendar date is expected (YYYY-MM-DD)."]}
        ) from (error)
    # Not before 2000, and within the clinic's booking horizon (a year-9999 start overflows).
    ahead = date_policy().booking_days_ahead
    if problem := date_problem(start, today=timezone.localdate(), days_ahead=ahead):
        raise InvalidInput({"start_date": [problem]})
    return start, {key: value for key, value in data.items() if key != "start_date"}


@router.post(
    "/protocols/{code}/schedule",
    response={200: ScheduleRead, 404: CalculatorMessage, 422: CalculatorInputProblems},
    exclude_none=True,
    summary="Plan a protocol's schedule",
    description=(
        "Session dates, phases and doses of a built-in protocol from `start_date` (session 1), "
        "with review points. Protocol options are further body fields; an option the protocol "
        "does not take is refused. Dates never fall on the same day twice. Stores nothing. "
        "Protocols:\n" + _protocols_description()
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _schedule_request_schema()}},
        }
    },
    operation_id="protocol_schedule",
)
def protocol_schedule(request, code: str):
    definition = schedules.BUILT_IN.get(code)
    if definition is None:
        return Status(
            404,
            {
                "detail": f"No protocol with code {code!r}. "
                f"Known: {', '.join(schedules.BUILT_IN_CODES)}.",
                "code": "not_found",
            },
        )
    start, options = _schedule_body(request)
    try:
        schedule = schedules.plan_schedule(
            definition, start, options, protocol=code, policy=dosing_policy()
        )
    except schedules.ScheduleError as error:
        raise InvalidInput({error.field: [error.message]}) from error
    return schedule.as_dict()
