"""The prescriber's eligibility decision: signed, audited, pinned to the intake revision and
the rule-set version; and the patient's esketamine REMS enrolment."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Sequence

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, InvalidInput, PermissionDenied
from clinic.core.parsing import date_problem
from clinic.core.records import required_text
from clinic.core.text import has_control_characters
from clinic.patients.models import Patient
from clinic.patients.selectors import can_act_clinically
from clinic.screening.choices import DecisionOutcome, IntakeStatus, Route
from clinic.screening.models import EligibilityDecision, Intake, RemsEnrollment
from clinic.screening.rules import INCOMPLETE, INELIGIBLE, Evaluation, missing_in_words, rule_title
from clinic.screening.selectors import intake_evaluate


def _content_hash(content: dict[str, object]) -> str:
    canonical = json.dumps(content, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_decision(
    evaluation: Evaluation,
    *,
    outcome: str,
    approved_routes: Sequence[str],
    justifications: dict[str, str],
    awaiting: str,
) -> tuple[list[str], dict[str, str]]:
    """The decision rules; InvalidInput names what is wrong. Returns routes and justifications
    kept (only those for relative findings on approved routes)."""
    if outcome not in DecisionOutcome.values:
        raise InvalidInput({"outcome": [f"Choose one of: {', '.join(DecisionOutcome.values)}."]})
    routes = [r for r in Route.values if r in set(approved_routes)]
    unknown = set(approved_routes) - set(Route.values)
    if unknown:
        raise InvalidInput(
            {"approved_routes": [f"Unknown route(s): {', '.join(sorted(unknown))}."]}
        )
    if outcome != DecisionOutcome.ELIGIBLE:
        if routes:
            raise InvalidInput({"approved_routes": ["Only an 'eligible' decision opens routes."]})
        if outcome == DecisionOutcome.DEFERRED and not awaiting.strip():
            raise InvalidInput({"awaiting": ["Say what the decision is waiting for."]})
        return [], {}
    if not routes:
        raise InvalidInput({"approved_routes": ["Choose at least one route."]})
    errors: dict[str, list[str]] = {}
    kept: dict[str, str] = {}
    for route in routes:
        if evaluation.routes.get(route) == INELIGIBLE:
            absolute = [
                rule_title(f.code)
                for f in evaluation.findings
                if f.level == "absolute" and route in f.routes
            ]
            errors.setdefault("approved_routes", []).append(
                f"{Route(route).label} is closed by an absolute finding "
                f"({'; '.join(absolute)}); it cannot be overridden."
            )
        elif evaluation.routes.get(route) == INCOMPLETE:
            # Unanswered is not "no" (calculators.md §3): never eligible on a gap.
            errors.setdefault("approved_routes", []).append(
                f"{Route(route).label} cannot be signed eligible: the intake is incomplete. "
                f"Not answered yet: {', '.join(missing_in_words(evaluation.missing))}."
            )
    for finding in evaluation.findings:
        if finding.level != "relative" or not set(finding.routes) & set(routes):
            continue
        text = (justifications.get(finding.code) or "").strip()
        if not text:
            errors.setdefault(f"justification_{finding.code}", []).append(
                f"Proceeding despite “{finding.title}” needs a written justification."
            )
        else:
            kept[finding.code] = required_text(f"justification_{finding.code}", text, "")
    if errors:
        raise InvalidInput(errors)
    return routes, kept


@transaction.atomic
def decision_sign(
    *,
    actor: User,
    intake: Intake,
    outcome: str,
    approved_routes: Sequence[str] = (),
    justifications: dict[str, str] | None = None,
    awaiting: str = "",
    expected_revision: int | None = None,
) -> EligibilityDecision:
    locked = Intake.objects.select_for_update().select_related("patient").get(pk=intake.pk)
    patient = Patient.objects.prefetch_related("care_team_members").get(pk=locked.patient_id)
    if not can_act_clinically(actor=actor, patient=patient, capability=Capability.ELIGIBILITY_SIGN):
        raise PermissionDenied("Only a prescriber on the care team signs the eligibility decision.")
    if locked.status != IntakeStatus.SUBMITTED:
        raise Conflict("The intake is not submitted yet.", code="intake_not_submitted")
    if expected_revision is not None and expected_revision != locked.revision:
        raise Conflict(
            "The intake changed while you were reviewing it. Review it again before signing.",
            code="intake_changed",
        )
    evaluation, version = intake_evaluate(locked)
    routes, kept = check_decision(
        evaluation,
        outcome=outcome,
        approved_routes=approved_routes,
        justifications=justifications or {},
        awaiting=awaiting,
    )
    signed_at = timezone.now()
    content = {
        "patient": str(patient.uuid),
        "intake": str(locked.uuid),
        "intake_revision": locked.revision,
        "rule_set_version": version.version,
        "evaluation": evaluation.as_dict(),
        "outcome": outcome,
        "approved_routes": routes,
        "justifications": kept,
        "awaiting": awaiting.strip(),
        "signed_by": str(actor.uuid),
        "signed_at": signed_at.isoformat(),
    }
    decision = EligibilityDecision.objects.create(
        patient=patient,
        intake=locked,
        intake_revision=locked.revision,
        rule_set=version,
        evaluation=evaluation.as_dict(),
        outcome=outcome,
        approved_routes=routes,
        justifications=kept,
        awaiting=awaiting.strip(),
        signed_by=actor,
        signed_at=signed_at,
        content_sha256=_content_hash(content),
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="eligibility_decision",
        object_id=decision.uuid,
        patient=patient,
        summary=f"Eligibility signed: {outcome}"
        + (f" ({', '.join(routes)})" if routes else "")
        + f"; rule set v{version.version}, intake revision {locked.revision}",
        changes={"justifications": {"before": None, "after": kept}},
    )
    return decision


@transaction.atomic
def rems_record(
    *,
    actor: User,
    patient: Patient,
    enrolled_on: datetime.date,
    signed_by_patient: bool,
    prescriber: User,
    rems_patient_id: str = "",
) -> RemsEnrollment:
    patient = Patient.objects.prefetch_related("care_team_members").get(pk=patient.pk)
    if not can_act_clinically(actor=actor, patient=patient, capability=Capability.ELIGIBILITY_SIGN):
        raise PermissionDenied("Only a prescriber on the care team records REMS enrolment.")
    errors: dict[str, list[str]] = {}
    if not signed_by_patient:
        errors["signed_by_patient"] = ["The patient must sign the REMS enrolment form."]
    if enrolled_on is None:
        errors["enrolled_on"] = ["Enter the enrolment date (not in the future)."]
    elif problem := date_problem(
        enrolled_on,
        today=timezone.localdate(),
        born_on=patient.date_of_birth,
        future_message="Enter the enrolment date (not in the future).",
    ):
        errors["enrolled_on"] = [problem]
    if prescriber is None or prescriber.role != "prescriber":
        errors["prescriber"] = ["The enrolment is signed by a prescriber."]
    rems_patient_id = (rems_patient_id or "").strip()
    if len(rems_patient_id) > 40 or has_control_characters(rems_patient_id):
        errors["rems_patient_id"] = ["Enter the ID as the REMS gave it (up to 40 characters)."]
    if errors:
        raise InvalidInput(errors)
    enrollment = RemsEnrollment.objects.create(
        patient=patient,
        enrolled_on=enrolled_on,
        rems_patient_id=rems_patient_id,
        signed_by_patient=True,
        signed_by_prescriber=prescriber,
        recorded_by=actor,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="rems_enrollment",
        object_id=enrollment.uuid,
        patient=patient,
        summary=f"Esketamine REMS enrolment recorded ({enrolled_on.isoformat()})",
    )
    return enrollment
