"""The patient's own at-home sessions at /api/v1/me, with the patient's token.

Expected values come from the sources, as in test_services.py: the at-home limit is systolic
> 140 or diastolic > 90 mmHg (policy-defaults.md "Vital signs"), so 141/80 must not dose and
120/80 may; the alert's e-mails go to the primary prescriber and the team's nurses, never the
therapist (issue 7); the prescribed dose is the test plan's 100 mg. Changes of a log take
If-Match (428 without, 412 stale, nothing written); a side effect is appended (201).
Fixtures: clinic/home_program/tests/conftest.py (Jordan = `patient` with `portal_user` and
`home_plan`; Casey = `other_patient` with their own).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.core.models import AuditEvent
from clinic.home_program import selectors, services
from clinic.home_program.models import HomeBpAlert, HomeSessionLog, HomeSideEffect
from clinic.journal.tests.me_api import ME, call, patient_bearer
from clinic.notifications.models import Notification

pytestmark = pytest.mark.django_db

SESSIONS = f"{ME}/home-sessions"
NORMAL = {"systolic_mmhg": 120, "diastolic_mmhg": 80, "monitor_name": "Sam Rivera"}
HIGH = {"systolic_mmhg": 141, "diastolic_mmhg": 80, "monitor_name": "Sam Rivera"}


@pytest.fixture
def jordan(portal_user):
    return patient_bearer(portal_user)


def _state():
    return {
        "logs": list(HomeSessionLog.objects.order_by("pk").values()),
        "effects": list(HomeSideEffect.objects.order_by("pk").values()),
        "alerts": list(HomeBpAlert.objects.order_by("pk").values()),
        "mails": Notification.objects.count(),
    }


def test_a_blood_pressure_over_the_limit_alerts_the_care_team_as_from_the_portal(
    client, patient, portal_user, home_plan, jordan, prescriber, nurse
):
    response = call(client, "post", SESSIONS, jordan, HIGH)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "do_not_dose"
    assert body["message"] == services.DO_NOT_DOSE_TEXT
    assert "Your care team has been told." in body["message"]
    assert body["bp_alert"]["care_team_told"] is True
    assert body["bp_alert"]["status"] == "open"
    assert (body["limit_systolic_mmhg"], body["limit_diastolic_mmhg"]) == (140, 90)
    alert = HomeBpAlert.objects.get()
    assert alert.patient == patient and str(alert.log.uuid) == body["uuid"]
    # The staff are told: e-mails to the primary prescriber and the nurse, and the alert on
    # the nurse's list of open at-home alerts.
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == sorted(
        [prescriber.username, nurse.username]
    )
    assert [a.pk for a in selectors.home_bp_alert_open_list(actor=nurse, audit=False).items] == [
        alert.pk
    ]
    raised = AuditEvent.objects.get(object_type="home_bp_alert", action="create")
    assert raised.actor == portal_user and raised.patient == patient

    # No dose after such a reading.
    dose = call(
        client,
        "post",
        f"{SESSIONS}/{body['uuid']}/dose",
        jordan,
        {"dose_mg": "100"},
        response["ETag"],
    )
    assert dose.status_code == 409
    assert dose.json()["code"] == "do_not_dose"


def test_a_session_from_reading_to_check_in(client, portal_user, home_plan, jordan):
    started = call(client, "post", SESSIONS, jordan, NORMAL)
    assert started.status_code == 201
    body = started.json()
    assert body["status"] == "waiting" and body["bp_alert"] is None
    assert Decimal(body["prescribed_dose_mg"]) == Decimal("100")
    assert not HomeBpAlert.objects.exists() and not Notification.objects.exists()
    path = f"{SESSIONS}/{body['uuid']}"

    before = _state()
    assert call(client, "post", f"{path}/dose", jordan, {"dose_mg": "100"}).status_code == 428
    stale = call(client, "post", f"{path}/dose", jordan, {"dose_mg": "100"}, '"old"')
    assert stale.status_code == 412
    wrong = call(client, "post", f"{path}/dose", jordan, {"dose_mg": "90"}, started["ETag"])
    assert wrong.status_code == 422
    assert [item["loc"] for item in wrong.json()["detail"]] == [["body", "dose_mg"]]
    assert _state() == before

    dosed = call(client, "post", f"{path}/dose", jordan, {"dose_mg": "100"}, started["ETag"])
    assert dosed.status_code == 200
    assert dosed.json()["status"] == "dosed"
    assert Decimal(dosed.json()["dose_taken_mg"]) == Decimal("100")

    effect = call(
        client, "post", f"{path}/side-effects", jordan, {"kind": "nausea", "severity": "mild"}
    )
    assert effect.status_code == 201
    assert [e["label"] for e in effect.json()["side_effects"]] == ["Nausea"]
    # The side effect changed the log: the tag read before it is stale.
    feeling = {"feeling": "Calm and a little tired.", "mood_after": 7}
    assert (
        call(client, "post", f"{path}/check-in", jordan, feeling, dosed["ETag"]).status_code == 412
    )
    checked = call(client, "post", f"{path}/check-in", jordan, feeling, effect["ETag"])
    assert checked.status_code == 200
    assert (checked.json()["status"], checked.json()["mood_after"]) == ("checked_in", 7)
    assert HomeSessionLog.objects.get().feeling_text == "Calm and a little tired."


def test_not_taking_the_dose(client, home_plan, jordan):
    started = call(client, "post", SESSIONS, jordan, NORMAL)
    path = f"{SESSIONS}/{started.json()['uuid']}/not-taken"
    assert call(client, "post", path, jordan).status_code == 428
    closed = call(client, "post", path, jordan, if_match=started["ETag"])
    assert closed.status_code == 200
    assert closed.json()["status"] == "not_taken"
    again = call(client, "post", path, jordan, if_match=closed["ETag"])
    assert again.status_code == 409
    assert again.json()["code"] == "not_waiting"


def test_bad_readings_are_refused_in_the_envelope_and_write_nothing(client, home_plan, jordan):
    before = _state()
    for body, field in (
        ({**NORMAL, "systolic_mmhg": 301}, "systolic_mmhg"),  # plausible: 50-300 mmHg
        ({**NORMAL, "diastolic_mmhg": 120}, "diastolic_mmhg"),  # below the systolic
        ({**NORMAL, "monitor_name": "  "}, "monitor_name"),  # a monitor is required [B9]
    ):
        response = call(client, "post", SESSIONS, jordan, body)
        assert response.status_code == 422, body
        assert [item["loc"] for item in response.json()["detail"]] == [["body", field]]
    assert _state() == before


def test_without_an_at_home_plan_no_session_starts(client, portal_user, jordan):
    response = call(client, "post", SESSIONS, jordan, NORMAL)
    assert response.status_code == 409
    assert response.json()["code"] == "no_home_program"
    program = call(client, "get", f"{ME}/home-program", jordan).json()
    assert program["plan"] is None and program["can_start"] is False


def test_the_program_says_the_dose_of_the_next_session(client, home_plan, jordan):
    program = call(client, "get", f"{ME}/home-program", jordan).json()
    assert program["plan"] == str(home_plan.uuid)
    assert Decimal(program["prescribed_dose_mg"]) == Decimal("100")
    assert (program["sessions_planned"], program["sessions_dosed"]) == (3, 0)
    assert program["can_start"] is True


def test_another_patients_log_is_not_found_and_nothing_changes(client, other_patient, jordan):
    theirs = services.home_session_start(
        actor=other_patient.portal_user,
        patient=other_patient,
        systolic_mmhg=120,
        diastolic_mmhg=80,
        monitor_name="Robin Morgan",
    )
    before = _state()
    path = f"{SESSIONS}/{theirs.uuid}"
    assert call(client, "get", path, jordan).status_code == 404
    for action, body in (
        ("dose", {"dose_mg": "100"}),
        ("not-taken", {}),
        ("side-effects", {"kind": "nausea", "severity": "mild"}),
        ("check-in", {"feeling": "Fine."}),
    ):
        response = call(client, "post", f"{path}/{action}", jordan, body, '"any"')
        assert response.status_code == 404, action
    assert _state() == before
    assert call(client, "get", SESSIONS, jordan).json() == {"items": [], "next_cursor": None}


def test_the_list_is_paged_newest_first_and_flat_in_queries(
    client, patient, portal_user, home_plan, jordan
):
    def log(count: int) -> None:
        for _ in range(count):
            started = services.home_session_start(
                actor=portal_user,
                patient=patient,
                systolic_mmhg=120,
                diastolic_mmhg=80,
                monitor_name="Sam Rivera",
            )
            services.home_session_not_taken(actor=portal_user, log=started)

    log(1)
    call(client, "get", SESSIONS, jordan)  # the token's first use is recorded once
    with CaptureQueriesContext(connection) as few:
        assert call(client, "get", SESSIONS, jordan).status_code == 200
    log(5)
    with CaptureQueriesContext(connection) as many:
        assert call(client, "get", SESSIONS, jordan).status_code == 200
    assert len(many) == len(few)

    newest_first = list(
        HomeSessionLog.objects.order_by("-started_at", "-uuid").values_list("uuid", flat=True)
    )
    seen, cursor = [], None
    while True:
        query = f"?limit=4&cursor={cursor}" if cursor else "?limit=4"
        page = call(client, "get", SESSIONS + query, jordan).json()
        seen += [uuid.UUID(item["uuid"]) for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == newest_first
    assert AuditEvent.objects.filter(
        action="list", object_type="home_session_log", summary__startswith="At-home session logs"
    ).exists()
