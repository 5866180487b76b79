"""FHIR Bulk Data exports (issue 16): the job a `$export` kick-off starts, and the NDJSON files
the worker writes for it (bulk_export.py).

The files are kept in the database, as the insurance card photos are: every app server and
every worker reads them, no file store has to be shared, and nothing is ever under a static or
media URL. A file is written in parts, one per chunk of patients, so the worker appends without
rewriting what it wrote and a download streams a part at a time. Files are deleted when the
export is cancelled, fails or expires; the job row stays, the record of who exported what.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from clinic.core.models import ClinicModel


class ExportScope(models.TextChoices):
    ALL = "all", "Every patient"
    PATIENT = "patient", "One patient"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


UNFINISHED = (ExportStatus.QUEUED, ExportStatus.RUNNING)
FINISHED = (ExportStatus.DONE, ExportStatus.FAILED, ExportStatus.CANCELLED)


class BulkExport(ClinicModel):
    """One `$export` request: who asked, for whom, which resource types, and how far it got.
    Only its requester may poll it, download its files or cancel it."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    scope = models.CharField(max_length=8, choices=ExportScope.choices)
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The `_type` asked for, in the order served; empty means every type an export holds.
    resource_types = models.JSONField(default=list, blank=True)
    # The `_since` asked for: only resources changed at or after it (meta.lastUpdated).
    since = models.DateTimeField(null=True, blank=True)
    # The kick-off URL, as the manifest's `request` repeats it (ids only, never a name).
    request_url = models.CharField(max_length=2000)
    status = models.CharField(max_length=10, choices=ExportStatus.choices)
    patients_total = models.PositiveIntegerField(null=True, blank=True)
    patients_done = models.PositiveIntegerField(default=0)
    # Patients whose record was refused to the requester when the worker reached them.
    patients_skipped = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # After this the files are gone (or about to be): set when the export finishes.
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(scope=ExportScope.ALL, patient__isnull=True)
                | Q(scope=ExportScope.PATIENT, patient__isnull=False),
                name="bulk_export_patient_iff_one_patient",
            ),
            models.CheckConstraint(
                condition=Q(patients_total__isnull=True, patients_done=0)
                | Q(patients_total__isnull=False, patients_done__lte=F("patients_total")),
                name="bulk_export_progress_within_total",
            ),
            models.CheckConstraint(
                condition=Q(patients_skipped__lte=F("patients_done")),
                name="bulk_export_skipped_within_done",
            ),
            models.CheckConstraint(
                condition=Q(status__in=UNFINISHED, finished_at__isnull=True)
                | Q(status__in=FINISHED, finished_at__isnull=False),
                name="bulk_export_finished_iff_finished_at",
            ),
            models.CheckConstraint(
                condition=~Q(status=ExportStatus.DONE)
                | Q(started_at__isnull=False, expires_at__isnull=False),
                name="bulk_export_done_has_start_and_expiry",
            ),
            models.CheckConstraint(
                condition=~Q(status=ExportStatus.FAILED) | ~Q(error=""),
                name="bulk_export_failed_says_why",
            ),
            # One export in progress per person: a second kick-off waits for the first (429).
            models.UniqueConstraint(
                fields=["requested_by"],
                condition=Q(status__in=UNFINISHED),
                name="bulk_export_one_unfinished_per_requester",
            ),
        ]

    def __str__(self) -> str:
        return f"Bulk export {self.uuid} ({self.status})"


class BulkExportFile(models.Model):
    """One `<Type>.ndjson` of an export: the resource type, how many resources (lines) it
    holds, and its parts. An OperationOutcome file is the manifest's `error`."""

    export = models.ForeignKey(BulkExport, on_delete=models.CASCADE, related_name="files")
    resource_type = models.CharField(max_length=40)
    resource_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["export", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["export", "resource_type"], name="bulk_export_file_one_per_type"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The file's path under its export's download URL."""
        return f"{self.resource_type}.ndjson"


class BulkExportPart(models.Model):
    """The NDJSON lines one chunk of patients added to a file, each ending in a newline."""

    file = models.ForeignKey(BulkExportFile, on_delete=models.CASCADE, related_name="parts")
    sequence = models.PositiveIntegerField()
    ndjson = models.TextField()

    class Meta:
        ordering = ["file", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["file", "sequence"], name="bulk_export_part_in_order"),
        ]

    def __str__(self) -> str:
        return f"{self.file} part {self.sequence}"


class ImportKind(models.TextChoices):
    FHIR = "fhir", "FHIR Bundle"
    CSV = "csv", "CSV template"


class ImportStatus(models.TextChoices):
    CHECKED = "checked", "Checked (nothing imported yet)"
    IMPORTED = "imported", "Imported"
    REFUSED = "refused", "Refused (nothing imported)"


class ImportBatch(ClinicModel):
    """One file from a previous system (import_run.py): kept as uploaded, with what its check
    found, so the administrator reads the dry run and imports exactly the file checked. The
    file holds patients' details: it is kept for the record of what arrived, shown to no one
    but the clinic administrator."""

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    file_name = models.CharField(max_length=200)
    kind = models.CharField(max_length=8, choices=ImportKind.choices)
    content = models.TextField()
    status = models.CharField(max_length=12, choices=ImportStatus.choices)
    report = models.JSONField(default=dict)
    imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=ImportStatus.IMPORTED, imported_at__isnull=False)
                | Q(~Q(status=ImportStatus.IMPORTED), imported_at__isnull=True),
                name="import_batch_imported_when",
            )
        ]
