"""Closing a session's record through the API as a chair-side device and a prescriber's
integration use it: the nurse's note (and the page's draft), the signature and what blocks it,
addenda after it, the therapist's integration notes, the REMS monitoring form, and the requests
to a prescriber with their own ETag; each refusal writes nothing. On PostgreSQL, two devices
signing, or answering one request, with one ETag: the second is refused with 412.

Numbers come from this app's conftest (check-in 08:50, a 40 mg infusion stopped at 09:40 with
the 10 mg residual wasted; esketamine 56 mg as two 28 mg devices of lot ESK1 at 09:00 and 09:05;
a pre-dose reading of 130/80), docs/clinical/policy-defaults.md (IV observation 30 minutes; a
pre-dose BP above 140/90 needs a prescriber) and the REMS (a monitoring form within 7 days of
the session, [C15]); the e-mail delay of a waiting request is the clinic-policy default of 5
minutes (prescriber_requests.py).
"""

from __future__ import annotations

import datetime
import hashlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.core.api_versions import PreconditionFailed, precondition
from clinic.core.models import AuditEvent
from clinic.patients.tests.api_helpers import JSON, client_for
from clinic.treatment_sessions import selectors, services
from clinic.treatment_sessions.api._read import matches, session_etag
from clinic.treatment_sessions.api.signing_requests import request_etag
from clinic.treatment_sessions.models import (
    IntegrationNote,
    PrescriberRequest,
    SessionAddendum,
    TreatmentSession,
)
from clinic.treatment_sessions.services import prescriber as asks
from clinic.treatment_sessions.tests.api_helpers import HIGH_BP, chair_rows, etag_of, one, post
from clinic.treatment_sessions.tests.conftest import (
    COMPLETE_REMS,
    MONDAY,
    at,
    fresh,
    passing_prechecks,
)
from tests.concurrency import in_threads

pytestmark = pytest.mark.django_db

NOTE = "Uneventful infusion. Mild nausea at 09:20, settled without treatment."
REQUESTS = "/api/v1/sessions/requests"


def closing_rows() -> tuple:
    """Every row closing a record may write (the audit trail aside)."""
    return (
        *chair_rows(),
        list(SessionAddendum.objects.order_by("pk").values()),
        list(IntegrationNote.objects.order_by("pk").values()),
        list(PrescriberRequest.objects.order_by("pk").values()),
    )


def moment(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def put(user, path, body, *, if_match=None):
    headers = {"HTTP_IF_MATCH": if_match} if if_match is not None else {}
    return client_for(user).put(path, body, content_type=JSON, **headers)


def patch(user, path, body, *, if_match=None):
    headers = {"HTTP_IF_MATCH": if_match} if if_match is not None else {}
    return client_for(user).patch(path, body, content_type=JSON, **headers)


def audited(session, summary) -> int:
    return AuditEvent.objects.filter(object_id=str(session.uuid), summary=summary).count()


@pytest.fixture
def iv_discharged(iv_stopped, nurse, clock):
    """Discharged at 10:10, the 30 minutes of observation over, Aldrete 10."""
    clock.move_to(at(MONDAY, 10, 10))
    services.session_score_record(
        actor=nurse, session=iv_stopped, kind="modified-aldrete", answers=[2, 2, 2, 2, 2]
    )
    services.session_discharge(
        actor=nurse, session=iv_stopped, escort_present=True, instructions_given=True
    )
    return fresh(iv_stopped)


@pytest.fixture
def iv_signable(iv_discharged, nurse):
    services.nurse_note_save(actor=nurse, session=iv_discharged, text=NOTE)
    return fresh(iv_discharged)


@pytest.fixture
def iv_signed(iv_signable, prescriber, clock):
    clock.move_to(at(MONDAY, 10, 30))
    services.session_sign(actor=prescriber, session=iv_signable)
    return fresh(iv_signable)


# --------------------------------------------------------------------------- the nurse's note


def test_the_draft_is_written_from_the_record(iv_stopped, nurse):
    response = client_for(nurse).get(f"{one(iv_stopped)}/note/draft")
    assert response.status_code == 200
    draft = response.json()["text"]
    assert draft.startswith("IV infusion, Chair 1. Checked in 08:50;")
    assert "Total given 40 mg." in draft
    assert TreatmentSession.objects.get(pk=iv_stopped.pk).nurse_note == ""  # nothing stored


def test_the_note_is_saved_with_the_sessions_tag(iv_stopped, nurse):
    tag = etag_of(iv_stopped, nurse)
    response = put(nurse, f"{one(iv_stopped)}/note", {"text": NOTE}, if_match=tag)
    assert response.status_code == 200, response.content
    note = response.json()["note"]
    assert (note["text"], note["written_by"]["uuid"]) == (NOTE, str(nurse.uuid))
    assert moment(note["written_at"]) == at(MONDAY, 9, 40)
    assert response["ETag"] != tag
    assert audited(iv_stopped, "Session note saved") == 1


@pytest.mark.parametrize(
    ("body", "tag", "status", "code"),
    [
        ({"text": NOTE}, None, 428, "precondition_required"),
        ({"text": NOTE}, '"stale"', 412, "precondition_failed"),
        ({"text": "   "}, "current", 422, "invalid_input"),
        ({"text": NOTE, "signed": True}, "current", 422, "invalid_input"),
    ],
)
def test_a_refused_note_writes_nothing(iv_stopped, nurse, body, tag, status, code):
    if tag == "current":
        tag = etag_of(iv_stopped, nurse)
    before = closing_rows()
    response = put(nurse, f"{one(iv_stopped)}/note", body, if_match=tag)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert closing_rows() == before


# --------------------------------------------------------------------------- the signature


def test_signing_says_each_thing_to_do_first_and_writes_nothing(iv_stopped, prescriber):
    before = closing_rows()
    response = post(prescriber, f"{one(iv_stopped)}/sign", if_match=etag_of(iv_stopped, prescriber))
    assert (response.status_code, response.json()["code"]) == (409, "cannot_sign")
    assert "The session is still open: discharge or stop it first." in response.json()["detail"]
    assert "The nurse's session note is not written." in response.json()["detail"]
    assert closing_rows() == before
    blockers = client_for(prescriber).get(one(iv_stopped)).json()["signature"]["blockers"]
    assert blockers == [
        "The session is still open: discharge or stop it first.",
        "The nurse's session note is not written.",
    ]


def test_an_unacknowledged_alert_blocks_signing(iv_stopped, nurse, prescriber):
    alerted = post(nurse, f"{one(iv_stopped)}/vitals", HIGH_BP)
    assert alerted.json()["alerts"], "the reading raises the page's alert"
    response = post(prescriber, f"{one(iv_stopped)}/sign", if_match=etag_of(iv_stopped, nurse))
    assert (response.status_code, response.json()["code"]) == (409, "cannot_sign")
    assert "A vitals alert is not acknowledged." in response.json()["detail"]


def test_a_prescriber_signs_what_they_read(iv_signable, nurse, prescriber, clock):
    clock.move_to(at(MONDAY, 10, 30))
    tag = etag_of(iv_signable, prescriber)
    response = post(prescriber, f"{one(iv_signable)}/sign", if_match=tag)
    assert response.status_code == 200, response.content
    signature = response.json()["signature"]
    assert signature["signed_by"]["uuid"] == str(prescriber.uuid)
    assert moment(signature["signed_at"]) == at(MONDAY, 10, 30)
    assert len(signature["sha256"]) == 64 and signature["blockers"] == []
    assert audited(iv_signable, "Session record signed") == 1
    # Locked: the note is not changed, and a second signature is refused.
    fresh_tag = response["ETag"]
    refused = put(nurse, f"{one(iv_signable)}/note", {"text": "Later"}, if_match=fresh_tag)
    assert (refused.status_code, refused.json()["code"]) == (409, "session_signed")
    again = post(prescriber, f"{one(iv_signable)}/sign", if_match=fresh_tag)
    assert (again.status_code, again.json()["code"]) == (409, "session_signed")


def test_a_record_changed_since_it_was_read_is_not_signed(iv_signable, nurse, prescriber):
    read = etag_of(iv_signable, prescriber)
    services.nurse_note_save(actor=nurse, session=iv_signable, text=NOTE + " Went home well.")
    before = closing_rows()
    response = post(prescriber, f"{one(iv_signable)}/sign", if_match=read)
    assert (response.status_code, response.json()["code"]) == (412, "precondition_failed")
    assert closing_rows() == before
    assert fresh(iv_signable).signed_at is None


def test_a_nurse_cannot_sign(iv_signable, nurse):
    before = closing_rows()
    response = post(nurse, f"{one(iv_signable)}/sign", if_match=etag_of(iv_signable, nurse))
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert closing_rows() == before


# --------------------------------------------------------------------------- afterwards


def test_an_addendum_before_signing_is_refused(iv_signable, nurse):
    before = closing_rows()
    response = post(nurse, f"{one(iv_signable)}/addenda", {"text": "More"})
    assert (response.status_code, response.json()["code"]) == (409, "not_signed")
    assert closing_rows() == before


def test_addenda_follow_the_signed_record_without_changing_it(iv_signed, nurse):
    tag = etag_of(iv_signed, nurse)
    text = "Patient called at 18:00: feeling well."
    response = post(nurse, f"{one(iv_signed)}/addenda", {"text": text})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["text"], body["author"]["uuid"]) == (text, str(nurse.uuid))
    assert body["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert response["ETag"] != tag
    record = client_for(nurse).get(one(iv_signed)).json()
    assert [a["uuid"] for a in record["addenda"]] == [body["uuid"]]
    assert record["signature"]["sha256"] == iv_signed.signed_sha256  # the signed record stands
    assert record["note"]["text"] == NOTE


def test_the_therapist_adds_integration_notes(iv_stopped, therapist, nurse):
    response = post(therapist, f"{one(iv_stopped)}/integration-notes", {"text": "Reflected."})
    assert response.status_code == 201, response.content
    assert response.json()["author"]["uuid"] == str(therapist.uuid)
    record = client_for(nurse).get(one(iv_stopped)).json()
    assert [n["text"] for n in record["integration_notes"]] == ["Reflected."]
    refused = post(nurse, f"{one(iv_stopped)}/integration-notes", {"text": "Mine"})
    assert refused.status_code == 403


# --------------------------------------------------------------------------- the REMS form


def test_the_rems_form_suggests_from_the_record(esketamine_dosed, nurse):
    response = client_for(nurse).get(f"{one(esketamine_dosed)}/rems")
    assert response.status_code == 200, response.content
    form = response.json()
    fields = {f["key"]: f for f in form["fields"]}
    assert fields["session_date"]["suggested"] == "2031-06-02"
    assert fields["dose"]["suggested"] == "56 mg"
    assert fields["lot_number"]["suggested"] == "ESK1"
    assert fields["bp_pre_dose"]["suggested"] == "130/80 mmHg"
    assert fields["dose"]["choices"] == ["56 mg", "84 mg", "other"]
    assert form["complete"] is False and form["submitted_at"] is None
    assert form["due_on"] == "2031-06-09"  # within 7 days of the session [C15]
    assert response["ETag"] == etag_of(esketamine_dosed, nurse)


def test_the_rems_form_is_saved_then_submitted(esketamine_dosed, nurse, clock):
    path = f"{one(esketamine_dosed)}/rems"
    early = post(nurse, f"{path}/submitted", if_match=etag_of(esketamine_dosed, nurse))
    assert (early.status_code, early.json()["code"]) == (409, "rems_incomplete")
    saved = patch(nurse, path, COMPLETE_REMS, if_match=etag_of(esketamine_dosed, nurse))
    assert saved.status_code == 200, saved.content
    assert (saved.json()["complete"], saved.json()["missing"]) == (True, [])
    answers = {f["key"]: f["answer"] for f in saved.json()["fields"]}
    assert answers["concomitant_medications"] == []  # "none of these"
    assert answers["dissociation_occurred"] is True
    assert answers["total_monitoring_minutes"] == 125
    assert audited(esketamine_dosed, "REMS monitoring form saved") == 1
    clock.move_to(at(MONDAY, 11))
    submitted = post(nurse, f"{path}/submitted", if_match=saved["ETag"])
    assert submitted.status_code == 200, submitted.content
    assert moment(submitted.json()["submitted_at"]) == at(MONDAY, 11)
    assert submitted.json()["submitted_by"]["uuid"] == str(nurse.uuid)
    again = post(nurse, f"{path}/submitted", if_match=submitted["ETag"])
    assert (again.status_code, again.json()["code"]) == (409, "already_submitted")
    record = client_for(nurse).get(one(esketamine_dosed)).json()["rems"]
    assert record["complete"] is True and record["submitted_at"] is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"dose": "100 mg"}, "dose"),  # not one of the form's answers
        ({"session_date": "1990-01-02"}, "session_date"),  # the form's plausible dates
        ({"total_monitoring_minutes": 2000}, "total_monitoring_minutes"),
        ({"setting": "HCS-1"}, "setting"),  # not a field of the form
    ],
)
def test_a_refused_answer_names_the_field_and_writes_nothing(esketamine_dosed, nurse, body, field):
    before = closing_rows()
    response = patch(
        nurse, f"{one(esketamine_dosed)}/rems", body, if_match=etag_of(esketamine_dosed, nurse)
    )
    assert response.status_code == 422, response.content
    assert field in [item["loc"][-1] for item in response.json()["detail"]]
    assert closing_rows() == before


def test_an_iv_session_has_no_rems_form(iv_stopped, nurse):
    assert client_for(nurse).get(f"{one(iv_stopped)}/rems").status_code == 404
    assert client_for(nurse).get(f"{one(iv_stopped)}/rems.pdf").status_code == 404


def test_the_rems_pdf(esketamine_dosed, nurse):
    response = client_for(nurse).get(f"{one(esketamine_dosed)}/rems.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert audited(esketamine_dosed, "REMS monitoring form exported as PDF") == 1


def test_the_forms_due_until_submitted(esketamine_dosed, nurse, patient):
    due = client_for(nurse).get("/api/v1/sessions/rems/due").json()
    [row] = due["items"]
    assert (row["session_uuid"], row["due_on"], row["overdue"]) == (
        str(esketamine_dosed.uuid),
        "2031-06-09",
        False,
    )
    assert row["patient"]["mrn"] == row["mrn"] == patient.mrn
    assert due["next_cursor"] is None
    services.rems_form_save(actor=nurse, session=esketamine_dosed, values=COMPLETE_REMS)
    services.rems_form_mark_submitted(actor=nurse, session=esketamine_dosed)
    assert client_for(nurse).get("/api/v1/sessions/rems/due").json()["items"] == []


# --------------------------------------------------------------------------- prescriber requests


def _high_bp(nurse, session):
    services.precheck_record(actor=nurse, session=session, data=passing_prechecks())
    services.vitals_record(
        actor=nurse, session=session, systolic_mmhg=190, diastolic_mmhg=120, heart_rate_bpm=72
    )
    return PrescriberRequest.objects.get(session=session, status="open")


def test_a_waiting_request_shows_how_long_and_when_it_is_e_mailed(
    iv_checked_in, nurse, prescriber, clock
):
    waiting = _high_bp(nurse, iv_checked_in)
    clock.move_to(at(MONDAY, 8, 56))
    listed = client_for(prescriber).get(f"{REQUESTS}/waiting").json()
    [item] = listed["items"]
    assert (item["uuid"], item["kind"], item["status"]) == (
        str(waiting.uuid),
        "pre_dose_bp",
        "open",
    )
    assert item["about"][0] == "Pre-dose BP 190/120 mmHg at 08:50."
    assert item["waited_min"] == 6
    escalation = item["escalation"]
    assert escalation["email_after_min"] == 5
    assert moment(escalation["email_due_at"]) == at(MONDAY, 8, 55)
    assert escalation["overdue"] is True and escalation["emailed_at"] is None
    assert item["etag"] == client_for(prescriber).get(f"{REQUESTS}/{waiting.uuid}")["ETag"]
    assert AuditEvent.objects.filter(
        actor=prescriber, summary="Requests waiting for a prescriber (API): 1 on this page"
    ).exists()
    on_record = client_for(nurse).get(one(iv_checked_in)).json()["prescriber_requests"]
    assert [r["uuid"] for r in on_record] == [str(waiting.uuid)]


def test_a_prescriber_answers_with_the_requests_tag(iv_checked_in, nurse, prescriber):
    waiting = _high_bp(nurse, iv_checked_in)
    path = f"{REQUESTS}/{waiting.uuid}/answer"
    body = {"reason": "Known white-coat hypertension; rechecked by phone"}
    before = closing_rows()
    missing = post(prescriber, path, body)
    assert (missing.status_code, missing.json()["code"]) == (428, "precondition_required")
    assert closing_rows() == before
    tag = client_for(prescriber).get(f"{REQUESTS}/{waiting.uuid}")["ETag"]
    answered = post(prescriber, path, body, if_match=tag)
    assert answered.status_code == 200, answered.content
    assert (answered.json()["status"], answered.json()["closing_note"]) == (
        "answered",
        body["reason"],
    )
    assert answered.json()["closed_by"]["uuid"] == str(prescriber.uuid)
    record = client_for(nurse).get(one(iv_checked_in)).json()
    assert [o["kind"] for o in record["overrides"]] == ["pre_dose_bp"]
    assert AuditEvent.objects.filter(
        object_type="prescriber_request",
        object_id=str(waiting.uuid),
        summary="Prescriber request answered: Confirm the pre-dose blood pressure "
        f"({body['reason']})",
    ).exists()
    after = closing_rows()
    stale = post(prescriber, path, body, if_match=tag)
    assert (stale.status_code, stale.json()["code"]) == (412, "precondition_failed")
    assert closing_rows() == after


def test_an_answer_on_a_situation_that_changed_decides_nothing(iv_checked_in, nurse, prescriber):
    asked = post(nurse, f"{one(iv_checked_in)}/ask", {"kind": "pre_checks", "note": "Escort late"})
    assert asked.status_code == 201, asked.content
    read_tag = asked["ETag"]
    # Fasting, escort and the rest recorded since: only the pre-dose reading is still unmet.
    services.precheck_record(actor=nurse, session=iv_checked_in, data=passing_prechecks())
    response = post(
        prescriber,
        f"{REQUESTS}/{asked.json()['uuid']}/answer",
        {"reason": "Fine to go ahead"},
        if_match=read_tag,
    )
    assert (response.status_code, response.json()["code"]) == (409, "situation_changed")
    assert client_for(nurse).get(one(iv_checked_in)).json()["overrides"] == []
    now = client_for(prescriber).get(f"{REQUESTS}/{asked.json()['uuid']}")
    assert now.json()["status"] == "open"
    assert now["ETag"] != read_tag  # brought up to date: read it again


def test_ask_decline_and_withdraw(iv_checked_in, nurse, prescriber):
    asked = post(nurse, f"{one(iv_checked_in)}/ask", {"kind": "pre_checks"})
    assert (asked.status_code, asked.json()["requested_by"]["uuid"]) == (201, str(nurse.uuid))
    twice = post(nurse, f"{one(iv_checked_in)}/ask", {"kind": "pre_checks"})
    assert (twice.status_code, twice.json()["code"]) == (409, "already_asked")
    request_uuid = asked.json()["uuid"]
    declined = post(
        prescriber,
        f"{REQUESTS}/{request_uuid}/decline",
        {"note": "Wait for the escort, then ask again"},
        if_match=asked["ETag"],
    )
    assert declined.status_code == 200, declined.content
    assert declined.json()["status"] == "declined"
    on_record = client_for(nurse).get(one(iv_checked_in)).json()["prescriber_requests"]
    assert on_record[0]["closing_note"] == "Wait for the escort, then ask again"
    again = post(nurse, f"{one(iv_checked_in)}/ask", {"kind": "pre_checks"})
    withdrawn = post(
        nurse, f"{REQUESTS}/{again.json()['uuid']}/withdraw", {}, if_match=again["ETag"]
    )
    assert (withdrawn.status_code, withdrawn.json()["status"]) == (200, "withdrawn")
    closed = post(
        nurse, f"{REQUESTS}/{again.json()['uuid']}/withdraw", {}, if_match=withdrawn["ETag"]
    )
    assert (closed.status_code, closed.json()["code"]) == (409, "not_waiting")


# --------------------------------------------------------------------------- lists


def _queries(user, path) -> int:
    client = client_for(user)
    client.get(path)  # warm the session
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def test_the_waiting_list_pages_in_asked_order_at_a_fixed_cost(
    iv_checked_in, nurse, prescriber, clock, request
):
    first = _high_bp(nurse, iv_checked_in)
    one_waiting = _queries(prescriber, f"{REQUESTS}/waiting")
    clock.move_to(at(MONDAY, 9))
    second_session = request.getfixturevalue("second_iv_cleared")
    services.vitals_record(
        actor=nurse, session=second_session, systolic_mmhg=190, diastolic_mmhg=120
    )
    second = PrescriberRequest.objects.get(session=second_session)
    assert _queries(prescriber, f"{REQUESTS}/waiting") == one_waiting
    page = client_for(prescriber).get(f"{REQUESTS}/waiting?limit=1").json()
    assert [r["uuid"] for r in page["items"]] == [str(first.uuid)]
    rest = client_for(prescriber).get(f"{REQUESTS}/waiting?limit=1&cursor={page['next_cursor']}")
    assert [r["uuid"] for r in rest.json()["items"]] == [str(second.uuid)]
    assert rest.json()["next_cursor"] is None


def test_the_record_reads_a_fixed_number_of_queries_as_notes_and_requests_grow(
    iv_signed, nurse, therapist, prescriber
):
    path = one(iv_signed)
    post(nurse, f"{path}/addenda", {"text": "One"})
    post(therapist, f"{path}/integration-notes", {"text": "One"})
    few = _queries(nurse, path)
    for text in ("Two", "Three"):
        post(nurse, f"{path}/addenda", {"text": text})
        post(therapist, f"{path}/integration-notes", {"text": text})
    assert len(client_for(nurse).get(path).json()["addenda"]) == 3
    assert _queries(nurse, path) == few


def test_the_record_reads_a_fixed_number_of_queries_as_requests_grow(iv_checked_in, nurse):
    path = one(iv_checked_in)
    # A high pre-dose reading asks a prescriber by itself.
    services.vitals_record(
        actor=nurse, session=iv_checked_in, systolic_mmhg=190, diastolic_mmhg=120
    )
    few = _queries(nurse, path)
    post(nurse, f"{path}/ask", {"kind": "pre_checks"})
    assert len(client_for(nurse).get(path).json()["prescriber_requests"]) == 2
    assert _queries(nurse, path) == few


# --------------------------------------------------------------------------- races (PostgreSQL)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_devices_signing_with_one_tag_sign_once(iv_signable, prescriber):
    read = selectors.session_get(actor=prescriber, session_uuid=iv_signable.uuid, audit=False)
    tag = session_etag(read)

    def work(_index):
        return services.session_sign(
            actor=prescriber, session=iv_signable, precondition=matches(tag)
        )

    results = in_threads(2, work)
    assert len([r for r in results if isinstance(r, TreatmentSession)]) == 1, results
    assert len([r for r in results if isinstance(r, PreconditionFailed)]) == 1, results
    assert AuditEvent.objects.filter(summary="Session record signed").count() == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_devices_answering_one_request_with_one_tag_decide_once(
    iv_checked_in, nurse, prescriber
):
    waiting = _high_bp(nurse, iv_checked_in)
    tag = request_etag(waiting)

    def work(index):
        return asks.prescriber_request_answer(
            actor=prescriber,
            request=waiting,
            reason=["Seen: fine", "Rechecked: fine"][index],
            seen_digest=waiting.about_digest,
            precondition=precondition(tag, request_etag),
        )

    results = in_threads(2, work)
    assert len([r for r in results if isinstance(r, PreconditionFailed)]) == 1, results
    assert len([r for r in results if isinstance(r, asks.RequestNow)]) == 1, results
    assert fresh(iv_checked_in).overrides.filter(kind="pre_dose_bp").count() == 1
    assert PrescriberRequest.objects.get(pk=waiting.pk).status == "answered"
