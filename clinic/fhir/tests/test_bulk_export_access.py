"""FHIR Bulk Data export (issue 16): who may start, poll, download and cancel an export; what the
audit trail says; a skipped patient and a stopped export; expiry and cancel.

Same fixture day as test_bulk_export.py (a frozen clock), so a day later is exactly a day.
"""

from __future__ import annotations

import datetime
import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from clinic.core.models import AuditEvent
from clinic.fhir import bulk_export
from clinic.fhir.models import BulkExport, BulkExportFile, BulkExportPart, ExportStatus
from clinic.fhir.policy import bulk_export_policy
from clinic.fhir.tests.bulk_helpers import ASYNC, BASE, download, kick_off, poll
from clinic.fhir.tests.helpers import bearer, outcome

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(patient, iv_stopped, scores):
    return patient


@pytest.fixture
def done(client, django_capture_on_commit_callbacks, nurse, record):
    """The nurse's finished export of Jordan's record, and its kick-off response."""
    started = kick_off(
        client, django_capture_on_commit_callbacks, nurse, f"Patient/{record.uuid}/$export"
    )
    assert poll(client, nurse, started).status_code == 200
    return started


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("clinic_admin", 202),
        ("prescriber", 403),
        ("nurse", 403),
        ("front_desk", 403),
        ("billing", 403),
    ],
)
def test_every_patient_is_for_the_clinic_administrator(
    client, django_capture_on_commit_callbacks, actors, record, who, status
):
    response = kick_off(client, django_capture_on_commit_callbacks, actors[who])
    assert response.status_code == status
    if status == 403:
        outcome(response, 403, "security")
        assert not BulkExport.objects.exists()
        assert AuditEvent.objects.filter(action="denied", actor=actors[who]).exists()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("clinic_admin", 202),
        ("prescriber", 202),
        ("nurse", 202),
        ("therapist", 202),
        ("front_desk", 403),  # finds the patient in the directory, but not the clinical record
        ("billing", 403),
        ("prescriber_off_team", 404),  # a patient out of reach does not exist
        ("nurse_off_team", 404),
    ],
)
def test_one_patient_is_for_their_care_team(
    client, django_capture_on_commit_callbacks, actors, record, who, status
):
    path = f"Patient/{record.uuid}/$export"
    response = kick_off(client, django_capture_on_commit_callbacks, actors[who], path)
    assert response.status_code == status
    assert BulkExport.objects.exists() == (status == 202)
    if status == 403:
        assert AuditEvent.objects.filter(
            action="denied", actor=actors[who], patient=record, object_type="patient_record"
        ).exists()


def test_no_token_and_no_such_patient(client, django_capture_on_commit_callbacks, nurse):
    outcome(client.get(BASE + "Patient/$export", **ASYNC), 401, "login")
    missing = kick_off(
        client,
        django_capture_on_commit_callbacks,
        nurse,
        "Patient/00000000-0000-4000-8000-000000000000/$export",
    )
    outcome(missing, 404, "not-found")


@pytest.mark.parametrize("other", ["prescriber", "clinic_admin", "nurse_off_team"])
def test_only_the_requester_may_poll_download_or_cancel(client, actors, done, other):
    manifest = poll(client, actors["nurse"], done).json()
    someone = actors[other]
    outcome(client.get(done["Content-Location"], **bearer(someone)), 404, "not-found")
    for entry in manifest["output"]:
        outcome(client.get(entry["url"], **bearer(someone)), 404, "not-found")
    outcome(client.delete(done["Content-Location"], **bearer(someone)), 404, "not-found")
    assert BulkExport.objects.get().status == ExportStatus.DONE
    outcome(client.get(done["Content-Location"]), 401, "login")


def test_a_status_url_that_names_no_export_is_not_found(client, nurse, done):
    outcome(client.get(BASE + "$export-status/not-a-uuid", **bearer(nurse)), 404, "not-found")
    export = BulkExport.objects.get()
    url = f"{BASE}$export-file/{export.uuid}/AllergyIntolerance.ndjson"
    outcome(client.get(url, **bearer(nurse)), 404, "not-found")
    outcome(client.post(done["Content-Location"], **bearer(nurse)), 405, "not-supported")


def test_the_kick_off_every_patient_and_every_download_are_audited(
    client, django_capture_on_commit_callbacks, clinic_admin, record, front_desk
):
    from clinic.patients.tests.factories import register

    other = register(front_desk, legal_given_name="Alex")
    started = kick_off(client, django_capture_on_commit_callbacks, clinic_admin)
    export = BulkExport.objects.get()
    [requested] = AuditEvent.objects.filter(object_type="bulk_export", action="export")
    assert (requested.actor, requested.object_id) == (clinic_admin, str(export.uuid))
    assert requested.summary.startswith("FHIR bulk export requested: every patient")
    exported = AuditEvent.objects.filter(
        object_type="patient_record", action="export", actor=clinic_admin
    )
    assert sorted(e.patient_id for e in exported) == sorted([record.pk, other.pk])
    assert all(f"bulk export {export.uuid}" in e.summary for e in exported)
    [patient_file] = [
        e for e in poll(client, clinic_admin, started).json()["output"] if e["type"] == "Patient"
    ]
    download(client, clinic_admin, patient_file["url"])
    assert AuditEvent.objects.filter(
        object_type="bulk_export", summary__startswith="FHIR bulk export file downloaded: Patient"
    ).exists()


def test_a_patient_refused_when_the_worker_reaches_them_is_skipped_and_counted(
    client, django_capture_on_commit_callbacks, prescriber, front_desk, make_staff, record
):
    from clinic.patients.services import care_team_set

    with django_capture_on_commit_callbacks(execute=False):  # the worker has not run yet
        started = client.get(f"{BASE}Patient/{record.uuid}/$export", **ASYNC, **bearer(prescriber))
    care_team_set(
        actor=front_desk, patient=record, primary_prescriber=make_staff("prescriber", "dr2")
    )
    export = BulkExport.objects.get()
    assert bulk_export.export_run(str(export.uuid)) == ExportStatus.DONE
    manifest = poll(client, prescriber, started).json()
    assert manifest["output"] == []
    [error] = manifest["error"]
    assert error["type"] == "OperationOutcome" and error["count"] == 1
    [line] = download(client, prescriber, error["url"])
    assert line["issue"][0]["diagnostics"].startswith("1 patient record(s) were refused")
    assert str(record.uuid) not in json.dumps(line)
    export.refresh_from_db()
    assert (export.patients_done, export.patients_skipped) == (1, 1)
    assert AuditEvent.objects.filter(
        action="denied", actor=prescriber, patient=record, object_type="patient_record"
    ).exists()


def test_the_administrator_reaches_every_patient_even_one_no_longer_active(
    clinic_admin, record, front_desk
):
    """The administrator may take every patient's record (can_view_clinical), so an export of
    every patient never skips one; a discharged (inactive) patient is in it too."""
    from clinic.patients.models import Patient
    from clinic.patients.tests.factories import register

    gone = register(front_desk, legal_given_name="Robin")
    Patient.objects.filter(pk=gone.pk).update(is_active=False)
    export = bulk_export.export_start(
        actor=clinic_admin, patient=None, resource_types=["Patient"], request_url="x"
    )
    assert bulk_export.export_run(str(export.uuid)) == ExportStatus.DONE
    export.refresh_from_db()
    assert (export.patients_total, export.patients_done, export.patients_skipped) == (2, 2, 0)


def test_an_administrator_demoted_before_the_worker_runs_stops_the_export(
    client, django_capture_on_commit_callbacks, clinic_admin, record
):
    from clinic.accounts.models import User

    with django_capture_on_commit_callbacks(execute=False):
        started = client.get(BASE + "Patient/$export", **ASYNC, **bearer(clinic_admin))
    User.objects.filter(pk=clinic_admin.pk).update(role="front_desk")
    export = BulkExport.objects.get()
    assert bulk_export.export_run(str(export.uuid)) == ExportStatus.FAILED
    message = outcome(poll(client, clinic_admin, started), 500, "exception")
    assert message == bulk_export.ACCESS_CHANGED
    assert not AuditEvent.objects.filter(object_type="patient_record", action="export").exists()


def test_an_unexpected_error_fails_the_export_and_deletes_what_it_wrote(
    client, django_capture_on_commit_callbacks, clinic_admin, record, front_desk, monkeypatch
):
    from clinic.patients.tests.factories import register

    register(front_desk, legal_given_name="Alex")
    monkeypatch.setattr(bulk_export, "CHUNK_PATIENTS", 1)
    calls = []

    def second_fails(record):
        calls.append(record)
        if len(calls) == 2:
            raise RuntimeError("a mapper bug")
        return [{"resourceType": "Patient", "id": record.patient.uuid}]

    monkeypatch.setattr(bulk_export, "record_resources", second_fails)
    started = kick_off(client, django_capture_on_commit_callbacks, clinic_admin)
    message = outcome(poll(client, clinic_admin, started), 500, "exception")
    assert message == bulk_export.UNEXPECTED and "mapper" not in message
    assert not BulkExportFile.objects.exists() and not BulkExportPart.objects.exists()


def test_files_expire_after_the_policy_and_the_command_deletes_them(
    client, nurse, done, clock, settings
):
    export = BulkExport.objects.get()
    assert export.expires_at == export.finished_at + datetime.timedelta(hours=24)
    manifest = poll(client, nurse, done).json()
    clock.shift(datetime.timedelta(hours=24) - datetime.timedelta(seconds=1))
    call_command("expire_bulk_exports")
    assert download(client, nurse, manifest["output"][0]["url"])  # still there
    clock.shift(datetime.timedelta(seconds=1))
    outcome(poll(client, nurse, done), 404, "not-found")
    for entry in manifest["output"]:
        outcome(client.get(entry["url"], **bearer(nurse)), 404, "not-found")
    assert BulkExportPart.objects.exists()  # until the command runs
    call_command("expire_bulk_exports")
    assert not BulkExportFile.objects.exists() and not BulkExportPart.objects.exists()
    assert BulkExport.objects.get().status == ExportStatus.DONE  # who exported what stays


def test_the_download_lifetime_is_clinic_policy(settings):
    settings.CLINIC_POLICY = {"bulk_export": {"download_valid_hours": 2}}
    assert bulk_export_policy().download_valid_hours == 2
    for wrong in (0, 169, "24", True):
        settings.CLINIC_POLICY = {"bulk_export": {"download_valid_hours": wrong}}
        with pytest.raises(ImproperlyConfigured):
            bulk_export_policy()


def test_an_export_whose_worker_stopped_is_failed_by_the_command(clinic_admin, record, clock):
    export = bulk_export.export_start(
        actor=clinic_admin, patient=None, resource_types=[], request_url="x"
    )
    BulkExport.objects.filter(pk=export.pk).update(status=ExportStatus.RUNNING)
    call_command("expire_bulk_exports")
    assert BulkExport.objects.get().status == ExportStatus.RUNNING  # still fresh
    clock.shift(datetime.timedelta(hours=2))
    call_command("expire_bulk_exports")
    export.refresh_from_db()
    assert (export.status, export.error) == (ExportStatus.FAILED, bulk_export.ABANDONED)


def test_cancel_deletes_the_files_and_the_export_is_gone(client, nurse, done):
    manifest = poll(client, nurse, done).json()
    assert client.delete(done["Content-Location"], **bearer(nurse)).status_code == 202
    assert not BulkExportFile.objects.exists() and not BulkExportPart.objects.exists()
    outcome(poll(client, nurse, done), 404, "not-found")
    outcome(client.get(manifest["output"][0]["url"], **bearer(nurse)), 404, "not-found")
    outcome(client.delete(done["Content-Location"], **bearer(nurse)), 404, "not-found")
    assert AuditEvent.objects.filter(
        object_type="bulk_export", summary__startswith="FHIR bulk export cancelled"
    ).exists()


def test_a_queued_export_cancelled_never_runs(
    client, django_capture_on_commit_callbacks, nurse, record
):
    with django_capture_on_commit_callbacks(execute=False):
        started = client.get(f"{BASE}Patient/{record.uuid}/$export", **ASYNC, **bearer(nurse))
    assert client.delete(started["Content-Location"], **bearer(nurse)).status_code == 202
    export = BulkExport.objects.get()
    assert bulk_export.export_run(str(export.uuid)) == "not queued"
    assert export.files.count() == 0
    # Cancelled, it no longer holds back the requester's next export.
    assert (
        kick_off(
            client, django_capture_on_commit_callbacks, nurse, f"Patient/{record.uuid}/$export"
        ).status_code
        == 202
    )


def test_a_cancel_while_running_wins_over_the_next_chunk(
    clinic_admin, record, front_desk, monkeypatch
):
    from clinic.patients.tests.factories import register

    register(front_desk, legal_given_name="Alex")
    monkeypatch.setattr(bulk_export, "CHUNK_PATIENTS", 1)
    export = bulk_export.export_start(
        actor=clinic_admin, patient=None, resource_types=["Patient"], request_url="x"
    )
    real = bulk_export.whole_record
    seen = []

    def cancel_on_the_second(*, actor, patient, purpose):
        seen.append(patient)
        if len(seen) == 2:
            bulk_export.export_cancel(actor=clinic_admin, export_id=str(export.uuid))
        return real(actor=actor, patient=patient, purpose=purpose)

    monkeypatch.setattr(bulk_export, "whole_record", cancel_on_the_second)
    assert bulk_export.export_run(str(export.uuid)) == ExportStatus.CANCELLED
    export.refresh_from_db()
    assert export.status == ExportStatus.CANCELLED and export.patients_done == 1
    assert not BulkExportFile.objects.exists()
