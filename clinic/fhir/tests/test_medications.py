"""/fhir/R4/ MedicationAdministration and MedicationRequest: every dose, whatever its route, and
the treatment plans as the orders for them.

Expected values come from the fixtures' own numbers (clinic/treatment_sessions/tests/conftest.py:
80 kg at 0.5 mg/kg is 40 mg planned over 40 minutes; the vial lot "L100"; esketamine 56 mg as
two 28 mg devices of lot "ESK1") and from the codes in fhir-loinc.md §2 (routes: intravenous
47625008, nasal 46713006, sublingual 37839007; esketamine nasal spray RxCUI 2201623).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from fhir.resources.R4B.medicationadministration import MedicationAdministration
from fhir.resources.R4B.medicationrequest import MedicationRequest

from clinic.core.models import AuditEvent
from clinic.fhir.medications import (
    DoseFacts,
    MedicationOrderFacts,
    medication_administration_resource,
    medication_request_resource,
)
from clinic.fhir.tests.helpers import bearer, entries, outcome
from clinic.treatment_sessions.tests.conftest import MONDAY, at

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
SNOMED = "http://snomed.info/sct"


# The mappers, without a database.


def test_an_infusion_is_a_period_with_its_rate_course_and_lot():
    dose = medication_administration_resource(
        DoseFacts(
            uuid="5b0c2f0e-4c1e-4c36-9a53-0c8f3f1b8a11",
            patient_uuid="0d9a5d0c-9d40-4d0e-8e23-3b5f3f3e1c22",
            route="iv",
            medication_name="Ketamine HCl 10 mg/mL, 10 mL vial",
            given_mg=Decimal("35.000"),
            given_at=datetime.datetime(2031, 6, 2, 13, 45, tzinfo=UTC),
            infusion_started_at=datetime.datetime(2031, 6, 2, 13, 0, tzinfo=UTC),
            course=("started 09:00 at 150 mL/h", "paused 09:10: nausea", "stopped 09:45"),
            rate_ml_per_h=Decimal("150.0"),
            lot_number="L100",
            lot_expiry=datetime.date(2034, 12, 31),
            encounter_uuid="7c2d9a51-0f3b-4b8e-9a0c-5e6f7a8b9c33",
            performer_uuid="1e2f3a4b-5c6d-4e7f-8a9b-0c1d2e3f4a44",
            performer_name="Nurse Nora",
        )
    )
    assert dose.status == "completed"
    assert dose.effectivePeriod.start.isoformat() == "2031-06-02T13:00:00+00:00"
    assert dose.effectivePeriod.end.isoformat() == "2031-06-02T13:45:00+00:00"
    assert dose.dosage.dose.value == Decimal("35") and dose.dosage.dose.code == "mg"
    assert (dose.dosage.rateQuantity.value, dose.dosage.rateQuantity.code) == (150, "mL/h")
    assert dose.dosage.route.coding[0].code == "47625008"
    assert dose.dosage.text == (
        "35 mg intravenous route. Started 09:00 at 150 mL/h; paused 09:10: nausea; stopped 09:45"
    )
    [medication] = dose.contained
    assert medication.batch.lotNumber == "L100"
    assert dose.medicationReference.reference == "#given"
    assert dose.context.reference == "Encounter/7c2d9a51-0f3b-4b8e-9a0c-5e6f7a8b9c33"


def test_an_at_home_dose_names_the_patient_as_performer_and_no_lot():
    dose = medication_administration_resource(
        DoseFacts(
            uuid="5b0c2f0e-4c1e-4c36-9a53-0c8f3f1b8a11",
            patient_uuid="0d9a5d0c-9d40-4d0e-8e23-3b5f3f3e1c22",
            route="sublingual",
            medication_name="Ketamine, at-home sublingual",
            given_mg=Decimal("100.0"),
            given_at=datetime.datetime(2031, 6, 2, 13, 45, tzinfo=UTC),
            taken_at_home=True,
        )
    )
    assert dose.effectiveDateTime.isoformat() == "2031-06-02T13:45:00+00:00"
    assert dose.dosage.route.coding[0].code == "37839007"
    assert dose.performer[0].actor.reference == "Patient/0d9a5d0c-9d40-4d0e-8e23-3b5f3f3e1c22"
    assert dose.medicationCodeableConcept.text == "Ketamine, at-home sublingual"
    assert dose.contained is None and dose.dosage.rateQuantity is None


def test_an_esketamine_order_carries_the_rxnorm_code_and_its_fixed_dose():
    order = medication_request_resource(
        MedicationOrderFacts(
            uuid="5b0c2f0e-4c1e-4c36-9a53-0c8f3f1b8a11",
            patient_uuid="0d9a5d0c-9d40-4d0e-8e23-3b5f3f3e1c22",
            status="discontinued",
            route="esketamine",
            title="Esketamine induction",
            authored_at=datetime.datetime(2031, 6, 1, 12, 0, tzinfo=UTC),
            prescriber_uuid="1e2f3a4b-5c6d-4e7f-8a9b-0c1d2e3f4a44",
            prescriber_name="Dr Pat",
            session_count=8,
            fixed_dose_mg=56,
            end_reason="Blood pressure stayed high",
        )
    )
    assert (order.status, order.intent, order.reportedBoolean) == ("stopped", "order", False)
    assert [(c.system, c.code) for c in order.medicationCodeableConcept.coding] == [
        ("http://www.nlm.nih.gov/research/umls/rxnorm", "2201623")
    ]
    [dosage] = order.dosageInstruction
    assert dosage.doseAndRate[0].doseQuantity.value == 56
    assert dosage.route.coding[0].code == "46713006"
    assert dosage.timing.repeat.count == 8
    assert dosage.text == "Esketamine induction: 56 mg, nasal route, 8 sessions"
    assert order.statusReason.text == "Blood pressure stayed high"


# The API.


@pytest.fixture
def iv_given(iv_running, nurse, clock):
    """The 09:00 infusion (150 mL/h) paused 09:10–09:15 for nausea, slowed to 120 mL/h at
    09:20 and stopped at 09:45 with 35 mg given: 10 + 5 + 25 × 120/150 = 35 mg could run in
    (rules.infusion_deliverable), short of the 40 mg planned, with the reason."""
    from clinic.treatment_sessions import services

    for minute, step in (
        (10, lambda: services.infusion_pause(actor=nurse, session=iv_running, reason="Nausea")),
        (15, lambda: services.infusion_resume(actor=nurse, session=iv_running)),
        (
            20,
            lambda: services.infusion_rate_change(
                actor=nurse, session=iv_running, rate_ml_per_h="120"
            ),
        ),
    ):
        clock.move_to(at(MONDAY, 9, minute))
        step()
    clock.move_to(at(MONDAY, 9, 45))
    return services.infusion_stop(
        actor=nurse,
        session=iv_running,
        given_mg="35",
        reason="Stopped short after the nausea",
        witness=nurse.__class__.objects.get(role="prescriber", username="prescriber"),
    )


def test_an_infusion_is_served_with_its_pause_rate_change_and_lot(
    client, actors, patient, iv_given, iv_running
):
    mine = bearer(actors["prescriber"])
    # An infusion's id is its session's, running or done; the administration's own is not one.
    outcome(
        client.get(f"/fhir/R4/MedicationAdministration/{iv_given.uuid}", **mine), 404, "not-found"
    )
    response = client.get(f"/fhir/R4/MedicationAdministration/{iv_running.uuid}", **mine)
    assert response.status_code == 200
    dose = MedicationAdministration.model_validate(response.json())
    assert dose.id == str(iv_running.uuid) and dose.status == "completed"
    assert dose.subject.reference == f"Patient/{patient.uuid}"
    assert dose.effectivePeriod.start == at(MONDAY, 9)
    assert dose.effectivePeriod.end == at(MONDAY, 9, 45)
    assert dose.dosage.dose.value == 35
    assert dose.dosage.rateQuantity.value == 150
    assert dose.dosage.text == (
        "35 mg intravenous route. Started 09:00 at 150 mL/h; paused 09:10: Nausea; "
        "resumed 09:15; rate 120 mL/h from 09:20; stopped 09:45: Stopped short after the nausea"
    )
    assert dose.contained[0].batch.lotNumber == "L100"
    assert dose.context.reference == f"Encounter/{iv_running.uuid}"
    assert dose.performer[0].actor.reference == f"Practitioner/{actors['nurse'].uuid}"
    plan = iv_running.planned_session.plan
    assert dose.request.reference == f"MedicationRequest/{plan.uuid}"
    order = client.get(f"/fhir/R4/MedicationRequest/{plan.uuid}", **mine)
    assert order.status_code == 200
    order = MedicationRequest.model_validate(order.json())
    assert order.dosageInstruction[0].doseAndRate[0].doseQuantity.value == Decimal("0.5")
    assert order.dosageInstruction[0].doseAndRate[0].doseQuantity.code == "mg/kg"
    assert AuditEvent.objects.filter(
        action="view", object_type="dose", actor=actors["prescriber"]
    ).exists()


def test_a_running_infusion_is_in_progress_under_the_id_it_keeps_once_given(
    client, actors, patient, iv_running, nurse, clock
):
    """While the pump runs nothing is recorded as given yet, but the dose is not missing: it is
    in progress, from 09:00, 40 mg planned and 50 mg drawn (the fixture's), with no amount."""
    from clinic.treatment_sessions import services

    mine = bearer(actors["nurse"])
    path = f"/fhir/R4/MedicationAdministration?patient={patient.uuid}"
    [running] = entries(client.get(path, **mine))
    assert running["id"] == str(iv_running.uuid) and running["status"] == "in-progress"
    assert running["effectivePeriod"] == {"start": running["effectivePeriod"]["start"]}
    assert datetime.datetime.fromisoformat(running["effectivePeriod"]["start"]) == at(MONDAY, 9)
    assert "dose" not in running["dosage"]
    assert running["dosage"]["text"].startswith(
        "Infusion running, 40 mg planned, 50 mg drawn: intravenous route"
    )
    clock.move_to(at(MONDAY, 9, 40))
    services.infusion_stop(
        actor=nurse,
        session=iv_running,
        given_mg="40",
        witness=nurse.__class__.objects.get(username="prescriber"),
    )
    [given] = entries(client.get(path, **mine))
    assert (given["id"], given["status"]) == (str(iv_running.uuid), "completed")
    assert given["dosage"]["dose"]["value"] == 40


def test_an_infusion_stopped_before_any_ran_in_is_not_done_with_its_reason(
    client, actors, patient, iv_running, nurse, clock
):
    from clinic.treatment_sessions import services

    clock.move_to(at(MONDAY, 9, 2))
    services.infusion_stop(
        actor=nurse,
        session=iv_running,
        given_mg="0",
        reason="Line infiltrated",
        witness=nurse.__class__.objects.get(username="prescriber"),
    )
    mine = bearer(actors["prescriber"])
    [stopped] = entries(
        client.get(f"/fhir/R4/MedicationAdministration?patient={patient.uuid}", **mine)
    )
    assert stopped["status"] == "not-done"
    assert stopped["statusReason"] == [{"text": "Line infiltrated"}]
    assert "dose" not in stopped["dosage"]
    read = client.get(f"/fhir/R4/MedicationAdministration/{iv_running.uuid}", **mine)
    assert read.status_code == 200 and read.json()["status"] == "not-done"


def test_a_search_finds_every_esketamine_device_newest_first(
    client, actors, patient, esketamine_dosed
):
    mine = bearer(actors["nurse"])
    found = entries(client.get(f"/fhir/R4/MedicationAdministration?patient={patient.uuid}", **mine))
    assert [datetime.datetime.fromisoformat(d["effectiveDateTime"]) for d in found] == [
        at(MONDAY, 9, 5),
        at(MONDAY, 9),
    ]
    assert {d["dosage"]["text"] for d in found} == {
        "28 mg nasal route, device 1",
        "28 mg nasal route, device 2",
    }
    medication = found[0]["contained"][0]
    assert medication["code"]["coding"][0]["code"] == "2201623"
    assert medication["batch"]["lotNumber"] == "ESK1"
    day = MONDAY.isoformat()
    base = f"/fhir/R4/MedicationAdministration?patient={patient.uuid}"
    assert len(entries(client.get(f"{base}&effective-time={day}", **mine))) == 2
    assert entries(client.get(f"{base}&effective-time=gt{day}", **mine)) == []
    page = client.get(f"{base}&_count=1", **mine).json()
    assert page["total"] == 2 and len(page["entry"]) == 1
    assert any(link["relation"] == "next" for link in page["link"])
    orders = entries(client.get(f"/fhir/R4/MedicationRequest?patient={patient.uuid}", **mine))
    assert [
        o["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] for o in orders
    ] == [56]
    assert (
        entries(
            client.get(f"/fhir/R4/MedicationRequest?patient={patient.uuid}&status=stopped", **mine)
        )
        == []
    )


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
def test_doses_are_for_the_care_team_only(
    client, actors, patient, esketamine_dosed, who, status, code
):
    from clinic.treatment_sessions.models import DoseAdministration

    dose = DoseAdministration.objects.filter(session=esketamine_dosed).first()
    plan = esketamine_dosed.planned_session.plan
    for path in (
        f"/fhir/R4/MedicationAdministration?patient={patient.uuid}",
        f"/fhir/R4/MedicationRequest?patient={patient.uuid}",
    ):
        response = client.get(path, **bearer(actors[who]))
        if status == 200:
            assert entries(response)
        else:
            outcome(response, status, code)
    for path in (
        f"/fhir/R4/MedicationAdministration/{dose.uuid}",
        f"/fhir/R4/MedicationRequest/{plan.uuid}",
    ):
        response = client.get(path, **bearer(actors[who]))
        if status == 200:
            assert response.status_code == 200
        else:
            outcome(response, status, code)


def test_an_unknown_dose_or_parameter_is_an_operation_outcome(client, actors, patient):
    mine = bearer(actors["prescriber"])
    outcome(client.get("/fhir/R4/MedicationAdministration/nope", **mine), 404, "not-found")
    outcome(
        client.get(f"/fhir/R4/MedicationAdministration/{patient.uuid}", **mine), 404, "not-found"
    )
    outcome(client.get("/fhir/R4/MedicationAdministration", **mine), 400, "invalid")
    outcome(
        client.get(f"/fhir/R4/MedicationAdministration?patient={patient.uuid}&route=iv", **mine),
        400,
        "not-supported",
    )


def test_at_home_doses_are_served_with_the_chair_side_ones(client, actors, patient, nurse):
    from clinic.home_program import services
    from clinic.home_program.tests.conftest import link_portal_user, sublingual_plan

    plan = sublingual_plan(patient, nurse=nurse, prescriber=actors["prescriber"])
    me = link_portal_user(patient, "jordan")
    log = services.home_session_start(
        actor=me, patient=patient, systolic_mmhg=120, diastolic_mmhg=78, monitor_name="Sam Rivera"
    )
    log = services.home_session_dose_record(actor=me, log=log, dose_mg="100")
    mine = bearer(actors["prescriber"])
    [dose] = entries(
        client.get(f"/fhir/R4/MedicationAdministration?patient={patient.uuid}", **mine)
    )
    assert dose["id"] == str(log.uuid)
    assert dose["performer"][0]["actor"]["reference"] == f"Patient/{patient.uuid}"
    assert dose["dosage"]["route"]["coding"][0] == {
        "system": SNOMED,
        "code": "37839007",
        "display": "Sublingual route",
    }
    assert dose["dosage"]["dose"]["value"] == 100
    assert dose["request"]["reference"] == f"MedicationRequest/{plan.uuid}"
    read = client.get(f"/fhir/R4/MedicationAdministration/{log.uuid}", **mine)
    assert read.status_code == 200 and read.json()["id"] == str(log.uuid)


def test_the_dose_search_reads_the_same_number_of_queries_for_2_and_6_doses(
    client, actors, patient, nurse
):
    """Flat in a patient's history: the page's keys, then each kind's rows in bulk."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from clinic.home_program import services
    from clinic.home_program.tests.conftest import link_portal_user, sublingual_plan

    sublingual_plan(patient, nurse=nurse, prescriber=actors["prescriber"], sessions=6)
    me = link_portal_user(patient, "jordan")
    mine = bearer(actors["prescriber"])
    path = f"/fhir/R4/MedicationAdministration?patient={patient.uuid}"
    client.get(path, **mine)  # the token's first use is recorded once
    counts = []
    for more, total in ((2, 2), (4, 6)):
        for _ in range(more):
            log = services.home_session_start(
                actor=me, patient=patient, systolic_mmhg=120, diastolic_mmhg=78, monitor_name="Sam"
            )
            services.home_session_dose_record(actor=me, log=log, dose_mg="100")
        with CaptureQueriesContext(connection) as queries:
            assert len(entries(client.get(path, **mine))) == total
        counts.append(len(queries))
    assert counts[0] == counts[1]
