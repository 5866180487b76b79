"""FHIR Bulk Data export at /fhir/R4/ (issue 16), the protocol end to end with the immediate task
backend: kick-off, status, manifest, files; `_type`; the kick-off's refusals; the worker's
chunks and its query counts.

The fixture day is the session tests' (clinic/treatment_sessions/tests/conftest.py, a frozen
clock): Jordan Rivera, an IV infusion of 40 mg on Monday 2 June 2031 and the `scores` PHQ-9
(total 12) and GAD-7; a second patient, Alex Moreno, has nothing but their registration.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from clinic.fhir import bulk_export
from clinic.fhir.models import BulkExport, ExportStatus
from clinic.fhir.patient_record import whole_record
from clinic.fhir.record_formats import record_resources
from clinic.fhir.tests.bulk_helpers import ASYNC, BASE, download, kick_off, poll
from clinic.fhir.tests.helpers import bearer, outcome
from clinic.treatment_sessions.tests.conftest import second_iv_cleared  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(patient, iv_stopped, scores):
    return patient


@pytest.fixture
def second_patient(front_desk, prescriber):
    from clinic.patients.services import care_team_set
    from clinic.patients.tests.factories import register

    other = register(front_desk, legal_given_name="Alex", legal_family_name="Moreno")
    care_team_set(actor=front_desk, patient=other, primary_prescriber=prescriber)
    return other


def test_every_patient_end_to_end(
    client, django_capture_on_commit_callbacks, clinic_admin, record, second_patient
):
    started = kick_off(client, django_capture_on_commit_callbacks, clinic_admin)
    assert started.status_code == 202
    export = BulkExport.objects.get()
    assert started["Content-Location"] == f"{BASE}$export-status/{export.uuid}"

    status = poll(client, clinic_admin, started)
    assert status.status_code == 200 and status["Content-Type"] == "application/json"
    assert status["Expires"]
    manifest = status.json()
    assert manifest["request"] == f"{BASE}Patient/$export"
    assert manifest["requiresAccessToken"] is True
    assert manifest["transactionTime"] == export.started_at.isoformat()
    assert manifest["error"] == []
    types = [entry["type"] for entry in manifest["output"]]
    assert len(types) == len(set(types))  # one file per type
    assert set(types) >= {"Patient", "Encounter", "MedicationAdministration", "Observation"}
    patients = []
    for entry in manifest["output"]:
        assert entry["url"] == f"{BASE}$export-file/{export.uuid}/{entry['type']}.ndjson"
        resources = download(client, clinic_admin, entry["url"])
        assert len(resources) == entry["count"]
        assert {r["resourceType"] for r in resources} == {entry["type"]}
        if entry["type"] == "Patient":
            patients = [r["id"] for r in resources]
    assert sorted(patients) == sorted([str(record.uuid), str(second_patient.uuid)])
    export.refresh_from_db()
    assert (export.status, export.patients_done, export.patients_total) == ("done", 2, 2)


def test_the_files_hold_what_the_patients_own_download_holds(
    client, django_capture_on_commit_callbacks, nurse, record
):
    expected: dict[str, list[dict]] = {}
    own = record_resources(whole_record(actor=nurse, patient=record, purpose="comparison"))
    for resource in own:
        expected.setdefault(resource["resourceType"], []).append(resource)
    started = kick_off(
        client, django_capture_on_commit_callbacks, nurse, f"Patient/{record.uuid}/$export"
    )
    manifest = poll(client, nurse, started).json()
    got = {entry["type"]: download(client, nurse, entry["url"]) for entry in manifest["output"]}
    assert got == expected


def test_practitioners_are_written_once_across_patients(
    client,
    django_capture_on_commit_callbacks,
    clinic_admin,
    record,
    second_iv_cleared,  # noqa: F811
):
    # Both patients' plans, appointments and sessions name the same prescriber and nurse.
    started = kick_off(
        client, django_capture_on_commit_callbacks, clinic_admin, _type="Practitioner"
    )
    [entry] = poll(client, clinic_admin, started).json()["output"]
    ids = [r["id"] for r in download(client, clinic_admin, entry["url"])]
    assert len(ids) == len(set(ids)) == entry["count"] >= 2


def test_type_narrows_the_files(client, django_capture_on_commit_callbacks, nurse, record):
    started = kick_off(
        client,
        django_capture_on_commit_callbacks,
        nurse,
        f"Patient/{record.uuid}/$export",
        _type="Observation, Patient",
        _outputFormat="application/fhir+ndjson",
    )
    manifest = poll(client, nurse, started).json()
    assert [entry["type"] for entry in manifest["output"]] == ["Patient", "Observation"]
    assert BulkExport.objects.get().resource_types == ["Patient", "Observation"]


@pytest.mark.parametrize(
    ("params", "headers", "status", "code"),
    [
        ({}, {}, 400, "invalid"),  # no Prefer: respond-async
        ({}, {"HTTP_PREFER": "return=representation"}, 400, "invalid"),
        ({"_type": "Observation,AllergyIntolerance"}, ASYNC, 400, "not-supported"),
        ({"_type": "Bogus"}, ASYNC, 400, "not-supported"),
        ({"_outputFormat": "application/fhir+json"}, ASYNC, 400, "not-supported"),
        # _since: one FHIR instant with its zone, not after now (the frozen clock's Monday).
        ({"_since": "2031-06-03T00:00:00Z"}, ASYNC, 400, "invalid"),
        ({"_since": "2031-06-01"}, ASYNC, 400, "invalid"),
        ({"_since": "2031-06-01T09:00:00"}, ASYNC, 400, "invalid"),
        ({"_since": "yesterday"}, ASYNC, 400, "invalid"),
        ({"_typeFilter": "Observation?category=survey"}, ASYNC, 400, "not-supported"),
    ],
)
def test_the_kick_off_is_refused_before_anything_is_queued(
    client, django_capture_on_commit_callbacks, clinic_admin, record, params, headers, status, code
):
    response = kick_off(
        client, django_capture_on_commit_callbacks, clinic_admin, headers=headers, **params
    )
    outcome(response, status, code)
    assert not BulkExport.objects.exists()


@pytest.mark.parametrize(
    "output_format", ["application/ndjson", "ndjson", "application/fhir+ndjson"]
)
def test_the_short_forms_of_ndjson_are_accepted(
    client, django_capture_on_commit_callbacks, clinic_admin, record, output_format
):
    response = kick_off(
        client, django_capture_on_commit_callbacks, clinic_admin, _outputFormat=output_format
    )
    assert response.status_code == 202


def test_an_unencoded_plus_in_the_output_format_is_read_as_meant(
    client, django_capture_on_commit_callbacks, clinic_admin, record
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(
            BASE + "Patient/$export?_outputFormat=application/fhir+ndjson",
            **ASYNC,
            **bearer(clinic_admin),
        )
    assert response.status_code == 202


def test_status_while_queued_and_running_says_how_far(
    client, django_capture_on_commit_callbacks, clinic_admin, record, second_patient
):
    with django_capture_on_commit_callbacks(execute=False):  # the worker has not started
        started = client.get(BASE + "Patient/$export", **ASYNC, **bearer(clinic_admin))
    queued = poll(client, clinic_admin, started)
    assert queued.status_code == 202
    assert queued["X-Progress"] == "Queued: waiting for the worker"
    assert queued["Retry-After"] == "10"
    BulkExport.objects.update(status=ExportStatus.RUNNING, patients_total=2, patients_done=1)
    running = poll(client, clinic_admin, started)
    assert (running.status_code, running["X-Progress"]) == (202, "1 of 2 patients")


def test_a_second_export_waits_for_the_first(
    client, django_capture_on_commit_callbacks, clinic_admin, record
):
    with django_capture_on_commit_callbacks(execute=False):
        first = client.get(BASE + "Patient/$export", **ASYNC, **bearer(clinic_admin))
        second = client.get(BASE + "Patient/$export", **ASYNC, **bearer(clinic_admin))
    assert first.status_code == 202
    outcome(second, 429, "throttled")
    assert BulkExport.objects.count() == 1


def test_the_worker_writes_a_chunk_at_a_time_in_order(
    clinic_admin, record, second_patient, front_desk, monkeypatch
):
    from clinic.patients.tests.factories import register

    for name in ("Casey", "Drew", "Emery"):
        register(front_desk, legal_given_name=name)
    monkeypatch.setattr(bulk_export, "CHUNK_PATIENTS", 2)
    export = bulk_export.export_start(
        actor=clinic_admin, patient=None, resource_types=["Patient"], request_url="x"
    )
    assert bulk_export.export_run(str(export.uuid)) == ExportStatus.DONE
    [file] = export.files.all()
    assert [part.sequence for part in file.parts.all()] == [0, 1, 2]  # 5 patients, 2 a chunk
    assert file.resource_count == 5
    assert bulk_export.export_run(str(export.uuid)) == "not queued"  # a second run does nothing


def test_the_worker_reads_per_kind_of_record_not_per_record(nurse, record):
    """A longer history costs no more queries: whole_record reads each kind of record once."""
    import datetime

    from clinic.assessments import services

    def queries() -> int:
        export = bulk_export.export_start(
            actor=nurse, patient=record, resource_types=[], request_url="x"
        )
        with CaptureQueriesContext(connection) as captured:
            assert bulk_export.export_run(str(export.uuid)) == ExportStatus.DONE
        return len(captured.captured_queries)

    few = queries()
    for day in range(10, 20):
        services.response_record(
            actor=nurse,
            patient=record,
            instrument_code="phq9",
            answers=[1] * 9,
            taken_at=datetime.datetime(2026, 11, day, 15, tzinfo=datetime.UTC),
        )
    assert queries() == few


def test_the_capability_statement_declares_the_export(client):
    statement = client.get(BASE + "metadata").json()
    CapabilityStatement.model_validate(statement)
    [patient] = [r for r in statement["rest"][0]["resource"] if r["type"] == "Patient"]
    [operation] = patient["operation"]
    assert operation["name"] == "export"
    assert operation["definition"] == (
        "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"
    )
    assert "_since (a FHIR instant" in operation["documentation"]
    assert "Group-level export is not served" in operation["documentation"]


def test_every_type_of_a_full_record_is_an_export_type(nurse, record):
    resources = record_resources(whole_record(actor=nurse, patient=record, purpose="types"))
    assert {r["resourceType"] for r in resources} <= set(bulk_export.EXPORT_TYPES)
