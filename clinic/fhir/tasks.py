"""Background work for FHIR, run by the database-backed worker (`manage.py db_worker`)."""

from __future__ import annotations

from django.tasks import task

from clinic.fhir.bulk_export import export_run


@task
def run_bulk_export(export_id: str) -> str:
    """Write a queued `$export`'s NDJSON files (bulk_export.py)."""
    return export_run(export_id)
