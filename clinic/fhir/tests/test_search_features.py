"""/fhir/R4/ search features: `_lastUpdated` (the record's own updated_at, also its
meta.lastUpdated) and `_include` (search mode include, each resource once, read in bulk: the
same number of queries for 2 rows as for 8), and their refusals.

The clock is the session tests' (time-machine, Monday 2 June 2031, America/New_York): the
chart's weight is recorded at 08:30 and the IV session checked in at 08:50."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.practitioner import Practitioner

from clinic.fhir.tests.helpers import bearer, entries, outcome
from clinic.treatment_sessions.tests.conftest import MONDAY, at

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


def _get(client, path, who):
    response = client.get(path.replace("+", "%2B"), **who)
    return response


def _instant(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


def _modes(response) -> list[tuple[str, str]]:
    return [(e["search"]["mode"], e["resource"]["resourceType"]) for e in response.json()["entry"]]


def test_last_updated_narrows_the_responses_and_is_their_meta(client, actors, patient, nurse):
    from clinic.assessments import services

    def record(code, answers, day):
        moment = datetime.datetime(2026, 11, day, 16, 0, tzinfo=UTC)
        with time_machine.travel(moment, tick=False):
            return services.response_record(
                actor=nurse, patient=patient, instrument_code=code, answers=answers, taken_at=moment
            )

    phq9 = record("phq9", [2, 2, 2, 2, 1, 1, 2, 0, 0], 2)
    gad7 = record("gad7", [1] * 7, 9)
    mine = bearer(actors["prescriber"])
    base = f"/fhir/R4/QuestionnaireResponse?patient={patient.uuid}"
    [found] = entries(_get(client, f"{base}&_lastUpdated=ge2026-11-05", mine))
    assert found["id"] == str(gad7.uuid)
    assert _instant(found["meta"]["lastUpdated"]) == datetime.datetime(2026, 11, 9, 16, tzinfo=UTC)
    [found] = entries(_get(client, f"{base}&_lastUpdated=lt2026-11-05", mine))
    assert found["id"] == str(phq9.uuid)
    assert len(entries(_get(client, f"{base}&_lastUpdated=2026-11-02", mine))) == 1
    exact = f"{base}&_lastUpdated=gt2026-11-09T16:00:00+00:00"
    assert entries(_get(client, exact, mine)) == []
    # The Observations of a response carry the same meta and narrow the same way.
    survey = f"/fhir/R4/Observation?patient={patient.uuid}&category=survey"
    found = entries(_get(client, f"{survey}&_lastUpdated=ge2026-11-05", mine))
    assert {_instant(o["meta"]["lastUpdated"]) for o in found} == {
        datetime.datetime(2026, 11, 9, 16, tzinfo=UTC)
    }
    assert len(found) == 1 + 7 + 1  # the GAD-7 panel, its items and its total


def test_last_updated_narrows_sessions_doses_readings_and_plans(
    client, actors, patient, iv_stopped
):
    """The weight at 08:30, the reading at 08:50, the infusion recorded (and the session last
    changed) at 09:40; the plan made at 08:30."""
    mine = bearer(actors["prescriber"])
    day, next_day = "2031-06-02", "2031-06-03"
    encounters = f"/fhir/R4/Encounter?patient={patient.uuid}"
    [encounter] = entries(_get(client, f"{encounters}&_lastUpdated={day}", mine))
    assert _instant(encounter["meta"]["lastUpdated"]) == at(MONDAY, 9, 40)
    assert entries(_get(client, f"{encounters}&_lastUpdated=ge{next_day}", mine)) == []
    doses = f"/fhir/R4/MedicationAdministration?patient={patient.uuid}"
    [dose] = entries(_get(client, f"{doses}&_lastUpdated=ge{day}T09:40:00-04:00", mine))
    assert _instant(dose["meta"]["lastUpdated"]) == at(MONDAY, 9, 40)
    assert entries(_get(client, f"{doses}&_lastUpdated=lt{day}T09:40:00-04:00", mine)) == []
    vitals = f"/fhir/R4/Observation?patient={patient.uuid}&category=vital-signs"
    after = entries(_get(client, f"{vitals}&_lastUpdated=gt{day}T08:40:00-04:00", mine))
    assert [o["id"].rsplit("-", 1)[1] for o in after] == ["bp", "hr", "rr", "spo2"]
    before = entries(_get(client, f"{vitals}&_lastUpdated=lt{day}T08:40:00-04:00", mine))
    assert [o["id"].rsplit("-", 1)[1] for o in before] == ["weight"]
    assert _instant(before[0]["meta"]["lastUpdated"]) == at(MONDAY, 8, 30)
    for kind in ("CarePlan", "MedicationRequest"):
        search = f"/fhir/R4/{kind}?patient={patient.uuid}"
        [plan] = entries(_get(client, f"{search}&_lastUpdated={day}", mine))
        assert _instant(plan["meta"]["lastUpdated"]) == at(MONDAY, 8, 30)
        assert entries(_get(client, f"{search}&_lastUpdated=ge{next_day}", mine)) == []


def test_a_bad_last_updated_or_include_is_refused(client, actors, patient):
    mine = bearer(actors["prescriber"])
    encounters = f"/fhir/R4/Encounter?patient={patient.uuid}"
    outcome(_get(client, f"{encounters}&_lastUpdated=ap2031-01-01", mine), 400, "not-supported")
    message = outcome(_get(client, f"{encounters}&_lastUpdated=2031-13-01", mine), 400, "invalid")
    assert "_lastUpdated" in message
    outcome(_get(client, f"{encounters}&_lastUpdated=2031-06-02T10:00", mine), 400, "invalid")
    careplans = f"/fhir/R4/CarePlan?patient={patient.uuid}&_lastUpdated=2031-02-30"
    outcome(_get(client, careplans, mine), 400, "invalid")
    # Searches whose records cannot be narrowed by it do not accept it.
    outcome(_get(client, "/fhir/R4/AuditEvent?_lastUpdated=2031-06-02", mine), 400, "not-supported")
    message = outcome(
        _get(client, f"{encounters}&_include=Encounter:subject", mine), 400, "not-supported"
    )
    assert "Encounter:participant" in message
    observations = f"/fhir/R4/Observation?patient={patient.uuid}&category=survey"
    outcome(_get(client, f"{observations}&_include=Observation:*", mine), 400, "not-supported")
    conditions = f"/fhir/R4/Condition?patient={patient.uuid}&_include=Condition:subject"
    outcome(_get(client, conditions, mine), 400, "not-supported")


def _sessions(patient, chair, front_desk, make_staff, start, count):
    """`count` checked-in sessions of `patient` on the days after `start`, each with its own
    assigned nurse, and a reading each: rows for the include searches, made in the ORM."""
    from clinic.scheduling.models import Appointment
    from clinic.treatment_sessions.models import TreatmentSession, VitalsEntry

    made = []
    for number in range(start, start + count):
        nurse = make_staff("nurse", username=f"chair_nurse_{number}")
        starts = at(MONDAY + datetime.timedelta(days=number), 9)
        appointment = Appointment.objects.create(
            patient=patient,
            chair=chair,
            nurse=nurse,
            starts_at=starts,
            ends_at=starts + datetime.timedelta(minutes=70),
            route="iv",
            created_by=front_desk,
        )
        session = TreatmentSession.objects.create(
            appointment=appointment,
            patient=patient,
            route="iv",
            policy_values={},
            checked_in_at=starts,
            checked_in_by=nurse,
            assigned_nurse=nurse,
        )
        VitalsEntry.objects.create(
            session=session, taken_at=starts, heart_rate_bpm=70, recorded_by=nurse
        )
        made.append(session)
    return made


def _queries(client, path, who) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, **who)
    assert response.status_code == 200, response.content
    return len(captured.captured_queries), response


def test_encounters_include_their_practitioners_in_flat_queries(
    client, actors, patient, chair, front_desk, make_staff
):
    mine = bearer(actors["prescriber"])
    path = f"/fhir/R4/Encounter?patient={patient.uuid}&_include=Encounter:participant&_count=50"
    client.get(path, **mine)  # the token's first use is recorded once
    counts = []
    for start, more in ((0, 2), (2, 6)):
        _sessions(patient, chair, front_desk, make_staff, start, more)
        count, response = _queries(client, path, mine)
        counts.append(count)
    assert counts[0] == counts[1]
    modes = _modes(response)
    assert modes == [("match", "Encounter")] * 8 + [("include", "Practitioner")] * 8
    body = response.json()
    assert body["total"] == 8  # the matches only
    for entry in body["entry"]:
        model = Encounter if entry["search"]["mode"] == "match" else Practitioner
        model.model_validate(entry["resource"])
    named = {
        e["resource"]["participant"][0]["individual"]["reference"]
        for e in body["entry"]
        if e["search"]["mode"] == "match"
    }
    included = {
        f"Practitioner/{e['resource']['id']}"
        for e in body["entry"]
        if e["search"]["mode"] == "include"
    }
    assert named == included


def test_observations_include_their_encounters_once_each(
    client, actors, patient, chair, front_desk, make_staff
):
    mine = bearer(actors["nurse"])
    path = (
        f"/fhir/R4/Observation?patient={patient.uuid}&category=vital-signs"
        "&_include=Observation:encounter&_count=50"
    )
    client.get(path, **mine)
    counts = []
    for start, more in ((0, 2), (2, 6)):
        _sessions(patient, chair, front_desk, make_staff, start, more)
        count, response = _queries(client, path, mine)
        counts.append(count)
    assert counts[0] == counts[1]
    assert _modes(response) == [("match", "Observation")] * 8 + [("include", "Encounter")] * 8
    # Without _include, nothing is added.
    plain = client.get(path.replace("&_include=Observation:encounter", ""), **mine)
    assert _modes(plain) == [("match", "Observation")] * 8


def test_doses_include_their_order_once_in_flat_queries(client, actors, patient, nurse):
    from clinic.home_program import services
    from clinic.home_program.tests.conftest import link_portal_user, sublingual_plan

    plan = sublingual_plan(patient, nurse=nurse, prescriber=actors["prescriber"], sessions=8)
    me = link_portal_user(patient, "jordan")
    mine = bearer(actors["prescriber"])
    path = (
        f"/fhir/R4/MedicationAdministration?patient={patient.uuid}"
        "&_include=MedicationAdministration:request"
    )
    client.get(path, **mine)
    counts = []
    for more in (2, 6):
        for _ in range(more):
            log = services.home_session_start(
                actor=me, patient=patient, systolic_mmhg=120, diastolic_mmhg=78, monitor_name="Sam"
            )
            services.home_session_dose_record(actor=me, log=log, dose_mg="100")
        count, response = _queries(client, path, mine)
        counts.append(count)
    assert counts[0] == counts[1]
    # Eight doses of one plan: its MedicationRequest is included once.
    assert _modes(response) == [("match", "MedicationAdministration")] * 8 + [
        ("include", "MedicationRequest")
    ]
    included = response.json()["entry"][-1]
    MedicationRequest.model_validate(included["resource"])
    assert included["resource"]["id"] == str(plan.uuid)
    assert included["fullUrl"].endswith(f"/fhir/R4/MedicationRequest/{plan.uuid}")
    # The include is read as the plans are: audited as a list of the patient's plans.
    from clinic.core.models import AuditEvent

    assert AuditEvent.objects.filter(
        action="list",
        object_type="treatment_plan",
        summary__endswith="(FHIR MedicationAdministration search)",
    ).exists()
