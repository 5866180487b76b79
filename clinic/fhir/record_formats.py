"""A patient's whole record as FHIR, in the two shapes a record leaves in: one Bundle (type
"collection", a single JSON file) and FHIR Bulk Data's newline-delimited JSON, one file per
resource type, zipped. Pure: no Django. The facts come from patient_record.py; each resource
is built by the same mappers the /fhir/R4/ API serves, so a download and the API agree.
"""

from __future__ import annotations

import datetime
import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

from clinic.fhir import terminology as t
from clinic.fhir.instrument_observations import survey_observations
from clinic.fhir.mappers import (
    AppointmentFacts,
    CarePlanFacts,
    ConditionFacts,
    EncounterFacts,
    PatientFacts,
    PractitionerFacts,
    appointment_resource,
    careplan_resource,
    condition_resource,
    encounter_resource,
    patient_resource,
    practitioner_resource,
)
from clinic.fhir.medications import (
    DoseFacts,
    MedicationOrderFacts,
    medication_administration_resource,
    medication_request_resource,
)
from clinic.fhir.observations import (
    BodyMeasurementFacts,
    ScoredResponseFacts,
    VitalsFacts,
    body_measurement_observations,
    questionnaire_response_resource,
    vital_sign_observations,
)


@dataclass(frozen=True)
class JournalFacts:
    """A journal entry the patient shared with their care team (the PDF prints these; FHIR
    has no resource a reflection fits without misreading it, so the FHIR files leave them out).
    """

    written_at: datetime.datetime
    mood_before: int
    mood_after: int
    reflections: str
    insights: str


@dataclass
class WholeRecord:
    """Everything the clinic holds of one patient's care, oldest first."""

    patient: PatientFacts
    sessions: list[EncounterFacts] = field(default_factory=list)
    appointments: list[AppointmentFacts] = field(default_factory=list)
    responses: list[ScoredResponseFacts] = field(default_factory=list)
    vitals: list[VitalsFacts] = field(default_factory=list)
    body: list[BodyMeasurementFacts] = field(default_factory=list)
    doses: list[DoseFacts] = field(default_factory=list)
    plans: list[tuple[CarePlanFacts, MedicationOrderFacts]] = field(default_factory=list)
    problems: list[ConditionFacts] = field(default_factory=list)
    practitioners: list[PractitionerFacts] = field(default_factory=list)
    journal: list[JournalFacts] = field(default_factory=list)


def _json(resource: Any) -> dict[str, Any]:
    return json.loads(resource.model_dump_json(exclude_none=True))  # type: ignore[no-any-return]


def record_resources(record: WholeRecord) -> list[dict[str, Any]]:
    """The record as FHIR resources (JSON), the patient first, then who cared for them, their
    problems, plans and orders, appointments, sessions, doses, questionnaires and readings."""
    resources: list[Any] = [patient_resource(record.patient)]
    resources += [practitioner_resource(p) for p in record.practitioners]
    resources += [condition_resource(c) for c in record.problems]
    for careplan, order in record.plans:
        resources += [careplan_resource(careplan), medication_request_resource(order)]
    resources += [appointment_resource(a) for a in record.appointments]
    resources += [encounter_resource(s) for s in record.sessions]
    resources += [medication_administration_resource(d) for d in record.doses]
    for response in record.responses:
        # Every instrument as its Observations; the answers as a QuestionnaireResponse where
        # the API serves the Questionnaire (PHQ-9, GAD-7), which its panel is derived from.
        if response.instrument_code in t.LOINC_INSTRUMENTS and response.answers_known:
            resources.append(questionnaire_response_resource(response))
        resources += survey_observations(response)
    for reading in record.vitals:
        resources += vital_sign_observations(reading)
    for measurement in record.body:
        resources += body_measurement_observations(measurement)
    return [_json(resource) for resource in resources]


def record_bundle(
    resources: list[dict[str, Any]], *, base_url: str, generated_at: datetime.datetime
) -> dict[str, Any]:
    """One Bundle of type collection: each entry's fullUrl is where the API serves it."""
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": generated_at.isoformat(),
        "entry": [
            {"fullUrl": f"{base_url}{r['resourceType']}/{r['id']}", "resource": r}
            for r in resources
        ],
    }


def record_ndjson_zip(resources: list[dict[str, Any]]) -> bytes:
    """FHIR Bulk Data's output: one `<Type>.ndjson` per resource type, one resource a line, in
    a zip, with nothing else in it."""
    by_type: dict[str, list[str]] = {}
    for resource in resources:
        by_type.setdefault(resource["resourceType"], []).append(
            json.dumps(resource, separators=(",", ":"), ensure_ascii=False)
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for resource_type, lines in by_type.items():
            archive.writestr(f"{resource_type}.ndjson", "\n".join(lines) + "\n")
    return buffer.getvalue()
