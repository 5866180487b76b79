"""Intake and eligibility through the API: a patient's intake, the rules' evaluation of it and
the prescriber's signed decision, as the intake pages keep them (clinic/screening/views_intake.py).

- GET and PATCH /patients/{uuid}/intake: the staff intake page. The care team's prescribers and
  nurses (`intake.edit`); like the page, reading it starts a draft when the patient has none.
  Answers are kept as given: an unanswered question is null, never "no" (calculators.md §3).
  A PATCH sends only the answers it changes and goes through the page's service
  (`intake_save`, which runs `clean_intake`, the one check of an intake's answers), with
  `If-Match` checked under the intake's row lock.
- GET /patients/{uuid}/eligibility: the review page's read (review.py): the rule set's
  evaluation of the current intake, as POST /api/v1/screening/evaluate answers, and the
  decisions signed so far. Clinical staff on the care team.
- POST /patients/{uuid}/eligibility/decisions: the review page's sign-off (`decision_sign`):
  a prescriber on the care team, on a submitted intake at the revision they read.
- POST /patients/{uuid}/rems-enrolments: the REMS page (`rems_record`).

The patient's own intake link (a one-time token, no account) stays a page: it is not here."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpResponse
from ninja import Field, Router, Schema, Status
from pydantic import StrictBool, StrictInt

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.api_schemas import ApiError, RequestBody
from clinic.core.api_versions import IfMatch, entity_tag, etag_openapi, precondition
from clinic.core.exceptions import PermissionDenied
from clinic.core.text import MultiLine, OneLine
from clinic.patients.selectors import can_act_clinically, patient_get
from clinic.screening import review, services
from clinic.screening.api import Measurement, ScreeningEvaluationRead
from clinic.screening.choices import (
    Condition,
    DecisionOutcome,
    Indication,
    IntakeStatus,
    MedicationClass,
    Route,
    TrialOutcome,
)
from clinic.screening.models import EligibilityDecision, Intake, RemsEnrollment
from clinic.screening.selectors import needs_review

router = Router(tags=["intake and eligibility"])

ConditionCode = Literal[tuple(Condition.values)]  # type: ignore[valid-type]
IndicationCode = Literal[tuple(Indication.values)]  # type: ignore[valid-type]
MedicationClassCode = Literal[tuple(MedicationClass.values)]  # type: ignore[valid-type]
TrialOutcomeCode = Literal[tuple(TrialOutcome.values)]  # type: ignore[valid-type]
IntakeStatusCode = Literal[tuple(IntakeStatus.values)]  # type: ignore[valid-type]
OutcomeCode = Literal[tuple(DecisionOutcome.values)]  # type: ignore[valid-type]
RouteCode = Literal[tuple(Route.values)]  # type: ignore[valid-type]

CHANGE_ERRORS = {404: ApiError, 412: ApiError, 428: ApiError}
UNANSWERED = "null: not answered (never read as no)."


# --------------------------------------------------------------------------- the intake


class StaffName(Schema):
    uuid: uuid.UUID
    name: str


class IntakeMedicationRow(Schema):
    name: str
    medication_class: MedicationClassCode  # type: ignore[valid-type]
    dose: str


class IntakeTrialRow(Schema):
    drug: str
    dose: str
    duration_weeks: int | None
    adequate: bool
    outcome: TrialOutcomeCode  # type: ignore[valid-type]
    current_episode: bool


class IntakeRead(Schema):
    uuid: uuid.UUID
    status: IntakeStatusCode  # type: ignore[valid-type]
    revision: int = Field(description="Bumped by every change after submission.")
    source: str = Field(description="staff, or patient_link")
    submitted_at: datetime.datetime | None
    indication: IndicationCode | None  # type: ignore[valid-type]
    condition_answers: dict[ConditionCode, bool | None] = Field(  # type: ignore[valid-type]
        description="Every condition the intake asks about: true (yes), false (no), or "
        + UNANSWERED
    )
    history_detail: str
    allergies: str
    psychiatric_history: str
    substance_use: str
    pregnant: bool | None = Field(description=UNANSWERED)
    breastfeeding: bool | None = Field(description=UNANSWERED)
    systolic_mmhg: int | None
    diastolic_mmhg: int | None
    heart_rate_bpm: int | None
    weight_kg: float | None
    height_cm: float | None
    home_treatment_monitor_name: str
    home_bp_monitor: bool | None = Field(description=UNANSWERED)
    takes_medications: bool | None = Field(description=UNANSWERED)
    tried_antidepressants: bool | None = Field(description=UNANSWERED)
    medications: list[IntakeMedicationRow]
    trials: list[IntakeTrialRow]


class IntakeMedicationIn(RequestBody):
    name: OneLine = Field("", max_length=120)
    medication_class: MedicationClassCode | None = None  # type: ignore[valid-type]
    dose: OneLine = Field("", max_length=120)


class IntakeTrialIn(RequestBody):
    drug: OneLine = Field("", max_length=120)
    dose: OneLine = Field("", max_length=120)
    duration_weeks: StrictInt | None = Field(None, ge=0, le=520)
    adequate: StrictBool
    outcome: TrialOutcomeCode | None = None  # type: ignore[valid-type]
    current_episode: StrictBool


class IntakeChange(RequestBody):
    """Only the answers sent change; null makes a question unanswered again."""

    indication: IndicationCode | None = None  # type: ignore[valid-type]
    condition_answers: dict[ConditionCode, StrictBool | None] | None = Field(  # type: ignore[valid-type]
        None,
        description="Merged into the answers kept: each condition sent takes its answer "
        "(null: unanswered again); those not sent keep theirs.",
    )
    history_detail: MultiLine | None = None
    allergies: MultiLine | None = None
    psychiatric_history: MultiLine | None = None
    substance_use: MultiLine | None = None
    pregnant: StrictBool | None = None
    breastfeeding: StrictBool | None = None
    systolic_mmhg: StrictInt | None = None
    diastolic_mmhg: StrictInt | None = None
    heart_rate_bpm: StrictInt | None = None
    # A JSON number: its plausible range is the service's (policy), as on the page.
    weight_kg: Measurement | None = None
    height_cm: Measurement | None = None
    home_treatment_monitor_name: OneLine | None = Field(None, max_length=200)
    home_bp_monitor: StrictBool | None = None
    takes_medications: StrictBool | None = None
    tried_antidepressants: StrictBool | None = None
    medications: list[IntakeMedicationIn] | None = Field(
        None, max_length=50, description="When sent, replaces the list."
    )
    trials: list[IntakeTrialIn] | None = Field(
        None, max_length=50, description="When sent, replaces the list."
    )
    submit: StrictBool = Field(
        False, description="Submit the intake for the prescriber's review (as the page's Submit)."
    )


def intake_etag(intake: Intake) -> str:
    return entity_tag(intake.uuid, intake.status, intake.revision, intake.updated_at)


def _number(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def _intake_read(intake: Intake, response: HttpResponse) -> dict[str, Any]:
    response["ETag"] = intake_etag(intake)
    answers = intake.condition_answers or {}
    return {
        "uuid": intake.uuid,
        "status": intake.status,
        "revision": intake.revision,
        "source": intake.source,
        "submitted_at": intake.submitted_at,
        "indication": intake.indication or None,
        "condition_answers": {code: answers.get(code) for code in Condition.values},
        **{
            name: getattr(intake, name)
            for name in (
                "history_detail",
                "allergies",
                "psychiatric_history",
                "substance_use",
                "pregnant",
                "breastfeeding",
                "systolic_mmhg",
                "diastolic_mmhg",
                "heart_rate_bpm",
                "home_treatment_monitor_name",
                "home_bp_monitor",
                "takes_medications",
                "tried_antidepressants",
            )
        },
        "weight_kg": _number(intake.weight_kg),
        "height_cm": _number(intake.height_cm),
        "medications": [
            {"name": m.name, "medication_class": m.medication_class, "dose": m.dose}
            for m in intake.medications.all()
        ],
        "trials": [
            {
                "drug": t.drug,
                "dose": t.dose,
                "duration_weeks": t.duration_weeks,
                "adequate": t.adequate,
                "outcome": t.outcome,
                "current_episode": t.current_episode,
            }
            for t in intake.trials.all()
        ],
    }


def _intake_for_editing(actor: User, patient_uuid: uuid.UUID) -> Intake:
    """The page's start: the patient (audited), then the current intake or a new draft."""
    require(actor, Capability.INTAKE_EDIT)  # before looking anything up
    patient = patient_get(actor=actor, patient_uuid=patient_uuid, purpose="intake")
    intake = services.intake_start(actor=actor, patient=patient)
    intake.patient = patient
    return intake


@router.get(
    "/patients/{patient_uuid}/intake",
    response={200: IntakeRead},
    openapi_extra=etag_openapi(200),
    summary="The patient's intake",
    description=(
        "The current intake's answers as kept, with its ETag. The care team's prescribers and "
        "nurses, as the intake page; like the page, a patient without an intake gets a new "
        "draft. An unanswered question is null: never read it as no."
    ),
    operation_id="intake_read",
)
def intake_read(request, patient_uuid: uuid.UUID, response: HttpResponse):
    intake = _intake_for_editing(request.auth, patient_uuid)
    return _intake_read(intake, response)


@router.patch(
    "/patients/{patient_uuid}/intake",
    response={200: IntakeRead, **CHANGE_ERRORS},
    openapi_extra=etag_openapi(200),
    summary="Change the intake's answers (and submit it)",
    description=(
        "As the intake page's Save (and Submit, with `submit: true`): only the answers sent "
        "change, checked as the page checks them (every problem at once, 422 naming each "
        "field, table cells as `medications.<row>.<field>`). After submission every change "
        "bumps the revision, which puts a signed decision due for review. `If-Match` "
        "required."
    ),
    operation_id="intake_change",
)
def intake_change(
    request,
    patient_uuid: uuid.UUID,
    payload: IntakeChange,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    intake = _intake_for_editing(request.auth, patient_uuid)
    data = payload.model_dump(exclude_unset=True)
    medications, trials = data.pop("medications", None), data.pop("trials", None)
    submit = data.pop("submit", False)
    if "condition_answers" in data:
        data["condition_answers"] = {
            **(intake.condition_answers or {}),
            **(data["condition_answers"] or {}),
        }
    if "indication" in data:
        data["indication"] = data["indication"] or ""  # the service's "not given"
    for name in ("weight_kg", "height_cm"):
        if data.get(name) is not None:
            data[name] = str(data[name])  # the service reads it as a decimal
    saved = services.intake_save(
        actor=request.auth,
        intake=intake,
        data=data,
        medications=medications,
        trials=trials,
        submit=submit,
        precondition=precondition(if_match, intake_etag),
    )
    return _intake_read(review.intake_current(patient=saved.patient) or saved, response)


# --------------------------------------------------------------------------- eligibility


class Justification(Schema):
    rule: str = Field(description="The relative finding's rule code (screening-rules.md).")
    text: str


class EligibilityDecisionRead(Schema):
    uuid: uuid.UUID
    outcome: OutcomeCode  # type: ignore[valid-type]
    approved_routes: list[RouteCode]  # type: ignore[valid-type]
    justifications: list[Justification] = Field(
        description="Why the prescriber proceeds despite each relative finding, by rule code."
    )
    awaiting: str
    intake_revision: int
    rule_set_version: int
    signed_by: StaffName
    signed_at: datetime.datetime
    needs_review: bool = Field(description="The intake changed after it was signed.")


class RemsEnrolmentRead(Schema):
    uuid: uuid.UUID
    enrolled_on: datetime.date
    rems_patient_id: str
    signed_by_patient: bool
    signed_by_prescriber: StaffName
    recorded_at: datetime.datetime


class IntakeVersion(Schema):
    uuid: uuid.UUID
    status: IntakeStatusCode  # type: ignore[valid-type]
    revision: int


class EligibilityRead(Schema):
    intake: IntakeVersion | None = Field(description="null: no intake yet")
    evaluation: ScreeningEvaluationRead | None = Field(
        description="The current rule set's evaluation of the intake, as "
        "POST /api/v1/screening/evaluate answers; null without an intake, or while "
        "`evaluation_error` says what in the record contradicts it."
    )
    rule_set_version: int | None
    evaluation_error: str
    decisions: list[EligibilityDecisionRead] = Field(description="Newest first.")
    rems: RemsEnrolmentRead | None


def _staff(user: User) -> dict[str, Any]:
    return {"uuid": user.uuid, "name": user.display_name}


def _decision(decision: EligibilityDecision, newest: Intake | None) -> dict[str, Any]:
    return {
        "uuid": decision.uuid,
        "outcome": decision.outcome,
        "approved_routes": decision.approved_routes,
        "justifications": [
            {"rule": rule, "text": text} for rule, text in decision.justifications.items()
        ],
        "awaiting": decision.awaiting,
        "intake_revision": decision.intake_revision,
        "rule_set_version": decision.rule_set.version,
        "signed_by": _staff(decision.signed_by),
        "signed_at": decision.signed_at,
        "needs_review": needs_review(decision, newest=newest),
    }


def _rems(enrolment: RemsEnrollment) -> dict[str, Any]:
    return {
        "uuid": enrolment.uuid,
        "enrolled_on": enrolment.enrolled_on,
        "rems_patient_id": enrolment.rems_patient_id,
        "signed_by_patient": enrolment.signed_by_patient,
        "signed_by_prescriber": _staff(enrolment.signed_by_prescriber),
        "recorded_at": enrolment.created_at,
    }


@router.get(
    "/patients/{patient_uuid}/eligibility",
    response={200: EligibilityRead},
    summary="The patient's eligibility: the rules' evaluation and the signed decisions",
    description=(
        "As the eligibility review page: clinical staff on the care team. `missing` lists "
        "what the intake has not answered; while it is not empty, every route not "
        "ineligible is incomplete (unanswered is never no)."
    ),
    operation_id="eligibility_read",
)
def eligibility_read(request, patient_uuid: uuid.UUID):
    actor = request.auth
    require(actor, Capability.PATIENT_VIEW_CLINICAL)  # before looking anything up
    subject = review.eligibility_review_subject(actor=actor, patient_uuid=patient_uuid)
    shown = review.eligibility_review_get(actor=actor, subject=subject)
    intake = subject.intake
    return {
        "intake": (
            {"uuid": intake.uuid, "status": intake.status, "revision": intake.revision}
            if intake
            else None
        ),
        "evaluation": shown.evaluation.as_dict() if shown.evaluation else None,
        "rule_set_version": shown.rule_set_version.version if shown.rule_set_version else None,
        "evaluation_error": shown.evaluation_error,
        "decisions": [_decision(d, intake) for d in shown.decisions],
        "rems": _rems(shown.rems) if shown.rems else None,
    }


class JustificationIn(RequestBody):
    rule: OneLine = Field(max_length=64, description="The relative finding's rule code.")
    text: MultiLine = Field(description="Why proceeding despite it.")


class EligibilityDecisionSign(RequestBody):
    outcome: OutcomeCode  # type: ignore[valid-type]
    approved_routes: list[RouteCode] = Field(  # type: ignore[valid-type]
        default_factory=list, max_length=len(Route.values)
    )
    justifications: list[JustificationIn] = Field(
        default_factory=list,
        max_length=50,
        description="Each relative finding on an approved route needs one (as on the page).",
    )
    awaiting: MultiLine = Field("", max_length=2000, description="For `deferred`: what for.")
    intake_revision: StrictInt = Field(
        description="The intake revision you reviewed (GET …/eligibility): a decision is "
        "signed on what was read, so a changed intake is 409 `intake_changed`."
    )


@router.post(
    "/patients/{patient_uuid}/eligibility/decisions",
    response={201: EligibilityDecisionRead, 404: ApiError, 409: ApiError},
    summary="Sign the eligibility decision",
    description=(
        "As the review page's sign-off: a prescriber on the care team. 409 "
        "`intake_not_submitted`, `intake_changed` (the revision is no longer the intake's) or "
        "`conflict` (the record contradicts the intake); 422 for a route closed by an absolute "
        "finding, a route still incomplete, or a missing justification. 404 without an intake."
    ),
    operation_id="eligibility_decision_sign",
)
def eligibility_decision_sign(request, patient_uuid: uuid.UUID, payload: EligibilityDecisionSign):
    actor = request.auth
    require(actor, Capability.ELIGIBILITY_SIGN)  # before looking anything up
    subject = review.eligibility_review_subject(
        actor=actor, patient_uuid=patient_uuid, to_sign=True
    )
    assert subject.intake is not None  # to_sign refuses a patient without one
    decision = services.decision_sign(
        actor=actor,
        intake=subject.intake,
        outcome=payload.outcome,
        approved_routes=payload.approved_routes,
        justifications={item.rule: item.text for item in payload.justifications},
        awaiting=payload.awaiting,
        expected_revision=payload.intake_revision,
    )
    decision = EligibilityDecision.objects.select_related("signed_by", "rule_set").get(
        pk=decision.pk
    )
    return Status(201, _decision(decision, review.intake_current(patient=subject.patient)))


class RemsEnrolmentRecord(RequestBody):
    enrolled_on: datetime.date
    signed_by_patient: StrictBool = Field(
        description="The patient signed the Patient Enrollment Form (must be true)."
    )
    rems_patient_id: OneLine = Field("", max_length=40, description="As the REMS issued it.")


@router.post(
    "/patients/{patient_uuid}/rems-enrolments",
    response={201: RemsEnrolmentRead},
    summary="Record the patient's esketamine REMS enrolment",
    description=(
        "As the REMS page: a prescriber on the care team, who signs it. 422 when the patient "
        "has not signed, or for an enrolment date in the future or before birth."
    ),
    operation_id="rems_enrolment_record",
)
def rems_enrolment_record(request, patient_uuid: uuid.UUID, payload: RemsEnrolmentRecord):
    actor = request.auth
    require(actor, Capability.ELIGIBILITY_SIGN)  # before looking anything up
    patient = patient_get(actor=actor, patient_uuid=patient_uuid, purpose="REMS")
    if not can_act_clinically(actor=actor, patient=patient, capability=Capability.ELIGIBILITY_SIGN):
        raise PermissionDenied("Only a prescriber on the care team records REMS enrolment.")
    enrolment = services.rems_record(
        actor=actor,
        patient=patient,
        enrolled_on=payload.enrolled_on,
        signed_by_patient=payload.signed_by_patient,
        prescriber=actor,
        rems_patient_id=payload.rems_patient_id,
    )
    return Status(201, _rems(enrolment))
