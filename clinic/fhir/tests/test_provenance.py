"""/fhir/R4/Provenance and Organization: a signed treatment session's Provenance (US Core),
read and searched by patient and by target, reached as its session is, and audited; the
clinic as the Organization every author acts on behalf of.

The session: the IV fixture's (Monday 2 June 2031), pre-dose reading at 08:50 (BP 130/80, HR
72, SpO2 98, RR 14), 40 mg run 09:00-09:40, a modified Aldrete score and discharge at 10:10,
signed by the prescriber at 10:30."""

from __future__ import annotations

import pytest
from django.conf import settings
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.provenance import Provenance

from clinic.core.models import AuditEvent
from clinic.fhir.tests.helpers import bearer, entries, outcome
from clinic.treatment_sessions.tests.conftest import MONDAY, at, fresh

pytestmark = pytest.mark.django_db


def _discharged(session, nurse, clock):
    from clinic.treatment_sessions import services

    clock.move_to(at(MONDAY, 10, 10))
    services.session_score_record(
        actor=nurse, session=session, kind="modified-aldrete", answers=[2, 2, 2, 2, 2]
    )
    services.session_discharge(
        actor=nurse, session=session, escort_present=True, instructions_given=True
    )
    services.nurse_note_save(actor=nurse, session=session, text="Uneventful.")
    return fresh(session)


@pytest.fixture
def iv_unsigned(iv_stopped, nurse, clock):
    return _discharged(iv_stopped, nurse, clock)


@pytest.fixture
def iv_signed(iv_unsigned, prescriber, clock):
    from clinic.treatment_sessions import services

    clock.move_to(at(MONDAY, 10, 30))
    services.session_sign(actor=prescriber, session=iv_unsigned)
    return fresh(iv_unsigned)


def _expected_targets(session) -> list[str]:
    reading = session.vitals.get()
    score = session.scores.get()
    return [
        f"Encounter/{session.uuid}",
        f"MedicationAdministration/{session.uuid}",  # the infusion keeps its session's id
        *(f"Observation/{reading.uuid}-{suffix}" for suffix in ("bp", "hr", "rr", "spo2")),
        f"Observation/{score.response.uuid}",
    ]


def test_a_signed_session_is_a_us_core_provenance(client, actors, iv_signed, prescriber):
    response = client.get(f"/fhir/R4/Provenance/{iv_signed.uuid}", **bearer(actors["nurse"]))
    assert response.status_code == 200
    provenance = Provenance.model_validate(response.json())
    assert provenance.id == str(iv_signed.uuid)
    assert provenance.recorded == at(MONDAY, 10, 30)
    assert [t.reference for t in provenance.target] == _expected_targets(iv_signed)
    [agent] = provenance.agent
    assert agent.type.coding[0].code == "author"
    assert agent.who.reference == f"Practitioner/{prescriber.uuid}"
    # US Core provenance-1: a Practitioner agent acts on behalf of an Organization.
    assert agent.onBehalfOf.reference == "Organization/clinic"
    [signature] = provenance.signature
    assert signature.type[0].code == "1.2.840.10065.1.12.1.1"
    assert signature.who.reference == f"Practitioner/{prescriber.uuid}"
    assert signature.when == provenance.recorded
    assert signature.data is None  # an attestation in the app, not a cryptographic signature
    assert AuditEvent.objects.filter(
        actor=actors["nurse"],
        action="view",
        object_type="treatment_session",
        object_id=str(iv_signed.uuid),
        summary="FHIR Provenance read",
    ).exists()


def test_every_target_and_agent_of_a_provenance_reads_back(client, actors, iv_signed):
    mine = bearer(actors["prescriber"])
    body = client.get(f"/fhir/R4/Provenance/{iv_signed.uuid}", **mine).json()
    references = [t["reference"] for t in body["target"]]
    references += [
        body["agent"][0]["who"]["reference"],
        body["agent"][0]["onBehalfOf"]["reference"],
    ]
    for reference in references:
        read = client.get(f"/fhir/R4/{reference}", **mine)
        assert read.status_code == 200, reference
        assert f"{read.json()['resourceType']}/{read.json()['id']}" == reference


def test_an_unsigned_session_has_no_provenance(client, actors, patient, iv_unsigned):
    mine = bearer(actors["prescriber"])
    outcome(client.get(f"/fhir/R4/Provenance/{iv_unsigned.uuid}", **mine), 404, "not-found")
    assert entries(client.get(f"/fhir/R4/Provenance?patient={patient.uuid}", **mine)) == []
    target = f"/fhir/R4/Provenance?target=Encounter/{iv_unsigned.uuid}"
    assert entries(client.get(target, **mine)) == []


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("prescriber", 200, ""),
        ("nurse", 200, ""),
        ("therapist", 200, ""),
        ("clinic_admin", 200, ""),
        ("front_desk", 403, "security"),
        ("billing", 403, "security"),
        ("prescriber_off_team", 404, "not-found"),
        ("nurse_off_team", 404, "not-found"),
    ],
)
def test_a_provenance_is_reached_as_its_encounter(client, actors, iv_signed, who, status, code):
    mine = bearer(actors[who])
    for path in (f"Provenance/{iv_signed.uuid}", f"Encounter/{iv_signed.uuid}"):
        response = client.get(f"/fhir/R4/{path}", **mine)
        if status == 200:
            assert response.status_code == 200
        else:
            outcome(response, status, code)
    if who.endswith("off_team"):
        assert AuditEvent.objects.filter(
            actor=actors[who], action="denied", object_id=str(iv_signed.uuid)
        ).exists()


def test_a_search_by_patient_lists_the_signed_sessions(client, actors, patient, iv_signed):
    mine = bearer(actors["therapist"])
    response = client.get(f"/fhir/R4/Provenance?patient=Patient/{patient.uuid}", **mine)
    [found] = entries(response)
    assert response.json()["total"] == 1
    Provenance.model_validate(found)
    assert found["id"] == str(iv_signed.uuid)
    assert AuditEvent.objects.filter(
        actor=actors["therapist"],
        action="list",
        object_type="treatment_session",
        summary="1 of 1 signed sessions (FHIR Provenance search)",
    ).exists()
    outcome(
        client.get(f"/fhir/R4/Provenance?patient={patient.uuid}", **bearer(actors["billing"])),
        403,
        "security",
    )
    outcome(
        client.get(
            f"/fhir/R4/Provenance?patient={patient.uuid}", **bearer(actors["nurse_off_team"])
        ),
        404,
        "not-found",
    )


def test_a_search_by_target_finds_the_signature_covering_it(
    client, actors, patient, iv_signed, nurse
):
    mine = bearer(actors["prescriber"])
    for target in _expected_targets(iv_signed):
        [found] = entries(client.get(f"/fhir/R4/Provenance?target={target}", **mine))
        assert found["id"] == str(iv_signed.uuid), target
    both = f"/fhir/R4/Provenance?target=Encounter/{iv_signed.uuid}&patient={patient.uuid}"
    assert len(entries(client.get(both, **mine))) == 1
    # The chart's weight is no part of the session's signature.
    weight = patient.measurements.get()
    assert (
        entries(client.get(f"/fhir/R4/Provenance?target=Observation/{weight.uuid}-weight", **mine))
        == []
    )
    # The target is reached as it would be read: off the team it is not found.
    off_team = bearer(actors["prescriber_off_team"])
    search = f"/fhir/R4/Provenance?target=MedicationAdministration/{iv_signed.uuid}"
    outcome(client.get(search, **off_team), 404, "not-found")


def test_a_reading_marked_in_error_is_not_a_target(client, actors, iv_unsigned, nurse, prescriber):
    from clinic.treatment_sessions import services

    reading = iv_unsigned.vitals.get()
    services.vitals_mark_entered_in_error(actor=nurse, vitals=reading, reason="Wrong arm")
    services.session_sign(actor=prescriber, session=iv_unsigned)
    mine = bearer(actors["prescriber"])
    body = client.get(f"/fhir/R4/Provenance/{iv_unsigned.uuid}", **mine).json()
    assert [t["reference"].split("/")[0] for t in body["target"]] == [
        "Encounter",
        "MedicationAdministration",
        "Observation",  # the Aldrete score only
    ]
    search = f"/fhir/R4/Provenance?target=Observation/{reading.uuid}-bp"
    assert entries(client.get(search, **mine)) == []


def test_a_provenance_search_names_a_patient_or_a_served_target(client, actors):
    mine = bearer(actors["prescriber"])
    outcome(client.get("/fhir/R4/Provenance", **mine), 400, "invalid")
    outcome(client.get("/fhir/R4/Provenance?target=Patient/x", **mine), 400, "invalid")
    outcome(client.get("/fhir/R4/Provenance?patient=x&agent=y", **mine), 400, "not-supported")
    outcome(
        client.get("/fhir/R4/Provenance?patient=x&_include=Provenance:agent", **mine),
        400,
        "not-supported",
    )
    outcome(client.get("/fhir/R4/Provenance?target=Encounter/nope", **mine), 404, "not-found")


def test_the_clinic_is_the_organization(client, actors):
    response = client.get("/fhir/R4/Organization/clinic", **bearer(actors["front_desk"]))
    assert response.status_code == 200
    organization = Organization.model_validate(response.json())
    assert (organization.name, organization.active) == (settings.CLINIC_NAME, True)
    outcome(client.get("/fhir/R4/Organization/other", **bearer(actors["nurse"])), 404, "not-found")
