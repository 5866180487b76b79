"""/fhir/R4/: the CapabilityStatement, Patient read and search, with a bearer token, the pages'
access rules (care team, directory roles), an audit event for every read, and an
OperationOutcome for every error."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient as FhirPatient

from clinic.accounts.services import api_token_create
from clinic.core.models import AuditEvent
from clinic.patients.models import Patient

pytestmark = pytest.mark.django_db

FHIR_JSON = "application/fhir+json"


def bearer(user) -> dict:
    _, plain = api_token_create(actor=None, user=user, name="fhir tests")
    return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}


def outcome(response, status: int, code: str) -> str:
    assert response.status_code == status
    assert response["Content-Type"].startswith(FHIR_JSON)
    body = OperationOutcome.model_validate(response.json())
    assert body.issue[0].code == code
    return body.issue[0].diagnostics


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
        ("QuestionnaireResponse", ["read", "search-type"]),
        ("CarePlan", ["search-type"]),
        ("AuditEvent", ["search-type"]),
        ("Condition", ["search-type"]),
        ("Observation", ["read", "search-type"]),
    ]


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
    found = Bundle.model_validate(
        client.get(f"/fhir/R4/Patient?identifier={patient.mrn}", **mine).json()
    )
    assert found.type == "searchset" and found.total == 1
    assert found.entry[0].resource.id == str(patient.uuid)
    assert found.entry[0].fullUrl.endswith(f"/fhir/R4/Patient/{patient.uuid}")
    system = "https://ketacare.example/fhir/sid/mrn"
    with_system = client.get(f"/fhir/R4/Patient?identifier={system}|{patient.mrn}", **mine)
    assert with_system.json()["total"] == 1
    other_system = client.get(f"/fhir/R4/Patient?identifier=urn:other|{patient.mrn}", **mine)
    assert other_system.json()["total"] == 0
    by_id = client.get(f"/fhir/R4/Patient?_id={patient.uuid}", **mine).json()
    assert by_id["total"] == 1
    # Off the care team: an empty result, as for a patient who does not exist.
    theirs = bearer(actors["prescriber_off_team"])
    assert client.get(f"/fhir/R4/Patient?identifier={patient.mrn}", **theirs).json()["total"] == 0
    assert client.get(f"/fhir/R4/Patient?_id={patient.uuid}", **theirs).json()["total"] == 0
    # Each search that read patients is audited, the one that found nobody too.
    assert AuditEvent.objects.filter(action="search", object_id=str(patient.uuid)).count() == 2
    missed = AuditEvent.objects.get(action="search", actor=actors["prescriber_off_team"])
    assert missed.summary == "Patient search by MRN: none found"


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
    response = client.post("/fhir/R4/Patient", {}, **desk)
    outcome(response, 405, "not-supported")
    assert response["Allow"] == "GET"


# --------------------------------------------------------------------------- Observation


@pytest.fixture
def scores(patient, nurse):
    """A PHQ-9 (the US Core example's answers, total 12) and a GAD-7 on two days, and a PHQ-9
    marked entered in error."""
    import datetime

    from clinic.assessments import services

    def record(code, answers, day):
        taken = datetime.datetime(2026, 11, day, 15, 0, tzinfo=datetime.UTC)
        return services.response_record(
            actor=nurse, patient=patient, instrument_code=code, answers=answers, taken_at=taken
        )

    phq9 = record("phq9", [2, 2, 2, 2, 1, 1, 2, 0, 0], 2)
    gad7 = record("gad7", [1, 1, 1, 1, 1, 1, 1], 9)
    withdrawn = record("phq9", [3] * 9, 5)
    services.response_mark_entered_in_error(
        actor=nurse, response=withdrawn, reason="Recorded for the wrong patient"
    )
    return {"phq9": phq9, "gad7": gad7, "withdrawn": withdrawn}


def entries(response) -> list[dict]:
    assert response.status_code == 200, response.content
    bundle = Bundle.model_validate(response.json())
    assert bundle.type == "searchset"
    return [entry["resource"] for entry in response.json().get("entry", [])]


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


# --------------------------------------------------------------------------- Encounter


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


# --------------------------------------------------------------------------- Practitioner


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


# --------------------------------------------------------------------------- Condition


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


# --------------------------------------------------------------------------- Questionnaire


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


# --------------------------------------------------------------------------- bounded


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


# --------------------------------------------------------------------------- Appointment


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
    message = outcome(client.get("/fhir/R4/MedicationRequest", **mine), 404, "not-supported")
    assert "metadata" in message
    outcome(client.get("/fhir/R4/Patient/1/_history", **mine), 404, "not-supported")


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


# --------------------------------------------------------------------------- CarePlan


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


# --------------------------------------------------------------------------- AuditEvent


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
