"""Writes to the problem list. Each checks that the actor is a prescriber on the care team,
runs in one transaction under the patient's row lock (so two prescribers choosing a primary
diagnosis at once end with one) and leaves an audit event. Nothing is deleted: a diagnosis is
resolved, or marked entered in error, and stays on the list."""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.billing import icd10
from clinic.billing.models import Diagnosis, DiagnosisStatus
from clinic.core.audit import audit_record, diff, snapshot
from clinic.core.choices import AuditAction
from clinic.core.exceptions import InvalidInput, NotFound
from clinic.core.parsing import date_problem
from clinic.core.records import mark_entered_in_error, required_text
from clinic.core.text import CONTROL_CHARACTER_MESSAGE, has_control_characters
from clinic.patients.models import Patient
from clinic.patients.selectors import require_clinical_act
from clinic.patients.services import patient_lock

NOT_A_PRESCRIBER = "Only the care team's prescribers change the problem list."
RECORDED_FIELDS = ["icd10_code", "description", "onset_date", "is_primary", "note", "code_set"]


def _locked_patient(actor: User, patient: Patient) -> Patient:
    require_clinical_act(
        actor=actor,
        patient=patient,
        capability=Capability.DIAGNOSIS_RECORD,
        message=NOT_A_PRESCRIBER,
    )
    locked = patient_lock(actor=actor, patient_id=patient.pk)
    if locked is None:
        raise NotFound("No such patient, or the patient is not on your care team.")
    return locked


def _date_checked(
    errors: dict[str, list[str]], field: str, value: datetime.date | None, patient: Patient
) -> None:
    if value is None:
        return
    if problem := date_problem(
        value,
        today=timezone.localdate(),
        born_on=patient.date_of_birth,
        future_message="This date is in the future.",
    ):
        errors[field] = [problem]


def _primary_cleared(actor: User, patient: Patient, *, keep: Diagnosis | None = None) -> None:
    """The current primary diagnosis, if another, stops being primary (audited)."""
    current = (
        Diagnosis.objects.select_for_update()
        .filter(patient=patient, is_primary=True, entered_in_error_at__isnull=True)
        .first()
    )
    if current is None or current == keep:
        return
    current.is_primary = False
    current.save(update_fields=["is_primary", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="diagnosis",
        object_id=current.uuid,
        patient=patient,
        summary=f"{current.icd10_code} is no longer the primary diagnosis",
        changes={"is_primary": {"before": True, "after": False}},
    )


@transaction.atomic
def diagnosis_record(
    *,
    actor: User,
    patient: Patient,
    code: str,
    onset_date: datetime.date | None = None,
    primary: bool = False,
    note: str = "",
) -> Diagnosis:
    """Add a billable ICD-10-CM code to the patient's problem list."""
    patient = _locked_patient(actor, patient)
    errors: dict[str, list[str]] = {}
    found: icd10.Icd10Code | None = None
    try:
        found = icd10.billable_code(code)
    except icd10.CodeError as error:
        errors["icd10_code"] = [error.message]
    _date_checked(errors, "onset_date", onset_date, patient)
    note = (note or "").strip()
    if has_control_characters(note):
        errors["note"] = [CONTROL_CHARACTER_MESSAGE]
    elif len(note) > 300:
        errors["note"] = ["At most 300 characters."]
    if found is not None and (
        Diagnosis.objects.filter(
            patient=patient,
            icd10_code=found.code,
            status=DiagnosisStatus.ACTIVE,
            entered_in_error_at__isnull=True,
        ).exists()
    ):
        errors["icd10_code"] = [f"{found.code} is already on the active problem list."]
    if errors:
        raise InvalidInput(errors)
    assert found is not None
    if primary:
        _primary_cleared(actor, patient)
    try:
        with transaction.atomic():
            diagnosis = Diagnosis.objects.create(
                patient=patient,
                icd10_code=found.code,
                description=found.description[:250],
                code_set=icd10.CODE_SET,
                onset_date=onset_date,
                is_primary=primary,
                note=note,
                recorded_by=actor,
            )
    except IntegrityError as error:  # the row lock makes this unreachable; kept as a guard
        raise InvalidInput(
            {"icd10_code": [f"{found.code} is already on the active problem list."]}
        ) from error
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="diagnosis",
        object_id=diagnosis.uuid,
        patient=patient,
        summary=f"Diagnosis added: {found.code}" + (" (primary)" if primary else ""),
        changes=diff({}, snapshot(diagnosis, RECORDED_FIELDS)),
    )
    return diagnosis


def _locked_diagnosis(actor: User, diagnosis: Diagnosis) -> Diagnosis:
    _locked_patient(actor, diagnosis.patient)
    return Diagnosis.objects.select_for_update().select_related("patient").get(pk=diagnosis.pk)


@transaction.atomic
def diagnosis_make_primary(*, actor: User, diagnosis: Diagnosis) -> Diagnosis:
    """Make an active diagnosis the primary one for treatment (the previous one stops being)."""
    locked = _locked_diagnosis(actor, diagnosis)
    if not locked.is_current:
        raise InvalidInput({"diagnosis": ["Only an active diagnosis can be the primary one."]})
    if locked.is_primary:
        return locked
    _primary_cleared(actor, locked.patient, keep=locked)
    locked.is_primary = True
    locked.save(update_fields=["is_primary", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="diagnosis",
        object_id=locked.uuid,
        patient=locked.patient,
        summary=f"{locked.icd10_code} is now the primary diagnosis",
        changes={"is_primary": {"before": False, "after": True}},
    )
    return locked


@transaction.atomic
def diagnosis_resolve(
    *, actor: User, diagnosis: Diagnosis, resolved_on: datetime.date | None
) -> Diagnosis:
    """Resolve an active diagnosis as of a date (it stays on the list, as resolved)."""
    locked = _locked_diagnosis(actor, diagnosis)
    if not locked.is_current:
        raise InvalidInput({"diagnosis": ["This diagnosis is not active."]})
    errors: dict[str, list[str]] = {}
    if resolved_on is None:
        errors["resolved_on"] = ["Enter the date it resolved."]
    else:
        _date_checked(errors, "resolved_on", resolved_on, locked.patient)
        if not errors and locked.onset_date and resolved_on < locked.onset_date:
            errors["resolved_on"] = [
                f"It cannot resolve before its onset ({locked.onset_date:%m/%d/%Y})."
            ]
    if errors:
        raise InvalidInput(errors)
    before = snapshot(locked, ["status", "resolved_on", "is_primary"])
    locked.status = DiagnosisStatus.RESOLVED
    locked.resolved_on = resolved_on
    locked.resolved_by = actor
    locked.is_primary = False
    locked.save(update_fields=["status", "resolved_on", "resolved_by", "is_primary", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="diagnosis",
        object_id=locked.uuid,
        patient=locked.patient,
        summary=f"Diagnosis resolved: {locked.icd10_code}",
        changes=diff(before, snapshot(locked, ["status", "resolved_on", "is_primary"])),
    )
    return locked


@transaction.atomic
def diagnosis_mark_entered_in_error(*, actor: User, diagnosis: Diagnosis, reason: str) -> Diagnosis:
    """A diagnosis recorded by mistake: struck through, with who found it wrong and why."""
    locked = _locked_diagnosis(actor, diagnosis)
    reason = required_text("reason", reason, "Say why this entry is wrong.")
    was_primary = locked.is_primary
    if was_primary:
        locked.is_primary = False
        locked.save(update_fields=["is_primary", "updated_at"])
    if not mark_entered_in_error(locked, actor=actor, reason=reason):
        return locked
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="diagnosis",
        object_id=locked.uuid,
        patient=locked.patient,
        summary=f"Diagnosis marked entered in error: {locked.icd10_code}",
        changes={
            "entered_in_error_reason": {"before": "", "after": locked.entered_in_error_reason},
            **({"is_primary": {"before": True, "after": False}} if was_primary else {}),
        },
    )
    return locked
