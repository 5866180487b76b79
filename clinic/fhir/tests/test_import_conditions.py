"""Conditions (the problem list) and MedicationStatements arriving in a FHIR Bundle (issue 16):
each Condition lands on the problem list through its import service, with the checks a
prescriber's entry gets, or is refused with where and why; every MedicationStatement is refused
by name, since KetaCare keeps no medication history; the import stays whole or nothing.

ICD-10-CM codes and words are the code set's (F33.1 "Major depressive disorder, recurrent,
moderate"; F41.1 "Generalized anxiety disorder"); the FHIR codes are R4's condition-clinical and
condition-ver-status (fhir-loinc.md "Conventions" gives the ICD-10-CM system)."""

from __future__ import annotations

import datetime
import json

import pytest
from django.urls import reverse

from clinic.billing.models import Diagnosis
from clinic.core.models import AuditEvent
from clinic.fhir.import_parse import NO_MEDICATION_HISTORY
from clinic.fhir.import_run import import_apply, import_check
from clinic.patients.models import Patient

pytestmark = pytest.mark.django_db

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"


def _patient(pid="p1", given="Robin"):
    return {
        "fullUrl": f"urn:uuid:{pid}",
        "resource": {
            "resourceType": "Patient",
            "id": pid,
            "name": [{"use": "official", "family": "Okafor", "given": [given]}],
            "birthDate": "1979-05-04",
            "gender": "female",
        },
    }


def _condition(cid, code, clinical="active", subject="Patient/p1", system=ICD10CM, **more):
    resource = {
        "resourceType": "Condition",
        "id": cid,
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": clinical}]},
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": subject},
        **more,
    }
    return {"resource": resource}


def _bundle(*entries):
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": list(entries)})


def check(admin, text):
    return import_check(actor=admin, file_name="history.json", content=text.encode())


def test_conditions_land_on_the_problem_list_whole(clinic_admin):
    text = _bundle(
        _patient(),
        _condition("c1", "F33.1", onsetDateTime="2024-03-01", recordedDate="2024-03-05"),
        _condition(
            "c2",
            "F41.1",
            clinical="resolved",
            onsetPeriod={"start": "2025-01-10T09:00:00Z"},
            abatementDateTime="2026-06-01",
        ),
        _condition(
            "c3",
            "F43.10",
            verificationStatus={"coding": [{"system": VERIFICATION, "code": "entered-in-error"}]},
        ),
    )
    batch = check(clinic_admin, text)
    assert batch.report["refusals"] == []
    assert batch.report["conditions"] == 2
    assert batch.report["left_out"] == {"Records marked entered in error.": 1}
    assert not Diagnosis.objects.exists()  # the check keeps nothing
    assert import_apply(actor=clinic_admin, batch=batch).status == "imported"
    robin = Patient.objects.get()
    rows = {
        d.icd10_code: (d.status, d.onset_date, d.resolved_on, d.note, d.is_primary)
        for d in Diagnosis.objects.filter(patient=robin)
    }
    assert rows == {
        "F33.1": (
            "active",
            datetime.date(2024, 3, 1),
            None,
            "Imported from a previous system, recorded there 03/05/2024.",
            False,
        ),
        "F41.1": (
            "resolved",
            datetime.date(2025, 1, 10),
            datetime.date(2026, 6, 1),
            "Imported from a previous system.",
            False,
        ),
    }
    summaries = set(
        AuditEvent.objects.filter(object_type="diagnosis", patient=robin).values_list(
            "summary", flat=True
        )
    )
    assert summaries == {
        "Diagnosis imported: F33.1",
        "Diagnosis imported: F41.1 (resolved 06/01/2026)",
    }


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        (_condition("x", "F33.1", subject="Patient/nobody"), "Its patient (Patient/nobody)"),
        (_condition("x", "35489007", system="http://snomed.info/sct"), "no ICD-10-CM code"),
        (_condition("x", "F33"), "F33"),  # a category, not a billable code
        (_condition("x", "F33.1", clinical="resolved"), "no abatementDateTime"),
        (_condition("x", "F33.1", clinical=""), "active or resolved"),
        (_condition("x", "F33.1", onsetDateTime="1970-01-01"), "onset date"),  # before birth
        (_condition("x", "F33.1", onsetDateTime="2099-01-01"), "future"),
        (
            _condition(
                "x",
                "F41.1",
                clinical="resolved",
                onsetDateTime="2026-01-10",
                abatementDateTime="2025-06-01",
            ),
            "before its onset",
        ),
        ({"resource": {"resourceType": "MedicationStatement", "id": "x"}}, "medication history"),
    ],
)
def test_each_bad_condition_or_medication_statement_is_refused_and_nothing_lands(
    clinic_admin, entry, why
):
    text = _bundle(_patient(), _condition("ok", "F33.1"), entry)
    batch = check(clinic_admin, text)
    [refusal] = batch.report["refusals"]
    assert refusal["where"].endswith("/x")
    assert why in refusal["message"], refusal
    done = import_apply(actor=clinic_admin, batch=batch)
    assert done.status == "refused"
    assert not Patient.objects.exists() and not Diagnosis.objects.exists()


def test_every_medication_statement_is_named_with_the_reason(clinic_admin):
    statements = [
        {"resource": {"resourceType": "MedicationStatement", "id": f"m{n}"}} for n in (1, 2)
    ]
    batch = check(clinic_admin, _bundle(_patient(), *statements))
    assert batch.report["refusals"] == [
        {"where": "MedicationStatement/m1", "message": NO_MEDICATION_HISTORY},
        {"where": "MedicationStatement/m2", "message": NO_MEDICATION_HISTORY},
    ]
    assert NO_MEDICATION_HISTORY.startswith("Not imported: KetaCare keeps no medication history")


def test_the_same_active_code_twice_is_refused_the_second_time(clinic_admin):
    batch = check(
        clinic_admin, _bundle(_patient(), _condition("a", "F33.1"), _condition("b", "F33.1"))
    )
    assert batch.report["refusals"] == [
        {
            "where": "Condition/b",
            "message": "icd10 code: F33.1 is already on the active problem list.",
        }
    ]


def test_the_check_page_lists_conditions_and_refusals(client, clinic_admin):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(clinic_admin)
    text = _bundle(
        _patient(),
        _condition("c1", "F33.1"),
        {"resource": {"resourceType": "MedicationStatement", "id": "m1"}},
    )
    response = client.post(
        reverse("imports:start"), {"file": SimpleUploadedFile("h.json", text.encode())}
    )
    page = client.get(response["Location"]).content.decode()
    assert "Problem-list entries (ICD-10-CM)</dt><dd>1</dd>" in page
    assert "MedicationStatement/m1" in page
    assert "Not imported: KetaCare keeps no medication history" in page
    assert "cannot be imported" in page
