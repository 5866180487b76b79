"""FHIR Bulk Data export (issue 16): the whole record of every patient, or of one, as NDJSON
files a client downloads with its token for a limited time.

Each patient is read exactly as their own download reads them: `whole_record` with the
requester as the actor (its one actor check and its one export audit event per patient) and
`record_resources` for the FHIR. The worker walks the patients in chunks by primary key, never
holding more than a chunk's records, and writes each chunk's lines, its progress and the check
that the export was not cancelled in one transaction. The requester is read again before every
chunk: an export stops if its requester was deactivated or, for every patient, is no longer the
clinic administrator. A patient whose record `whole_record` refuses (the requester left the
care team since the kick-off) is skipped, counted, and named in the manifest's error file by
number only.
"""

from __future__ import annotations

import datetime
import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as RecordRefused
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from clinic.accounts.choices import Role
from clinic.accounts.models import User
from clinic.core.audit import audit_flush, audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, NotFound, PermissionDenied
from clinic.core.request_context import RequestContext, buffering_audit, request_context
from clinic.fhir.models import (
    UNFINISHED,
    BulkExport,
    BulkExportFile,
    BulkExportPart,
    ExportScope,
    ExportStatus,
)
from clinic.fhir.patient_record import may_take_record, whole_record
from clinic.fhir.policy import bulk_export_policy
from clinic.fhir.record_formats import record_resources
from clinic.patients.models import Patient

logger = logging.getLogger("clinic.fhir")

# Patients read between two progress writes (and the most records held at once).
CHUNK_PATIENTS = 50
# The resource types an export holds (what record_resources builds), in the manifest's order.
EXPORT_TYPES = (
    "Patient",
    "Practitioner",
    "Condition",
    "CarePlan",
    "MedicationRequest",
    "Appointment",
    "Encounter",
    "MedicationAdministration",
    "QuestionnaireResponse",
    "Observation",
)
ERROR_TYPE = "OperationOutcome"
UNEXPECTED = "The export stopped on an error on our side; its files were deleted. Start a new one."
ACCESS_CHANGED = (
    "The requester's access changed during the export (deactivated, or no longer the clinic "
    "administrator); it was stopped and its files were deleted."
)
ABANDONED = "The worker running the export stopped before it finished. Start a new one."


class ExportInProgress(Conflict):
    """The requester already has an export queued or running."""

    code = "export_in_progress"


def may_export_every_patient(actor: User) -> bool:
    return actor.is_clinic_staff and actor.role == Role.CLINIC_ADMIN


def export_start(
    *,
    actor: User,
    patient: Patient | None,
    resource_types: list[str],
    request_url: str,
    since: datetime.datetime | None = None,
) -> BulkExport:
    """Queue an export of every patient (`patient` None: the clinic administrator only) or of
    one patient (whoever may take their whole record), audited; the worker runs it once the
    transaction commits."""
    if patient is None and not may_export_every_patient(actor):
        raise PermissionDenied("Exporting every patient's record is for the clinic administrator.")
    if patient is not None and not may_take_record(actor=actor, patient=patient):
        audit_record(
            actor=actor,
            action=AuditAction.DENIED,
            object_type="patient_record",
            patient=patient,
            summary="The whole record (FHIR bulk export)",
        )
        raise PermissionDenied(
            "A patient's whole record is for them and their care team.", audited=True
        )
    try:
        with transaction.atomic():
            export = BulkExport.objects.create(
                requested_by=actor,
                scope=ExportScope.ALL if patient is None else ExportScope.PATIENT,
                patient=patient,
                resource_types=resource_types,
                since=since,
                request_url=request_url[:2000],
                status=ExportStatus.QUEUED,
            )
    except IntegrityError as error:
        raise ExportInProgress(
            "You have an export in progress: wait for it to finish, or cancel it."
        ) from error
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type="bulk_export",
        object_id=export.uuid,
        patient=patient,
        summary=(
            f"FHIR bulk export requested: {'one patient' if patient else 'every patient'}, "
            f"{', '.join(resource_types) or 'every resource type'}"
            + (f", changed since {since.isoformat()}" if since else "")
        ),
    )
    from clinic.fhir.tasks import run_bulk_export  # the task module imports this one

    export_id = str(export.uuid)
    transaction.on_commit(lambda: run_bulk_export.enqueue(export_id))
    return export


def export_get(*, actor: User, export_id: str) -> BulkExport:
    """The actor's own export, unless cancelled or expired; anyone else's is not found."""
    try:
        key = uuid.UUID(export_id)
    except ValueError as error:
        raise NotFound("No such export.") from error
    export = (
        BulkExport.objects.filter(uuid=key, requested_by=actor)
        .exclude(status=ExportStatus.CANCELLED)
        .first()
    )
    if export is None or (export.expires_at is not None and export.expires_at <= timezone.now()):
        raise NotFound("No such export, or its files have expired.")
    return export


def export_files(export: BulkExport) -> list[BulkExportFile]:
    """The export's files in the manifest's order (EXPORT_TYPES, then the error file)."""
    return sorted(export.files.all(), key=lambda file: _type_order(file.resource_type))


def export_file_get(*, actor: User, export_id: str, name: str) -> tuple[BulkExportFile, list[int]]:
    """A finished export's file and its parts' ids, in order; the download is audited."""
    export = export_get(actor=actor, export_id=export_id)
    kind = name.removesuffix(".ndjson")
    file = (
        export.files.filter(resource_type=kind).first()
        if export.status == ExportStatus.DONE and name.endswith(".ndjson")
        else None
    )
    if file is None:
        raise NotFound("No such file in this export.")
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type="bulk_export",
        object_id=export.uuid,
        patient=export.patient,
        summary=f"FHIR bulk export file downloaded: {file.name} ({file.resource_count} lines)",
    )
    return file, list(file.parts.order_by("sequence").values_list("pk", flat=True))


def file_texts(part_ids: list[int]) -> Iterator[str]:
    """A file's lines, a part at a time (one query each), for a streamed download."""
    for pk in part_ids:
        text = BulkExportPart.objects.filter(pk=pk).values_list("ndjson", flat=True).first()
        if text is not None:  # deleted since (cancelled or expired): the rest is gone too
            yield text


def export_cancel(*, actor: User, export_id: str) -> None:
    """Cancel an export (DELETE on its status URL): the worker stops at its next chunk, and
    every file written so far is deleted now. A finished export's files are deleted too."""
    with transaction.atomic():
        export = export_get(actor=actor, export_id=export_id)
        export = BulkExport.objects.select_for_update().get(pk=export.pk)
        if export.status == ExportStatus.CANCELLED:
            raise NotFound("No such export.")
        now = timezone.now()
        BulkExport.objects.filter(pk=export.pk).update(
            status=ExportStatus.CANCELLED, finished_at=export.finished_at or now, updated_at=now
        )
        BulkExportFile.objects.filter(export=export).delete()
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="bulk_export",
            object_id=export.uuid,
            patient=export.patient,
            summary=f"FHIR bulk export cancelled ({export.status} when cancelled); files deleted",
        )


# --------------------------------------------------------------------------- the worker


def export_run(export_id: str) -> str:
    """Run a queued export to its end (the worker's task). Returns the status it ended in. Run
    twice, the second run finds it no longer queued and does nothing."""
    now = timezone.now()
    claimed = BulkExport.objects.filter(uuid=export_id, status=ExportStatus.QUEUED).update(
        status=ExportStatus.RUNNING, started_at=now, updated_at=now
    )
    if not claimed:
        return "not queued"
    export = BulkExport.objects.get(uuid=export_id)
    try:
        with request_context(RequestContext(channel="system")):
            return _write_export(export)
    except Exception:
        # The job's id names it; the traceback goes to the server log, never to the client.
        logger.exception("Bulk export %s stopped on an error", export.uuid)
        _fail(export, UNEXPECTED)
        return ExportStatus.FAILED


def _patients_of(export: BulkExport, requester: User) -> QuerySet[Patient]:
    if export.scope == ExportScope.PATIENT:
        assert export.patient_id is not None  # the scope constraint
        return Patient.objects.filter(pk=export.patient_id)
    # Every patient there was at the start: one registered meanwhile is not half in it.
    visible = Patient.objects.visible_to(requester)
    last = visible.order_by("-pk").values_list("pk", flat=True).first() or 0
    return visible.filter(pk__lte=last)


def _may_continue(export: BulkExport) -> bool:
    requester = User.objects.get(pk=export.requested_by_id)
    export.requested_by = requester
    if export.scope == ExportScope.ALL:
        return may_export_every_patient(requester)
    return requester.is_clinic_staff


def _write_export(export: BulkExport) -> str:
    if not _may_continue(export):
        _fail(export, ACCESS_CHANGED)
        return ExportStatus.FAILED
    patients = _patients_of(export, export.requested_by).order_by("pk")
    BulkExport.objects.filter(pk=export.pk).update(
        patients_total=patients.count(), updated_at=timezone.now()
    )
    wanted = set(export.resource_types or EXPORT_TYPES)
    writer = _FileWriter(export)
    practitioners_written: set[str] = set()  # the same clinician cares for many patients
    after = 0
    while chunk := list(patients.filter(pk__gt=after)[:CHUNK_PATIENTS]):
        if not _may_continue(export):
            _fail(export, ACCESS_CHANGED)
            return ExportStatus.FAILED
        lines: dict[str, list[str]] = {}
        skipped = 0
        with buffering_audit() as events:  # one audit write per chunk
            try:
                for patient in chunk:
                    try:
                        record = whole_record(
                            actor=export.requested_by,
                            patient=patient,
                            purpose=f"bulk export {export.uuid}",
                        )
                    except RecordRefused:
                        skipped += 1
                        continue
                    for resource in record_resources(record):
                        kind = resource["resourceType"]
                        if kind not in wanted or not changed_since(resource, export.since):
                            continue
                        if kind == "Practitioner":
                            if resource["id"] in practitioners_written:
                                continue
                            practitioners_written.add(resource["id"])
                        lines.setdefault(kind, []).append(ndjson_line(resource))
            finally:
                if events:
                    audit_flush(events)
        if not writer.append(lines, patients=len(chunk), skipped=skipped):
            return ExportStatus.CANCELLED
        after = chunk[-1].pk
    return writer.finish()


def changed_since(resource: dict[str, Any], since: datetime.datetime | None) -> bool:
    """Whether `_since` keeps the resource: its record changed at or after `since`
    (meta.lastUpdated; Bulk Data's "state has changed after the supplied time", with the
    instant itself kept, so a client passing the last manifest's transactionTime misses no
    change made as that export began). A resource with no change time (a Practitioner) is
    always kept: nothing says it did not change."""
    if since is None:
        return True
    updated = (resource.get("meta") or {}).get("lastUpdated")
    return updated is None or datetime.datetime.fromisoformat(updated) >= since


def ndjson_line(resource: dict[str, Any]) -> str:
    """One resource as one NDJSON line, as the patient's own download writes it."""
    return json.dumps(resource, separators=(",", ":"), ensure_ascii=False)


class _FileWriter:
    """Appends a chunk's lines to the export's files, with its progress, in one transaction
    that first checks the export is still running (a cancel wins over a late chunk)."""

    def __init__(self, export: BulkExport):
        self.export = export
        self.files: dict[str, tuple[int, int]] = {}  # type: (file id, next part's sequence)
        self.skipped = 0

    def append(self, lines: dict[str, list[str]], *, patients: int, skipped: int) -> bool:
        with transaction.atomic():
            if not self._still_running():
                return False
            self._write(lines)
            BulkExport.objects.filter(pk=self.export.pk).update(
                patients_done=F("patients_done") + patients,
                patients_skipped=F("patients_skipped") + skipped,
                updated_at=timezone.now(),
            )
        self.skipped += skipped
        return True

    def finish(self) -> str:
        with transaction.atomic():
            if not self._still_running():
                return ExportStatus.CANCELLED
            if self.skipped:
                self._write({ERROR_TYPE: [ndjson_line(skipped_outcome(self.skipped))]})
            now = timezone.now()
            BulkExport.objects.filter(pk=self.export.pk).update(
                status=ExportStatus.DONE, finished_at=now, expires_at=expiry(now), updated_at=now
            )
        return ExportStatus.DONE

    def _still_running(self) -> bool:
        status = (
            BulkExport.objects.select_for_update()
            .filter(pk=self.export.pk)
            .values_list("status", flat=True)
            .get()
        )
        return status == ExportStatus.RUNNING

    def _write(self, lines: dict[str, list[str]]) -> None:
        parts = []
        for kind in sorted(lines, key=_type_order):
            if kind not in self.files:
                created = BulkExportFile.objects.create(export=self.export, resource_type=kind)
                self.files[kind] = (created.pk, 0)
            file_id, sequence = self.files[kind]
            parts.append(
                BulkExportPart(
                    file_id=file_id,
                    sequence=sequence,
                    ndjson="".join(line + "\n" for line in lines[kind]),
                )
            )
            BulkExportFile.objects.filter(pk=file_id).update(
                resource_count=F("resource_count") + len(lines[kind])
            )
            self.files[kind] = (file_id, sequence + 1)
        BulkExportPart.objects.bulk_create(parts)


def _type_order(kind: str) -> int:
    return EXPORT_TYPES.index(kind) if kind in EXPORT_TYPES else len(EXPORT_TYPES)


def skipped_outcome(count: int) -> dict[str, Any]:
    """The manifest's error: how many records were refused, without naming the patients."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "forbidden",
                "diagnostics": f"{count} patient record(s) were refused to the requester when "
                "the export reached them (their access changed since the kick-off); they are "
                "not in the files.",
            }
        ],
    }


def expiry(finished_at: datetime.datetime) -> datetime.datetime:
    return finished_at + datetime.timedelta(hours=bulk_export_policy().download_valid_hours)


def _fail(export: BulkExport, error: str) -> None:
    """Fail an unfinished export and delete what it wrote; a cancel that came first stands."""
    with transaction.atomic():
        now = timezone.now()
        failed = BulkExport.objects.filter(pk=export.pk, status__in=UNFINISHED).update(
            status=ExportStatus.FAILED,
            error=error,
            finished_at=now,
            expires_at=expiry(now),
            updated_at=now,
        )
        if failed:
            BulkExportFile.objects.filter(export_id=export.pk).delete()


def exports_expire(*, now: datetime.datetime | None = None) -> tuple[int, int]:
    """Delete the files of every export past its expiry, and fail every export whose worker
    stopped writing (no progress for TASK_ABANDONED_AFTER_MIN). Returns (exports whose files
    were deleted, exports failed)."""
    now = now or timezone.now()
    stalled = now - datetime.timedelta(minutes=settings.TASK_ABANDONED_AFTER_MIN)
    abandoned = list(BulkExport.objects.filter(status=ExportStatus.RUNNING, updated_at__lt=stalled))
    for export in abandoned:
        _fail(export, ABANDONED)
    expired = BulkExport.objects.filter(expires_at__lte=now, files__isnull=False).distinct()
    expired_ids = list(expired.values_list("pk", flat=True))
    BulkExportFile.objects.filter(export_id__in=expired_ids).delete()
    return len(expired_ids), len(abandoned)
