"""POST /api/v1/outcomes/classify: change from baseline, response and remission.

The contract is docs/clinical/calculators.md §2. Stateless: computes, stores nothing.
The body's fields are declared as separate Body parameters, so a schema error names the field
as ["body", "<field>"] (a single Schema parameter would add its own name to the path); errors
found after parsing (out of range, baseline 0) are raised as InvalidInput with the same shape.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from ninja import Field, Router, Schema
from pydantic import StrictInt

from clinic.core.api_schemas import StrictBody
from clinic.core.exceptions import InvalidInput
from clinic.outcomes import metrics
from clinic.outcomes.policy import outcome_policy

router = Router(tags=["outcomes"])


class OutcomeInstrument(StrEnum):
    """Instruments whose change from baseline can be classified (metrics.INSTRUMENTS)."""

    PHQ9 = "phq9"
    GAD7 = "gad7"
    QIDS_SR16 = "qids-sr16"
    MADRS = "madrs"
    PCL5 = "pcl5"


Total = Annotated[StrictInt, Field(ge=0)]


class ChangeClassificationRead(Schema):
    change: int = Field(description="current − baseline")
    percent_change: float = Field(
        description="change ÷ baseline × 100, one decimal, half away from zero"
    )
    response: bool = Field(description="reduction of at least the clinic's response percent")
    remission: bool | None = Field(
        description="current total meets the instrument's remission threshold; null for pcl5"
    )


class InputProblem(Schema):
    loc: list[str | int] = Field(description='["body", "<field>"]')
    msg: str
    type: str


class InputProblems(Schema):
    detail: list[InputProblem]
    code: str = Field(description='"invalid_input"')


@router.post(
    "/outcomes/classify",
    response={200: ChangeClassificationRead, 422: InputProblems},
    summary="Classify change from baseline (response, remission)",
    operation_id="outcome_classify",
)
def outcome_classify(
    request,
    instrument: StrictBody[OutcomeInstrument],
    baseline: StrictBody[Total],
    current: StrictBody[Total],
):
    try:
        result = metrics.classify_change(
            instrument.value, baseline, current, policy=outcome_policy()
        )
    except metrics.OutcomeError as error:
        raise InvalidInput({error.field: [error.message]}) from error
    return {
        "change": result.change,
        "percent_change": float(result.percent_change),
        "response": result.response,
        "remission": result.remission,
    }
