"""Patients and their history arriving from a previous system (issue 16): a FHIR Bundle or the
CSV template, checked first (nothing saved, every refusal with where and why), then imported
whole or not at all; a likely duplicate of a registered patient is refused.

Expected values: the fixtures' own (the US Core PHQ-9 example's total 12 on 2 November 2026,
fhir-loinc.md §1.3; 80 kg on the session day), and the exact unit definitions (1 lb =
0.45359237 kg, 1 in = 2.54 cm).
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from clinic.assessments.models import AssessmentResponse
from clinic.core.exceptions import InvalidInput
from clinic.core.models import AuditEvent
from clinic.fhir.import_parse import NO_MEDICATION_HISTORY, parse_bundle, parse_csv
from clinic.fhir.import_run import import_apply, import_check
from clinic.fhir.models import ImportBatch
from clinic.patients.models import BodyMeasurement, Patient

pytestmark = pytest.mark.django_db

CSV_HEADER = (
    "external_id,legal_given_name,legal_family_name,date_of_birth,sex,email,phone_mobile,"
    "instrument,total,taken_on,weight_kg,height_cm,measured_on\n"
)


def check(admin, text: str, name="history.csv") -> ImportBatch:
    return import_check(actor=admin, file_name=name, content=text.encode())


def test_a_csv_checks_without_saving_then_imports_whole(clinic_admin):
    text = CSV_HEADER + (
        "A-1,Robin,Okafor,1979-05-04,female,robin@example.com,,phq9,17,2026-02-02,,,\n"
        "A-1,Robin,Okafor,1979-05-04,female,,,gad7,11,2026-02-02,72.4,165,2026-02-02\n"
        "B-2,Lee,Marsh,1990-11-30,male,,,,,,,,\n"
    )
    batch = check(clinic_admin, text)
    assert batch.report["refusals"] == []
    assert (batch.report["patients"], batch.report["totals"], batch.report["measurements"]) == (
        2,
        2,
        1,
    )
    assert not Patient.objects.exists() and not AssessmentResponse.objects.exists()
    done = import_apply(actor=clinic_admin, batch=batch)
    assert done.status == "imported"
    robin = Patient.objects.get(legal_family_name="Okafor")
    totals = {
        r.instrument_code: (r.total, r.source, r.answers)
        for r in AssessmentResponse.objects.filter(patient=robin)
    }
    assert totals == {"phq9": (17, "imported", []), "gad7": (11, "imported", [])}
    # 17 is "moderately severe" (15-19) and 11 "moderate" (10-14) on their published bands.
    assert set(AssessmentResponse.objects.values_list("severity", flat=True)) == {
        "moderately_severe",
        "moderate",
    }
    weight = BodyMeasurement.objects.get(patient=robin)
    assert (weight.weight_kg, weight.height_cm) == (Decimal("72.4"), Decimal("165.0"))
    from clinic.assessments.models import SuicidalityAlert

    assert not SuicidalityAlert.objects.exists()  # history raises no alert
    assert AuditEvent.objects.filter(action="update", object_type="import_batch").exists()
    with pytest.raises(InvalidInput) as again:
        import_apply(actor=clinic_admin, batch=done)
    assert again.value.errors == {"file": ["This file was imported already."]}


@pytest.mark.parametrize(
    ("row", "why"),
    [
        ("A-1,Robin,Okafor,1979-05-04,female,,,phq9,28,2026-02-02,,,", "from 0 to 27"),
        ("A-1,Robin,Okafor,1979-05-04,female,,,phq9,9,2031-02-02,,,", "future"),
        ("A-1,Robin,Okafor,1979-05-04,female,,,phq9,9,1970-01-01,,,", "date of birth"),
        ("A-1,Robin,Okafor,1979-05-04,female,,,madrs,9,2026-02-02,,,", "phq9 or gad7"),
        ("A-1,Robin,Okafor,1979-13-04,female,,,,,,,,", "YYYY-MM-DD"),
        ("A-1,Robin,Okafor,1979-05-04,helicopter,,,,,,,,", "sex"),
        ("A-1,Robin,Okafor,1979-05-04,female,,,,,,900,,2026-02-02", "Weight"),
        ("A-1,Robin,Okafor,1979-05-04,female,,,,,,seventy,,2026-02-02", "weight_kg"),
    ],
)
def test_every_bad_row_is_refused_with_where_and_why_and_nothing_lands(clinic_admin, row, why):
    good = "B-2,Lee,Marsh,1990-11-30,male,,,,,,,,\n"
    batch = check(clinic_admin, CSV_HEADER + good + row + "\n")
    [refusal] = batch.report["refusals"]
    assert refusal["where"] in ("row 3", "Patient/?")
    assert why.lower() in refusal["message"].lower()
    assert import_apply(actor=clinic_admin, batch=batch).status == "refused"
    assert not Patient.objects.exists()  # not even the good row: whole or nothing


def test_a_likely_duplicate_of_a_registered_patient_is_refused(clinic_admin, patient):
    row = (
        f"X,{patient.legal_given_name},{patient.legal_family_name},"
        f"{patient.date_of_birth.isoformat()},female,,,,,,,,\n"
    )
    batch = check(clinic_admin, CSV_HEADER + row)
    [refusal] = batch.report["refusals"]
    assert f"MRN {patient.mrn}" in refusal["message"]
    assert "same name and date of birth" in refusal["message"]


def test_the_same_person_twice_in_one_file_is_refused(clinic_admin):
    rows = (
        "A-1,Robin,Okafor,1979-05-04,female,,,,,,,,\nC-3,Robin,Okafor,1979-05-04,female,,,,,,,,\n"
    )
    batch = check(clinic_admin, CSV_HEADER + rows)
    assert [r["where"] for r in batch.report["refusals"]] == ["row 3"]


def test_a_bundle_in_pounds_and_inches_and_what_is_left_out():
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:p1",
                "resource": {
                    "resourceType": "Patient",
                    "id": "p1",
                    "name": [{"family": "Okafor", "given": ["Robin"]}],
                    "birthDate": "1979-05-04",
                    "gender": "female",
                },
            },
            {
                "resource": {
                    "resourceType": "Observation",
                    "id": "w",
                    "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
                    "subject": {"reference": "urn:uuid:p1"},
                    "effectiveDateTime": "2026-02-02",
                    "valueQuantity": {"value": 160, "code": "[lb_av]"},
                }
            },
            {
                "resource": {
                    "resourceType": "Observation",
                    "id": "h",
                    "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "8302-2"}]},
                    "subject": {"reference": "Patient/p1"},
                    "effectiveDateTime": "2026-02-02T10:00:00Z",
                    "valueQuantity": {"value": 65, "code": "[in_i]"},
                }
            },
            {"resource": {"resourceType": "Condition", "id": "c"}},
            {"resource": {"resourceType": "MedicationStatement", "id": "m"}},
        ],
    }
    arrival = parse_bundle(json.dumps(bundle))
    [robin] = arrival.patients
    # 160 lb x 0.45359237 = 72.57 kg; 65 in x 2.54 = 165.1 cm.
    assert robin.measurements == [
        ("Observation/w", datetime.date(2026, 2, 2), Decimal("72.6"), None),
        ("Observation/h", datetime.date(2026, 2, 2), None, Decimal("165.1")),
    ]
    # A Condition naming no patient of the file, and a medication history KetaCare has no
    # place for: each refused by name, so nothing is dropped silently.
    assert arrival.left_out == {}
    assert [(p.where, p.message) for p in arrival.refusals] == [
        ("Condition/c", "Its patient (none) is not in the file."),
        ("MedicationStatement/m", NO_MEDICATION_HISTORY),
    ]


def test_files_that_are_not_what_they_claim_are_refused():
    assert parse_bundle("not json").refusals[0].message.startswith("This is not JSON")
    assert parse_bundle('{"resourceType": "Patient"}').refusals[0].message == (
        "This is not a FHIR Bundle."
    )
    assert "missing columns" in parse_csv("name,dob\nA,B\n").refusals[0].message.lower()


def test_an_exported_record_imports_into_an_empty_clinic_as_the_same_patient(
    clinic_admin, front_desk, prescriber, nurse
):
    """A patient with the US Core example PHQ-9 (total 12), a GAD-7 of seven 1s (total 7), a
    weight of 80 kg and a problem list (F33.1 active since 1 March 2024; F41.1 from 10 January
    2025, resolved 1 June 2026), exported as their whole record (a FHIR Bundle), then imported
    into the clinic as it was before they were registered: the same person, totals, weight and
    problem list."""
    from clinic.assessments.services import response_record
    from clinic.billing.services import diagnosis_record, diagnosis_resolve
    from clinic.fhir.patient_record import whole_record
    from clinic.fhir.record_formats import record_bundle, record_resources
    from clinic.patients.services import body_measurement_record, care_team_set
    from clinic.patients.tests.factories import register

    taken = datetime.datetime(2026, 11, 2, 15, tzinfo=datetime.UTC)
    with transaction.atomic():
        person = register(front_desk, legal_given_name="Robin", legal_family_name="Okafor")
        care_team_set(
            actor=front_desk, patient=person, primary_prescriber=prescriber, nurses=[nurse]
        )
        body_measurement_record(
            actor=nurse, patient=person, measured_on=datetime.date(2026, 11, 2), weight_kg="80"
        )
        for code, answers in (("phq9", [2, 2, 2, 2, 1, 1, 2, 0, 0]), ("gad7", [1] * 7)):
            response_record(
                actor=nurse, patient=person, instrument_code=code, answers=answers, taken_at=taken
            )
        diagnosis_record(
            actor=prescriber, patient=person, code="F33.1", onset_date=datetime.date(2024, 3, 1)
        )
        anxiety = diagnosis_record(
            actor=prescriber, patient=person, code="F41.1", onset_date=datetime.date(2025, 1, 10)
        )
        diagnosis_resolve(
            actor=prescriber, diagnosis=anxiety, resolved_on=datetime.date(2026, 6, 1)
        )
        recorded = timezone.localdate()
        facts = whole_record(actor=clinic_admin, patient=person, purpose="round trip")
        bundle = record_bundle(
            record_resources(facts),
            base_url="https://old.example/fhir/R4/",
            generated_at=datetime.datetime(2026, 11, 3, tzinfo=datetime.UTC),
        )
        born = person.date_of_birth
        transaction.set_rollback(True)  # the clinic without them
    assert not Patient.objects.exists()
    batch = check(clinic_admin, json.dumps(bundle), name="record.json")
    assert batch.report["refusals"] == [], batch.report
    assert import_apply(actor=clinic_admin, batch=batch).status == "imported"
    arrived = Patient.objects.get()
    assert (arrived.legal_given_name, arrived.legal_family_name, arrived.date_of_birth) == (
        "Robin",
        "Okafor",
        born,
    )
    assert sorted(
        (r.instrument_code, r.total, r.taken_at)
        for r in AssessmentResponse.objects.filter(patient=arrived)
    ) == [("gad7", 7, taken), ("phq9", 12, taken)]
    assert [(m.measured_on, m.weight_kg) for m in arrived.measurements.all()] == [
        (datetime.date(2026, 11, 2), Decimal("80.0"))
    ]
    assert batch.report["conditions"] == 2
    from clinic.billing.models import Diagnosis

    problems = Diagnosis.objects.filter(patient=arrived).order_by("icd10_code")
    assert [
        (d.icd10_code, d.description, d.status, d.onset_date, d.resolved_on, d.is_primary)
        for d in problems
    ] == [
        (
            "F33.1",
            "Major depressive disorder, recurrent, moderate",
            "active",
            datetime.date(2024, 3, 1),
            None,
            False,
        ),
        (
            "F41.1",
            "Generalized anxiety disorder",
            "resolved",
            datetime.date(2025, 1, 10),
            datetime.date(2026, 6, 1),
            False,
        ),
    ]
    assert {d.note for d in problems} == {
        f"Imported from a previous system, recorded there {recorded:%m/%d/%Y}."
    }
    assert (
        AuditEvent.objects.filter(
            action="create", object_type="diagnosis", patient=arrived, actor=clinic_admin
        ).count()
        == 2
    )
    # What the export holds beyond that (item answers, the questionnaire responses) is listed
    # as left out, not lost silently.
    assert batch.report["left_out"]


def test_the_import_pages_are_the_administrators(client, actors):
    for who in ("prescriber", "nurse", "front_desk", "billing", "therapist"):
        client.force_login(actors[who])
        assert client.get(reverse("imports:start")).status_code == 403
    client.force_login(actors["clinic_admin"])
    assert client.get(reverse("imports:start")).status_code == 200
    template = client.get(reverse("imports:csv_template"))
    assert template.content.decode().startswith("external_id,legal_given_name")
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(
        "h.csv",
        (CSV_HEADER + "A-1,Robin,Okafor,1979-05-04,female,,,phq9,17,2026-02-02,,,\n").encode(),
    )
    response = client.post(reverse("imports:start"), {"file": upload})
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert b"Import 1 patient" in page.content
    imported = client.post(response["Location"] + "import/")
    assert imported.status_code == 302 and Patient.objects.count() == 1


def test_an_imported_total_reads_as_a_total_without_answers(client, clinic_admin, prescriber):
    """On the chart and over FHIR: the total and its band, said to be imported; no item
    Observations, no QuestionnaireResponse (there are no answers to give), no alert."""
    from clinic.fhir.tests.helpers import bearer, entries
    from clinic.patients.services import care_team_set

    batch = check(
        clinic_admin, CSV_HEADER + "A-1,Robin,Okafor,1979-05-04,female,,,phq9,17,2026-02-02,,,\n"
    )
    import_apply(actor=clinic_admin, batch=batch)
    robin = Patient.objects.get()
    care_team_set(actor=clinic_admin, patient=robin, primary_prescriber=prescriber, nurses=[])
    mine = bearer(prescriber)
    found = entries(
        client.get(f"/fhir/R4/Observation?patient={robin.uuid}&category=survey", **mine)
    )
    assert [o["code"]["coding"][0]["code"] for o in found] == ["44249-1", "44261-6"]
    panel, total = found
    assert total["valueInteger"] == 17 and "derivedFrom" not in panel
    assert entries(client.get(f"/fhir/R4/QuestionnaireResponse?patient={robin.uuid}", **mine)) == []
    response = AssessmentResponse.objects.get()
    client.force_login(prescriber)
    page = client.get(
        reverse("assessments:response_detail", args=[robin.uuid, response.uuid])
    ).content.decode()
    assert "Imported total" in page and "17" in page
    from clinic.assessments.models import SuicidalityAlert

    assert not SuicidalityAlert.objects.exists()
