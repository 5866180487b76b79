"""The patient's own record to take with them (issue 16): a readable PDF, and the same record as
FHIR, one Bundle or Bulk Data NDJSON files in a zip. Their own record only (`request.patient`);
every download is audited as an export (clinic/fhir/patient_record.py)."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from clinic.fhir.record_download import record_file
from clinic.portal.access import patient_required


@patient_required
@require_GET
def record(request):
    return render(request, "portal/record.html")


@patient_required
@require_GET
def record_download(request, file_format: str):
    return record_file(
        request,
        actor=request.user,
        patient=request.patient,
        file_format=file_format,
        purpose="the patient downloaded their record from the portal",
    )
