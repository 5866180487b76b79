"""Problem-list entries arriving from a previous system (issue 16, import): each lands as a
Diagnosis, the row the chart's problem list and the FHIR Condition are built from, with the
checks a prescriber's entry gets (a billable ICD-10-CM code of the code set, an onset neither in
the future nor before birth, one active entry per code) under the patient's row lock, audited.

The clinic administrator imports (capability records.import) rather than a prescriber on the
care team: an imported patient has no care team yet, and the entry is history recorded
elsewhere, said so in its note with the day the previous system recorded it. It is never the
primary diagnosis: choosing that is the prescriber's, on the chart."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.billing import icd10
from clinic.billing.models import Diagnosis, DiagnosisStatus
from clinic.core.access import require
from clinic.core.audit import audit_record, diff, snapshot
from clinic.core.choices import AuditAction
from clinic.core.exceptions import InvalidInput, NotFound
from clinic.core.parsing import date_problem
from clinic.patients.models import Patient
from clinic.patients.services import patient_lock

IMPORTED_FIELDS = ["icd10_code", "description", "onset_date", "status", "resolved_on", "note"]


@transaction.atomic
def diagnosis_import(
    *,
    actor: User,
    patient: Patient,
    code: str,
    onset_date: datetime.date | None = None,
    resolved_on: datetime.date | None = None,
    recorded_on: datetime.date | None = None,
) -> Diagnosis:
    """An entry of the previous system's problem list: active, or resolved on `resolved_on`."""
    require(actor, Capability.RECORDS_IMPORT)
    locked = patient_lock(actor=actor, patient_id=patient.pk)
    if locked is None:
        raise NotFound("No such patient.")
    today = timezone.localdate()
    errors: dict[str, list[str]] = {}
    found: icd10.Icd10Code | None = None
    try:
        found = icd10.billable_code(code)
    except icd10.CodeError as error:
        errors["icd10_code"] = [error.message]
    for field, value in (("onset_date", onset_date), ("resolved_on", resolved_on)):
        if value is not None and (
            problem := date_problem(value, today=today, born_on=locked.date_of_birth)
        ):
            errors[field] = [problem]
    if onset_date and resolved_on and resolved_on < onset_date and "resolved_on" not in errors:
        errors["resolved_on"] = [f"It cannot resolve before its onset ({onset_date:%m/%d/%Y})."]
    if (
        found is not None
        and resolved_on is None
        and Diagnosis.objects.filter(
            patient=locked,
            icd10_code=found.code,
            status=DiagnosisStatus.ACTIVE,
            entered_in_error_at__isnull=True,
        ).exists()
    ):
        errors["icd10_code"] = [f"{found.code} is already on the active problem list."]
    if errors:
        raise InvalidInput(errors)
    assert found is not None
    note = "Imported from a previous system" + (
        f", recorded there {recorded_on:%m/%d/%Y}." if recorded_on else "."
    )
    diagnosis = Diagnosis.objects.create(
        patient=locked,
        icd10_code=found.code,
        description=found.description[:250],
        code_set=icd10.CODE_SET,
        onset_date=onset_date,
        status=DiagnosisStatus.RESOLVED if resolved_on else DiagnosisStatus.ACTIVE,
        resolved_on=resolved_on,
        resolved_by=actor if resolved_on else None,
        note=note,
        recorded_by=actor,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="diagnosis",
        object_id=diagnosis.uuid,
        patient=locked,
        summary=f"Diagnosis imported: {found.code}"
        + (f" (resolved {resolved_on:%m/%d/%Y})" if resolved_on else ""),
        changes=diff({}, snapshot(diagnosis, IMPORTED_FIELDS)),
    )
    return diagnosis
