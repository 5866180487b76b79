"""Writes to prior authorizations and to the payers' checklists.

A request is drafted prefilled from the record (`prior_auth.packet_for`), refreshed while it is
a draft, then moves draft → submitted → approved or denied, and a denial may be appealed (then
approved or denied again). Every move is a `PriorAuthorizationChange` row and an audit event;
each runs under the request's row lock, so two people recording the payer's answer at once end
with one answer and the other is told. Billing manages any patient's requests; a prescriber
their care team's.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.billing import prior_auth
from clinic.billing.models import (
    Coverage,
    Diagnosis,
    DiagnosisStatus,
    Evidence,
    Payer,
    PayerCriterion,
    PriorAuthorization,
    PriorAuthorizationChange,
    PriorAuthStatus,
)
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, InvalidInput, PermissionDenied
from clinic.core.parsing import date_problem
from clinic.core.records import required_text
from clinic.patients.models import Patient
from clinic.patients.selectors import can_view_clinical

ROUTES = {"esketamine": "Esketamine nasal spray", "iv": "IV ketamine", "im": "IM ketamine"}
# Which status may follow which: the payer's answer comes after a submission or an appeal.
NEXT = {
    PriorAuthStatus.DRAFT: {PriorAuthStatus.SUBMITTED},
    PriorAuthStatus.SUBMITTED: {PriorAuthStatus.APPROVED, PriorAuthStatus.DENIED},
    PriorAuthStatus.DENIED: {PriorAuthStatus.APPEALED},
    PriorAuthStatus.APPEALED: {PriorAuthStatus.APPROVED, PriorAuthStatus.DENIED},
    PriorAuthStatus.APPROVED: set(),
}
# An approval longer than this is a typing error (payers approve 2 to 12 months [P26]).
APPROVAL_MAX_DAYS = 366
APPROVED_SESSIONS_MAX = 200


def may_manage(actor: User, patient: Patient) -> bool:
    if not actor.can(Capability.PRIOR_AUTH_MANAGE):
        return False
    if actor.can(Capability.PATIENT_VIEW_CLINICAL):
        return can_view_clinical(actor=actor, patient=patient)
    return True


def _require_manage(actor: User, patient: Patient) -> None:
    if not may_manage(actor, patient):
        raise PermissionDenied(
            "Billing, and the care team's prescribers, prepare prior authorizations.",
            capability=Capability.PRIOR_AUTH_MANAGE,
        )


def _change(
    actor: User, authorization: PriorAuthorization, to_status: str, note: str, summary: str
) -> None:
    PriorAuthorizationChange.objects.create(
        authorization=authorization,
        from_status=authorization.status if authorization.pk else "",
        to_status=to_status,
        note=note[:500],
        changed_by=actor,
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="prior_authorization",
        object_id=authorization.uuid,
        patient=authorization.patient,
        summary=summary[:300],
        changes={"status": to_status},
    )


def _primary_diagnosis(patient: Patient) -> Diagnosis | None:
    return Diagnosis.objects.filter(
        patient=patient,
        is_primary=True,
        status=DiagnosisStatus.ACTIVE,
        entered_in_error_at__isnull=True,
    ).first()


def _primary_prescriber(patient: Patient) -> User | None:
    member = (
        patient.care_team_members.filter(team_role="primary_prescriber")
        .select_related("staff")
        .first()
    )
    return member.staff if member is not None else None


@transaction.atomic
def prior_auth_create(
    *, actor: User, patient: Patient, coverage: Coverage, route: str
) -> PriorAuthorization:
    """A draft request for `route` under `coverage`, prefilled from the record: the primary
    diagnosis, the patient's primary prescriber (or the prescriber drafting it)."""
    _require_manage(actor, patient)
    errors: dict[str, list[str]] = {}
    if route not in ROUTES:
        errors["route"] = ["Choose esketamine, IV or IM."]
    if coverage.patient_id != patient.pk or not coverage.is_current:
        errors["coverage"] = ["Choose one of the patient's current coverages."]
    prescriber = _primary_prescriber(patient)
    if prescriber is None and actor.role == "prescriber":
        prescriber = actor
    if prescriber is None:
        errors["route"] = ["The patient has no primary prescriber: set the care team first."]
    if errors:
        raise InvalidInput(errors)
    assert prescriber is not None
    diagnosis = _primary_diagnosis(patient)
    authorization = PriorAuthorization(
        patient=patient,
        coverage=coverage,
        route=route,
        diagnosis=diagnosis,
        prescriber=prescriber,
        created_by=actor,
        packet=prior_auth.packet_for(
            patient=patient,
            coverage=coverage,
            diagnosis=diagnosis,
            prescriber=prescriber,
            route=route,
        ),
    )
    authorization.save(force_insert=True)
    PriorAuthorizationChange.objects.create(
        authorization=authorization, to_status=PriorAuthStatus.DRAFT, changed_by=actor
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="prior_authorization",
        object_id=authorization.uuid,
        patient=patient,
        summary=f"Prior authorization drafted: {ROUTES[route]}, {coverage.plan}",
    )
    return authorization


def _locked(authorization: PriorAuthorization) -> PriorAuthorization:
    return (
        PriorAuthorization.objects.select_for_update(of=("self",))
        .select_related("patient", "coverage__plan__payer", "diagnosis", "prescriber")
        .get(pk=authorization.pk)
    )


@transaction.atomic
def prior_auth_refresh(*, actor: User, authorization: PriorAuthorization) -> PriorAuthorization:
    """Read the record again into a draft (a score recorded, an NPI added since)."""
    _require_manage(actor, authorization.patient)
    locked = _locked(authorization)
    if locked.status != PriorAuthStatus.DRAFT:
        raise Conflict("Only a draft is refreshed: what was sent stays as sent.", code="sent")
    locked.diagnosis = _primary_diagnosis(locked.patient)
    locked.packet = prior_auth.packet_for(
        patient=locked.patient,
        coverage=locked.coverage,
        diagnosis=locked.diagnosis,
        prescriber=locked.prescriber,
        route=locked.route,
    )
    locked.save(update_fields=["diagnosis", "packet", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="prior_authorization",
        object_id=locked.uuid,
        patient=locked.patient,
        summary="Prior authorization draft refreshed from the record",
    )
    return locked


@transaction.atomic
def prior_auth_check_by_hand(
    *, actor: User, authorization: PriorAuthorization, criterion: PayerCriterion, checked: bool
) -> PriorAuthorization:
    """Tick (or untick) a criterion KetaCare does not hold, as documented elsewhere."""
    _require_manage(actor, authorization.patient)
    locked = _locked(authorization)
    if criterion.evidence != Evidence.MANUAL or criterion.payer_id != locked.coverage.plan.payer_id:
        raise InvalidInput({"criterion": ["Only the payer's hand-checked criteria are ticked."]})
    if locked.status != PriorAuthStatus.DRAFT:
        raise Conflict("The request has been sent: its checklist stays as sent.", code="sent")
    checks = dict(locked.manual_checks)
    checks[str(criterion.pk)] = bool(checked)
    locked.manual_checks = checks
    locked.save(update_fields=["manual_checks", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="prior_authorization",
        object_id=locked.uuid,
        patient=locked.patient,
        summary=f"Checklist: {'ticked' if checked else 'unticked'} {criterion.text}"[:300],
    )
    return locked


def _move(actor: User, authorization: PriorAuthorization, to_status: str) -> PriorAuthorization:
    _require_manage(actor, authorization.patient)
    locked = _locked(authorization)
    if to_status not in NEXT[PriorAuthStatus(locked.status)]:
        raise Conflict(
            f"The request is {locked.get_status_display().lower()}: it cannot become "
            f"{PriorAuthStatus(to_status).label.lower()} now (someone may have recorded it "
            "a moment ago).",
            code="status",
        )
    return locked


@transaction.atomic
def prior_auth_submit(
    *, actor: User, authorization: PriorAuthorization, note: str = ""
) -> PriorAuthorization:
    locked = _move(actor, authorization, PriorAuthStatus.SUBMITTED)
    note = (note or "").strip()
    _change(actor, locked, PriorAuthStatus.SUBMITTED, note, "Prior authorization submitted")
    locked.status = PriorAuthStatus.SUBMITTED
    locked.save(update_fields=["status", "updated_at"])
    return locked


@transaction.atomic
def prior_auth_appeal(
    *, actor: User, authorization: PriorAuthorization, note: str
) -> PriorAuthorization:
    locked = _move(actor, authorization, PriorAuthStatus.APPEALED)
    note = required_text("note", note, "Say what the appeal adds or argues.")
    _change(actor, locked, PriorAuthStatus.APPEALED, note, "Prior authorization denial appealed")
    locked.status = PriorAuthStatus.APPEALED
    locked.save(update_fields=["status", "updated_at"])
    return locked


@dataclass(frozen=True)
class Approval:
    authorization_number: str
    approved_sessions: int | None
    starts_on: datetime.date | None
    ends_on: datetime.date | None


def _approval_checked(approval: Approval) -> Approval:
    errors: dict[str, list[str]] = {}
    number = (approval.authorization_number or "").strip()
    if not number:
        errors["authorization_number"] = ["Enter the payer's authorization number."]
    elif len(number) > 50:
        errors["authorization_number"] = ["At most 50 characters."]
    sessions = approval.approved_sessions
    if sessions is None or not 1 <= sessions <= APPROVED_SESSIONS_MAX:
        errors["approved_sessions"] = [f"Between 1 and {APPROVED_SESSIONS_MAX} sessions."]
    today = timezone.localdate()
    for field in ("starts_on", "ends_on"):
        value = getattr(approval, field)
        if value is None:
            errors[field] = ["Enter the date the payer gave."]
        elif problem := date_problem(value, today=today, days_ahead=2 * APPROVAL_MAX_DAYS):
            errors[field] = [problem]
    starts, ends = approval.starts_on, approval.ends_on
    if starts and ends and "ends_on" not in errors:
        if ends < starts:
            errors["ends_on"] = ["The last day comes after the first."]
        elif (ends - starts).days > APPROVAL_MAX_DAYS:
            errors["ends_on"] = ["An approval of more than a year: check the dates."]
    if errors:
        raise InvalidInput(errors)
    return Approval(number, sessions, starts, ends)


@transaction.atomic
def prior_auth_approve(
    *, actor: User, authorization: PriorAuthorization, approval: Approval, note: str = ""
) -> PriorAuthorization:
    locked = _move(actor, authorization, PriorAuthStatus.APPROVED)
    approval = _approval_checked(approval)
    assert approval.starts_on is not None and approval.ends_on is not None
    _change(
        actor,
        locked,
        PriorAuthStatus.APPROVED,
        (note or "").strip(),
        f"Prior authorization approved: {approval.authorization_number}, "
        f"{approval.approved_sessions} sessions {approval.starts_on:%m/%d/%Y}–"
        f"{approval.ends_on:%m/%d/%Y}",
    )
    locked.status = PriorAuthStatus.APPROVED
    locked.authorization_number = approval.authorization_number
    locked.approved_sessions = approval.approved_sessions
    locked.starts_on, locked.ends_on = approval.starts_on, approval.ends_on
    locked.save()
    return locked


@transaction.atomic
def prior_auth_deny(
    *, actor: User, authorization: PriorAuthorization, note: str
) -> PriorAuthorization:
    locked = _move(actor, authorization, PriorAuthStatus.DENIED)
    note = required_text("note", note, "Give the payer's reason for the denial.")
    _change(actor, locked, PriorAuthStatus.DENIED, note, f"Prior authorization denied: {note}")
    locked.status = PriorAuthStatus.DENIED
    locked.save(update_fields=["status", "updated_at"])
    return locked


# --------------------------------------------------------------------------- payer checklists


@transaction.atomic
def criterion_add(
    *, actor: User, payer: Payer, text: str, evidence: str, threshold: int | None = None
) -> PayerCriterion:
    require(actor, Capability.PAYER_MANAGE)
    errors: dict[str, list[str]] = {}
    text = (text or "").strip()
    if not text:
        errors["text"] = ["Write the criterion as the payer's policy puts it."]
    elif len(text) > 300:
        errors["text"] = ["At most 300 characters."]
    if evidence not in Evidence.values:
        errors["evidence"] = ["Choose where the record documents it."]
    needs_number = evidence in (
        Evidence.FAILED_TRIALS,
        Evidence.BASELINE_PHQ9,
        Evidence.BASELINE_MADRS,
    )
    if needs_number and threshold is None:
        errors["threshold"] = ["Enter the number the payer names (trials, or the score)."]
    if not needs_number and threshold is not None:
        errors["threshold"] = ["Only trials and scores take a number."]
    if errors:
        raise InvalidInput(errors)
    criterion = PayerCriterion.objects.create(
        payer=payer, text=text, evidence=evidence, threshold=threshold, added_by=actor
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="payer_criterion",
        object_id=criterion.uuid,
        summary=f"{payer.name}: prior-authorization criterion added: {text}"[:300],
    )
    return criterion


@transaction.atomic
def criterion_set_active(*, actor: User, criterion: PayerCriterion, active: bool) -> None:
    require(actor, Capability.PAYER_MANAGE)
    locked = PayerCriterion.objects.select_for_update().get(pk=criterion.pk)
    if locked.is_active == active:
        return
    locked.is_active = active
    locked.save(update_fields=["is_active", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="payer_criterion",
        object_id=locked.uuid,
        summary=f"Prior-authorization criterion {'restored' if active else 'switched off'}",
    )
