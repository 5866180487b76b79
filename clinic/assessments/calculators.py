"""Stateless clinical calculators of the JSON API (calculators.md §1).

`POST /instruments/{code}/score` scores one instrument's answers and stores nothing. The router
is mounted under /api/v1/ by clinic/api/api.py, whose default auth (a signed-in staff session or
a staff API token) applies to it.
"""

from __future__ import annotations

from ninja import Field, Router, Schema, Status
from pydantic import StrictInt

from clinic.assessments.instruments import ALL_CODES, AnswerError, get_instrument
from clinic.assessments.policy import scoring_policy
from clinic.core.api_schemas import RequestBody

router = Router(tags=["calculators"])


class ScoreIn(RequestBody):
    # Strict: "2", 2.0 and true are refused (422), not coerced to 2.
    answers: list[StrictInt | None] = Field(
        ...,
        description="One value per item in the instrument's item order; null when unanswered.",
        max_length=100,
    )


class ScoreOut(Schema):
    instrument: str
    complete: bool
    missing_items: list[int]
    total: int | None
    severity: str | None
    flags: list[str]
    subscales: dict[str, int]


class Message(Schema):
    detail: str
    code: str


class AnswerProblem(Schema):
    loc: list[str | int]
    msg: str
    type: str


class AnswerProblems(Schema):
    detail: list[AnswerProblem]
    code: str


@router.post(
    "/instruments/{code}/score",
    response={200: ScoreOut, 404: Message, 422: AnswerProblems},
    summary="Score an instrument",
    description=(
        "Totals, severity, flags and subscales of one completed (or partly completed) "
        f"instrument. Codes: {', '.join(ALL_CODES)}. Stores nothing."
    ),
)
def score_instrument(request, code: str, payload: ScoreIn):
    try:
        instrument = get_instrument(code)
    except KeyError:
        return Status(
            404,
            {
                "detail": f"No instrument with code {code!r}. Known: {', '.join(ALL_CODES)}.",
                "code": "not_found",
            },
        )
    try:
        result = instrument.score(payload.answers, scoring_policy())
    except AnswerError as error:
        loc: list[str | int] = ["body", "answers"]
        if error.item is not None:
            loc.append(error.item - 1)
        return Status(
            422,
            {
                "detail": [{"loc": loc, "msg": error.message, "type": "invalid_answer"}],
                "code": "invalid_input",
            },
        )
    return Status(200, result.as_dict())
