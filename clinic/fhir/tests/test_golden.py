"""Golden FHIR documents (issue 16): one resource of each kind KetaCare serves, built by the pure
mappers from fixed facts, must equal its reviewed document in `golden/` byte for byte (as
JSON) and validate with the fhir.resources R4B models.

A golden file is a reviewed record of what a client receives. It was written by the mapper and
then read against the sources before it was committed: every LOINC, SNOMED CT, RxNorm and UCUM
code against fhir-loinc.md, the PHQ-9 against the US Core example's answers 2,2,2,2,1,1,2,0,0
(total 12, a number, not the example's string; item 9 answered 0, LA6568-5 "Not at all"). A
change to a mapper fails here until the document is regenerated and reviewed again:
`FHIR_GOLDEN_UPDATE=1 pytest clinic/fhir/tests/test_golden.py`, then read the diff.
"""

from __future__ import annotations

import datetime
import json
import os
from decimal import Decimal
from pathlib import Path

import pytest
from fhir.resources.R4B import get_fhir_model_class

from clinic.fhir.mappers import (
    AppointmentFacts,
    AuditFacts,
    CarePlanFacts,
    ConditionFacts,
    EncounterFacts,
    PatientFacts,
    PractitionerFacts,
    appointment_resource,
    audit_event_resource,
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
    questionnaire_resource,
    questionnaire_response_resource,
    scored_instrument_observations,
    vital_sign_observations,
)
from clinic.fhir.provenance import (
    ClinicFacts,
    SignatureFacts,
    organization_resource,
    provenance_resource,
)

GOLDEN = Path(__file__).parent / "golden"
UTC = datetime.UTC
PATIENT = "2b0c7a36-8f0e-4d3e-9f5c-1d2e3f405162"
SESSION = "7c2d9a51-0f3b-4b8e-9a0c-5e6f7a8b9c33"
NURSE = "1e2f3a4b-5c6d-4e7f-8a9b-0c1d2e3f4a44"
PRESCRIBER = "3a4b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c55"
PLAN = "5b0c2f0e-4c1e-4c36-9a53-0c8f3f1b8a11"
RESPONSE = "8d9e0f1a-2b3c-4d5e-8f6a-7b8c9d0e1f66"
CHANGED = datetime.datetime(2026, 11, 2, 16, 0, tzinfo=UTC)
TAKEN = datetime.datetime(2026, 11, 2, 14, 30, tzinfo=UTC)

PHQ9_US_CORE_EXAMPLE = ScoredResponseFacts(
    uuid=RESPONSE,
    patient_uuid=PATIENT,
    instrument_code="phq9",
    answers=(2, 2, 2, 2, 1, 1, 2, 0, 0),
    total=12,
    taken_at=TAKEN,
    updated_at=CHANGED,
)


def _cases() -> dict[str, object]:
    return {
        "Patient": patient_resource(
            PatientFacts(
                uuid=PATIENT,
                mrn="00000042",
                legal_given_name="Jordan",
                legal_middle_name="Lee",
                legal_family_name="Rivera",
                preferred_name="Jo",
                date_of_birth=datetime.date(1985, 4, 12),
                sex="female",
                phone_mobile="(555) 010-2233",
                email="jordan.rivera@example.org",
                address_line1="12 Elm Street",
                city="Springfield",
                region="IL",
                postal_code="62701",
                country="US",
                updated_at=CHANGED,
            )
        ),
        "Practitioner": practitioner_resource(
            PractitionerFacts(
                uuid=NURSE,
                given_name="Nora",
                family_name="Quinn",
                username="nquinn",
                credentials="RN",
                npi="1245319599",
            )
        ),
        "Organization": organization_resource(
            ClinicFacts(name="KetaCare Clinic", phone="(555) 010-0100")
        ),
        "Encounter": encounter_resource(
            EncounterFacts(
                uuid=SESSION,
                patient_uuid=PATIENT,
                kind="IV infusion treatment session",
                started_at=datetime.datetime(2026, 11, 2, 13, 50, tzinfo=UTC),
                ended_at=datetime.datetime(2026, 11, 2, 16, 0, tzinfo=UTC),
                nurse_name="Nora Quinn, RN",
                nurse_uuid=NURSE,
                updated_at=CHANGED,
            )
        ),
        "Appointment": appointment_resource(
            AppointmentFacts(
                uuid="9e0f1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a77",
                patient_uuid=PATIENT,
                status="cancelled",
                kind="IV infusion",
                starts_at=datetime.datetime(2026, 11, 9, 14, 0, tzinfo=UTC),
                ends_at=datetime.datetime(2026, 11, 9, 15, 10, tzinfo=UTC),
                nurse_uuid=NURSE,
                nurse_name="Nora Quinn, RN",
                status_reason="Unwell",
            )
        ),
        "Condition": condition_resource(
            ConditionFacts(
                uuid="0f1a2b3c-4d5e-4f6a-9b7c-8d9e0f1a2b88",
                patient_uuid=PATIENT,
                icd10_code="F33.2",
                description="Major depressive disorder, recurrent severe without psychotic "
                "features",
                active=True,
                recorded_at=datetime.datetime(2026, 10, 20, 15, 0, tzinfo=UTC),
                onset_date=datetime.date(2019, 3, 1),
            )
        ),
        "CarePlan": careplan_resource(
            CarePlanFacts(
                uuid=PLAN,
                patient_uuid=PATIENT,
                status="active",
                title="IV induction, 2 a week",
                route="IV infusion",
                session_count=6,
                start_date=datetime.date(2026, 11, 2),
                prescriber_uuid=PRESCRIBER,
                prescriber_name="Maya Okafor, MD",
                dose="0.50 mg/kg over 40 min",
            )
        ),
        "MedicationRequest": medication_request_resource(
            MedicationOrderFacts(
                uuid=PLAN,
                patient_uuid=PATIENT,
                status="active",
                route="iv",
                title="IV induction, 2 a week",
                authored_at=datetime.datetime(2026, 10, 30, 18, 0, tzinfo=UTC),
                prescriber_uuid=PRESCRIBER,
                prescriber_name="Maya Okafor, MD",
                session_count=6,
                dose_mg_per_kg=Decimal("0.50"),
                infusion_minutes=40,
                start_date=datetime.date(2026, 11, 2),
            )
        ),
        "MedicationAdministration": medication_administration_resource(
            DoseFacts(
                uuid=SESSION,
                patient_uuid=PATIENT,
                route="iv",
                medication_name="Ketamine HCl 10 mg/mL, 10 mL vial",
                given_mg=Decimal("40.000"),
                given_at=datetime.datetime(2026, 11, 2, 14, 45, tzinfo=UTC),
                infusion_started_at=datetime.datetime(2026, 11, 2, 14, 0, tzinfo=UTC),
                course=("started 09:00 at 150 mL/h", "paused 09:10: Nausea", "resumed 09:15"),
                rate_ml_per_h=Decimal("150.0"),
                lot_number="L100",
                lot_expiry=datetime.date(2028, 12, 31),
                encounter_uuid=SESSION,
                performer_uuid=NURSE,
                performer_name="Nora Quinn, RN",
                plan_uuid=PLAN,
            )
        ),
        "Questionnaire": questionnaire_resource("phq9"),
        "QuestionnaireResponse": questionnaire_response_resource(PHQ9_US_CORE_EXAMPLE),
        # The panel, its nine items and its total: a searchset's worth, in one document.
        "Observation-phq9": scored_instrument_observations(PHQ9_US_CORE_EXAMPLE),
        "Observation-vital-signs": vital_sign_observations(
            VitalsFacts(
                uuid="1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c99",
                patient_uuid=PATIENT,
                taken_at=datetime.datetime(2026, 11, 2, 14, 20, tzinfo=UTC),
                systolic_mmhg=142,
                diastolic_mmhg=88,
                heart_rate_bpm=84,
                respiratory_rate_per_min=14,
                spo2_percent=97,
                temperature_c=Decimal("36.8"),
                encounter_uuid=SESSION,
                updated_at=CHANGED,
            )
        ),
        "Observation-body": body_measurement_observations(
            BodyMeasurementFacts(
                uuid="2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5daa",
                patient_uuid=PATIENT,
                measured_on=datetime.date(2026, 11, 2),
                weight_kg=Decimal("80.0"),
                height_cm=Decimal("170.0"),
                updated_at=CHANGED,
            )
        ),
        "Provenance": provenance_resource(
            SignatureFacts(
                uuid=SESSION,
                signed_at=datetime.datetime(2026, 11, 2, 17, 5, tzinfo=UTC),
                signer_uuid=PRESCRIBER,
                signer_name="Maya Okafor, MD",
                clinic_name="KetaCare Clinic",
                targets=(f"Encounter/{SESSION}", f"MedicationAdministration/{SESSION}"),
            )
        ),
        "AuditEvent": audit_event_resource(
            AuditFacts(
                id=4021,
                occurred_at=datetime.datetime(2026, 11, 2, 16, 1, tzinfo=UTC),
                action="view",
                action_label="Viewed",
                actor_username="mokafor",
                actor_role="prescriber",
                summary="FHIR Patient read",
                object_type="patient",
                object_id=PATIENT,
                patient_uuid=PATIENT,
                actor_practitioner_uuid=PRESCRIBER,
                channel="api",
            )
        ),
    }


def _document(built) -> object:
    def one(resource):
        return json.loads(resource.model_dump_json(exclude_none=True))

    return [one(r) for r in built] if isinstance(built, list) else one(built)


@pytest.mark.parametrize("name", list(_cases()))
def test_each_resource_equals_its_reviewed_golden_document(name):
    document = _document(_cases()[name])
    path = GOLDEN / f"{name}.json"
    if os.environ.get("FHIR_GOLDEN_UPDATE"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    golden = json.loads(path.read_text())
    assert document == golden
    # Valid as a client reads it: each resource parsed again from the committed JSON.
    for resource in golden if isinstance(golden, list) else [golden]:
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def test_the_phq9_golden_document_is_the_us_core_example_scored_as_a_number():
    """Read from the golden file, not from the mapper: the sources' values."""
    panel, *members = json.loads((GOLDEN / "Observation-phq9.json").read_text())
    assert panel["code"]["coding"][0]["code"] == "44249-1"  # fhir-loinc.md §1.1
    total = next(m for m in members if m["code"]["coding"][0]["code"] == "44261-6")
    assert total["valueInteger"] == 12 and "valueString" not in total
    items = [m for m in members if m is not total]
    assert [m["valueCodeableConcept"]["coding"][0]["code"] for m in items] == [
        # 2 = "More than half the days" LA6570-1, 1 = "Several days" LA6569-3,
        # 0 = "Not at all" LA6568-5 (LOINC answer list LL358-3).
        "LA6570-1",
        "LA6570-1",
        "LA6570-1",
        "LA6570-1",
        "LA6569-3",
        "LA6569-3",
        "LA6570-1",
        "LA6568-5",
        "LA6568-5",
    ]
