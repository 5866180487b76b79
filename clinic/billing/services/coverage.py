"""Writes to insurance records: the payers and plans the clinic bills, each patient's coverages
and the eligibility checks made on them. Each service checks the actor's capability, runs in
one transaction and leaves an audit event; a patient's coverages change under the patient's
row lock (two people adding a primary coverage at once end with one, and the other is told).
Nothing is deleted: payers and plans are switched off, coverages ended or marked entered in
error, eligibility checks only ever added."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.billing.models import (
    Coverage,
    CoveragePriority,
    CoverageStatus,
    EligibilityCheck,
    EligibilityMethod,
    EligibilityResult,
    InsurancePlan,
    Payer,
    PayerKind,
    SessionCoding,
    SubscriberRelationship,
)
from clinic.billing.services._text import one_line
from clinic.core.access import require
from clinic.core.audit import audit_record, diff, snapshot
from clinic.core.choices import AuditAction
from clinic.core.exceptions import InvalidInput, NotFound
from clinic.core.parsing import birth_date_problem, date_problem
from clinic.core.policy import date_policy
from clinic.core.records import mark_entered_in_error, required_text
from clinic.patients.models import Patient
from clinic.patients.services import patient_lock

PAYER_ID_SHAPE = re.compile(r"[A-Za-z0-9]{2,15}")
PAYER_FIELDS = ["name", "payer_id", "kind", "session_coding", "is_active"]
COVERAGE_FIELDS = [
    "plan",
    "priority",
    "member_id",
    "group_number",
    "subscriber_relationship",
    "subscriber_name",
    "subscriber_date_of_birth",
    "starts_on",
    "ends_on",
]


# --------------------------------------------------------------------------- payers and plans


def _payer_checked(name: str, payer_id: str, kind: str) -> tuple[str, str]:
    errors: dict[str, list[str]] = {}
    name = one_line(errors, "name", name, 120)
    if not name and "name" not in errors:
        errors["name"] = ["Enter the payer's name."]
    payer_id = one_line(errors, "payer_id", payer_id, 15).upper()
    if payer_id and "payer_id" not in errors and not PAYER_ID_SHAPE.fullmatch(payer_id):
        errors["payer_id"] = [
            "The electronic payer ID is 2 to 15 letters and digits, as the clearinghouse lists it."
        ]
    if kind not in PayerKind.values:
        errors["kind"] = ["Choose Medicare, Medicare Advantage, Medicaid or commercial."]
    if errors:
        raise InvalidInput(errors)
    return name, payer_id


def _payer_saved(payer: Payer, *, creating: bool) -> None:
    try:
        with transaction.atomic():
            payer.save(force_insert=creating)
    except IntegrityError as error:
        raise InvalidInput(
            {"name": ["A payer with this name or electronic payer ID is already on the list."]}
        ) from error


def default_session_coding(kind: str) -> str:
    """Medicare follows Medicare's rules; any other kind starts on per-unit drug codes."""
    return SessionCoding.MEDICARE if kind == PayerKind.MEDICARE else SessionCoding.COMMERCIAL


def _session_coding_checked(session_coding: str) -> None:
    if session_coding not in SessionCoding.values:
        raise InvalidInput({"session_coding": ["Choose Medicare's rules or per-unit drug codes."]})


@transaction.atomic
def payer_create(
    *, actor: User, name: str, payer_id: str, kind: str, session_coding: str = ""
) -> Payer:
    require(actor, Capability.PAYER_MANAGE)
    name, payer_id = _payer_checked(name, payer_id, kind)
    session_coding = session_coding or default_session_coding(kind)
    _session_coding_checked(session_coding)
    payer = Payer(name=name, payer_id=payer_id, kind=kind, session_coding=session_coding)
    _payer_saved(payer, creating=True)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="payer",
        object_id=payer.uuid,
        summary=f"Payer added: {payer.name}",
        changes=diff({}, snapshot(payer, PAYER_FIELDS)),
    )
    return payer


@transaction.atomic
def payer_update(
    *,
    actor: User,
    payer: Payer,
    name: str,
    payer_id: str,
    kind: str,
    is_active: bool,
    session_coding: str = "",
) -> Payer:
    require(actor, Capability.PAYER_MANAGE)
    locked = Payer.objects.select_for_update().get(pk=payer.pk)
    name, payer_id = _payer_checked(name, payer_id, kind)
    session_coding = session_coding or locked.session_coding
    _session_coding_checked(session_coding)
    before = snapshot(locked, PAYER_FIELDS)
    locked.name, locked.payer_id, locked.kind, locked.is_active = name, payer_id, kind, is_active
    locked.session_coding = session_coding
    _payer_saved(locked, creating=False)
    changes = diff(before, snapshot(locked, PAYER_FIELDS))
    if changes:
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="payer",
            object_id=locked.uuid,
            summary=f"Payer changed: {locked.name}",
            changes=changes,
        )
    return locked


@transaction.atomic
def plan_create(*, actor: User, payer: Payer, name: str) -> InsurancePlan:
    require(actor, Capability.PAYER_MANAGE)
    errors: dict[str, list[str]] = {}
    name = one_line(errors, "plan_name", name, 120)
    if not name and not errors:
        errors["plan_name"] = ["Enter the plan's name, as on the member's card."]
    if errors:
        raise InvalidInput(errors)
    try:
        with transaction.atomic():
            plan = InsurancePlan.objects.create(payer=payer, name=name)
    except IntegrityError as error:
        raise InvalidInput(
            {"plan_name": [f"{payer.name} already has a plan with this name."]}
        ) from error
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="insurance_plan",
        object_id=plan.uuid,
        summary=f"Plan added: {payer.name} — {plan.name}",
    )
    return plan


@transaction.atomic
def plan_set_active(*, actor: User, plan: InsurancePlan, active: bool) -> InsurancePlan:
    require(actor, Capability.PAYER_MANAGE)
    locked = InsurancePlan.objects.select_for_update().select_related("payer").get(pk=plan.pk)
    if locked.is_active != active:
        locked.is_active = active
        locked.save(update_fields=["is_active", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="insurance_plan",
            object_id=locked.uuid,
            summary=f"Plan {'switched on' if active else 'switched off'}: {locked}",
            changes={"is_active": {"before": not active, "after": active}},
        )
    return locked


# --------------------------------------------------------------------------- coverages


@dataclass(frozen=True)
class CoverageEntry:
    """What the front desk reads off the card (and asks the patient)."""

    plan: InsurancePlan | None
    priority: str
    member_id: str
    group_number: str = ""
    subscriber_relationship: str = SubscriberRelationship.SELF
    subscriber_name: str = ""
    subscriber_date_of_birth: datetime.date | None = None
    starts_on: datetime.date | None = None
    ends_on: datetime.date | None = None


def _locked_patient(actor: User, patient: Patient) -> Patient:
    require(actor, Capability.COVERAGE_MANAGE)
    locked = patient_lock(actor=actor, patient_id=patient.pk)
    if locked is None:
        raise NotFound("No such patient.")
    return locked


def _coverage_checked(entry: CoverageEntry, patient: Patient) -> dict[str, object]:
    errors: dict[str, list[str]] = {}
    # Read afresh: the plan may have been switched off since the form was drawn.
    plan = (
        InsurancePlan.objects.select_related("payer").filter(pk=entry.plan.pk).first()
        if entry.plan is not None
        else None
    )
    if plan is None:
        errors["plan"] = ["Choose the plan on the member's card."]
    elif not (plan.is_active and plan.payer.is_active):
        errors["plan"] = ["This plan is switched off: choose a plan the clinic bills."]
    if entry.priority not in CoveragePriority.values:
        errors["priority"] = ["Choose primary, secondary or tertiary."]
    member_id = one_line(errors, "member_id", entry.member_id, 40)
    if not member_id and "member_id" not in errors:
        errors["member_id"] = ["Enter the member ID from the card."]
    group_number = one_line(errors, "group_number", entry.group_number, 40)
    if entry.subscriber_relationship not in SubscriberRelationship.values:
        errors["subscriber_relationship"] = ["Choose the patient's relationship to the subscriber."]
    subscriber_name = one_line(errors, "subscriber_name", entry.subscriber_name, 150)
    subscriber_born = entry.subscriber_date_of_birth
    if entry.subscriber_relationship == SubscriberRelationship.SELF:
        subscriber_name, subscriber_born = "", None
    else:
        if not subscriber_name and "subscriber_name" not in errors:
            errors["subscriber_name"] = ["Enter the subscriber's name, as on the card."]
        if subscriber_born is None:
            errors["subscriber_date_of_birth"] = ["Enter the subscriber's date of birth."]
        elif problem := birth_date_problem(subscriber_born, today=timezone.localdate()):
            errors["subscriber_date_of_birth"] = [problem]
    ahead = date_policy().booking_days_ahead
    today = timezone.localdate()
    for field, value in (("starts_on", entry.starts_on), ("ends_on", entry.ends_on)):
        if value is not None and (problem := date_problem(value, today=today, days_ahead=ahead)):
            errors[field] = [problem]
    if (
        entry.starts_on
        and entry.ends_on
        and entry.ends_on < entry.starts_on
        and "ends_on" not in errors
    ):
        errors["ends_on"] = ["The last day cannot come before the first."]
    if errors:
        raise InvalidInput(errors)
    return {
        "plan": plan,
        "priority": entry.priority,
        "member_id": member_id,
        "group_number": group_number,
        "subscriber_relationship": entry.subscriber_relationship,
        "subscriber_name": subscriber_name,
        "subscriber_date_of_birth": subscriber_born,
        "starts_on": entry.starts_on,
        "ends_on": entry.ends_on,
    }


@transaction.atomic
def coverage_add(*, actor: User, patient: Patient, entry: CoverageEntry) -> Coverage:
    patient = _locked_patient(actor, patient)
    values = _coverage_checked(entry, patient)
    taken = Coverage.objects.filter(
        patient=patient,
        priority=entry.priority,
        status=CoverageStatus.ACTIVE,
        entered_in_error_at__isnull=True,
    ).first()
    if taken is not None:
        raise InvalidInput(
            {
                "priority": [
                    f"The patient already has a {taken.get_priority_display().lower()} "
                    f"coverage ({taken.plan}). End it first, or choose another place."
                ]
            }
        )
    coverage = Coverage.objects.create(patient=patient, recorded_by=actor, **values)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="coverage",
        object_id=coverage.uuid,
        patient=patient,
        summary=f"Coverage added: {coverage}",
        changes=diff({}, snapshot(coverage, COVERAGE_FIELDS)),
    )
    return coverage


def _locked_coverage(actor: User, coverage: Coverage) -> Coverage:
    _locked_patient(actor, coverage.patient)
    return (
        Coverage.objects.select_for_update()
        .select_related("patient", "plan__payer")
        .get(pk=coverage.pk)
    )


@transaction.atomic
def coverage_end(*, actor: User, coverage: Coverage, ends_on: datetime.date | None) -> Coverage:
    """The coverage stopped (a new job, a plan change): its last day, kept on the list."""
    locked = _locked_coverage(actor, coverage)
    if not locked.is_current:
        raise InvalidInput({"coverage": ["This coverage has already ended."]})
    errors: dict[str, list[str]] = {}
    if ends_on is None:
        errors["ends_on"] = ["Enter the coverage's last day."]
    elif problem := date_problem(
        ends_on, today=timezone.localdate(), days_ahead=date_policy().booking_days_ahead
    ):
        errors["ends_on"] = [problem]
    elif locked.starts_on and ends_on < locked.starts_on:
        errors["ends_on"] = [f"It started on {locked.starts_on:%m/%d/%Y}: the last day is later."]
    if errors:
        raise InvalidInput(errors)
    before = snapshot(locked, ["status", "ends_on"])
    locked.status = CoverageStatus.ENDED
    locked.ends_on = ends_on
    locked.save(update_fields=["status", "ends_on", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="coverage",
        object_id=locked.uuid,
        patient=locked.patient,
        summary=f"Coverage ended: {locked}",
        changes=diff(before, snapshot(locked, ["status", "ends_on"])),
    )
    return locked


@transaction.atomic
def coverage_mark_entered_in_error(*, actor: User, coverage: Coverage, reason: str) -> Coverage:
    locked = _locked_coverage(actor, coverage)
    reason = required_text("reason", reason, "Say why this entry is wrong.")
    if not mark_entered_in_error(locked, actor=actor, reason=reason):
        return locked
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="coverage",
        object_id=locked.uuid,
        patient=locked.patient,
        summary=f"Coverage marked entered in error: {locked}",
        changes={
            "entered_in_error_reason": {"before": "", "after": locked.entered_in_error_reason}
        },
    )
    return locked


# --------------------------------------------------------------------------- eligibility


@dataclass(frozen=True)
class EligibilityAnswer:
    """What the payer said, as the person who asked wrote it down."""

    method: str
    result: str
    copay_cents: int | None = None
    coinsurance_percent: int | None = None
    deductible_cents: int | None = None
    deductible_remaining_cents: int | None = None
    reference_number: str = ""
    note: str = ""


@transaction.atomic
def eligibility_check_record(
    *, actor: User, coverage: Coverage, answer: EligibilityAnswer
) -> EligibilityCheck:
    locked = _locked_coverage(actor, coverage)
    if locked.entered_in_error_at is not None:
        raise InvalidInput({"coverage": ["This coverage was entered in error."]})
    errors: dict[str, list[str]] = {}
    if answer.method not in EligibilityMethod.values:
        errors["method"] = ["Say how the eligibility was checked."]
    if answer.result not in EligibilityResult.values:
        errors["result"] = ["Say what the payer answered."]
    for field in ("copay_cents", "deductible_cents", "deductible_remaining_cents"):
        value = getattr(answer, field)
        if value is not None and value < 0:
            errors[field] = ["An amount cannot be negative."]
    percent = answer.coinsurance_percent
    if percent is not None and not 0 <= percent <= 100:
        errors["coinsurance_percent"] = ["A percentage from 0 to 100."]
    if (
        answer.deductible_cents is not None
        and answer.deductible_remaining_cents is not None
        and answer.deductible_remaining_cents > answer.deductible_cents
        and "deductible_remaining_cents" not in errors
    ):
        errors["deductible_remaining_cents"] = ["What remains cannot exceed the deductible."]
    reference = one_line(errors, "reference_number", answer.reference_number, 60)
    note = one_line(errors, "note", answer.note, 300)
    if errors:
        raise InvalidInput(errors)
    check = EligibilityCheck.objects.create(
        coverage=locked,
        checked_at=timezone.now(),
        checked_by=actor,
        method=answer.method,
        result=answer.result,
        copay_cents=answer.copay_cents,
        coinsurance_percent=percent,
        deductible_cents=answer.deductible_cents,
        deductible_remaining_cents=answer.deductible_remaining_cents,
        reference_number=reference,
        note=note,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="eligibility_check",
        object_id=check.uuid,
        patient=locked.patient,
        summary=f"Eligibility checked ({check.get_method_display()}): {check.get_result_display()}",
    )
    return check
