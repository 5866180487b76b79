"""The whole record downloaded from the chart, for a records request: the same files as the
patient's own download (clinic/fhir/record_download.py), for the care team and the clinic
administrator only; the front desk logs and closes the request (patients/views_records.py)."""

from __future__ import annotations

from django.views.decorators.http import require_GET

from clinic.core.access import staff_required
from clinic.fhir.record_download import record_file
from clinic.patients.selectors import patient_get


@staff_required
@require_GET
def whole_record_download(request, patient_uuid, file_format: str):
    patient = patient_get(
        actor=request.user, patient_uuid=patient_uuid, purpose="download the whole record"
    )
    return record_file(
        request,
        actor=request.user,
        patient=patient,
        file_format=file_format,
        purpose="downloaded from the chart for a records request",
    )
