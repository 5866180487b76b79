"""POST /api/v1/screening/evaluate: findings and a verdict per route for an intake's answers.

The contract is docs/clinical/calculators.md §3; the rules are clinic/screening/rules.py
(screening-rules.md) with the clinic's current rule set. Stateless: it computes, stores nothing.
Mounted under /api/v1/screening by clinic/api/api.py, whose default auth (a signed-in staff
session or a staff API token) applies.

Every field is optional. The body's fields are separate Body parameters, so a schema error names
the field as ["body", "<field>", ...]. Errors found after parsing are raised as Ninja's
ValidationError with the same shape, so each names the exact value ("conditions", 1) or
("blood_pressure", "systolic"), and the API's handler renders them in the one envelope
{"detail": [{"loc", "msg", "type"}], "code": "invalid_input"}:
- a field the contract does not have (a misspelt "conditons" must never be ignored silently:
  the evaluation would miss a contraindication);
- a vital sign or measurement outside the clinic's plausibility range (policy-defaults.md,
  "Vital signs": entry errors, not clinical limits);
- contradictory answers (rules.ContradictionError), e.g. diastolic not below systolic.
Unknown vocabulary terms are refused by the schema (the enums come from rules.py).

Unanswered is not "no" (§3): `conditions` and `medication_classes` left out (or null) mean the
history was not asked, and an empty list means it was asked and nothing applies. The response's
`missing` lists what the rule set needed and did not get; while it is not empty every route that
would otherwise be eligible is `incomplete`.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Field, Router, Schema
from ninja.errors import ValidationError
from pydantic import StrictBool, StrictInt

from clinic.core.api_schemas import RequestBody, SelfCheckedBody
from clinic.core.policy import plausible_range
from clinic.core.text import OneLine
from clinic.screening import rules
from clinic.screening.selectors import current_rule_set

router = Router(tags=["screening"])

# The contract's medication classes (calculators.md §3). The intake's "other" class is not
# part of the API's vocabulary: no rule is about it.
API_MEDICATION_CLASSES: tuple[str, ...] = tuple(c for c in rules.MEDICATION_CLASSES if c != "other")

Sex = Literal[rules.SEXES]  # type: ignore[valid-type]
Indication = Literal[rules.INDICATIONS]  # type: ignore[valid-type]
Condition = Literal[rules.CONDITIONS]  # type: ignore[valid-type]
MedicationClass = Literal[API_MEDICATION_CLASSES]  # type: ignore[valid-type]
TrialOutcome = Literal[rules.TRIAL_OUTCOMES]  # type: ignore[valid-type]
CssrsRisk = Literal[rules.CSSRS_RISKS]  # type: ignore[valid-type]
Level = Literal[rules.LEVELS]  # type: ignore[valid-type]
Route = Literal[rules.ROUTES]  # type: ignore[valid-type]
Verdict = Literal[rules.VERDICTS]  # type: ignore[valid-type]
MissingInput = Literal[rules.MISSING_INPUTS]  # type: ignore[valid-type]

WholeNumber = Annotated[StrictInt, Field(ge=0)]
# A JSON number (integer or decimal); "80", true, NaN and Infinity are refused.
Measurement = Annotated[float, Field(strict=True, allow_inf_nan=False)]


class ScreeningBloodPressureIn(RequestBody):
    systolic: StrictInt | None = Field(None, description="mmHg, at screening")
    diastolic: StrictInt | None = Field(None, description="mmHg, at screening; below systolic")


class ScreeningTrialIn(RequestBody):
    drug: OneLine = Field(..., max_length=120)
    adequate: StrictBool = Field(..., description="adequate dose and duration")
    outcome: TrialOutcome
    current_episode: StrictBool


class ScreeningHomeIn(RequestBody):
    treatment_monitor: StrictBool | None = Field(
        None, description="a named adult treatment monitor for home sessions; absent = no"
    )
    bp_monitor: StrictBool | None = Field(
        None, description="a blood-pressure monitor at home; absent = no"
    )


class ScreeningFindingRead(Schema):
    code: str
    level: Level
    routes: list[Route]
    message: str
    source: str = Field(description="source keys of clinical-reference.md §11")


class ScreeningRouteVerdictsRead(Schema):
    iv: Verdict
    im: Verdict
    esketamine: Verdict
    sublingual: Verdict


class ScreeningEvaluationRead(Schema):
    findings: list[ScreeningFindingRead] = Field(description="in the rule table's order")
    treatment_resistant: bool
    failed_adequate_trials: int = Field(
        description="adequate trials in the current episode ending in no or partial response"
    )
    bmi: float | None = Field(description="kg/m², one decimal; null without weight and height")
    routes: ScreeningRouteVerdictsRead
    missing: list[MissingInput] = Field(
        description=(
            "The inputs the rule set needs that the request did not give, in this order: "
            "age_years, weight_kg, blood_pressure (both values), heart_rate, indication, "
            "conditions and medication_classes (absent, as opposed to an empty list, means not "
            "asked), pregnant and breastfeeding (unless sex is male). While it is not empty, "
            "every route not ineligible is incomplete."
        )
    )


class ScreeningInputProblem(Schema):
    loc: list[str | int] = Field(description='["body", "<field>", ...]')
    msg: str
    type: str


class ScreeningInputProblems(Schema):
    detail: list[ScreeningInputProblem]
    code: str = Field(description='"invalid_input"')


BODY_FIELDS = (
    "age_years",
    "sex",
    "pregnant",
    "breastfeeding",
    "weight_kg",
    "height_cm",
    "blood_pressure",
    "heart_rate",
    "indication",
    "conditions",
    "medication_classes",
    "antidepressant_trials",
    "cssrs_risk",
    "home",
)

# Where an IntakeFacts field sits in the request body.
_BODY_LOC: dict[str, tuple[str, ...]] = {
    "systolic_mmhg": ("blood_pressure", "systolic"),
    "diastolic_mmhg": ("blood_pressure", "diastolic"),
    "heart_rate_bpm": ("heart_rate",),
    "home_treatment_monitor": ("home", "treatment_monitor"),
    "home_bp_monitor": ("home", "bp_monitor"),
}

_ERROR_TYPE: dict[type[rules.IntakeError], str] = {
    rules.VocabularyError: "unknown_term",
    rules.ImpossibleValueError: "implausible",
    rules.ContradictionError: "contradiction",
    rules.IntakeError: "invalid_input",
}


def _problem(loc: tuple[str | int, ...], msg: str, kind: str) -> dict[str, Any]:
    return {"loc": ["body", *loc], "msg": msg, "type": kind}


def _body_loc(error: rules.IntakeError) -> tuple[str | int, ...]:
    head, *tail = error.loc
    return (*_BODY_LOC.get(str(head), (head,)), *tail)


def _unknown_fields(request) -> list[dict[str, Any]]:
    # Ninja has parsed the body already: it is valid JSON, and not a list or a scalar (those
    # fail the schema), but `null` would pass as "no fields".
    data = json.loads(request.body) if request.body else {}
    if not isinstance(data, dict):
        return [{"loc": ["body"], "msg": "The body must be a JSON object.", "type": "dict_type"}]
    return [
        _problem((key,), "Unknown field.", "extra_forbidden")
        for key in data
        if key not in BODY_FIELDS
    ]


def _implausible(facts: rules.IntakeFacts) -> list[dict[str, Any]]:
    problems = []
    for name in ("systolic_mmhg", "diastolic_mmhg", "heart_rate_bpm", "weight_kg", "height_cm"):
        value = getattr(facts, name)
        limits = plausible_range(name)
        if value is not None and not limits.contains(value):
            problems.append(_problem(_BODY_LOC.get(name, (name,)), limits.message(), "implausible"))
    return problems


@router.post(
    "/evaluate",
    response={200: ScreeningEvaluationRead, 422: ScreeningInputProblems},
    summary="Evaluate eligibility (findings and a verdict per route)",
    description=(
        "Applies the clinic's current screening rule set to an intake's answers. Every field "
        "is optional; with `home` absent, both home-program answers count as no. Verdicts: "
        "`ineligible` if an absolute finding applies to the route, else "
        "`eligible_with_precautions` if a relative or caution finding does, else `eligible`. "
        "Unanswered is not no: `missing` lists the needed inputs the request left out "
        "(`conditions` or `medication_classes` absent means not asked; an empty list means "
        "asked, none), and while it is not empty every route that is not `ineligible` is "
        "`incomplete`. Stores nothing."
    ),
    operation_id="screening_evaluate",
)
def screening_evaluate(
    request,
    age_years: SelfCheckedBody[WholeNumber | None] = None,
    sex: SelfCheckedBody[Sex | None] = None,
    pregnant: SelfCheckedBody[StrictBool | None] = None,
    breastfeeding: SelfCheckedBody[StrictBool | None] = None,
    weight_kg: SelfCheckedBody[Measurement | None] = None,
    height_cm: SelfCheckedBody[Measurement | None] = None,
    blood_pressure: SelfCheckedBody[ScreeningBloodPressureIn | None] = None,
    heart_rate: SelfCheckedBody[StrictInt | None] = None,
    indication: SelfCheckedBody[Indication | None] = None,
    conditions: SelfCheckedBody[list[Condition] | None] = None,
    medication_classes: SelfCheckedBody[list[MedicationClass] | None] = None,
    antidepressant_trials: SelfCheckedBody[list[ScreeningTrialIn] | None] = None,
    cssrs_risk: SelfCheckedBody[CssrsRisk | None] = None,
    home: SelfCheckedBody[ScreeningHomeIn | None] = None,
):
    problems = _unknown_fields(request)
    facts = rules.IntakeFacts(
        age_years=age_years,
        sex=sex,
        pregnant=pregnant,
        breastfeeding=breastfeeding,
        weight_kg=Decimal(str(weight_kg)) if weight_kg is not None else None,
        height_cm=Decimal(str(height_cm)) if height_cm is not None else None,
        systolic_mmhg=blood_pressure.systolic if blood_pressure else None,
        diastolic_mmhg=blood_pressure.diastolic if blood_pressure else None,
        heart_rate_bpm=heart_rate,
        indication=indication,
        # Absent (or null) is "not asked"; an empty list is "asked: none".
        conditions=None if conditions is None else tuple(conditions),
        medication_classes=None if medication_classes is None else tuple(medication_classes),
        antidepressant_trials=tuple(
            rules.TrialFacts(
                drug=trial.drug,
                adequate=trial.adequate,
                outcome=trial.outcome,
                current_episode=trial.current_episode,
            )
            for trial in antidepressant_trials or ()
        ),
        cssrs_risk=cssrs_risk,
        home_treatment_monitor=bool(home and home.treatment_monitor),
        home_bp_monitor=bool(home and home.bp_monitor),
    )
    problems += _implausible(facts)
    named = {tuple(problem["loc"]) for problem in problems}
    for error in facts.problems():
        problem = _problem(_body_loc(error), error.message, _ERROR_TYPE[type(error)])
        if tuple(problem["loc"]) not in named:  # one message per value: the first found
            named.add(tuple(problem["loc"]))
            problems.append(problem)
    if problems:
        raise ValidationError(problems)
    return current_rule_set().evaluate(facts).as_dict()
