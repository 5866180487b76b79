"""The pure FHIR mappers: codes and values from fhir-loinc.md and clinical-reference.md §7, the
US Core PHQ-9 example's answers (2,2,2,2,1,1,2,0,0 → 12), and every resource validated by the
fhir.resources R4B models it is built with (and again from its JSON, as a client would)."""

from __future__ import annotations

import datetime
import json

import pytest
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient

from clinic.fhir.mappers import (
    PatientFacts,
    patient_resource,
)
from clinic.fhir.observations import (
    ScoredResponseFacts,
    scored_instrument_observations,
)

TAKEN = datetime.datetime(2026, 11, 2, 14, 30, tzinfo=datetime.UTC)
LOINC = "http://loinc.org"


def as_json(resource) -> dict:
    return json.loads(resource.model_dump_json(exclude_none=True))


def test_a_patient_carries_the_mrn_both_names_gender_birth_date_and_contacts():
    facts = PatientFacts(
        uuid="2b0c7a36-8f0e-4d3e-9f5c-1d2e3f405162",
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
    )
    body = as_json(patient_resource(facts))
    assert body == {
        "resourceType": "Patient",
        "id": "2b0c7a36-8f0e-4d3e-9f5c-1d2e3f405162",
        "identifier": [
            {
                "use": "usual",
                "type": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}
                    ]
                },
                "system": "https://ketacare.example/fhir/sid/mrn",
                "value": "00000042",
            }
        ],
        "active": True,
        "name": [
            {"use": "official", "family": "Rivera", "given": ["Jordan", "Lee"]},
            {"use": "usual", "given": ["Jo"]},
        ],
        "telecom": [
            {"system": "phone", "value": "(555) 010-2233", "use": "mobile"},
            {"system": "email", "value": "jordan.rivera@example.org"},
        ],
        "gender": "female",
        "birthDate": "1985-04-12",
        "address": [
            {
                "use": "home",
                "line": ["12 Elm Street"],
                "city": "Springfield",
                "state": "IL",
                "postalCode": "62701",
                "country": "US",
            }
        ],
    }
    assert Patient.model_validate(body).id == facts.uuid


def test_blank_contact_fields_are_left_out_not_sent_empty():
    facts = PatientFacts(
        uuid="9d7f1c2e-0000-4000-8000-000000000001",
        mrn="00000043",
        legal_given_name="Sam",
        legal_family_name="Okafor",
        date_of_birth=datetime.date(1990, 1, 1),
        sex="unknown",
    )
    body = as_json(patient_resource(facts))
    assert "telecom" not in body and "address" not in body
    assert body["name"] == [{"use": "official", "family": "Okafor", "given": ["Sam"]}]


def _phq9(answers, total, **overrides) -> list[dict]:
    facts = ScoredResponseFacts(
        uuid="5f1e2d3c-4b5a-4968-8776-655443322110",
        patient_uuid="2b0c7a36-8f0e-4d3e-9f5c-1d2e3f405162",
        instrument_code="phq9",
        answers=tuple(answers),
        total=total,
        taken_at=TAKEN,
        **overrides,
    )
    return [as_json(o) for o in scored_instrument_observations(facts)]


def _by_code(observations: list[dict]) -> dict[str, dict]:
    return {o["code"]["coding"][0]["code"]: o for o in observations}


def test_the_us_core_phq9_example_answers_give_a_panel_of_nine_items_and_a_total_of_12():
    observations = _phq9([2, 2, 2, 2, 1, 1, 2, 0, 0], 12)
    panel, members = observations[0], observations[1:]
    # fhir-loinc.md §1.1: the panel 44249-1, the total 44261-6 (never the panel code on it).
    assert panel["code"]["coding"][0] == {
        "system": LOINC,
        "code": "44249-1",
        "display": "PHQ-9 quick depression assessment panel [Reported.PHQ]",
    }
    assert panel["hasMember"] == [{"reference": f"Observation/{m['id']}"} for m in members]
    assert len(members) == 10  # nine answered items and the total; item 10 was not answered
    by_code = _by_code(members)
    total = by_code["44261-6"]
    assert total["valueInteger"] == 12 and "valueString" not in total
    # clinical-reference.md §7.1: item codes and answer list LL358-3.
    assert by_code["44250-9"]["valueCodeableConcept"]["coding"][0]["code"] == "LA6570-1"  # 2
    assert by_code["44251-7"]["valueCodeableConcept"]["coding"][0]["code"] == "LA6569-3"  # 1
    assert by_code["44260-8"]["valueCodeableConcept"]["coding"][0] == {
        "system": LOINC,
        "code": "LA6568-5",
        "display": "Not at all",
    }
    for observation in observations:
        assert observation["status"] == "final"
        assert observation["subject"] == {
            "reference": "Patient/2b0c7a36-8f0e-4d3e-9f5c-1d2e3f405162"
        }
        assert observation["category"][0]["coding"][0]["code"] == "survey"
        assert observation["effectiveDateTime"] == "2026-11-02T14:30:00Z"
        Observation.model_validate(observation)


def test_the_difficulty_question_is_coded_from_its_own_answer_list():
    by_code = _by_code(_phq9([0] * 9 + [1], 0))
    # PHQ-9 item 10: 69722-7, "Somewhat difficult" LA6573-5 (answer list LL359-1).
    assert by_code["69722-7"]["valueCodeableConcept"]["coding"][0]["code"] == "LA6573-5"


def test_an_incomplete_response_sends_no_total_and_a_withdrawn_one_says_so():
    by_code = _by_code(_phq9([1, 1, None, 1, 1, 1, 1, 1, 1], None))
    assert "44261-6" not in by_code and "44259-0" not in by_code  # no total, no item 3
    withdrawn = _phq9([0] * 9, 0, entered_in_error=True)
    assert {o["status"] for o in withdrawn} == {"entered-in-error"}


def test_gad7_uses_its_own_panel_items_and_total():
    facts = ScoredResponseFacts(
        uuid="0a0b0c0d-0000-4000-8000-000000000007",
        patient_uuid="2b0c7a36-8f0e-4d3e-9f5c-1d2e3f405162",
        instrument_code="gad7",
        answers=(3, 3, 2, 2, 1, 1, 0, 2),
        total=12,
        taken_at=TAKEN,
    )
    observations = [as_json(o) for o in scored_instrument_observations(facts)]
    # fhir-loinc.md §1.1 and clinical-reference.md §7.2.
    assert observations[0]["code"]["coding"][0]["code"] == "69737-5"
    by_code = _by_code(observations[1:])
    assert by_code["70274-6"]["valueInteger"] == 12
    assert by_code["69725-0"]["valueCodeableConcept"]["coding"][0]["code"] == "LA6571-9"  # 3
    assert by_code["69722-7"]["valueCodeableConcept"]["coding"][0]["code"] == "LA6575-0"  # 2


def test_an_instrument_without_verified_loinc_codes_is_refused_not_guessed():
    facts = ScoredResponseFacts(
        uuid="0a0b0c0d-0000-4000-8000-000000000008",
        patient_uuid="2b0c7a36-8f0e-4d3e-9f5c-1d2e3f405162",
        instrument_code="madrs",
        answers=(0,) * 10,
        total=0,
        taken_at=TAKEN,
    )
    with pytest.raises(ValueError, match="madrs"):
        scored_instrument_observations(facts)


def test_a_chair_side_reading_becomes_us_core_vital_sign_observations():
    from decimal import Decimal

    from clinic.fhir.observations import (
        VitalsFacts,
        vital_sign_observations,
    )

    facts = VitalsFacts(
        uuid="7c7c7c7c-0000-4000-8000-000000000001",
        patient_uuid="2b0c7a36-8f0e-4d3e-9f5c-1d2e3f405162",
        taken_at=TAKEN,
        systolic_mmhg=142,
        diastolic_mmhg=88,
        heart_rate_bpm=76,
        spo2_percent=97,
        temperature_c=Decimal("36.8"),
    )
    observations = {
        o["id"].rsplit("-", 1)[1]: o for o in map(as_json, vital_sign_observations(facts))
    }
    # fhir-loinc.md §1.2: the BP panel 85354-9 with its components, mm[Hg]; no RR was taken.
    assert set(observations) == {"bp", "hr", "spo2", "temp"}
    bp = observations["bp"]
    assert bp["code"]["coding"][0]["code"] == "85354-9"
    assert [
        (c["code"]["coding"][0]["code"], c["valueQuantity"]["value"], c["valueQuantity"]["code"])
        for c in bp["component"]
    ] == [("8480-6", 142, "mm[Hg]"), ("8462-4", 88, "mm[Hg]")]
    assert "valueQuantity" not in bp
    # US Core pulse oximetry: both codings, 59408-5 and 2708-6.
    assert [c["code"] for c in observations["spo2"]["code"]["coding"]] == ["59408-5", "2708-6"]
    assert observations["spo2"]["valueQuantity"]["unit"] == "%"
    assert (
        observations["hr"]["code"]["coding"][0]["code"],
        observations["hr"]["valueQuantity"]["code"],
    ) == ("8867-4", "/min")
    assert observations["temp"]["valueQuantity"] == {
        "value": 36.8,
        "unit": "Cel",
        "system": "http://unitsofmeasure.org",
        "code": "Cel",
    }
    for o in observations.values():
        assert o["category"][0]["coding"][0]["code"] == "vital-signs"
        Observation.model_validate(o)


def test_weight_and_height_are_body_weight_and_body_height_on_their_day():
    from decimal import Decimal

    from clinic.fhir.observations import (
        BodyMeasurementFacts,
        body_measurement_observations,
    )

    facts = BodyMeasurementFacts(
        uuid="8d8d8d8d-0000-4000-8000-000000000001",
        patient_uuid="2b0c7a36-8f0e-4d3e-9f5c-1d2e3f405162",
        measured_on=datetime.date(2026, 11, 2),
        weight_kg=Decimal("80.5"),
    )
    [weight] = map(as_json, body_measurement_observations(facts))
    assert weight["code"]["coding"][0]["code"] == "29463-7"
    assert weight["valueQuantity"]["value"] == 80.5 and weight["valueQuantity"]["code"] == "kg"
    assert weight["effectiveDateTime"] == "2026-11-02"
