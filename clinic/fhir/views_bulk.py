"""FHIR Bulk Data export at /fhir/R4/ (issue 16), the Bulk Data Access IG's asynchronous
pattern: a kick-off answered 202 with a status URL; the status URL polled (202 with
X-Progress while the worker runs, 200 with the manifest when done) or DELETEd to cancel; the
files downloaded with the same bearer token until they expire. The work is in bulk_export.py.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.http import http_date

from clinic.fhir import bulk_export as bulk
from clinic.fhir.http import FhirError, fhir_endpoint, json_response, request_actor
from clinic.fhir.models import BulkExport, ExportStatus
from clinic.patients import selectors as patients
from clinic.patients.models import Patient

NDJSON = "application/fhir+ndjson"
# `+` in an unencoded query string arrives as a space: accept that spelling too.
OUTPUT_FORMATS = {NDJSON, "application/fhir ndjson", "application/ndjson", "ndjson"}
KICK_OFF_PARAMS = {"_outputFormat", "_since", "_type"}
RETRY_AFTER_S = 10


@fhir_endpoint()
def export_all_patients(request: HttpRequest) -> HttpResponse:
    """`GET Patient/$export`: every patient's record, for the clinic administrator."""
    types = kick_off_types(request)
    return start(request, None, types, since_param(request))


@fhir_endpoint()
def export_one_patient(request: HttpRequest, patient_id: str) -> HttpResponse:
    """`GET Patient/<id>/$export`: one patient's record, for whoever may take it whole."""
    types = kick_off_types(request)
    since = since_param(request)
    patient = patients.patient_get(
        actor=request_actor(request), patient_uuid=patient_id, purpose="FHIR bulk export"
    )
    return start(request, patient, types, since)


def kick_off_types(request: HttpRequest) -> list[str]:
    """The kick-off's checks, before anything is read: `Prefer: respond-async`, NDJSON as the
    output format, and `_type` naming only types an export holds. Returns the types asked for
    (empty: all of them)."""
    preferences = [
        item.split(";")[0].strip().lower() for item in request.headers.get("Prefer", "").split(",")
    ]
    if "respond-async" not in preferences:
        raise FhirError(
            400, "invalid", "A bulk export runs in the background: send Prefer: respond-async."
        )
    params = request.GET
    unknown = sorted(set(params) - KICK_OFF_PARAMS)
    if unknown:
        raise FhirError(
            400,
            "not-supported",
            f"Unsupported $export parameter(s): {', '.join(unknown)}. This server supports "
            f"{', '.join(sorted(KICK_OFF_PARAMS))}.",
        )
    output_format = params.get("_outputFormat", NDJSON)
    if output_format not in OUTPUT_FORMATS:
        raise FhirError(400, "not-supported", f"_outputFormat must be {NDJSON}.")
    asked = {kind.strip() for value in params.getlist("_type") for kind in value.split(",")} - {""}
    unknown_types = sorted(asked - set(bulk.EXPORT_TYPES))
    if unknown_types:
        raise FhirError(
            400,
            "not-supported",
            f"_type names type(s) an export does not hold: {', '.join(unknown_types)}. "
            f"It holds {', '.join(bulk.EXPORT_TYPES)}.",
        )
    return [kind for kind in bulk.EXPORT_TYPES if kind in asked]


def since_param(request: HttpRequest) -> datetime.datetime | None:
    """`_since` (Bulk Data Access IG 2.0.0, "Query Parameters"): a FHIR instant, with its time
    zone; only resources changed since then are exported. One in the future could only ever
    answer nothing, so it is refused as the mistake it is."""
    values = request.GET.getlist("_since")
    if not values:
        return None
    text = values[-1] if len(values) == 1 else ""
    try:
        since = datetime.datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
    except ValueError:
        since = None
    if since is None or len(text) <= 10 or since.tzinfo is None:
        raise FhirError(
            400,
            "invalid",
            "_since must be one FHIR instant with its time zone, e.g. 2031-06-02T09:00:00Z.",
        )
    if since > timezone.now():
        raise FhirError(400, "invalid", "_since is in the future: nothing could have changed.")
    return since


def start(
    request: HttpRequest,
    patient: Patient | None,
    types: list[str],
    since: datetime.datetime | None = None,
) -> HttpResponse:
    try:
        export = bulk.export_start(
            actor=request_actor(request),
            patient=patient,
            resource_types=types,
            since=since,
            request_url=request.build_absolute_uri(),
        )
    except bulk.ExportInProgress as error:
        raise FhirError(429, "throttled", error.message) from error
    return accepted(request, export)


def status_url(request: HttpRequest, export: BulkExport) -> str:
    return request.build_absolute_uri(f"/fhir/R4/$export-status/{export.uuid}")


def accepted(request: HttpRequest, export: BulkExport) -> HttpResponse:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "information",
                "code": "informational",
                "diagnostics": "Export queued: poll the Content-Location URL for its progress.",
            }
        ],
    }
    response = json_response(body, 202)
    response["Content-Location"] = status_url(request, export)
    return response


@fhir_endpoint(method=("GET", "DELETE"))
def export_status(request: HttpRequest, export_id: str) -> HttpResponse:
    """The requester's export: 202 while it runs, the manifest when done, 500 when it failed;
    DELETE cancels it. Anyone else's, a cancelled or an expired one: 404."""
    actor = request_actor(request)
    if request.method == "DELETE":
        bulk.export_cancel(actor=actor, export_id=export_id)
        return HttpResponse(status=202)
    export = bulk.export_get(actor=actor, export_id=export_id)
    if export.status == ExportStatus.FAILED:
        raise FhirError(500, "exception", export.error)
    if export.status != ExportStatus.DONE:
        response = HttpResponse(status=202)
        response["X-Progress"] = progress_words(export)
        response["Retry-After"] = str(RETRY_AFTER_S)
        return response
    assert export.started_at is not None and export.expires_at is not None  # the done constraint
    response = HttpResponse(json.dumps(manifest(request, export)), content_type="application/json")
    response["Expires"] = http_date(export.expires_at.timestamp())
    return response


def progress_words(export: BulkExport) -> str:
    if export.status == ExportStatus.QUEUED:
        return "Queued: waiting for the worker"
    if export.patients_total is None:
        return "Counting patients"
    return f"{export.patients_done} of {export.patients_total} patients"


def manifest(request: HttpRequest, export: BulkExport) -> dict[str, Any]:
    """The Bulk Data completion manifest. `transactionTime` is when the worker began; records
    changed while it ran may or may not be in the files (no snapshot is taken)."""
    assert export.started_at is not None  # the done constraint
    base = request.build_absolute_uri(f"/fhir/R4/$export-file/{export.uuid}/")
    files = bulk.export_files(export)
    entries = {
        kind: [
            {"type": f.resource_type, "url": base + f.name, "count": f.resource_count}
            for f in files
            if (f.resource_type == bulk.ERROR_TYPE) == (kind == "error")
        ]
        for kind in ("output", "error")
    }
    return {
        "transactionTime": export.started_at.isoformat(),
        "request": export.request_url,
        "requiresAccessToken": True,
        "output": entries["output"],
        "error": entries["error"],
    }


@fhir_endpoint()
def export_file(request: HttpRequest, export_id: str, file_name: str) -> HttpResponseBase:
    """One `<Type>.ndjson` of the requester's finished export, streamed a part at a time."""
    _, part_ids = bulk.export_file_get(
        actor=request_actor(request), export_id=export_id, name=file_name
    )
    response = StreamingHttpResponse(bulk.file_texts(part_ids), content_type=NDJSON)
    response["Cache-Control"] = "no-store"
    return response
