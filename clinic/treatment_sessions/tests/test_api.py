"""The session API as a chair-side device or a monitor uses it: vitals raise the page's alerts
and say so, two devices cannot overwrite each other, a dose's waste needs its witness, the
record is the page's, and the lists page through without more queries as they grow.

Numbers come from this app's conftest (a 80 kg patient at 0.5 mg/kg: 40 mg over 40 minutes;
50 mg drawn from a 100 mg vial of lot L100; esketamine 56 mg as two 28 mg devices) and
docs/clinical/policy-defaults.md (in-session BP alert at systolic ≥ 180 or diastolic ≥ 110,
recheck in 5 minutes; IV observation 30 minutes after the infusion; esketamine devices 5
minutes apart, label [C2]).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from clinic.controlled_substances.models import LedgerEntry
from clinic.dashboard.inbasket import inbasket_get
from clinic.patients.tests.api_helpers import client_for
from clinic.treatment_sessions import services
from clinic.treatment_sessions.models import SessionAlert, TreatmentSession
from clinic.treatment_sessions.tests.api_helpers import (
    API,
    HIGH_BP,
    chair_rows,
    etag_of,
    one,
    post,
)
from clinic.treatment_sessions.tests.conftest import MONDAY, at, fresh, identity_of
from conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def moment(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


# --------------------------------------------------------------------------- vitals and alerts


def test_a_high_bp_raises_the_pages_alert_in_the_answer_and_the_in_basket(
    iv_running, nurse, clock, client
):
    clock.move_to(at(MONDAY, 9, 10))
    response = post(nurse, f"{one(iv_running)}/vitals", HIGH_BP)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["vitals"]["systolic_mmhg"] == 185 and body["vitals"]["diastolic_mmhg"] == 112
    # One BP alert, not yet repeated: recheck in 5 minutes, carry on meanwhile.
    [alert] = body["alerts"]
    assert (alert["code"], alert["severity"], alert["recommendation"]) == (
        "bp_high",
        "alert",
        "continue",
    )
    assert alert["acknowledged_at"] is None
    assert body["vitals"]["alerts"] == [alert["uuid"]]
    stored = SessionAlert.objects.get(uuid=alert["uuid"])
    assert stored.message == alert["message"]
    # The page shows the same alert; the in-basket and the API's list carry it.
    client.force_login(nurse)
    page = client.get(reverse("treatment_sessions:detail", args=[iv_running.uuid]))
    assert stored.message in page.content.decode()
    assert [a.uuid for a in inbasket_get(actor=nurse).chair_alerts] == [stored.uuid]
    listed = client_for(nurse).get("/api/v1/alerts/chair").json()
    assert [(a["uuid"], a["session_uuid"]) for a in listed["items"]] == [
        (alert["uuid"], str(iv_running.uuid))
    ]
    # The answer's ETag is the session's as it is now.
    assert response["ETag"] == etag_of(iv_running, nurse)


def test_a_bp_still_high_five_minutes_later_is_critical_and_recommends_a_pause(
    iv_running, nurse, clock
):
    clock.move_to(at(MONDAY, 9, 10))
    post(nurse, f"{one(iv_running)}/vitals", HIGH_BP)
    clock.move_to(at(MONDAY, 9, 15))
    [alert] = post(nurse, f"{one(iv_running)}/vitals", HIGH_BP).json()["alerts"]
    assert (alert["code"], alert["severity"], alert["recommendation"]) == (
        "bp_high_repeated",
        "critical",
        "pause",
    )


def test_acknowledging_with_pause_pauses_the_infusion(iv_running, nurse, clock):
    clock.move_to(at(MONDAY, 9, 10))
    [alert] = post(nurse, f"{one(iv_running)}/vitals", HIGH_BP).json()["alerts"]
    response = post(
        nurse,
        f"{one(iv_running)}/alerts/{alert['uuid']}/acknowledge",
        {"action": "pause"},
        if_match=etag_of(iv_running, nurse),
    )
    assert response.status_code == 200, response.content
    record = response.json()
    assert record["infusion"]["paused"] is True
    assert [e["kind"] for e in record["infusion"]["events"]] == ["start", "pause"]
    assert record["alerts"][-1]["action"] == "pause"
    assert client_for(nurse).get("/api/v1/alerts/chair").json()["items"] == []


def test_an_implausible_reading_is_refused_naming_the_field(iv_running, nurse):
    before = chair_rows()
    response = post(
        nurse, f"{one(iv_running)}/vitals", {"systolic_mmhg": 400, "diastolic_mmhg": 80}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "systolic_mmhg"]
    assert chair_rows() == before


# --------------------------------------------------------------------------- If-Match


def test_two_devices_cannot_overwrite_each_other(iv_running, nurse, prescriber, clock):
    clock.move_to(at(MONDAY, 9, 5))
    tag = etag_of(iv_running, nurse)
    paused = post(nurse, f"{one(iv_running)}/infusion/pause", {"reason": "Nausea"}, if_match=tag)
    assert paused.status_code == 200, paused.content
    assert paused["ETag"] != tag
    before = chair_rows()
    stale = post(
        prescriber, f"{one(iv_running)}/infusion/resume", if_match=tag
    )  # read before the pause
    assert (stale.status_code, stale.json()["code"]) == (412, "precondition_failed")
    missing = post(prescriber, f"{one(iv_running)}/infusion/resume")
    assert (missing.status_code, missing.json()["code"]) == (428, "precondition_required")
    assert chair_rows() == before, "nothing written"
    resumed = post(prescriber, f"{one(iv_running)}/infusion/resume", if_match=paused["ETag"])
    assert resumed.status_code == 200
    assert resumed.json()["infusion"]["running"] is True


def test_a_reading_from_the_monitor_makes_a_tag_read_before_it_stale(iv_cleared, nurse):
    tag = etag_of(iv_cleared, nurse)
    post(nurse, f"{one(iv_cleared)}/vitals", {"heart_rate_bpm": 76})
    response = post(nurse, f"{one(iv_cleared)}/stop", {"reason": "Unwell"}, if_match=tag)
    assert response.status_code == 412
    assert fresh(iv_cleared).phase == "checked_in"


# --------------------------------------------------------------------------- witness


def test_stopping_with_nothing_given_needs_the_witness_who_confirms_with_their_password(
    iv_running, nurse, prescriber
):
    path = f"{one(iv_running)}/infusion/stop"
    base = {"given_mg": "0", "reason": "Vein blew before the pump ran"}
    tag = etag_of(iv_running, nurse)
    before = chair_rows()
    cases = [
        ({}, "witness"),  # the whole 50 mg draw is wasted at once: a witness must see it
        ({"witness": str(prescriber.uuid), "witness_password": "not-it"}, "witness_password"),
        ({"witness": str(prescriber.uuid)}, "witness_password"),
        # The nurse cannot witness her own waste: she is not offered.
        ({"witness": str(nurse.uuid), "witness_password": TEST_PASSWORD}, "witness"),
    ]
    for extra, field in cases:
        response = post(nurse, path, {**base, **extra}, if_match=tag)
        assert response.status_code == 422, (extra, response.content)
        assert field in [p["loc"][-1] for p in response.json()["detail"]], extra
        assert chair_rows() == before, "nothing written"
    done = post(
        nurse,
        path,
        {**base, "witness": str(prescriber.uuid), "witness_password": TEST_PASSWORD},
        if_match=tag,
    )
    assert done.status_code == 200, done.content
    assert done.json()["phase"] == "monitoring"
    waste = LedgerEntry.objects.get(kind="waste")
    assert (waste.quantity_mg, waste.witness_id) == (Decimal("-50"), prescriber.pk)


@pytest.fixture
def im_cleared(im_appointment, nurse, clock):
    from clinic.treatment_sessions.tests.conftest import pass_prechecks

    clock.move_to(at(MONDAY, 8, 50))
    session = services.session_check_in(
        actor=nurse, appointment=im_appointment, identity=identity_of(im_appointment)
    )
    return pass_prechecks(nurse, session)


def test_an_injection_leaves_its_residual_for_a_witnessed_waste(
    im_cleared, nurse, prescriber, vials
):
    injected = post(
        nurse,
        f"{one(im_cleared)}/injection",
        {
            "container": str(vials[0].uuid),
            "drawn_mg": "50",
            "given_mg": "40",
            "site": "deltoid_left",
        },
        if_match=etag_of(im_cleared, nurse),
    )
    assert injected.status_code == 200, injected.content
    [dose] = injected.json()["administrations"]
    assert (Decimal(dose["given_mg"]), Decimal(dose["awaiting_waste_mg"])) == (40, 10)
    assert dose["container"]["lot"]["lot_number"] == "L100"
    path = f"{one(im_cleared)}/administrations/{dose['uuid']}/waste"
    refused = post(nurse, path, {"reason": "Residual"}, if_match=injected["ETag"])
    assert refused.status_code == 422
    assert "witness" in [p["loc"][-1] for p in refused.json()["detail"]]
    wasted = post(
        nurse,
        path,
        {"witness": str(prescriber.uuid), "witness_password": TEST_PASSWORD},
        if_match=injected["ETag"],
    )
    assert wasted.status_code == 200, wasted.content
    assert Decimal(wasted.json()["administrations"][0]["awaiting_waste_mg"]) == 0


def test_esketamine_devices_come_five_minutes_apart(esketamine_cleared, nurse, devices, clock):
    clock.move_to(at(MONDAY, 9))
    first = post(
        nurse,
        f"{one(esketamine_cleared)}/devices",
        {"container": str(devices[0].uuid)},
        if_match=etag_of(esketamine_cleared, nurse),
    )
    assert first.status_code == 200, first.content
    assert first.json()["phase"] == "dosing"
    clock.move_to(at(MONDAY, 9, 2))
    too_soon = post(
        nurse,
        f"{one(esketamine_cleared)}/devices",
        {"container": str(devices[1].uuid)},
        if_match=first["ETag"],
    )
    assert (too_soon.status_code, too_soon.json()["code"]) == (409, "device_too_soon")
    clock.move_to(at(MONDAY, 9, 5))
    second = post(
        nurse,
        f"{one(esketamine_cleared)}/devices",
        {"container": str(devices[1].uuid)},
        if_match=first["ETag"],
    )
    assert second.status_code == 200
    assert second.json()["phase"] == "monitoring"  # 2 × 28 mg = the 56 mg dose
    assert second.json()["dose"]["devices"] == 2


# --------------------------------------------------------------------------- check-in, the record


def test_check_in_matches_the_patients_identifiers(iv_appointment, nurse):
    path = f"{API}/check-in"
    body = {"appointment": str(iv_appointment.uuid), "full_name_confirmed": True}
    wrong = post(nurse, path, {**body, "stated_date_of_birth": "1981-05-17"})
    assert wrong.status_code == 422
    assert wrong.json()["detail"][0]["loc"] == ["body", "stated_date_of_birth"]
    assert not TreatmentSession.objects.exists()
    born = iv_appointment.patient.date_of_birth.isoformat()
    done = post(nurse, path, {**body, "stated_date_of_birth": born})
    assert done.status_code == 201, done.content
    record = done.json()
    assert (record["phase"], record["route"]) == ("checked_in", "iv")
    assert record["assigned_nurse"]["uuid"] == str(nurse.uuid)  # the booked nurse
    assert done["ETag"] == etag_of(TreatmentSession.objects.get(), nurse)
    again = post(nurse, path, {**body, "stated_date_of_birth": born})
    assert (again.status_code, again.json()["code"]) == (409, "already_checked_in")


def test_the_record_shows_what_the_session_page_shows(iv_checked_in, nurse, client):
    record = client_for(nurse).get(one(iv_checked_in)).json()
    client.force_login(nurse)
    page = client.get(reverse("treatment_sessions:detail", args=[iv_checked_in.uuid]))
    html = page.content.decode()
    unmet = [item for item in record["pre_checks"]["status"]["items"] if not item["ok"]]
    assert unmet, "nothing is recorded yet"
    for item in unmet:
        assert escape(item["label"]) in html
    assert record["pre_checks"]["status"]["cleared"] is False
    assert Decimal(record["dose"]["dose_mg"]) == 40  # 0.5 mg/kg × 80 kg
    assert record["patient"]["mrn"] in html


def test_the_record_after_the_infusion(iv_stopped, nurse, vials):
    record = client_for(nurse).get(one(iv_stopped)).json()
    assert record["phase"] == "monitoring"
    assert [e["kind"] for e in record["infusion"]["events"]] == ["start", "stop"]
    [dose] = record["administrations"]
    assert (dose["kind"], Decimal(dose["drawn_mg"]), Decimal(dose["given_mg"])) == (
        "iv_infusion",
        50,
        40,
    )
    assert Decimal(dose["awaiting_waste_mg"]) == 0  # the fixture wasted the 10 mg, witnessed
    assert dose["container"]["uuid"] == str(vials[0].uuid)
    # Stopped at 09:40: 30 minutes of observation before discharge.
    assert record["discharge"]["allowed"] is False
    assert moment(record["discharge"]["observation_ends_at"]) == at(MONDAY, 10, 10)
    assert [v["systolic_mmhg"] for v in record["vitals"]] == [130]  # the pre-dose reading


# --------------------------------------------------------------------------- lists


def _queries(user, path) -> int:
    client = client_for(user)
    client.get(path)  # warm the session
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def test_the_lists_read_a_fixed_number_of_queries(iv_cleared, nurse, clock, request):
    day = f"{API}?date={MONDAY.isoformat()}"
    post(nurse, f"{one(iv_cleared)}/vitals", HIGH_BP)
    sessions_one, alerts_one = _queries(nurse, day), _queries(nurse, "/api/v1/alerts/chair")
    second = request.getfixturevalue("second_iv_cleared")
    post(nurse, f"{one(second)}/vitals", HIGH_BP)
    assert len(client_for(nurse).get(day).json()["items"]) == 2
    assert _queries(nurse, day) == sessions_one
    assert len(client_for(nurse).get("/api/v1/alerts/chair").json()["items"]) == 2
    assert _queries(nurse, "/api/v1/alerts/chair") == alerts_one


def test_the_day_pages_in_check_in_order(iv_cleared, nurse, clock, request):
    clock.move_to(at(MONDAY, 9))  # the second patient checks in after the first (08:50)
    second_iv_cleared = request.getfixturevalue("second_iv_cleared")
    first = client_for(nurse).get(f"{API}?date={MONDAY.isoformat()}&limit=1").json()
    assert [s["uuid"] for s in first["items"]] == [str(iv_cleared.uuid)]
    rest = (
        client_for(nurse)
        .get(f"{API}?date={MONDAY.isoformat()}&limit=1&cursor={first['next_cursor']}")
        .json()
    )
    assert [s["uuid"] for s in rest["items"]] == [str(second_iv_cleared.uuid)]
    assert rest["next_cursor"] is None
    other_day = client_for(nurse).get(
        f"{API}?date=2031-06-03&limit=1&cursor={first['next_cursor']}"
    )
    assert other_day.status_code == 422  # a cursor belongs to its filters
