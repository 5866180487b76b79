"""/fhir/R4/ clinical records: Observation (the scored instruments and vital signs),
QuestionnaireResponse and Questionnaire, Encounter, Condition and CarePlan, with the care
team's access rules and an audit event for every read."""

from __future__ import annotations

import pytest

from clinic.core.models import AuditEvent
from clinic.fhir.tests.helpers import bearer, entries, outcome

pytestmark = pytest.mark.django_db


def test_a_patients_phq9_totals_are_found_by_their_loinc_code(client, actors, patient, scores):
    totals = entries(
        client.get(
            f"/fhir/R4/Observation?patient=Patient/{patient.uuid}&code=http://loinc.org|44261-6",
            **bearer(actors["prescriber"]),
        )
    )
    # The withdrawn PHQ-9 (entered in error) is left out: only the US Core example's total.
    assert [(o["code"]["coding"][0]["code"], o["valueInteger"]) for o in totals] == [
        ("44261-6", 12)
    ]
    assert totals[0]["subject"]["reference"] == f"Patient/{patient.uuid}"
    assert AuditEvent.objects.filter(
        action="list", object_type="assessment_response", actor=actors["prescriber"]
    ).exists()


def test_without_a_code_each_response_brings_its_panel_items_and_total(
    client, actors, patient, scores
):
    found = entries(
        client.get(
            f"/fhir/R4/Observation?patient={patient.uuid}&category=survey",
            **bearer(actors["nurse"]),
        )
    )
    panels = [o for o in found if o.get("hasMember")]
    # Newest first: the GAD-7 of 9 November (7 items and a total), then the PHQ-9 (9 and 1).
    assert [p["code"]["coding"][0]["code"] for p in panels] == ["69737-5", "44249-1"]
    assert [len(p["hasMember"]) for p in panels] == [8, 10]
    assert len(found) == 2 + 8 + 10
    ids = {o["id"] for o in found}
    assert all(
        m["reference"].removeprefix("Observation/") in ids for p in panels for m in p["hasMember"]
    )


def test_date_category_and_paging_narrow_the_search(client, actors, patient, scores):
    mine = bearer(actors["prescriber"])
    base = f"/fhir/R4/Observation?patient={patient.uuid}&code=44249-1"
    assert len(entries(client.get(f"{base}&date=ge2026-11-03", **mine))) == 0  # PHQ-9 on the 2nd
    assert len(entries(client.get(f"{base}&date=2026-11-02", **mine))) == 1
    assert len(entries(client.get(f"{base}&date=lt2026-11-02T15:00:01%2B00:00", **mine))) == 1
    assert len(entries(client.get(f"{base}&date=lt2026-11-02T15:00:00%2B00:00", **mine))) == 0
    any_code = f"/fhir/R4/Observation?patient={patient.uuid}"
    assert entries(client.get(f"{any_code}&category=vital-signs", **mine)) == []
    assert entries(client.get(f"{any_code}&category=laboratory", **mine)) == []
    assert len(entries(client.get(f"{any_code}&category=survey", **mine))) == 20
    first = client.get(f"{any_code}&category=survey&_count=1", **mine).json()
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert [e["resource"]["code"]["coding"][0]["code"] for e in first["entry"]][0] == "69737-5"
    second = client.get(links["next"].split("testserver")[1], **mine).json()
    assert second["entry"][0]["resource"]["code"]["coding"][0]["code"] == "44249-1"


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("therapist", 200, ""),
        ("front_desk", 403, "security"),
        ("billing", 403, "security"),
        ("prescriber_off_team", 404, "not-found"),
    ],
)
def test_scores_are_for_the_care_team_only(client, actors, patient, scores, who, status, code):
    response = client.get(
        f"/fhir/R4/Observation?patient={patient.uuid}&category=survey", **bearer(actors[who])
    )
    if status == 200:
        assert entries(response)
    else:
        outcome(response, status, code)


def test_an_observation_search_must_name_the_patient_and_well_formed_dates(client, actors):
    mine = bearer(actors["prescriber"])
    search = "/fhir/R4/Observation?patient=x&code=1"
    outcome(client.get("/fhir/R4/Observation?code=44261-6", **mine), 400, "invalid")
    outcome(client.get("/fhir/R4/Observation?patient=x", **mine), 400, "invalid")
    outcome(client.get(f"{search}&date=ap2026-01-01", **mine), 400, "not-supported")
    outcome(client.get(f"{search}&date=2026-13-01", **mine), 400, "invalid")
    outcome(client.get(f"{search}&date=ge2026-01-01T10:00", **mine), 400, "invalid")


def test_vital_signs_are_the_sessions_readings_and_the_charts_weights(
    client, actors, patient, iv_checked_in, nurse
):
    from clinic.treatment_sessions import services

    services.vitals_record(
        actor=nurse, session=iv_checked_in, systolic_mmhg=150, diastolic_mmhg=95, heart_rate_bpm=80
    )
    mine = bearer(actors["prescriber"])
    found = entries(
        client.get(f"/fhir/R4/Observation?patient={patient.uuid}&category=vital-signs", **mine)
    )
    codes = [o["code"]["coding"][0]["code"] for o in found]
    # The reading (blood pressure and heart rate), then the chart's 80 kg of the same Monday.
    assert codes == ["85354-9", "8867-4", "29463-7"]
    bp = found[0]
    assert [c["valueQuantity"]["value"] for c in bp["component"]] == [150, 95]
    assert bp["encounter"] == {"reference": f"Encounter/{iv_checked_in.uuid}"}
    assert found[2]["valueQuantity"]["value"] == 80
    weights = entries(
        client.get(f"/fhir/R4/Observation?patient={patient.uuid}&code=29463-7", **mine)
    )
    assert [o["code"]["coding"][0]["code"] for o in weights] == ["29463-7"]
    assert AuditEvent.objects.filter(object_type="vitals", actor=actors["prescriber"]).exists()
    desk = client.get(
        f"/fhir/R4/Observation?patient={patient.uuid}&category=vital-signs",
        **bearer(actors["front_desk"]),
    )
    outcome(desk, 403, "security")


def test_a_session_is_an_encounter_read_and_found_by_patient_and_date(
    client, actors, patient, iv_checked_in
):
    from fhir.resources.R4B.encounter import Encounter

    mine = bearer(actors["prescriber"])
    response = client.get(f"/fhir/R4/Encounter/{iv_checked_in.uuid}", **mine)
    assert response.status_code == 200
    encounter = Encounter.model_validate(response.json())
    # fhir-loinc.md §3: one Encounter per session, class AMB; in the chair: in progress.
    assert encounter.status == "in-progress" and encounter.class_fhir.code == "AMB"
    assert encounter.type[0].text == "IV infusion treatment session"
    assert encounter.subject.reference == f"Patient/{patient.uuid}"
    assert encounter.period.end is None
    [nurse_in_chair] = encounter.participant
    assert (
        nurse_in_chair.individual.reference == f"Practitioner/{iv_checked_in.assigned_nurse.uuid}"
    )
    day = iv_checked_in.checked_in_at.date().isoformat()
    found = client.get(f"/fhir/R4/Encounter?patient={patient.uuid}&date={day}", **mine).json()
    assert found["total"] == 1 and found["entry"][0]["resource"]["id"] == str(iv_checked_in.uuid)
    later = client.get(f"/fhir/R4/Encounter?patient={patient.uuid}&date=gt{day}", **mine).json()
    assert later["total"] == 0
    theirs = bearer(actors["prescriber_off_team"])
    outcome(client.get(f"/fhir/R4/Encounter/{iv_checked_in.uuid}", **theirs), 404, "not-found")
    desk = bearer(actors["front_desk"])
    outcome(client.get(f"/fhir/R4/Encounter/{iv_checked_in.uuid}", **desk), 403, "security")
    outcome(client.get(f"/fhir/R4/Encounter?patient={patient.uuid}", **desk), 403, "security")
    outcome(client.get("/fhir/R4/Encounter", **mine), 400, "invalid")


def test_the_problem_list_is_conditions_with_their_icd10_codes(client, actors, patient, prescriber):
    import datetime

    from clinic.billing.services import diagnoses

    recurrent = diagnoses.diagnosis_record(
        actor=prescriber, patient=patient, code="F33.2", primary=True
    )
    anxiety = diagnoses.diagnosis_record(actor=prescriber, patient=patient, code="F41.1")
    diagnoses.diagnosis_resolve(
        actor=prescriber, diagnosis=anxiety, resolved_on=datetime.date(2026, 11, 1)
    )
    wrong = diagnoses.diagnosis_record(actor=prescriber, patient=patient, code="F32.9")
    diagnoses.diagnosis_mark_entered_in_error(
        actor=prescriber, diagnosis=wrong, reason="Recorded for the wrong patient"
    )
    search = f"/fhir/R4/Condition?patient={patient.uuid}"
    found = entries(client.get(search, **bearer(actors["billing"])))
    by_code = {c["code"]["coding"][0]["code"]: c for c in found}
    # The entry marked entered in error is not among them.
    assert set(by_code) == {"F33.2", "F41.1"}
    assert by_code["F33.2"]["code"]["coding"][0]["system"] == "http://hl7.org/fhir/sid/icd-10-cm"
    assert by_code["F33.2"]["clinicalStatus"]["coding"][0]["code"] == "active"
    assert by_code["F41.1"]["clinicalStatus"]["coding"][0]["code"] == "resolved"
    assert by_code["F41.1"]["abatementDateTime"] == "2026-11-01"
    assert by_code["F33.2"]["id"] == str(recurrent.uuid)
    mine = bearer(actors["prescriber"])
    active = entries(client.get(f"{search}&clinical-status=active", **mine))
    assert [c["code"]["coding"][0]["code"] for c in active] == ["F33.2"]
    assert AuditEvent.objects.filter(object_type="diagnosis", action="list").count() == 2
    # The front desk may not see the problem list: refused, never an empty list.
    outcome(client.get(search, **bearer(actors["front_desk"])), 403, "security")
    outcome(client.get(search, **bearer(actors["prescriber_off_team"])), 404, "not-found")


def test_every_member_a_panel_lists_can_be_read_and_only_by_the_care_team(
    client, actors, patient, scores, iv_checked_in, nurse
):
    from clinic.treatment_sessions import services

    reading, _ = services.vitals_record(
        actor=nurse, session=iv_checked_in, systolic_mmhg=128, diastolic_mmhg=82, spo2_percent=98
    )
    mine = bearer(actors["prescriber"])
    panel = client.get(f"/fhir/R4/Observation/{scores['phq9'].uuid}", **mine).json()
    assert panel["code"]["coding"][0]["code"] == "44249-1"
    for member in panel["hasMember"]:
        response = client.get(f"/fhir/R4/{member['reference']}", **mine)
        assert response.status_code == 200
        assert response.json()["id"] == member["reference"].removeprefix("Observation/")
    total = client.get(f"/fhir/R4/Observation/{scores['phq9'].uuid}-total", **mine).json()
    assert total["valueInteger"] == 12
    spo2 = client.get(f"/fhir/R4/Observation/{reading.uuid}-spo2", **mine).json()
    assert spo2["valueQuantity"]["value"] == 98
    # A reading without a respiratory rate has no "-rr" Observation.
    outcome(client.get(f"/fhir/R4/Observation/{reading.uuid}-rr", **mine), 404, "not-found")
    theirs = bearer(actors["prescriber_off_team"])
    outcome(
        client.get(f"/fhir/R4/Observation/{scores['phq9'].uuid}-total", **theirs), 404, "not-found"
    )
    desk = bearer(actors["front_desk"])
    outcome(client.get(f"/fhir/R4/Observation/{reading.uuid}-spo2", **desk), 404, "not-found")
    assert AuditEvent.objects.filter(action="denied", object_type="vitals").exists()


def test_the_phq9_questionnaire_carries_its_loinc_codes(client, actors):
    from fhir.resources.R4B.questionnaire import Questionnaire

    response = client.get("/fhir/R4/Questionnaire/phq9", **bearer(actors["nurse"]))
    questionnaire = Questionnaire.model_validate(response.json())
    # clinical-reference.md §7.1: panel 44249-1; item 1 44250-9; answers LL358-3.
    assert questionnaire.code[0].code == "44249-1"
    first = questionnaire.item[0]
    assert (first.linkId, first.code[0].code) == ("1", "44250-9")
    assert [o.valueCoding.code for o in first.answerOption] == [
        "LA6568-5",
        "LA6569-3",
        "LA6570-1",
        "LA6571-9",
    ]
    # Item 10, the difficulty question, is optional, with answer list LL359-1.
    tenth = questionnaire.item[9]
    assert tenth.required is False and tenth.answerOption[1].valueCoding.code == "LA6573-5"
    outcome(client.get("/fhir/R4/Questionnaire/madrs", **bearer(actors["nurse"])), 404,
            "not-found")  # fmt: skip


def test_the_answers_as_given_are_a_questionnaire_response(client, actors, patient, scores):
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    mine = bearer(actors["prescriber"])
    phq9 = scores["phq9"]
    body = client.get(f"/fhir/R4/QuestionnaireResponse/{phq9.uuid}", **mine).json()
    answered = QuestionnaireResponse.model_validate(body)
    assert answered.status == "completed"
    assert answered.questionnaire == "https://ketacare.example/fhir/Questionnaire/phq9"
    # The US Core example's answers 2,2,2,2,1,1,2,0,0: item 1 "More than half the days".
    assert [i.answer[0].valueCoding.code for i in answered.item][:2] == ["LA6570-1", "LA6570-1"]
    assert len(answered.item) == 9
    # The panel Observation says it was derived from this response.
    panel = client.get(f"/fhir/R4/Observation/{phq9.uuid}", **mine).json()
    assert panel["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{phq9.uuid}"}]
    search = f"/fhir/R4/QuestionnaireResponse?patient={patient.uuid}"
    everything = entries(client.get(search, **mine))
    assert [r["id"] for r in everything] == [str(scores["gad7"].uuid), str(phq9.uuid)]
    only_phq9 = entries(client.get(f"{search}&questionnaire=Questionnaire/phq9", **mine))
    assert [r["id"] for r in only_phq9] == [str(phq9.uuid)]
    by_url = entries(client.get(f"{search}&questionnaire={answered.questionnaire}", **mine))
    assert [r["id"] for r in by_url] == [str(phq9.uuid)]
    assert entries(client.get(f"{search}&authored=gt2026-11-09", **mine)) == []
    theirs = bearer(actors["prescriber_off_team"])
    outcome(client.get(f"/fhir/R4/QuestionnaireResponse/{phq9.uuid}", **theirs), 404,
            "not-found")  # fmt: skip


def test_the_vital_signs_search_costs_the_same_queries_however_many_readings(
    client, actors, patient, iv_checked_in, nurse, clock
):
    import datetime

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from clinic.treatment_sessions import services

    mine = bearer(actors["prescriber"])
    url = f"/fhir/R4/Observation?patient={patient.uuid}&category=vital-signs&_count=2"

    def readings(n):
        for _ in range(n):
            clock.shift(datetime.timedelta(minutes=5))
            services.vitals_record(actor=nurse, session=iv_checked_in, heart_rate_bpm=72)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, **mine).status_code == 200
        return len(captured.captured_queries)

    readings(3)
    client.get(url, **mine)  # the token's first use is recorded once
    few = queries()
    readings(12)
    client.get(url, **mine)  # an hour later by the clock: the token's use is recorded again
    assert queries() == few


def test_a_treatment_plan_is_a_careplan_stated_in_words(client, actors, patient, iv_appointment):
    from fhir.resources.R4B.careplan import CarePlan

    plan = iv_appointment.planned_session.plan
    search = f"/fhir/R4/CarePlan?patient={patient.uuid}"
    [found] = entries(client.get(search, **bearer(actors["nurse"])))
    careplan = CarePlan.model_validate(found)
    assert careplan.id == str(plan.uuid)
    assert (careplan.status, careplan.intent) == ("active", "plan")
    assert careplan.category[0].coding[0].code == "assess-plan"
    # The plan of the fixture: IV, 0.50 mg/kg, one session, by the prescriber.
    assert careplan.description == "IV infusion: Test iv, 1 session, 0.50 mg/kg"
    assert "0.50 mg/kg" in careplan.text.div
    assert careplan.author.reference == f"Practitioner/{plan.prescribed_by.uuid}"
    assert entries(client.get(f"{search}&status=completed", **bearer(actors["nurse"]))) == []
    outcome(client.get(search, **bearer(actors["front_desk"])), 403, "security")
    assert AuditEvent.objects.filter(object_type="treatment_plan", action="list").exists()
