"""The session record through the API (api/record.py) as a chair-side device and a
prescriber's phone use it: the prescriber's pre-dose BP confirmation and pre-check override,
scores, side effects and adverse events (201 with the row and the session's new ETag), and
corrections that amend and never delete. Every one takes If-Match; a refusal writes nothing.

Numbers come from this app's conftest (08:50 check-in, pre-checks passed with a 130/80 pre-dose
reading; the infusion 09:00–09:40) and docs/clinical/policy-defaults.md: a pre-dose BP needs a
prescriber's confirmation when systolic > 140 or diastolic > 90; modified Aldrete is five items
of 0–2 (total 0–10), MOAA/S one item of 0–5.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.core.models import AuditEvent
from clinic.patients.tests.api_helpers import client_for
from clinic.treatment_sessions import schemas, services
from clinic.treatment_sessions.choices import (
    AdverseEventOutcome,
    Seriousness,
    SessionScoreKind,
    Severity,
    SideEffectKind,
)
from clinic.treatment_sessions.models import AdverseEvent, SideEffect, VitalsEntry
from clinic.treatment_sessions.tests.api_helpers import etag_of, one, post, record_rows
from clinic.treatment_sessions.tests.conftest import MONDAY, at, fresh, pass_prechecks

pytestmark = pytest.mark.django_db

REASON = {"reason": "Rechecked after five minutes' rest; asymptomatic"}
ALDRETE_9 = {"kind": "modified-aldrete", "answers": [2, 2, 2, 2, 1]}
NAUSEA = {"kind": "nausea", "severity": "moderate", "intervention": "Ondansetron 4 mg given"}
EVENT = {
    "description": "Vasovagal episode on standing",
    "seriousness": "non_serious",
    "outcome": "resolved",
    "action_taken": "Laid flat, legs raised",
}


def moment(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def record(session, reader) -> dict:
    return client_for(reader).get(one(session)).json()


@pytest.fixture
def iv_high_bp(iv_checked_in, nurse):
    """Pre-checks passed but the pre-dose reading is 150/95: above 140/90, so dosing waits
    for a prescriber's confirmation."""
    return pass_prechecks(nurse, iv_checked_in, systolic=150, diastolic=95)


# --------------------------------------------------------------------------- decisions


def test_a_prescriber_confirms_a_high_pre_dose_bp_and_dosing_may_start(
    iv_high_bp, nurse, prescriber
):
    path = f"{one(iv_high_bp)}/pre-dose-bp/confirm"
    before = record(iv_high_bp, prescriber)
    assert before["pre_checks"]["status"]["bp_confirmed"] is False
    assert before["pre_checks"]["status"]["cleared"] is False
    response = post(prescriber, path, REASON, if_match=etag_of(iv_high_bp, prescriber))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["pre_checks"]["status"]["bp_confirmed"] is True
    assert body["pre_checks"]["status"]["cleared"] is True
    [override] = body["overrides"]
    assert (override["kind"], override["reason"]) == ("pre_dose_bp", REASON["reason"])
    assert override["prescriber"]["uuid"] == str(prescriber.uuid)
    reading = body["vitals"][-1]
    assert [u["key"] for u in override["unmet"]] == [reading["uuid"]]
    assert response["ETag"] == etag_of(iv_high_bp, nurse)
    assert AuditEvent.objects.filter(
        object_type="treatment_session",
        object_id=str(iv_high_bp.uuid),
        actor=prescriber,
        summary__startswith="Pre-dose BP 150/95 confirmed",
    ).exists()


def test_a_nurse_may_not_confirm_and_nothing_is_read_or_written(iv_high_bp, nurse):
    before = record_rows()
    response = post(
        nurse,
        f"{one(iv_high_bp)}/pre-dose-bp/confirm",
        REASON,
        if_match=etag_of(iv_high_bp, nurse),
    )
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert record_rows() == before


@pytest.mark.parametrize(
    ("fixture", "code"),
    [("iv_checked_in", "no_pre_dose_bp"), ("iv_cleared", "not_needed")],
)
def test_a_confirmation_that_is_not_needed_is_a_conflict(request, prescriber, fixture, code):
    session = request.getfixturevalue(fixture)
    before = record_rows()
    response = post(
        prescriber,
        f"{one(session)}/pre-dose-bp/confirm",
        REASON,
        if_match=etag_of(session, prescriber),
    )
    assert (response.status_code, response.json()["code"]) == (409, code)
    assert record_rows() == before


def test_a_decision_without_a_reason_is_refused_at_the_field(iv_high_bp, prescriber):
    before = record_rows()
    response = post(
        prescriber,
        f"{one(iv_high_bp)}/pre-dose-bp/confirm",
        {"reason": "  "},
        if_match=etag_of(iv_high_bp, prescriber),
    )
    assert response.status_code == 422
    assert [item["loc"][-1] for item in response.json()["detail"]] == ["reason"]
    assert record_rows() == before


def test_a_decision_on_a_record_that_changed_since_is_refused(iv_high_bp, nurse, prescriber):
    tag = etag_of(iv_high_bp, prescriber)
    # The nurse takes a new reading after the prescriber read the record.
    post(nurse, f"{one(iv_high_bp)}/vitals", {"systolic_mmhg": 138, "diastolic_mmhg": 86})
    before = record_rows()
    path = f"{one(iv_high_bp)}/pre-dose-bp/confirm"
    stale = post(prescriber, path, REASON, if_match=tag)
    assert (stale.status_code, stale.json()["code"]) == (412, "precondition_failed")
    missing = post(prescriber, path, REASON)
    assert (missing.status_code, missing.json()["code"]) == (428, "precondition_required")
    assert record_rows() == before
    # Read again: the new reading is within the limit, so there is nothing to confirm.
    again = post(prescriber, path, REASON, if_match=etag_of(iv_high_bp, prescriber))
    assert (again.status_code, again.json()["code"]) == (409, "not_needed")


def test_a_prescriber_overrides_unmet_pre_checks_keeping_what_was_unmet(iv_checked_in, prescriber):
    unmet = [
        i["key"]
        for i in record(iv_checked_in, prescriber)["pre_checks"]["status"]["items"]
        if not i["ok"]
    ]
    assert unmet, "nothing is charted yet"
    response = post(
        prescriber,
        f"{one(iv_checked_in)}/pre-checks/override",
        {"reason": "Escort confirmed by phone; fasting confirmed verbally"},
        if_match=etag_of(iv_checked_in, prescriber),
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["pre_checks"]["status"]["overridden"] is True
    [override] = body["overrides"]
    assert override["kind"] == "pre_checks"
    assert [u["key"] for u in override["unmet"]] == unmet


def test_an_override_when_every_pre_check_passed_is_a_conflict(iv_cleared, prescriber):
    before = record_rows()
    response = post(
        prescriber,
        f"{one(iv_cleared)}/pre-checks/override",
        REASON,
        if_match=etag_of(iv_cleared, prescriber),
    )
    assert (response.status_code, response.json()["code"]) == (409, "not_needed")
    assert record_rows() == before


# --------------------------------------------------------------------------- charting


def test_a_modified_aldrete_score_is_scored_on_the_server(iv_stopped, nurse, clock):
    clock.move_to(at(MONDAY, 10, 5))
    tag = etag_of(iv_stopped, nurse)
    response = post(nurse, f"{one(iv_stopped)}/scores", ALDRETE_9, if_match=tag)
    assert response.status_code == 201, response.content
    score = response.json()
    assert (score["kind"], score["answers"], score["total"], score["complete"]) == (
        "modified-aldrete",
        [2, 2, 2, 2, 1],
        9,
        True,
    )
    assert moment(score["taken_at"]) == at(MONDAY, 10, 5)
    assert score["recorded_by"]["uuid"] == str(nurse.uuid)
    # The answer's tag is the session's new one: the next change can go straight on.
    assert response["ETag"] != tag
    assert response["ETag"] == etag_of(iv_stopped, nurse)
    assert [s["uuid"] for s in record(iv_stopped, nurse)["scores"]] == [score["uuid"]]


def test_a_moaas_score_taken_earlier(iv_running, nurse, clock):
    clock.move_to(at(MONDAY, 9, 20))
    response = post(
        nurse,
        f"{one(iv_running)}/scores",
        {"kind": "moaas", "answers": [4], "taken_at": at(MONDAY, 9, 15).isoformat()},
        if_match=etag_of(iv_running, nurse),
    )
    assert response.status_code == 201, response.content
    assert (response.json()["total"], moment(response.json()["taken_at"])) == (
        4,
        at(MONDAY, 9, 15),
    )


@pytest.mark.parametrize(
    ("answers", "says"),
    [
        ([2, 2, 2, 2], "Modified Aldrete has 5 item(s)"),
        ([2, 2, 2, 2, 1, 2], "Modified Aldrete has 5 item(s)"),
        ([2, 2, 3, 2, 1], "Item 3: Select a valid choice."),
    ],
)
def test_a_score_with_the_wrong_items_is_refused(iv_stopped, nurse, answers, says):
    before = record_rows()
    response = post(
        nurse,
        f"{one(iv_stopped)}/scores",
        {"kind": "modified-aldrete", "answers": answers},
        if_match=etag_of(iv_stopped, nurse),
    )
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"][-1] == "answers"
    assert problem["msg"].startswith(says)
    assert record_rows() == before


def test_a_score_needs_the_session_open(iv_cleared, nurse):
    post(
        nurse, f"{one(iv_cleared)}/stop", {"reason": "Unwell"}, if_match=etag_of(iv_cleared, nurse)
    )
    assert fresh(iv_cleared).phase == "stopped"
    before = record_rows()
    response = post(
        nurse, f"{one(iv_cleared)}/scores", ALDRETE_9, if_match=etag_of(iv_cleared, nurse)
    )
    assert (response.status_code, response.json()["code"]) == (409, "wrong_phase")
    assert record_rows() == before


def test_a_side_effect_is_recorded_and_audited(iv_running, nurse, clock):
    clock.move_to(at(MONDAY, 9, 10))
    response = post(
        nurse, f"{one(iv_running)}/side-effects", NAUSEA, if_match=etag_of(iv_running, nurse)
    )
    assert response.status_code == 201, response.content
    effect = response.json()
    assert (effect["kind"], effect["label"], effect["severity"], effect["intervention"]) == (
        "nausea",
        "Nausea",
        "moderate",
        "Ondansetron 4 mg given",
    )
    assert moment(effect["noticed_at"]) == at(MONDAY, 9, 10)
    assert effect["entered_in_error"] is False
    assert response["ETag"] == etag_of(iv_running, nurse)
    assert AuditEvent.objects.filter(
        object_type="session_side_effect", object_id=effect["uuid"], actor=nurse
    ).exists()
    assert record(iv_running, nurse)["side_effects"] == [effect]


def test_another_side_effect_needs_describing(iv_running, nurse):
    before = record_rows()
    response = post(
        nurse,
        f"{one(iv_running)}/side-effects",
        {"kind": "other", "severity": "mild"},
        if_match=etag_of(iv_running, nurse),
    )
    assert response.status_code == 422
    assert [p["loc"][-1] for p in response.json()["detail"]] == ["other_text"]
    assert record_rows() == before


def test_an_adverse_event_is_recorded_after_the_session_ended(iv_stopped, nurse, clock):
    """Adverse events may be charted in any phase until the record is signed."""
    clock.move_to(at(MONDAY, 9, 45))
    response = post(
        nurse, f"{one(iv_stopped)}/adverse-events", EVENT, if_match=etag_of(iv_stopped, nurse)
    )
    assert response.status_code == 201, response.content
    event = response.json()
    assert {k: event[k] for k in EVENT} == EVENT
    assert moment(event["onset_at"]) == at(MONDAY, 9, 45)
    assert AuditEvent.objects.filter(
        object_type="session_adverse_event", object_id=event["uuid"]
    ).exists()
    assert record(iv_stopped, nurse)["adverse_events"] == [event]


def test_two_devices_charting_with_one_tag_the_second_reads_again(iv_running, nurse, prescriber):
    tag = etag_of(iv_running, nurse)
    first = post(nurse, f"{one(iv_running)}/side-effects", NAUSEA, if_match=tag)
    assert first.status_code == 201
    before = record_rows()
    second = post(prescriber, f"{one(iv_running)}/side-effects", NAUSEA, if_match=tag)
    assert (second.status_code, second.json()["code"]) == (412, "precondition_failed")
    missing = post(prescriber, f"{one(iv_running)}/adverse-events", EVENT)
    assert (missing.status_code, missing.json()["code"]) == (428, "precondition_required")
    assert record_rows() == before
    assert len(record(iv_running, nurse)["side_effects"]) == 1


# --------------------------------------------------------------------------- corrections


def test_a_reading_marked_in_error_stays_in_the_record_with_its_reason(iv_cleared, nurse):
    [reading] = record(iv_cleared, nurse)["vitals"]
    response = post(
        nurse,
        f"{one(iv_cleared)}/vitals/{reading['uuid']}/entered-in-error",
        {"reason": "Cuff on the wrong arm"},
        if_match=etag_of(iv_cleared, nurse),
    )
    assert response.status_code == 200, response.content
    [marked] = response.json()["vitals"]
    assert marked["uuid"] == reading["uuid"]
    assert marked["systolic_mmhg"] == 130  # the values stay, struck through
    assert (marked["entered_in_error"], marked["entered_in_error_reason"]) == (
        True,
        "Cuff on the wrong arm",
    )
    assert marked["entered_in_error_by"]["uuid"] == str(nurse.uuid)
    assert marked["entered_in_error_at"] is not None
    assert VitalsEntry.objects.filter(session=iv_cleared).count() == 1
    # Without a valid pre-dose reading the pre-checks are no longer cleared.
    assert response.json()["pre_checks"]["status"]["cleared"] is False
    assert response["ETag"] == etag_of(iv_cleared, nurse)
    assert AuditEvent.objects.filter(
        object_type="session_vitals", object_id=reading["uuid"], action="update"
    ).exists()


@pytest.mark.parametrize(
    ("collection", "body"), [("side-effects", NAUSEA), ("adverse-events", EVENT)]
)
def test_a_side_effect_or_event_marked_in_error_is_amended_never_deleted(
    iv_running, nurse, collection, body
):
    created = post(
        nurse, f"{one(iv_running)}/{collection}", body, if_match=etag_of(iv_running, nurse)
    )
    row = created.json()
    response = post(
        nurse,
        f"{one(iv_running)}/{collection}/{row['uuid']}/entered-in-error",
        {"reason": "Charted on the wrong patient"},
        if_match=created["ETag"],
    )
    assert response.status_code == 200, response.content
    [kept] = response.json()[collection.replace("-", "_")]
    assert kept["uuid"] == row["uuid"]
    assert (kept["entered_in_error"], kept["entered_in_error_reason"]) == (
        True,
        "Charted on the wrong patient",
    )
    assert kept["entered_in_error_by"]["uuid"] == str(nurse.uuid)
    model = SideEffect if collection == "side-effects" else AdverseEvent
    assert model.objects.filter(uuid=row["uuid"]).exists()


def test_a_correction_needs_a_reason_the_tag_and_a_row_of_this_session(iv_cleared, nurse, request):
    other = request.getfixturevalue("second_iv_cleared")
    [theirs] = record(other, nurse)["vitals"]
    [reading] = record(iv_cleared, nurse)["vitals"]
    path = f"{one(iv_cleared)}/vitals/{reading['uuid']}/entered-in-error"
    tag = etag_of(iv_cleared, nurse)
    before = record_rows()
    blank = post(nurse, path, {"reason": ""}, if_match=tag)
    assert blank.status_code == 422
    assert [p["loc"][-1] for p in blank.json()["detail"]] == ["reason"]
    missing = post(nurse, path, {"reason": "Wrong arm"})
    assert (missing.status_code, missing.json()["code"]) == (428, "precondition_required")
    elsewhere = post(
        nurse,
        f"{one(iv_cleared)}/vitals/{theirs['uuid']}/entered-in-error",
        {"reason": "Wrong arm"},
        if_match=tag,
    )
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (404, "not_found")
    assert record_rows() == before


# --------------------------------------------------------------------------- the whole record


def _record_queries(session, reader) -> int:
    client = client_for(reader)
    client.get(one(session))  # warm the session
    with CaptureQueriesContext(connection) as captured:
        assert client.get(one(session)).status_code == 200
    return len(captured)


def _chart(session, nurse, *, error: bool) -> None:
    """One of each row the record shows, through the services; some marked in error."""
    services.session_score_record(actor=nurse, session=session, kind="moaas", answers=[5])
    effect = services.side_effect_record(
        actor=nurse, session=session, kind="headache", severity="mild"
    )
    event = services.adverse_event_record(
        actor=nurse,
        session=session,
        description="Brief hypotension",
        seriousness="non_serious",
        outcome="resolved",
    )
    entry, _alerts = services.vitals_record(actor=nurse, session=session, heart_rate_bpm=70)
    if error:
        for row in (effect, event):
            services.session_record_mark_entered_in_error(actor=nurse, record=row, reason="Wrong")
        services.vitals_mark_entered_in_error(actor=nurse, vitals=entry, reason="Wrong")


def test_the_record_reads_a_fixed_number_of_queries_whatever_it_holds(
    iv_running, nurse, prescriber
):
    _chart(iv_running, nurse, error=True)
    one_each = _record_queries(iv_running, prescriber)
    for _ in range(2):
        _chart(iv_running, nurse, error=True)
    _chart(iv_running, prescriber, error=False)
    body = record(iv_running, prescriber)
    assert (len(body["scores"]), len(body["side_effects"]), len(body["adverse_events"])) == (
        4,
        4,
        4,
    )
    assert sum(e["entered_in_error"] for e in body["side_effects"]) == 3
    assert _record_queries(iv_running, prescriber) == one_each


def test_the_bodies_name_the_records_own_choices():
    """The API's codes are the models' choices (choices.py), so neither drifts."""
    from typing import get_args

    assert set(get_args(schemas.SideEffectKindCode)) == set(SideEffectKind.values)
    assert set(get_args(schemas.SeverityCode)) == set(Severity.values)
    assert set(get_args(schemas.SeriousnessCode)) == set(Seriousness.values)
    assert set(get_args(schemas.OutcomeCode)) == set(AdverseEventOutcome.values)
    assert set(get_args(schemas.ScoreKindCode)) == set(SessionScoreKind.values)


# --------------------------------------------------------------------------- OpenAPI

SESSION = "/api/v1/sessions/{session_uuid}"
CHANGE = {"200", "400", "401", "403", "404", "409", "412", "413", "422", "428"}
ADD = (CHANGE - {"200"}) | {"201"}
DECLARED = {
    SESSION + "/pre-dose-bp/confirm": CHANGE,
    SESSION + "/pre-checks/override": CHANGE,
    SESSION + "/scores": ADD,
    SESSION + "/side-effects": ADD,
    SESSION + "/adverse-events": ADD,
    SESSION + "/vitals/{vitals_uuid}/entered-in-error": CHANGE,
    SESSION + "/side-effects/{side_effect_uuid}/entered-in-error": CHANGE,
    SESSION + "/adverse-events/{adverse_event_uuid}/entered-in-error": CHANGE,
}
ENVELOPE = {"$ref": "#/components/schemas/ApiError"}


def test_the_record_operations_declare_every_status_with_the_envelope(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path, statuses in DECLARED.items():
        operation = paths[path]["post"]
        responses = operation["responses"]
        assert set(responses) == statuses, path
        for status in statuses - {"200", "201"}:
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == ENVELOPE, (path, status)
        success = "201" if "201" in statuses else "200"
        assert "ETag" in responses[success]["headers"], path
        parameters = {p["name"]: p for p in operation["parameters"]}
        assert parameters["If-Match"]["in"] == "header", path


# --------------------------------------------------------------------------- PostgreSQL


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_devices_charting_at_the_same_moment_with_one_tag_write_one(
    iv_running, make_staff, front_desk, prescriber, nurse, patient, clock
):
    """Two nurses' devices chart on one session at once with the tag both read: a side effect
    from one, a MOAA/S score from the other. The tag is compared under the session's row lock
    (api/_read.py `matches`, the services' precondition), so the second waits for the first,
    sees a tag that is no longer the session's and is refused (412); one row is written."""
    from clinic.core.api_versions import PreconditionFailed
    from clinic.patients.services import care_team_set
    from clinic.treatment_sessions import selectors
    from clinic.treatment_sessions.api._read import matches, session_etag
    from clinic.treatment_sessions.models import SessionScore
    from tests.concurrency import in_threads

    other = make_staff("nurse", username="nurse_b")
    care_team_set(
        actor=front_desk, patient=patient, primary_prescriber=prescriber, nurses=[nurse, other]
    )
    clock.move_to(at(MONDAY, 9, 10))
    read = selectors.session_get(actor=nurse, session_uuid=iv_running.uuid, audit=False)
    tag = session_etag(read)

    def work(i):
        if i == 0:
            return services.side_effect_record(
                actor=nurse, session=iv_running, **NAUSEA, precondition=matches(tag)
            )
        return services.session_score_record(
            actor=other, session=iv_running, kind="moaas", answers=[4], precondition=matches(tag)
        )

    results = in_threads(2, work)

    written = [r for r in results if isinstance(r, SideEffect | SessionScore)]
    refused = [r for r in results if isinstance(r, PreconditionFailed)]
    assert len(written) == 1 and len(refused) == 1, results
    rows = (
        SideEffect.objects.filter(session=iv_running).count()
        + SessionScore.objects.filter(session=iv_running).count()
    )
    assert rows == 1
