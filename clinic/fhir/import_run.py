"""Bringing a previous system's patients in (issue 16): the check (a dry run) and the import,
one code path. Each arriving patient, measurement, total and problem-list entry goes through the
service the pages use (registration with its duplicate check, the body-measurement service, the
imported-total service, the problem list's import service), each in its own savepoint so one
refusal does not hide the next; the check then rolls everything back and reports every refusal
with where it came from and why. The import runs the same way and keeps the result only when
nothing was refused: it lands whole or not at all.

A likely duplicate of a registered patient (the registration pages' own test: name and date of
birth, e-mail or phone) is a refusal: merging two records is a person's decision, made on the
chart. Two rows of the file that are the same person are caught the same way.
"""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass, field

from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.assessments.services_import import imported_total_record
from clinic.billing.services.diagnoses_import import diagnosis_import
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import DomainError, InvalidInput
from clinic.fhir.import_parse import Arrival, ArrivingPatient, Problem, parse_bundle, parse_csv
from clinic.fhir.models import ImportBatch, ImportKind, ImportStatus
from clinic.patients.duplicates import find_duplicates, registration_lock
from clinic.patients.models import Patient
from clinic.patients.services import body_measurement_record, patient_create

# The largest file accepted: a clinic's history in the CSV template or a Bundle of it.
MAX_FILE_BYTES = 5 * 1024 * 1024


@dataclass
class ImportReport:
    patients: int = 0
    measurements: int = 0
    totals: int = 0
    conditions: int = 0
    refusals: list[dict[str, str]] = field(default_factory=list)
    left_out: dict[str, int] = field(default_factory=dict)

    @property
    def can_import(self) -> bool:
        return not self.refusals and self.patients > 0


def _words(error: DomainError) -> str:
    if isinstance(error, InvalidInput):
        return " ".join(
            f"{name.replace('_', ' ')}: {message}"
            for name, messages in error.errors.items()
            for message in messages
        )
    return error.message


def _moment(when: datetime.date | datetime.datetime) -> datetime.datetime:
    """A total taken on a day, without its time: noon of that day in the clinic's time zone."""
    if isinstance(when, datetime.datetime):
        return when
    return timezone.make_aware(datetime.datetime.combine(when, datetime.time(12)))


def _day(when: datetime.date | datetime.datetime | None) -> datetime.date | None:
    """A moment's day on the clinic's calendar (a day stays itself)."""
    if isinstance(when, datetime.datetime):
        return timezone.localtime(when).date()
    return when


def _duplicate(actor: User, arriving: ArrivingPatient) -> str:
    data = arriving.demographics
    found = find_duplicates(
        actor=actor,
        given_name=data.get("legal_given_name", ""),
        family_name=data.get("legal_family_name", ""),
        date_of_birth=data.get("date_of_birth"),
        email=data.get("email", ""),
        phones=[data.get("phone_mobile", ""), data.get("phone_home", "")],
    )
    if not found:
        return ""
    first = found[0]
    return (
        f"Likely the patient already registered as MRN {first.patient.mrn} "
        f"({', '.join(first.reasons)}). Merge by hand on the chart, or correct the file."
    )


def _patient(actor: User, report: ImportReport, arriving: ArrivingPatient) -> None:
    def refuse(where: str, message: str) -> None:
        report.refusals.append(asdict(Problem(where, message)))

    duplicate = _duplicate(actor, arriving)
    if duplicate:
        refuse(arriving.where, duplicate)
        return
    try:
        with transaction.atomic():
            patient: Patient = patient_create(actor=actor, data=dict(arriving.demographics))
    except DomainError as error:
        refuse(arriving.where, _words(error))
        return
    report.patients += 1
    for where, measured_on, weight_kg, height_cm in arriving.measurements:
        try:
            with transaction.atomic():
                body_measurement_record(
                    actor=actor,
                    patient=patient,
                    measured_on=measured_on,
                    weight_kg=weight_kg,
                    height_cm=height_cm,
                )
            report.measurements += 1
        except DomainError as error:
            refuse(where, _words(error))
    for where, instrument, total, taken in arriving.totals:
        try:
            with transaction.atomic():
                imported_total_record(
                    actor=actor,
                    patient=patient,
                    instrument_code=instrument,
                    total=total,
                    taken_at=_moment(taken),
                )
            report.totals += 1
        except DomainError as error:
            refuse(where, _words(error))
    for condition in arriving.conditions:
        try:
            with transaction.atomic():
                diagnosis_import(
                    actor=actor,
                    patient=patient,
                    code=condition.icd10_code,
                    onset_date=_day(condition.onset),
                    resolved_on=_day(condition.resolved),
                    recorded_on=_day(condition.recorded),
                )
            report.conditions += 1
        except DomainError as error:
            refuse(condition.where, _words(error))


def _run(actor: User, arrival: Arrival, *, keep: bool) -> ImportReport:
    report = ImportReport(
        refusals=[asdict(problem) for problem in arrival.refusals], left_out=dict(arrival.left_out)
    )
    with transaction.atomic():
        if keep:
            # The desk's registrations wait for the import, so neither side's duplicate check
            # misses the other's patient (the check alone, rolled back, need not wait).
            registration_lock()
        for arriving in arrival.patients:
            _patient(actor, report, arriving)
        if not (keep and report.can_import):
            # The check, or an import with a refusal: nothing of it stays.
            transaction.set_rollback(True)
    return report


def _arrival(batch: ImportBatch) -> Arrival:
    return (
        parse_bundle(batch.content) if batch.kind == ImportKind.FHIR else parse_csv(batch.content)
    )


def import_check(*, actor: User, file_name: str, content: bytes) -> ImportBatch:
    """Keep the file and check it (a dry run): what would arrive, and every refusal."""
    require(actor, Capability.RECORDS_IMPORT)
    if len(content) > MAX_FILE_BYTES:
        raise InvalidInput({"file": [f"Files up to {MAX_FILE_BYTES // (1024 * 1024)} MB."]})
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput({"file": ["Save the file as UTF-8 text."]}) from error
    if "\x00" in text:
        raise InvalidInput({"file": ["This is not a text file."]})
    kind = ImportKind.FHIR if text.lstrip().startswith("{") else ImportKind.CSV
    batch = ImportBatch(
        uploaded_by=actor,
        file_name=file_name[:200],
        kind=kind,
        content=text,
        status=ImportStatus.CHECKED,
    )
    report = _run(actor, _arrival(batch), keep=False)
    batch.report = asdict(report)
    batch.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="import_batch",
        object_id=batch.uuid,
        summary=f"Import checked: {report.patients} patients, {len(report.refusals)} refusals",
    )
    return batch


@transaction.atomic
def import_apply(*, actor: User, batch: ImportBatch) -> ImportBatch:
    """Import the checked file, checked again against the clinic as it is now (a patient may
    have been registered since): whole, or nothing with the refusals."""
    require(actor, Capability.RECORDS_IMPORT)
    locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if locked.status == ImportStatus.IMPORTED:
        raise InvalidInput({"file": ["This file was imported already."]})
    report = _run(actor, _arrival(locked), keep=True)
    locked.report = asdict(report)
    if report.can_import:
        locked.status, locked.imported_at = ImportStatus.IMPORTED, timezone.now()
    else:
        locked.status = ImportStatus.REFUSED
    locked.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="import_batch",
        object_id=locked.uuid,
        summary=(
            f"Imported {report.patients} patients, {report.measurements} measurements, "
            f"{report.totals} totals, {report.conditions} problem-list entries"
            if report.can_import
            else f"Import refused: {len(report.refusals)} refusals, nothing imported"
        ),
    )
    return locked
