"""What a prior-authorization request says, gathered from the record, and how it stands against
a payer's checklist.

`packet_for` reads the record once, when the request is drafted or refreshed, into plain JSON
(kept on the request, so the packet sent is the packet shown later): the diagnosis, each
antidepressant trial from the intake with its dose and duration and the rules engine's count of
failed adequate trials and TRD verdict (and the prescriber's signed decision), the latest
PHQ-9 and MADRS totals, the REMS enrolment and the prescriber's NPI. `checklist` then says, per
criterion, whether the packet documents it, and shows what is missing. Scores are totals only:
questionnaire answers stay in the clinical record.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from clinic.accounts.models import User
from clinic.assessments.models import AssessmentResponse
from clinic.billing.models import (
    Coverage,
    Diagnosis,
    Evidence,
    PayerCriterion,
    PriorAuthorization,
)
from clinic.core.exceptions import Conflict
from clinic.patients.models import Patient
from clinic.screening.choices import TrialOutcome
from clinic.screening.models import Intake, RemsEnrollment
from clinic.screening.selectors import intake_evaluate, latest_decision

ADULT_YEARS = 18  # the esketamine label's adult population (clinical-reference.md §3)
OUTCOME_WORDS = dict(TrialOutcome.choices)


def us_date(iso: str | None) -> str:
    """A packet's ISO date as the clinic's pages print dates (MM/DD/YYYY)."""
    if not iso:
        return ""
    return datetime.date.fromisoformat(iso).strftime("%m/%d/%Y")


def _score(patient: Patient, code: str) -> dict[str, Any] | None:
    response = (
        AssessmentResponse.objects.valid()
        .filter(patient=patient, instrument_code=code, complete=True, total__isnull=False)
        .order_by("-taken_at", "-id")
        .first()
    )
    if response is None:
        return None
    return {
        "total": response.total,
        "taken_on": timezone.localtime(response.taken_at).date().isoformat(),
    }


def packet_for(
    *,
    patient: Patient,
    coverage: Coverage,
    diagnosis: Diagnosis | None,
    prescriber: User,
    route: str,
) -> dict[str, Any]:
    intake = Intake.objects.filter(patient=patient).order_by("-created_at", "-id").first()
    trials: list[dict[str, Any]] = []
    evaluation = None
    if intake is not None:
        trials = [
            {
                "drug": t.drug,
                "dose": t.dose,
                "duration_weeks": t.duration_weeks,
                "adequate": t.adequate,
                "outcome": OUTCOME_WORDS.get(t.outcome, t.outcome),
                "current_episode": t.current_episode,
            }
            for t in intake.trials.all()
        ]
        try:
            evaluation, _ = intake_evaluate(intake)
        except Conflict:
            evaluation = None  # the intake contradicts the record: the checklist says missing
    decision = latest_decision(patient)
    enrolment = RemsEnrollment.objects.filter(patient=patient).order_by("-enrolled_on").first()
    plan = coverage.plan
    return {
        "prepared_on": timezone.localdate().isoformat(),
        "route": route,
        "patient": {
            "name": patient.full_name,
            "date_of_birth": patient.date_of_birth.isoformat(),
            "age_years": patient.age_years(),
            "mrn": patient.mrn,
        },
        "coverage": {
            "payer": plan.payer.name,
            "plan": plan.name,
            "member_id": coverage.member_id,
            "group_number": coverage.group_number,
        },
        "diagnosis": (
            {"code": diagnosis.icd10_code, "description": diagnosis.description}
            if diagnosis is not None
            else None
        ),
        "trials": trials,
        "failed_adequate_trials": (
            evaluation.failed_adequate_trials if evaluation is not None else None
        ),
        "treatment_resistant": evaluation.treatment_resistant if evaluation is not None else None,
        "decision": (
            {
                "outcome": decision.get_outcome_display(),
                "signed_on": timezone.localtime(decision.signed_at).date().isoformat(),
                "signed_by": decision.signed_by.display_name,
                "treatment_resistant": decision.evaluation.get("treatment_resistant"),
            }
            if decision is not None
            else None
        ),
        "phq9": _score(patient, "phq9"),
        "madrs": _score(patient, "madrs"),
        "rems": (
            {
                "enrolled_on": enrolment.enrolled_on.isoformat(),
                "rems_patient_id": enrolment.rems_patient_id,
            }
            if enrolment is not None
            else None
        ),
        "prescriber": {"name": prescriber.display_name, "npi": prescriber.npi},
    }


@dataclass(frozen=True)
class CheckedCriterion:
    criterion: PayerCriterion
    documented: bool
    detail: str


def _at_least(value: int | None, threshold: int | None) -> bool:
    return value is not None and (threshold is None or value >= threshold)


def _check(criterion: PayerCriterion, packet: dict[str, Any], manual: dict[str, Any]):
    kind, threshold = criterion.evidence, criterion.threshold
    if kind == Evidence.AGE_ADULT:
        age = packet["patient"]["age_years"]
        return age >= ADULT_YEARS, f"{age} years old"
    if kind == Evidence.DIAGNOSIS:
        found = packet["diagnosis"]
        if found is None:
            return False, "No primary diagnosis on the problem list."
        return True, f"{found['code']} {found['description']}"
    if kind == Evidence.FAILED_TRIALS:
        count = packet["failed_adequate_trials"]
        if count is None:
            return False, "No intake with antidepressant trials."
        return _at_least(count, threshold), f"{count} failed adequate trial(s) in the intake"
    if kind == Evidence.TREATMENT_RESISTANT:
        decision = packet["decision"]
        if decision is None:
            return False, "No signed eligibility decision."
        verdict = bool(decision["treatment_resistant"])
        words = "treatment-resistant" if verdict else "not treatment-resistant"
        return (
            verdict,
            f"Signed {us_date(decision['signed_on'])} by {decision['signed_by']}: {words}",
        )
    if kind in (Evidence.BASELINE_PHQ9, Evidence.BASELINE_MADRS):
        name = "PHQ-9" if kind == Evidence.BASELINE_PHQ9 else "MADRS"
        score = packet["phq9" if kind == Evidence.BASELINE_PHQ9 else "madrs"]
        if score is None:
            return False, f"No {name} on record."
        return (
            _at_least(score["total"], threshold),
            f"{name} {score['total']} on {us_date(score['taken_on'])}",
        )
    if kind == Evidence.REMS_ENROLLED:
        rems = packet["rems"]
        if rems is None:
            return False, "Not enrolled in the Spravato REMS."
        return True, f"Enrolled {us_date(rems['enrolled_on'])}"
    if kind == Evidence.PRESCRIBER_NPI:
        npi = packet["prescriber"]["npi"]
        return bool(npi), (f"NPI {npi}" if npi else "No NPI on the prescriber's staff record.")
    checked = bool(manual.get(str(criterion.pk)))
    return checked, ("Checked by hand." if checked else "Not checked yet.")


def checklist(
    authorization: PriorAuthorization, criteria: list[PayerCriterion]
) -> list[CheckedCriterion]:
    """Each of the payer's active criteria: documented or missing, and where it stands."""
    rows = []
    for criterion in criteria:
        documented, detail = _check(criterion, authorization.packet, authorization.manual_checks)
        rows.append(CheckedCriterion(criterion, documented, detail))
    return rows


@dataclass(frozen=True)
class Usage:
    used: int
    left: int | None
    ends_in_days: int | None


def usage_of(authorization: PriorAuthorization, used: int, today: datetime.date) -> Usage:
    """How much of an approval is spent: signed sessions of its route within its dates."""
    left = (
        None
        if authorization.approved_sessions is None
        else max(authorization.approved_sessions - used, 0)
    )
    ends_in = None if authorization.ends_on is None else (authorization.ends_on - today).days
    return Usage(used=used, left=left, ends_in_days=ends_in)
