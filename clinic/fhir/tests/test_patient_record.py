"""The patient's own record to take away (issue 16): from the portal, a readable PDF and the same
record as FHIR (one Bundle, or Bulk Data NDJSON in a zip); for them and their care team only,
every download audited.

The fixture day is the session tests' (clinic/treatment_sessions/tests/conftest.py): Jordan
Rivera, 80 kg, an IV infusion on Monday 2 June 2031 started 09:00 and stopped 09:40 with 40 mg
given from lot L100; the `scores` PHQ-9 answers 2,2,2,2,1,1,2,0,0 total 12, "moderate"
(10-14, fhir-loinc.md §1.3's golden vector), and a GAD-7 of seven 1s, total 7, "mild" (5-9).
"""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.exceptions import PermissionDenied
from fhir.resources.R4B.bundle import Bundle
from pypdf import PdfReader

from clinic.core.models import AuditEvent
from clinic.fhir.patient_record import whole_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_record(client, patient, iv_stopped, scores):
    """Jordan signed in to the portal, with a shared journal entry and a private one."""
    from clinic.home_program.tests.conftest import link_portal_user
    from clinic.journal import services

    me = link_portal_user(patient, "jordan")
    services.journal_entry_create(
        actor=me,
        patient=patient,
        mood_before=3,
        mood_after=6,
        reflections="The music helped me settle.",
        shared_with_care_team=True,
    )
    services.journal_entry_create(
        actor=me, patient=patient, mood_before=4, mood_after=5, reflections="Private thoughts."
    )
    client.force_login(me)
    return me


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_pdf_holds_the_session_dose_scores_and_shared_journal(
    client, own_record, patient, nurse
):
    from clinic.assessments import services

    # A C-SSRS screener, no to Q1, Q2 and Q6: Q3-Q5 and Q6's "past 3 months" are skipped by
    # design [G11] and must not print as "No".
    services.response_record(
        actor=nurse,
        patient=patient,
        instrument_code="cssrs-screen",
        answers=[0, 0, None, None, None, 0, None],
    )
    page = client.get("/portal/record/")
    assert page.status_code == 200
    assert b"/portal/record/download/pdf/" in page.content
    response = client.get("/portal/record/download/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert "Rivera" not in response["Content-Disposition"]  # no name in the file's name
    text = pdf_text(response.content)
    assert "Health record: Jordan Rivera" in text
    assert f"Medical record number {patient.mrn}" in text
    assert "06/02/2031 08:50" in text  # checked in
    assert "40 mg Ketamine HCl 10 mg/mL, 10 mL vial, from 06/02/2031 09:00 to 09:40" in text
    assert "lot L100" in text
    assert "80 kg" in text
    assert "PHQ-9" in text and "12" in text and "Moderate" in text
    assert "Q1 Wish to be dead: No; Q2 Suicidal thoughts: No; Q6 Suicidal behaviour (ever): No" in (
        text.replace("\n", " ")
    )
    assert "Q3" not in text
    assert "The music helped me settle." in text
    assert "Private thoughts." not in text  # not shared with the care team
    assert "entered in error" not in text.lower() and "27" not in text  # the withdrawn PHQ-9
    assert AuditEvent.objects.filter(
        action="export", object_type="patient_record", patient=patient, actor=own_record
    ).exists()


def test_the_fhir_bundle_is_valid_and_every_reference_resolves_inside_it(
    client, own_record, patient, nurse
):
    from clinic.assessments import services

    services.response_record(
        actor=nurse,
        patient=patient,
        instrument_code="cssrs-screen",
        answers=[0, 0, None, None, None, 0, None],
    )
    response = client.get("/portal/record/download/fhir-bundle/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    document = response.json()
    bundle = Bundle.model_validate(document)
    assert bundle.type == "collection"
    resources = [entry["resource"] for entry in document["entry"]]
    types = {r["resourceType"] for r in resources}
    assert types >= {
        "Patient",
        "Practitioner",
        "CarePlan",
        "MedicationRequest",
        "Appointment",
        "Encounter",
        "MedicationAdministration",
        "QuestionnaireResponse",
        "Observation",
    }
    present = {f"{r['resourceType']}/{r['id']}" for r in resources}

    def references(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "reference" and isinstance(value, str) and not value.startswith("#"):
                    yield value
                else:
                    yield from references(value)
        elif isinstance(node, list):
            for value in node:
                yield from references(value)

    assert set(references(resources)) <= present
    totals = [
        r["valueInteger"]
        for r in resources
        if r["resourceType"] == "Observation"
        and r["code"].get("coding", [{}])[0].get("code") == "44261-6"
    ]
    assert totals == [12]  # the withdrawn PHQ-9 is left out
    # Every instrument, not only those with LOINC items: the C-SSRS screener's Q2 (93247-5).
    codes = {
        coding["code"]
        for r in resources
        if r["resourceType"] == "Observation"
        for coding in r["code"].get("coding", [])  # the C-SSRS panel is text only
    }
    assert "93247-5" in codes
    [dose] = [r for r in resources if r["resourceType"] == "MedicationAdministration"]
    assert dose["dosage"]["dose"]["value"] == 40


def test_the_ndjson_zip_holds_one_file_per_resource_type_with_the_bundles_resources(
    client, own_record
):
    bundle = client.get("/portal/record/download/fhir-bundle/").json()
    response = client.get("/portal/record/download/fhir-ndjson/")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    by_type: dict[str, int] = {}
    for entry in bundle["entry"]:
        kind = entry["resource"]["resourceType"]
        by_type[kind] = by_type.get(kind, 0) + 1
    assert sorted(archive.namelist()) == sorted(f"{kind}.ndjson" for kind in by_type)
    for kind, count in by_type.items():
        lines = archive.read(f"{kind}.ndjson").decode().splitlines()
        assert len(lines) == count
        assert all(json.loads(line)["resourceType"] == kind for line in lines)


def test_an_unknown_format_is_not_found(client, own_record):
    assert client.get("/portal/record/download/docx/").status_code == 404


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("prescriber", True),
        ("nurse", True),
        ("clinic_admin", True),
        ("front_desk", False),
        ("billing", False),
        ("prescriber_off_team", False),
        ("patient_principal", False),  # another patient's sign-in
    ],
)
def test_the_whole_record_is_for_the_patient_and_their_care_team(actors, patient, who, allowed):
    actor = actors[who]
    if allowed:
        record = whole_record(actor=actor, patient=patient, purpose="records request")
        assert record.patient.mrn == patient.mrn
        assert AuditEvent.objects.filter(action="export", actor=actor, patient=patient).exists()
    else:
        with pytest.raises(PermissionDenied):
            whole_record(actor=actor, patient=patient, purpose="records request")
        assert AuditEvent.objects.filter(action="denied", actor=actor, patient=patient).exists()


def test_staff_and_visitors_have_no_portal_record_page(client, actors):
    assert client.get("/portal/record/").status_code == 302  # to sign in
    client.force_login(actors["nurse"])
    assert client.get("/portal/record/").status_code == 403
    assert client.get("/portal/record/download/pdf/").status_code == 403


def test_the_download_reads_the_same_queries_for_a_short_and_a_long_history(
    client, own_record, patient, nurse
):
    import datetime

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from clinic.assessments import services

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/portal/record/download/fhir-bundle/").status_code == 200
        return len(captured.captured_queries)

    queries()  # the sign-in's first request records its activity once
    few = queries()
    for day in range(10, 20):
        services.response_record(
            actor=nurse,
            patient=patient,
            instrument_code="phq9",
            answers=[1] * 9,
            taken_at=datetime.datetime(2026, 11, day, 15, tzinfo=datetime.UTC),
        )
    assert queries() == few
