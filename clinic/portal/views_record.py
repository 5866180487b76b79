"""The patient's own record to take with them (issue 16): a readable PDF, and the same record as
FHIR, one Bundle or Bulk Data NDJSON files in a zip. Their own record only (`request.patient`);
every download is audited as an export (clinic/fhir/patient_record.py)."""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from clinic.core.exceptions import NotFound
from clinic.fhir.patient_record import whole_record
from clinic.fhir.record_formats import record_bundle, record_ndjson_zip, record_resources
from clinic.fhir.record_pdf import record_pdf
from clinic.portal.access import patient_required

# The formats offered, by the name in the URL: (content type, file suffix, the audit's words).
FORMATS = {
    "pdf": ("application/pdf", "pdf", "PDF"),
    "fhir-bundle": ("application/fhir+json", "json", "FHIR Bundle"),
    "fhir-ndjson": ("application/zip", "zip", "FHIR NDJSON"),
}


@patient_required
@require_GET
def record(request):
    return render(request, "portal/record.html")


@patient_required
@require_GET
def record_download(request, file_format: str):
    if file_format not in FORMATS:
        raise NotFound("No such format.")
    content_type, suffix, words = FORMATS[file_format]
    facts = whole_record(
        actor=request.user,
        patient=request.patient,
        purpose=f"the patient downloaded their record from the portal, {words}",
    )
    if file_format == "pdf":
        content = record_pdf(facts)
    else:
        resources = record_resources(facts)
        if file_format == "fhir-bundle":
            bundle = record_bundle(
                resources,
                base_url=request.build_absolute_uri("/fhir/R4/"),
                generated_at=timezone.now(),
            )
            content = json.dumps(bundle, indent=1, ensure_ascii=False).encode()
        else:
            content = record_ndjson_zip(resources)
    response = HttpResponse(content, content_type=content_type)
    # No name or MRN in the file's name: it is shown in download lists and shared folders.
    name = f"health-record-{timezone.localdate():%Y-%m-%d}.{suffix}"
    disposition = "inline" if file_format == "pdf" else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
