"""`POST /api/v1/billing/session-codes`: a session's charge lines, computed, never stored.

The contract is docs/clinical/calculators.md §6; the rules are the pure module's
(clinic/billing/session_codes.py), the same ones that will code a signed session. Mounted under
/api/v1/ by clinic/api/api.py, whose default auth (a signed-in staff session or a staff API
token) applies. Every invalid input is a 422 naming its field, `{"detail": [{"loc": ["body",
"<field>"], "msg", "type"}], "code": "invalid_input"}`; a field the contract does not have is
refused (StrictBody), never ignored.
"""

from __future__ import annotations

import datetime
import re
from typing import Annotated, Literal

from django.utils import timezone
from ninja import Field, Router, Schema
from pydantic import StrictBool, StrictInt, StringConstraints

from clinic.billing import session_codes
from clinic.core.api_schemas import StrictBody
from clinic.core.exceptions import InvalidInput
from clinic.core.parsing import date_problem
from clinic.core.policy import date_policy
from clinic.core.text import OneLine

router = Router(tags=["calculators"])

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
VisitCode = Annotated[OneLine, StringConstraints(strict=True, max_length=5)]


class ChargeLineRead(Schema):
    code: str = Field(description="CPT or HCPCS code (codes only: CPT descriptors are © AMA)")
    units: int
    modifiers: list[str]
    ndc: str | None = Field(
        None, description="Only on the J3490 line: the request's ketamine_ndc, or null"
    )


class SessionCodesRead(Schema):
    lines: list[ChargeLineRead] = Field(description="Order is not significant")
    warnings: list[str]


class InputProblem(Schema):
    loc: list[str | int] = Field(description='["body", "<field>"]')
    msg: str
    type: str


class InputProblems(Schema):
    detail: list[InputProblem]
    code: str = Field(description='"invalid_input"')


def _service_date(raw: str) -> datetime.date:
    try:
        if not ISO_DATE.fullmatch(raw):
            raise ValueError(raw)
        value = datetime.date.fromisoformat(raw)
    except ValueError as error:
        raise InvalidInput(
            {"date_of_service": ["An ISO calendar date is expected (YYYY-MM-DD)."]}
        ) from error
    # Not before 2000; a planned session may be coded ahead, within the booking horizon.
    ahead = date_policy().booking_days_ahead
    if problem := date_problem(value, today=timezone.localdate(), days_ahead=ahead):
        raise InvalidInput({"date_of_service": [problem]})
    return value


@router.post(
    "/billing/session-codes",
    response={200: SessionCodesRead, 422: InputProblems},
    exclude_unset=True,
    summary="Code a treatment session for billing",
    description=(
        "The charge lines a session earns (CPT/HCPCS codes, units, modifiers). IV: 96374 up to "
        "15 infusion minutes, 96365 from 16, +96366 × ⌊(minutes − 31) / 60⌋ from 91. IM: 96372. "
        "Ketamine bought by the clinic: J3490 (never J3000), with `ketamine_ndc`. Esketamine, "
        "Medicare: G2082 (≤ 56 mg) or G2083 (84 mg) with KX, drug included, established "
        "patients only, no separate E/M. Esketamine, other payers, drug bought by the clinic: "
        "S0013 (dates of service to 2025-12-31) or J0013 (from 2026-01-01), units = mg. An E/M "
        "code beside a procedure carries modifier 25. Defaults: `established_patient` true, "
        "`drug_supplied_by` clinic, `visit_codes` none. Stores nothing."
    ),
    operation_id="billing_session_codes",
)
def billing_session_codes(
    request,
    route: StrictBody[Literal["iv", "im", "esketamine"]],
    payer: StrictBody[Literal["medicare", "commercial", "self_pay"]],
    date_of_service: StrictBody[Annotated[OneLine, StringConstraints(strict=True, max_length=10)]],
    # Defaults are applied below: a default on the parameter would make Ninja require it.
    established_patient: StrictBody[StrictBool | None] = None,
    infusion_minutes: StrictBody[StrictInt | None] = None,
    esketamine_mg: StrictBody[StrictInt | None] = None,
    drug_supplied_by: StrictBody[Literal["clinic", "pharmacy"] | None] = None,
    ketamine_ndc: StrictBody[
        Annotated[OneLine, StringConstraints(strict=True, max_length=20)] | None
    ] = None,
    visit_codes: StrictBody[Annotated[list[VisitCode], Field(max_length=10)] | None] = None,
):
    facts = session_codes.SessionFacts(
        route=route,
        payer=payer,
        date_of_service=_service_date(date_of_service),
        established_patient=True if established_patient is None else established_patient,
        infusion_minutes=infusion_minutes,
        esketamine_mg=esketamine_mg,
        drug_supplied_by=drug_supplied_by or "clinic",
        ketamine_ndc=ketamine_ndc,
        visit_codes=tuple(visit_codes or ()),
    )
    try:
        coding = session_codes.session_codes(facts)
    except session_codes.CodingError as error:
        raise InvalidInput({error.field: [error.message]}) from error
    return coding.as_dict()
