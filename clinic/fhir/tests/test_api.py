"""/fhir/R4/ as a whole and the records about people and times: the CapabilityStatement, the
bearer token, Patient, Practitioner, Appointment and AuditEvent, errors as OperationOutcomes,
and searches whose cost does not grow with history. Each with the pages' access rules (care
team, directory roles) and an audit event for every read."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.patient import Patient as FhirPatient

from clinic.core.models import AuditEvent
from clinic.fhir.capability import US_CORE
from clinic.fhir.tests.helpers import FHIR_JSON, bearer, entries, outcome
from clinic.patients.models import Patient

pytestmark = pytest.mark.django_db


def test_the_capability_statement_is_public_and_lists_what_is_answered(client):
    response = client.get("/fhir/R4/metadata")
    assert response.status_code == 200 and response["Content-Type"].startswith(FHIR_JSON)
    statement = CapabilityStatement.model_validate(response.json())
    assert statement.fhirVersion == "4.0.1"
    [rest] = statement.rest
    assert [(r.type, [i.code for i in r.interaction]) for r in rest.resource] == [
        ("Patient", ["read", "search-type"]),
        ("Practitioner", ["read"]),
        ("Encounter", ["read", "search-type"]),
        ("Appointment", ["read", "search-type"]),
        ("Questionnaire", ["read"]),
        ("CodeSystem", ["read"]),
        ("QuestionnaireResponse", ["read", "search-type"]),
        ("CarePlan", ["search-type"]),
        ("AuditEvent", ["search-type"]),
        ("Condition", ["search-type"]),
        ("MedicationAdministration", ["read", "search-type"]),
        ("MedicationRequest", ["read", "search-type"]),
        ("Observation", ["read", "search-type"]),
        ("Provenance", ["read", "search-type"]),
        ("Organization", ["read"]),
    ]
    # Each search's parameters and includes, exactly: _lastUpdated only where the selector
    # narrows by the record's own updated_at (not the append-only AuditEvent).
    declared = {
        r.type: (
            sorted(p.name for p in r.searchParam or []),
            sorted(r.searchInclude or []),
        )
        for r in rest.resource
        if r.searchParam
    }
    assert declared == {
        "Patient": (["_count", "_id", "_lastUpdated", "identifier"], []),
        "Encounter": (
            ["_count", "_lastUpdated", "date", "patient"],
            ["Encounter:participant"],
        ),
        "Appointment": (["_count", "_lastUpdated", "date", "patient"], []),
        "QuestionnaireResponse": (
            ["_count", "_lastUpdated", "authored", "patient", "questionnaire"],
            [],
        ),
        "CarePlan": (["_lastUpdated", "category", "patient", "status"], []),
        "AuditEvent": (["_count", "date", "patient"], []),
        "Condition": (["_lastUpdated", "clinical-status", "patient"], []),
        "MedicationAdministration": (
            ["_count", "_lastUpdated", "effective-time", "patient"],
            ["MedicationAdministration:request"],
        ),
        "MedicationRequest": (["_lastUpdated", "intent", "patient", "status"], []),
        "Observation": (
            ["_count", "_lastUpdated", "category", "code", "date", "patient"],
            ["Observation:encounter"],
        ),
        "Provenance": (["_count", "patient", "target"], []),
    }
    profiles = {r.type: r.supportedProfile for r in rest.resource}
    assert profiles["Provenance"] == [f"{US_CORE}us-core-provenance"]
    assert profiles["Organization"] == [f"{US_CORE}us-core-organization"]


def test_no_token_or_a_wrong_one_is_refused_with_an_outcome(client, patient):
    response = client.get(f"/fhir/R4/Patient/{patient.uuid}")
    outcome(response, 401, "login")
    assert response["WWW-Authenticate"].startswith("Bearer")
    outcome(client.get("/fhir/R4/Patient", HTTP_AUTHORIZATION="Bearer kc_nope"), 401, "login")


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("prescriber", 200),
        ("nurse", 200),
        ("therapist", 200),
        ("front_desk", 200),
        ("billing", 200),
        ("clinic_admin", 200),
        ("prescriber_off_team", 404),
        ("nurse_off_team", 404),
    ],
)
def test_a_patient_is_read_by_whoever_reaches_them_in_the_app(client, actors, patient, who, status):
    response = client.get(f"/fhir/R4/Patient/{patient.uuid}", **bearer(actors[who]))
    if status == 404:
        outcome(response, 404, "not-found")
        assert AuditEvent.objects.filter(action="denied", object_id=str(patient.uuid)).exists()
        return
    assert response.status_code == 200
    resource = FhirPatient.model_validate(response.json())
    assert resource.id == str(patient.uuid)
    assert resource.identifier[0].value == patient.mrn
    assert (resource.name[0].family, resource.gender) == (patient.legal_family_name, patient.sex)
    viewed = AuditEvent.objects.get(action="view", object_id=str(patient.uuid))
    assert viewed.actor == actors[who] and viewed.summary == "FHIR Patient read"


def test_a_patient_portal_user_has_no_token_that_works_here(client, actors, patient):
    from clinic.accounts.services import api_token_authenticate

    # Tokens are for staff: the portal principal cannot hold one that authenticates.
    assert api_token_authenticate("kc_" + "x" * 40) is None
    response = client.get(f"/fhir/R4/Patient/{patient.uuid}")
    outcome(response, 401, "login")


def test_search_by_mrn_and_by_id_finds_only_a_patient_in_reach(client, actors, patient):
    mine = bearer(actors["prescriber"])

    def by_post(**terms):
        return client.post("/fhir/R4/Patient/_search", terms, **mine).json()

    found = Bundle.model_validate(by_post(identifier=patient.mrn))
    assert found.type == "searchset" and found.total == 1
    assert found.entry[0].resource.id == str(patient.uuid)
    assert found.entry[0].fullUrl.endswith(f"/fhir/R4/Patient/{patient.uuid}")
    # ADR 0003: the MRN is never in a URL, not even the bundle's own link.
    assert patient.mrn not in json.dumps([link.model_dump() for link in found.link])
    message = outcome(
        client.get(f"/fhir/R4/Patient?identifier={patient.mrn}", **mine), 400, "not-supported"
    )
    assert "POST /fhir/R4/Patient/_search" in message
    system = "https://ketacare.example/fhir/sid/mrn"
    assert by_post(identifier=f"{system}|{patient.mrn}")["total"] == 1
    assert by_post(identifier=f"urn:other|{patient.mrn}")["total"] == 0
    by_id = client.get(f"/fhir/R4/Patient?_id={patient.uuid}", **mine).json()
    assert by_id["total"] == 1
    assert by_post(_id=str(patient.uuid), identifier=patient.mrn)["total"] == 1
    assert by_post(_id=str(patient.uuid), identifier="99999999")["total"] == 0  # not ignored
    # Off the care team: an empty result, as for a patient who does not exist.
    theirs = bearer(actors["prescriber_off_team"])
    assert (
        client.post("/fhir/R4/Patient/_search", {"identifier": patient.mrn}, **theirs).json()[
            "total"
        ]
        == 0
    )
    assert client.get(f"/fhir/R4/Patient?_id={patient.uuid}", **theirs).json()["total"] == 0
    # Each search that read patients is audited, the one that found nobody too.
    assert AuditEvent.objects.filter(action="search", object_id=str(patient.uuid)).count() == 2
    missed = AuditEvent.objects.get(action="search", actor=actors["prescriber_off_team"])
    assert missed.summary == "Patient search by MRN: none found"
    outcome(client.get("/fhir/R4/Patient/_search", **mine), 405, "not-supported")


def test_the_list_pages_with_next_links_and_counts_every_patient_in_reach(
    client, actors, front_desk
):
    from clinic.patients.tests.factories import register

    for n in range(3):
        register(front_desk, legal_family_name=f"Family{n}", date_of_birth=f"1980-01-0{n + 1}")
    desk = bearer(actors["front_desk"])
    first = client.get("/fhir/R4/Patient?_count=2", **desk).json()
    assert first["total"] == 3 and len(first["entry"]) == 2
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert "_page=2" in links["next"] and "previous" not in links
    second = client.get(links["next"].split("testserver")[1], **desk).json()
    assert len(second["entry"]) == 1
    everyone = {str(uuid) for uuid in Patient.objects.values_list("uuid", flat=True)}
    assert {e["resource"]["id"] for e in first["entry"] + second["entry"]} == everyone


def test_bad_input_and_writes_are_answered_with_an_outcome(client, actors):
    desk = bearer(actors["front_desk"])
    message = outcome(client.get("/fhir/R4/Patient?name=Rivera", **desk), 400, "not-supported")
    assert "name" in message
    outcome(client.get("/fhir/R4/Patient?_count=0", **desk), 400, "invalid")
    outcome(client.get("/fhir/R4/Patient?_count=lots", **desk), 400, "invalid")
    outcome(client.post("/fhir/R4/Patient/_search", {"identifier": "\x00"}, **desk), 400,
            "invalid")  # fmt: skip
    outcome(client.get("/fhir/R4/Patient?_id=%E2%80%AE00042", **desk), 400, "invalid")
    search = "/fhir/R4/Appointment?patient=x&date="
    outcome(client.get(f"{search}gt9999-12-31", **desk), 400, "invalid")
    outcome(client.get(f"{search}ge2026-02-30", **desk), 400, "invalid")
    huge = "9" * 5000
    outcome(client.get(f"/fhir/R4/Patient?_count={huge}", **desk), 400, "invalid")
    assert (
        client.post("/fhir/R4/Patient/_search", {"identifier": huge}, **desk).json()["total"] == 0
    )
    response = client.post("/fhir/R4/Patient", {}, **desk)
    outcome(response, 405, "not-supported")
    assert response["Allow"] == "GET"


def test_a_clinician_is_a_practitioner_with_the_npi_and_credentials(client, actors, prescriber):
    from fhir.resources.R4B.practitioner import Practitioner

    prescriber.npi, prescriber.credentials = "1234567893", "MD"
    prescriber.save(update_fields=["npi", "credentials"])
    desk = bearer(actors["front_desk"])
    response = client.get(f"/fhir/R4/Practitioner/{prescriber.uuid}", **desk)
    assert response.status_code == 200
    resource = Practitioner.model_validate(response.json())
    assert [(i.system, i.value) for i in resource.identifier][0] == (
        "http://hl7.org/fhir/sid/us-npi",
        "1234567893",
    )
    assert resource.name[0].suffix == ["MD"]
    assert AuditEvent.objects.filter(
        object_type="practitioner", actor=actors["front_desk"]
    ).exists()
    # The front desk and billing are staff, not practitioners: not found as one.
    staff = actors["front_desk"]
    outcome(client.get(f"/fhir/R4/Practitioner/{staff.uuid}", **desk), 404, "not-found")
    outcome(client.get("/fhir/R4/Practitioner/not-a-uuid", **desk), 404, "not-found")


def test_searches_cost_the_same_queries_however_long_the_history(client, actors, patient, nurse):
    import datetime

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from clinic.assessments import services
    from tests.scale import patients_in_bulk

    mine = bearer(actors["prescriber"])

    def record(n):
        taken = datetime.datetime(2026, 10, 1, 9, tzinfo=datetime.UTC) + datetime.timedelta(days=n)
        services.response_record(
            actor=nurse, patient=patient, instrument_code="phq9", answers=[1] * 9, taken_at=taken
        )

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, **mine).status_code == 200
        return len(captured.captured_queries)

    searches = [
        f"/fhir/R4/Observation?patient={patient.uuid}&category=survey&_count=3",
        f"/fhir/R4/QuestionnaireResponse?patient={patient.uuid}&_count=3",
        "/fhir/R4/Patient?_count=3",
    ]
    team = {actors["prescriber"]: "prescriber"}
    patients_in_bulk(4, care_team=team, start=100)
    for n in range(4):
        record(n)
    client.get(searches[2], **mine)  # the token's first use is recorded once
    few = [queries(url) for url in searches]
    patients_in_bulk(30, care_team=team, start=200)
    for n in range(4, 30):
        record(n)
    assert [queries(url) for url in searches] == few


def test_appointments_of_every_status_are_read_and_searched(
    client, actors, patient, iv_appointment, front_desk
):
    from fhir.resources.R4B.appointment import Appointment

    desk = bearer(actors["front_desk"])
    response = client.get(f"/fhir/R4/Appointment/{iv_appointment.uuid}", **desk)
    assert response.status_code == 200
    appointment = Appointment.model_validate(response.json())
    assert appointment.status == "booked"
    assert appointment.serviceType[0].text == "IV infusion"
    assert [p.actor.reference for p in appointment.participant] == [
        f"Patient/{patient.uuid}",
        f"Practitioner/{iv_appointment.nurse.uuid}",
    ]
    iv_appointment.status, iv_appointment.status_reason = "cancelled", "The patient has flu"
    iv_appointment.save(update_fields=["status", "status_reason"])
    search = f"/fhir/R4/Appointment?patient={patient.uuid}"
    [cancelled] = entries(client.get(search, **desk))
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancelationReason"] == {"text": "The patient has flu"}
    day = iv_appointment.starts_at.date().isoformat()
    assert len(entries(client.get(f"{search}&date={day}", **desk))) == 1
    assert entries(client.get(f"{search}&date=gt{day}", **desk)) == []
    assert AuditEvent.objects.filter(object_type="appointment", action="list").exists()
    theirs = bearer(actors["prescriber_off_team"])
    outcome(client.get(f"/fhir/R4/Appointment/{iv_appointment.uuid}", **theirs), 404,
            "not-found")  # fmt: skip


def test_an_unexpected_failure_is_an_outcome_too(client, actors, patient, monkeypatch, caplog):
    from clinic.fhir import views

    def broken(*args, **kwargs):
        raise RuntimeError("the mapper broke")

    monkeypatch.setattr(views, "patient_resource", broken)
    response = client.get(f"/fhir/R4/Patient/{patient.uuid}", **bearer(actors["prescriber"]))
    outcome(response, 500, "exception")
    assert "the mapper broke" not in response.content.decode()
    assert str(patient.uuid) not in caplog.text.split("Traceback")[0]


def test_a_resource_not_served_is_said_so_as_fhir_says_it(client, actors):
    mine = bearer(actors["prescriber"])
    message = outcome(client.get("/fhir/R4/MedicationDispense", **mine), 404, "not-supported")
    assert "metadata" in message
    outcome(client.get("/fhir/R4/Patient/1/_history", **mine), 404, "not-supported")


def test_the_audit_trail_is_for_the_clinic_administrator(client, actors, patient):
    from fhir.resources.R4B.auditevent import AuditEvent as FhirAuditEvent

    # A prescriber reads the chart's patient through FHIR: that read is in the trail.
    client.get(f"/fhir/R4/Patient/{patient.uuid}", **bearer(actors["prescriber"]))
    admin = bearer(actors["clinic_admin"])
    found = entries(client.get(f"/fhir/R4/AuditEvent?patient={patient.uuid}", **admin))
    events = [FhirAuditEvent.model_validate(e) for e in found]
    read = next(e for e in events if e.outcomeDesc == "FHIR Patient read")
    assert (read.action, read.outcome, read.type.code) == ("R", "0", "view")
    assert read.agent[0].who.reference == f"Practitioner/{actors['prescriber'].uuid}"
    assert read.entity[0].what.reference == f"Patient/{patient.uuid}"
    # Every event found names this patient.
    assert all(e.entity and e.entity[0].what.reference == f"Patient/{patient.uuid}" for e in events)
    # An off-team read was refused and audited: a minor failure (4).
    client.get(f"/fhir/R4/Patient/{patient.uuid}", **bearer(actors["prescriber_off_team"]))
    found = entries(client.get("/fhir/R4/AuditEvent?_count=100", **admin))
    denied = [e for e in found if e["type"]["code"] == "denied"]
    assert denied and denied[0]["outcome"] == "4"
    assert denied[0]["entity"][-1]["what"]["identifier"]["value"] == str(patient.uuid)
    # Reading the trail is itself audited, and nobody else may read it.
    assert AuditEvent.objects.filter(object_type="audit_log", actor=actors["clinic_admin"]).exists()
    outcome(client.get("/fhir/R4/AuditEvent", **bearer(actors["prescriber"])), 403, "security")
    outcome(client.get("/fhir/R4/AuditEvent", **bearer(actors["billing"])), 403, "security")
