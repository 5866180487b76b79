"""A patient's whole record as a file to download, in the form asked for: the readable PDF, one
FHIR Bundle, or FHIR NDJSON files in a zip. Shared by the patient's own download (the portal)
and the care team's for a records request (the chart): the same read, the same files."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from clinic.accounts.models import User
from clinic.core.exceptions import NotFound
from clinic.fhir.patient_record import whole_record
from clinic.fhir.record_formats import record_bundle, record_ndjson_zip, record_resources
from clinic.fhir.record_pdf import record_pdf
from clinic.patients.models import Patient

# The forms offered, by the name in the URL: (content type, file suffix, the audit's words).
FORMATS = {
    "pdf": ("application/pdf", "pdf", "PDF"),
    "fhir-bundle": ("application/fhir+json", "json", "FHIR Bundle"),
    "fhir-ndjson": ("application/zip", "zip", "FHIR NDJSON"),
}


def record_file(
    request: HttpRequest, *, actor: User, patient: Patient, file_format: str, purpose: str
) -> HttpResponse:
    """The whole record read once (refused and audited for anyone but the patient and their
    care team) and sent as a file that is never cached and whose name carries no name or MRN
    (download lists and shared folders show it)."""
    if file_format not in FORMATS:
        raise NotFound("No such format.")
    content_type, suffix, words = FORMATS[file_format]
    facts = whole_record(actor=actor, patient=patient, purpose=f"{purpose}, {words}")
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
    name = f"health-record-{timezone.localdate():%Y-%m-%d}.{suffix}"
    disposition = "inline" if file_format == "pdf" else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
