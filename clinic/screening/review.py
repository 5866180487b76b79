"""The prescriber's eligibility review page, read in one place: whose review it is and what
the reader may do (`eligibility_review_subject`), then everything the page shows
(`eligibility_review_get`): the intake's answers, its evaluation grouped by route, the
baseline scores, the decisions signed so far. Nothing here writes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.assessments.models import AssessmentResponse
from clinic.core.exceptions import Conflict, NotFound, PermissionDenied
from clinic.patients.models import Patient
from clinic.patients.selectors import (
    can_act_clinically,
    patient_get,
    require_clinical_view,
)
from clinic.screening.choices import (
    Condition,
    Indication,
    Route,
)
from clinic.screening.models import (
    EligibilityDecision,
    Intake,
    RemsEnrollment,
    RuleSetVersion,
)
from clinic.screening.rules import (
    ELIGIBLE,
    ELIGIBLE_WITH_PRECAUTIONS,
    Evaluation,
    Finding,
    missing_in_words,
    rule_title,
)
from clinic.screening.selectors import (
    decision_intake_gaps,
    intake_evaluate,
    needs_review,
)


def intake_current(*, patient: Patient) -> Intake | None:
    """The patient's current intake (the latest), with its medicines and trials."""
    return (
        Intake.objects.filter(patient=patient)
        .prefetch_related("medications", "trials")
        .order_by("-created_at", "-id")
        .first()
    )


@dataclass(frozen=True)
class ReviewSubject:
    """Whose eligibility is reviewed, the intake it rests on, and what the reader may do."""

    patient: Patient
    intake: Intake | None
    can_sign: bool


def eligibility_review_subject(
    *, actor: User, patient_uuid: uuid.UUID | str, to_sign: bool = False
) -> ReviewSubject:
    """The patient (audited as the eligibility review) for a reader with clinical view; with
    `to_sign`, only for a prescriber on the care team, and only when there is an intake."""
    patient = patient_get(actor=actor, patient_uuid=patient_uuid, purpose="eligibility review")
    require_clinical_view(actor=actor, patient=patient, purpose="eligibility review")
    intake = intake_current(patient=patient)
    can_sign = can_act_clinically(
        actor=actor, patient=patient, capability=Capability.ELIGIBILITY_SIGN
    )
    if to_sign:
        if not can_sign:
            raise PermissionDenied(
                "Only a prescriber on the care team signs the eligibility decision."
            )
        if intake is None:
            raise NotFound("There is no intake to decide on yet.")
    return ReviewSubject(patient=patient, intake=intake, can_sign=can_sign)


# Inputs only staff enter (the patient's link does not ask them), as the engine names them.
STAFF_ONLY_INPUTS = ("blood_pressure", "heart_rate", "indication")
YES_NO_WORDS = {True: "Yes", False: "No", None: "Not answered"}
FINDING_ORDER = {"absolute": 0, "relative": 1, "caution": 2}
BASELINE_INSTRUMENTS = ("phq9", "gad7", "pcl5", "qids-sr16", "cssrs-screen")


@dataclass(frozen=True)
class RouteFindings:
    """One route's verdict and its findings, most serious first."""

    route: str
    label: str
    verdict: str
    findings: list[Finding]


@dataclass(frozen=True)
class IntakeAnswers:
    """The explicit answers as the review shows them: unanswered said as "Not answered"."""

    conditions_yes: list[str]
    conditions_unanswered: list[str]
    conditions_total: int
    pregnant: str
    breastfeeding: str
    takes_medications: str
    tried_antidepressants: str
    home_bp_monitor: str


@dataclass(frozen=True)
class EligibilityReview:
    """Everything the review page shows besides the decision being entered."""

    subject: ReviewSubject
    evaluation: Evaluation | None
    rule_set_version: RuleSetVersion | None
    evaluation_error: str
    decisions: list[EligibilityDecision]
    latest_needs_review: bool
    baseline: list[AssessmentResponse]
    rems: RemsEnrollment | None
    can_edit_intake: bool
    groups: list[RouteFindings]
    relative_findings: list[Finding]
    # Routes the prescriber may open (the engine found them eligible), and the others.
    offerable: list[tuple[str, str]]
    not_offered: list[tuple[str, str]]
    missing_words: list[str]
    staff_inputs_missing: bool
    answers: IntakeAnswers | None
    indication_label: str

    @property
    def latest(self) -> EligibilityDecision | None:
        return self.decisions[0] if self.decisions else None


def _baseline_scores(patient: Patient) -> list[AssessmentResponse]:
    latest: dict[str, AssessmentResponse] = {}
    for response in (
        AssessmentResponse.objects.valid()
        .filter(patient=patient, instrument_code__in=list(BASELINE_INSTRUMENTS))
        .order_by("taken_at", "id")
    ):
        latest.setdefault(response.instrument_code, response)  # the first (baseline) of each
    return list(latest.values())


def _grouped(evaluation: Evaluation) -> list[RouteFindings]:
    return [
        RouteFindings(
            route=route,
            label=Route(route).label,
            verdict=evaluation.routes[route],
            findings=sorted(
                (f for f in evaluation.findings if route in f.routes),
                key=lambda f: FINDING_ORDER[f.level],
            ),
        )
        for route in Route.values
    ]


def _intake_answers(intake: Intake) -> IntakeAnswers:
    return IntakeAnswers(
        conditions_yes=[Condition(code).label for code in intake.conditions],
        conditions_unanswered=[Condition(code).label for code in intake.conditions_unanswered],
        conditions_total=len(Condition.values),
        pregnant=YES_NO_WORDS[intake.pregnant],
        breastfeeding=YES_NO_WORDS[intake.breastfeeding],
        takes_medications=YES_NO_WORDS[intake.takes_medications],
        tried_antidepressants=YES_NO_WORDS[intake.tried_antidepressants],
        home_bp_monitor=YES_NO_WORDS[intake.home_bp_monitor],
    )


def _decisions(patient: Patient) -> list[EligibilityDecision]:
    """The patient's decisions, newest first, each with the gaps of the intake behind it and
    its justifications under the rules' titles."""
    decisions = list(
        EligibilityDecision.objects.filter(patient=patient)
        .select_related("signed_by", "rule_set", "intake__patient")
        .prefetch_related("intake__medications")
    )
    for decision in decisions:
        decision.gaps = decision_intake_gaps(decision)  # type: ignore[attr-defined]  # shown beside the decision
        decision.justification_items = [  # type: ignore[attr-defined]  # shown beside the decision
            (rule_title(code), text) for code, text in decision.justifications.items()
        ]
    return decisions


def eligibility_review_get(*, actor: User, subject: ReviewSubject) -> EligibilityReview:
    """The review page's read model, for a subject `eligibility_review_subject` returned."""
    patient, intake = subject.patient, subject.intake
    evaluation: Evaluation | None = None
    version: RuleSetVersion | None = None
    evaluation_error = ""
    if intake is not None:
        try:
            evaluation, version = intake_evaluate(intake)
        except Conflict as error:
            evaluation_error = error.message
    decisions = _decisions(patient)
    missing = evaluation.missing if evaluation else ()
    offerable = (
        [
            (value, label)
            for value, label in Route.choices
            if evaluation.routes[value] in (ELIGIBLE, ELIGIBLE_WITH_PRECAUTIONS)
        ]
        if evaluation
        else []
    )
    return EligibilityReview(
        subject=subject,
        evaluation=evaluation,
        rule_set_version=version,
        evaluation_error=evaluation_error,
        decisions=decisions,
        latest_needs_review=bool(decisions) and needs_review(decisions[0]),
        baseline=_baseline_scores(patient),
        rems=RemsEnrollment.objects.filter(patient=patient)
        .select_related("signed_by_prescriber")
        .first(),
        can_edit_intake=can_act_clinically(
            actor=actor, patient=patient, capability=Capability.INTAKE_EDIT
        ),
        groups=_grouped(evaluation) if evaluation else [],
        relative_findings=[f for f in evaluation.findings if f.level == "relative"]
        if evaluation
        else [],
        offerable=offerable,
        not_offered=[
            (label, evaluation.routes[value])
            for value, label in Route.choices
            if (value, label) not in offerable
        ]
        if evaluation
        else [],
        missing_words=missing_in_words(missing),
        staff_inputs_missing=bool(
            intake is not None
            and intake.source == "patient_link"
            and set(missing) & set(STAFF_ONLY_INPUTS)
        ),
        answers=_intake_answers(intake) if intake else None,
        indication_label=Indication(intake.indication).label
        if intake and intake.indication in Indication.values
        else "",
    )
