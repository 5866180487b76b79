"""Screening's reads: the front desk's consultation queue, an intake and its evaluation, the
signed decisions, the gate treatment planning asks before any plan, and the rule set in
force. The eligibility review page's own read model is `screening/review.py`.

Reads a request reaches take the actor and check it (the queue needs `consultation.manage`;
the eligibility review needs clinical view of the patient). The reads other stages of care
make (`planning_clearance`, `latest_decision`, `allergies_by_patient`) take a patient the
caller has already reached, and read no more than asked."""

from __future__ import annotations

import datetime
import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.assessments.models import AssessmentResponse
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, InvalidInput, NotFound
from clinic.core.parsing import record_uuid
from clinic.patients.duplicates import DuplicateCandidate
from clinic.patients.models import Patient
from clinic.patients.selectors import (
    patient_duplicate_candidates,
)
from clinic.screening.choices import (
    ConsultationStatus,
    DecisionOutcome,
    Route,
    seeking_help_label,
)
from clinic.screening.models import (
    ConsultationRequest,
    EligibilityDecision,
    Intake,
    IntakeLink,
    RemsEnrollment,
    RuleSetVersion,
)
from clinic.screening.rules import (
    Evaluation,
    IntakeError,
    IntakeFacts,
    RuleSet,
    TrialFacts,
    missing_in_words,
    rule_set_from_policy,
)

OBJECT_TYPE = "consultation_request"

# ---------------------------------------------------------------------------------------
# The front desk's consultation queue


# The queue's filters: the open requests (new and contacted) by default.
OPEN_STATUSES = (ConsultationStatus.NEW, ConsultationStatus.CONTACTED)
STATUS_FILTER_OPEN = "open"
STATUS_FILTER_ALL = "all"
STATUS_FILTERS = [
    (STATUS_FILTER_OPEN, "Open (new and contacted)"),
    *ConsultationStatus.choices,
    (STATUS_FILTER_ALL, "All"),
]


def consultation_request_page(
    *,
    actor: User,
    status: str = STATUS_FILTER_OPEN,
    page_number: int | str = 1,
    page_size: int | None = None,
) -> Page:
    """One page of the queue, newest first. `status` is one of STATUS_FILTERS' values."""
    require(actor, Capability.CONSULTATION_MANAGE)
    queryset = ConsultationRequest.objects.select_related("patient")
    if status == STATUS_FILTER_OPEN:
        queryset = queryset.filter(status__in=OPEN_STATUSES)
    elif status in ConsultationStatus.values:
        queryset = queryset.filter(status=status)
    elif status != STATUS_FILTER_ALL:
        raise InvalidInput({"status": ["Choose one of the listed statuses."]})
    paginator = Paginator(queryset, page_size or settings.PAGE_SIZE)
    page = paginator.get_page(page_number)
    page.object_list = list(page.object_list)
    for consultation in page.object_list:
        # The label the queue shows, beside the stored value.
        consultation.seeking_help_label = seeking_help_label(  # type: ignore[attr-defined]
            consultation.seeking_help_with
        )
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type=OBJECT_TYPE,
        summary=(
            f"Consultation requests ({status}) page {page.number}: "
            f"{len(page.object_list)} of {paginator.count}"
        ),
    )
    return page


def consultation_status_counts(*, actor: User) -> dict[str, int]:
    """How many requests are in each status, and how many are open (one query)."""
    require(actor, Capability.CONSULTATION_MANAGE)
    counts = ConsultationRequest.objects.aggregate(
        **{value: Count("pk", filter=Q(status=value)) for value in ConsultationStatus.values},
        **{STATUS_FILTER_ALL: Count("pk")},
    )
    counts[STATUS_FILTER_OPEN] = sum(counts[value] for value in OPEN_STATUSES)
    return counts


def consultation_request_get(
    *, actor: User, consultation_uuid: uuid.UUID | str, purpose: str = "detail"
) -> ConsultationRequest:
    """One request, for a reader with `consultation.manage`. Each read is audited."""
    require(actor, Capability.CONSULTATION_MANAGE)
    key = record_uuid(consultation_uuid)
    consultation = (
        ConsultationRequest.objects.select_related("patient", "status_changed_by")
        .filter(uuid=key)
        .first()
    )
    if consultation is None:
        raise NotFound("No such consultation request.")
    consultation.seeking_help_label = seeking_help_label(  # type: ignore[attr-defined]  # shown on the page
        consultation.seeking_help_with
    )
    audit_record(
        actor=actor,
        action=AuditAction.VIEW,
        object_type=OBJECT_TYPE,
        object_id=consultation.uuid,
        patient=consultation.patient,
        summary=f"Consultation request opened ({purpose})",
    )
    return consultation


def consultation_duplicate_candidates(
    *,
    actor: User,
    consultation: ConsultationRequest,
    given_name: str | None = None,
    family_name: str | None = None,
    date_of_birth: datetime.date | None = None,
    email: str | None = None,
    phone: str | None = None,
) -> list[DuplicateCandidate]:
    """Patients who may already be this person, by the one check every registration runs
    (clinic/patients/duplicates.py). Values given here (what the front desk is about to
    register) take the place of the request's own."""
    require(actor, Capability.CONSULTATION_MANAGE)
    return patient_duplicate_candidates(
        actor=actor,
        given_name=consultation.given_name if given_name is None else given_name,
        family_name=consultation.family_name if family_name is None else family_name,
        date_of_birth=date_of_birth or consultation.date_of_birth,
        email=consultation.email if email is None else email,
        phones=[consultation.phone if phone is None else phone],
        purpose="for a consultation request",
        object_id=consultation.uuid,
    )


# ---------------------------------------------------------------------------------------
# Intake


def intake_link_digest(token: str) -> str:
    """What is stored of a link's token: its digest, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def intake_link_by_digest(digest: str | None) -> IntakeLink:
    link = (
        IntakeLink.objects.select_related("intake", "intake__patient")
        .filter(token_digest=digest)
        .first()
        if digest
        else None
    )
    if link is None or link.used_at is not None or link.expires_at <= timezone.now():
        raise NotFound("This link has expired or was already used. Ask the clinic for a new one.")
    return link


def latest_cssrs_risk(patient: Patient) -> str | None:
    response = (
        AssessmentResponse.objects.valid()
        .filter(patient=patient, instrument_code="cssrs-screen")
        .exclude(severity="")
        .order_by("-taken_at", "-id")
        .first()
    )
    return response.severity if response else None


def _medication_classes(intake: Intake) -> tuple[str, ...] | None:
    """Known when the patient takes no medicines, or takes some and each is listed with its
    class (listed rows answer yes, as the services and the data migration read them); unknown
    (None) while "takes any medicines now?" is unanswered and nothing is listed."""
    if intake.takes_medications is False:
        return ()
    rows = list(intake.medications.all())
    if rows:
        return tuple(sorted({m.medication_class for m in rows} - {"other"}))
    return None


def intake_facts(intake: Intake, *, cssrs_risk: str | None) -> IntakeFacts:
    """What the rules engine needs, from the intake and the patient's record."""
    patient = intake.patient
    return IntakeFacts(
        age_years=patient.age_years(),
        sex=patient.sex,
        pregnant=intake.pregnant,
        breastfeeding=intake.breastfeeding,
        weight_kg=intake.weight_kg,
        height_cm=intake.height_cm,
        systolic_mmhg=intake.systolic_mmhg,
        diastolic_mmhg=intake.diastolic_mmhg,
        heart_rate_bpm=intake.heart_rate_bpm,
        indication=intake.indication or None,
        # Known only when every condition has a yes or a no; otherwise not asked (None).
        conditions=tuple(intake.conditions) if intake.conditions_known else None,
        medication_classes=_medication_classes(intake),
        antidepressant_trials=tuple(
            TrialFacts(t.drug, t.adequate, t.outcome, t.current_episode)
            for t in intake.trials.all()
        ),
        cssrs_risk=cssrs_risk,
        home_treatment_monitor=bool(intake.home_treatment_monitor_name.strip()),
        home_bp_monitor=bool(intake.home_bp_monitor),
    )


def allergies_by_patient(patient_ids: Iterable[int]) -> dict[int, str]:
    """Each patient's allergies as their latest intake records them, in one query. A patient
    missing from the result has none recorded: unknown, never "none" (an intake saying "None
    known" says so in words)."""
    found: dict[int, str] = {}
    for patient_id, allergies in (
        Intake.objects.filter(patient_id__in=list(patient_ids))
        .order_by("patient_id", "-created_at", "-id")
        .values_list("patient_id", "allergies")
    ):
        if patient_id not in found:
            found[patient_id] = allergies.strip()
    return {patient_id: text for patient_id, text in found.items() if text}


# ---------------------------------------------------------------------------------------
# Evaluation and the signed decisions


def intake_evaluate(intake: Intake) -> tuple[Evaluation, RuleSetVersion]:
    """Raises Conflict when the intake and the record contradict each other (e.g. the
    demographics changed to male after pregnancy was recorded): fix the record first."""
    version = current_rule_set_version()
    facts = intake_facts(intake, cssrs_risk=latest_cssrs_risk(intake.patient))
    try:
        return rule_set_for(version).evaluate(facts), version
    except IntakeError as error:
        raise Conflict(
            f"The intake cannot be evaluated: {error.message} Correct the intake or the "
            "demographics first.",
            code="intake_contradiction",
        ) from error


@dataclass(frozen=True)
class Clearance:
    allowed: bool
    reason: str
    # Said where the plan is made, without refusing it: e.g. a decision signed before
    # unanswered questions counted as unknown, on an intake with gaps (ADR 0010).
    warning: str = ""


@dataclass(frozen=True)
class IntakeGaps:
    """What the intake behind a signed decision left unanswered, and how we know.

    `how` is "recorded" (the decision stored its own evaluation's `missing`), "rechecked"
    (a decision signed before `missing` existed, re-checked against the same intake revision,
    which has not changed since), or "unknown" (an older decision whose intake has changed
    since: the answers it was signed on are no longer on the intake, so its gaps cannot be
    told; that decision needs re-review anyway)."""

    how: str
    missing: tuple[str, ...] = ()

    @property
    def words(self) -> list[str]:
        return missing_in_words(self.missing)


def decision_intake_gaps(decision: EligibilityDecision) -> IntakeGaps:
    """See IntakeGaps and docs/adr/0010-unanswered-is-unknown.md. Signed decisions are never
    changed: this only reads them. `decision.intake` (with its patient and medications) should
    be loaded by the caller when it lists many decisions."""
    stored = decision.evaluation.get("missing") if isinstance(decision.evaluation, dict) else None
    if stored is not None:
        return IntakeGaps("recorded", tuple(stored))
    intake = decision.intake
    if intake.revision != decision.intake_revision:
        return IntakeGaps("unknown")
    # The intake is at the revision the prescriber reviewed. The data migration of issue 11
    # turned its unticked history boxes into unanswered questions (it could not know they
    # meant "no"), so this shows what the prescriber could not have known.
    facts = intake_facts(intake, cssrs_risk=None)
    return IntakeGaps("rechecked", facts.missing())


def latest_indication(patient: Patient) -> str:
    """The indication on the patient's newest intake ("" when none says): the problem list
    suggests ICD-10-CM codes from it."""
    return (
        Intake.objects.filter(patient=patient)
        .order_by("-created_at", "-id")
        .values_list("indication", flat=True)
        .first()
        or ""
    )


class Unread:
    """`needs_review`'s default: the latest intake has not been read by the caller."""


UNREAD = Unread()


def latest_decision(patient: Patient) -> EligibilityDecision | None:
    return (
        EligibilityDecision.objects.filter(patient=patient)
        .select_related("intake", "signed_by", "rule_set")
        .order_by("-signed_at", "-id")
        .first()
    )


def latest_intake(patient: Patient | int) -> Intake | None:
    """The patient's latest intake (the patient, or their id)."""
    return Intake.objects.filter(patient=patient).order_by("-created_at", "-id").first()


def needs_review(decision: EligibilityDecision, *, newest: Intake | None | Unread = UNREAD) -> bool:
    """True when the intake changed after the decision was signed (or a newer intake exists).
    `newest`: the patient's latest intake, when the caller has read it already."""
    if isinstance(newest, Unread):
        newest = latest_intake(decision.patient_id)
    return (
        newest is None
        or newest.pk != decision.intake_id
        or newest.revision != decision.intake_revision
    )


def planning_clearance(*, patient: Patient, route: str) -> Clearance:
    """Whether a treatment plan may be made for this route now: a current, signed 'eligible'
    decision that opens the route, and for esketamine a recorded REMS enrolment."""
    decision = latest_decision(patient)
    if decision is None:
        return Clearance(False, "No signed eligibility decision.")
    if needs_review(decision):
        return Clearance(False, "The intake changed after the decision: it must be re-signed.")
    if decision.outcome != DecisionOutcome.ELIGIBLE or route not in decision.approved_routes:
        return Clearance(False, f"The signed decision does not open {Route(route).label}.")
    if route == Route.ESKETAMINE and not RemsEnrollment.objects.filter(patient=patient).exists():
        return Clearance(False, "Esketamine needs the patient's REMS enrolment on record.")
    # Existing decisions are not revoked (issue 11); a gap in the intake behind one is said.
    gaps = decision_intake_gaps(decision)
    warning = (
        "The eligibility decision was signed on an intake with unanswered questions ("
        + ", ".join(gaps.words)
        + "): complete the intake and have the decision re-signed."
        if gaps.missing
        else ""
    )
    return Clearance(True, "Cleared by the signed eligibility decision.", warning)


# --------------------------------------------------------------------------- the rule set


def current_rule_set_version() -> RuleSetVersion:
    """The rule set in force (the latest version)."""
    latest = RuleSetVersion.objects.order_by("-version").first()
    if latest is None:
        # Version 1 (the defaults) is created by a data migration; recreate it if a test or a
        # database flush removed it.
        latest, _ = RuleSetVersion.objects.get_or_create(
            version=1, defaults={"policy": {}, "note": "Default rule set (screening-rules.md)"}
        )
    return latest


def rule_set_for(version: RuleSetVersion) -> RuleSet:
    return rule_set_from_policy(version.version, version.policy)


def current_rule_set() -> RuleSet:
    return rule_set_for(current_rule_set_version())
