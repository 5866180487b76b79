"""The intake and eligibility API (clinic/screening/api_intake.py): the intake's answers as kept
(unanswered is null, never "no"), changed with If-Match through the page's service, the rules'
evaluation, the prescriber's signed decision and REMS enrolment; refusals write nothing.

Expected values come from the rule set as test_eligibility.py reads it (screening-rules.md): the
TRD history (`submitted`) is eligible with precautions for iv/im/esketamine (psychosis history,
a relative finding) and ineligible for sublingual (no home monitor)."""

from __future__ import annotations

import pytest

from clinic.core.models import AuditEvent
from clinic.patients.tests.api_helpers import client_for
from clinic.screening.choices import Condition
from clinic.screening.models import EligibilityDecision, Intake, RemsEnrollment

pytestmark = pytest.mark.django_db

JSON = "application/json"


def path(patient, tail: str) -> str:
    return f"/api/v1/patients/{patient.uuid}/{tail}"


def patch(user, url: str, body: dict, if_match: str | None = None):
    headers = {"If-Match": if_match} if if_match else {}
    return client_for(user).patch(url, body, content_type=JSON, headers=headers)


def post(user, url: str, body: dict):
    return client_for(user).post(url, body, content_type=JSON)


def written(patient) -> tuple:
    """What a write could change: the intake (its state and answers), decisions, REMS rows."""
    intakes = list(
        Intake.objects.filter(patient=patient)
        .order_by("id")
        .values_list("id", "revision", "status", "updated_at", "allergies", "condition_answers")
    )
    return (
        intakes,
        EligibilityDecision.objects.filter(patient=patient).count(),
        RemsEnrollment.objects.filter(patient=patient).count(),
    )


# --------------------------------------------------------------------------- the intake


def test_a_new_intake_reads_every_question_unanswered_never_no(patient, nurse):
    response = client_for(nurse).get(path(patient, "intake"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert response["ETag"].startswith('"')
    assert body["status"] == "draft"
    assert body["condition_answers"] == {code: None for code in Condition.values}
    for name in ("pregnant", "breastfeeding", "takes_medications", "tried_antidepressants"):
        assert body[name] is None, name
    assert body["medications"] == [] and body["trials"] == []
    # As the page: reading starts the draft, audited.
    assert AuditEvent.objects.filter(
        action="create", object_type="intake", summary="Intake started"
    ).exists()


def test_a_change_keeps_what_was_not_sent_and_null_unanswers(patient, nurse):
    first = client_for(nurse).get(path(patient, "intake"))
    changed = patch(
        nurse,
        path(patient, "intake"),
        {"condition_answers": {"psychosis_history": True}, "pregnant": False},
        if_match=first["ETag"],
    )
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert body["condition_answers"]["psychosis_history"] is True
    # The others were not asked: still unanswered, not "no".
    assert body["condition_answers"]["mania_history"] is None
    assert body["pregnant"] is False and body["breastfeeding"] is None
    assert changed["ETag"] != first["ETag"]
    event = AuditEvent.objects.filter(action="update", object_type="intake").get()
    assert event.actor_id == nurse.pk
    again = patch(
        nurse,
        path(patient, "intake"),
        {"condition_answers": {"psychosis_history": None}, "pregnant": None},
        if_match=changed["ETag"],
    )
    assert again.status_code == 200, again.content
    assert again.json()["condition_answers"]["psychosis_history"] is None
    assert again.json()["pregnant"] is None


def test_a_change_needs_the_current_etag_and_writes_nothing_without_it(patient, nurse):
    first = client_for(nurse).get(path(patient, "intake"))
    before = written(patient)
    missing = patch(nurse, path(patient, "intake"), {"allergies": "Penicillin"})
    assert (missing.status_code, missing.json()["code"]) == (428, "precondition_required")
    assert written(patient) == before
    patch(nurse, path(patient, "intake"), {"allergies": "Latex"}, if_match=first["ETag"])
    before = written(patient)
    stale = patch(nurse, path(patient, "intake"), {"allergies": "Penicillin"}, first["ETag"])
    assert (stale.status_code, stale.json()["code"]) == (412, "precondition_failed")
    assert written(patient) == before


def test_the_page_checks_refuse_a_change_and_write_nothing(patient, nurse):
    tag = client_for(nurse).get(path(patient, "intake"))["ETag"]
    before = written(patient)
    response = patch(
        nurse,
        path(patient, "intake"),
        # The diastolic must be below the systolic; "yes" to medicines needs one listed.
        {"systolic_mmhg": 120, "diastolic_mmhg": 130, "takes_medications": True},
        if_match=tag,
    )
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "invalid_input"
    fields = {tuple(problem["loc"]) for problem in body["detail"]}
    assert {("body", "diastolic_mmhg"), ("body", "takes_medications")} <= fields
    assert written(patient) == before


def test_submitting_with_rows_then_a_change_bumps_the_revision(patient, nurse):
    tag = client_for(nurse).get(path(patient, "intake"))["ETag"]
    response = patch(
        nurse,
        path(patient, "intake"),
        {
            "takes_medications": True,
            "medications": [{"name": "Sertraline", "medication_class": "other", "dose": "50 mg"}],
            "submit": True,
        },
        if_match=tag,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["revision"]) == ("submitted", 1)
    assert body["medications"] == [
        {"name": "Sertraline", "medication_class": "other", "dose": "50 mg"}
    ]
    later = patch(nurse, path(patient, "intake"), {"allergies": "Latex"}, response["ETag"])
    assert later.json()["revision"] == 2


# --------------------------------------------------------------------------- eligibility


def test_an_unanswered_intake_is_never_eligible(patient, nurse, prescriber):
    client_for(nurse).get(path(patient, "intake"))  # a draft, nothing answered
    response = client_for(prescriber).get(path(patient, "eligibility"))
    assert response.status_code == 200, response.content
    evaluation = response.json()["evaluation"]
    assert {"conditions", "pregnant", "breastfeeding"} <= set(evaluation["missing"])
    assert set(evaluation["routes"].values()) <= {"incomplete", "ineligible"}
    assert response.json()["decisions"] == []


def test_the_eligibility_read_is_the_rules_evaluation(submitted, therapist):
    response = client_for(therapist).get(path(submitted.patient, "eligibility"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["intake"]["revision"] == submitted.revision
    assert body["evaluation"]["routes"] == {
        "iv": "eligible_with_precautions",
        "im": "eligible_with_precautions",
        "esketamine": "eligible_with_precautions",
        "sublingual": "ineligible",
    }
    assert body["evaluation"]["missing"] == []
    assert body["rule_set_version"] == 1


def _sign(user, intake, **overrides):
    body = {
        "outcome": "eligible",
        "approved_routes": ["iv"],
        "justifications": [
            {"rule": "psychosis_history", "text": "Stable for ten years; psychiatry agrees."}
        ],
        "intake_revision": intake.revision,
        **overrides,
    }
    return post(user, path(intake.patient, "eligibility/decisions"), body)


def test_the_prescriber_signs_and_the_decision_reads_back(submitted, prescriber):
    response = _sign(prescriber, submitted)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["outcome"] == "eligible" and body["approved_routes"] == ["iv"]
    assert body["signed_by"]["uuid"] == str(prescriber.uuid)
    assert body["needs_review"] is False
    assert body["justifications"] == [
        {"rule": "psychosis_history", "text": "Stable for ten years; psychiatry agrees."}
    ]
    assert AuditEvent.objects.filter(
        action="create", object_type="eligibility_decision", actor=prescriber
    ).exists()
    read = client_for(prescriber).get(path(submitted.patient, "eligibility")).json()
    assert [d["uuid"] for d in read["decisions"]] == [body["uuid"]]
    assert read["decisions"][0]["signed_at"]


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"intake_revision": 99}, 409, "intake_changed"),
        ({"justifications": []}, 422, "invalid_input"),  # a relative finding on iv
        ({"approved_routes": ["sublingual"]}, 422, "invalid_input"),  # absolute: no override
        ({"outcome": "maybe"}, 422, "invalid_input"),
    ],
)
def test_a_refused_decision_writes_nothing(submitted, prescriber, overrides, status, code):
    before = written(submitted.patient)
    response = _sign(prescriber, submitted, **overrides)
    assert (response.status_code, response.json()["code"]) == (status, code), response.content
    assert written(submitted.patient) == before


def test_a_draft_intake_cannot_be_signed(patient, nurse, prescriber):
    client_for(nurse).get(path(patient, "intake"))
    intake = Intake.objects.get(patient=patient)
    before = written(patient)
    response = _sign(prescriber, intake, outcome="ineligible", approved_routes=[])
    assert (response.status_code, response.json()["code"]) == (409, "intake_not_submitted")
    assert written(patient) == before


def test_rems_enrolment_is_recorded_and_read(submitted, prescriber):
    url = path(submitted.patient, "rems-enrolments")
    refused = post(prescriber, url, {"enrolled_on": "2026-01-05", "signed_by_patient": False})
    assert (refused.status_code, refused.json()["code"]) == (422, "invalid_input")
    assert RemsEnrollment.objects.count() == 0
    response = post(
        prescriber,
        url,
        {"enrolled_on": "2026-01-05", "signed_by_patient": True, "rems_patient_id": "R-1"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["signed_by_prescriber"]["uuid"] == str(prescriber.uuid)
    read = client_for(prescriber).get(path(submitted.patient, "eligibility")).json()
    assert read["rems"]["rems_patient_id"] == "R-1"
    assert AuditEvent.objects.filter(action="create", object_type="rems_enrollment").exists()


# --------------------------------------------------------------------------- OpenAPI

ENVELOPE = {"$ref": "#/components/schemas/ApiError"}
BASE = "/api/v1/patients/{patient_uuid}"
DECLARED = {
    ("get", f"{BASE}/intake"): {"200", "401", "403", "404", "422"},
    ("patch", f"{BASE}/intake"): {
        *("200", "400", "401", "403", "404", "412", "413", "422", "428"),
    },
    ("get", f"{BASE}/eligibility"): {"200", "401", "403", "404", "422"},
    ("post", f"{BASE}/eligibility/decisions"): {
        *("201", "400", "401", "403", "404", "409", "413", "422"),
    },
    ("post", f"{BASE}/rems-enrolments"): {"201", "400", "401", "403", "404", "413", "422"},
}


def test_each_operation_declares_its_statuses_with_the_envelope(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for (method, url), statuses in DECLARED.items():
        operation = paths[url][method]
        responses = operation["responses"]
        assert set(responses) == statuses, (method, url)
        for status in statuses - {"200", "201"}:
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == ENVELOPE, (method, url, status)
    intake = paths[f"{BASE}/intake"]
    assert "ETag" in intake["get"]["responses"]["200"]["headers"]
    assert "If-Match" in {p["name"] for p in intake["patch"]["parameters"]}
