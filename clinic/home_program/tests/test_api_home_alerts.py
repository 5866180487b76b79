"""The care team's at-home blood pressure alerts through the API (clinic/home_program/
api_alerts.py): the alerts page's list and acknowledgement, by the same roles.

Expected values from docs/permissions.md and the page's matrix (test_views.py):
`home_program.review` is held by prescribers and nurses, for their care team's patients; an
alert of another team's patient looks like no alert (404); off the team, the list is theirs,
without it. The API answers 401 where a page redirects to sign-in, and a patient principal is
not staff: 401 as well. The alert limit (140/90) is the clinic's default at-home limit
(home_program/policy.py)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.core.models import AuditEvent
from clinic.home_program import services
from clinic.home_program.api_alerts import home_alert_etag
from clinic.home_program.models import HomeBpAlert
from clinic.journal.tests.me_api import ENVELOPE
from clinic.patients.tests.api_helpers import JSON, client_for
from tests.helpers import ACTOR_ORDER

pytestmark = pytest.mark.django_db

API = "/api/v1/home-alerts"


def high_reading(patient, user, systolic=152, diastolic=96) -> HomeBpAlert:
    log = services.home_session_start(
        actor=user,
        patient=patient,
        systolic_mmhg=systolic,
        diastolic_mmhg=diastolic,
        monitor_name="Sam Rivera",
    )
    return HomeBpAlert.objects.get(log=log)


@pytest.fixture
def open_alert(patient, portal_user, home_plan):
    return high_reading(patient, portal_user)


def acknowledge(client, alert, body, etag=None):
    headers = {"HTTP_IF_MATCH": etag} if etag else {}
    return client.post(f"{API}/{alert.uuid}/acknowledge", body, content_type=JSON, **headers)


def tag(alert):
    alert.refresh_from_db()
    return home_alert_etag(alert)


def state():
    return list(HomeBpAlert.objects.order_by("pk").values())


def test_the_list_holds_the_open_alerts_of_ones_patients_oldest_first(
    nurse, patient, portal_user, home_plan, other_patient
):
    first = high_reading(patient, portal_user, 152, 96)
    second = high_reading(patient, portal_user, 160, 100)
    high_reading(other_patient, other_patient.portal_user)  # another team's patient
    handled = high_reading(patient, portal_user, 150, 95)
    services.home_bp_alert_acknowledge(actor=nurse, alert=handled, note="Called")
    client = client_for(nurse)
    page = client.get(f"{API}?limit=1").json()
    assert [item["uuid"] for item in page["items"]] == [str(first.uuid)]
    item = page["items"][0]
    assert (item["systolic_mmhg"], item["diastolic_mmhg"]) == (152, 96)
    assert (item["limit_systolic_mmhg"], item["limit_diastolic_mmhg"]) == (140, 90)
    assert item["patient"]["uuid"] == str(patient.uuid) and item["status"] == "open"
    rest = client.get(f"{API}?limit=1&cursor={page['next_cursor']}").json()
    assert [item["uuid"] for item in rest["items"]] == [str(second.uuid)]
    assert rest["next_cursor"] is None
    assert (
        AuditEvent.objects.filter(actor=nurse, action="list", object_type="home_bp_alert").count()
        == 2
    )


def test_a_nurse_acknowledges_with_what_was_done(nurse, patient, open_alert):
    client = client_for(nurse)
    detail = client.get(f"{API}/{open_alert.uuid}")
    assert detail.status_code == 200 and detail.json()["status"] == "open"
    response = acknowledge(
        client, open_alert, {"note": "Called the patient; will recheck."}, detail["ETag"]
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "acknowledged"
    assert body["acknowledgement_note"] == "Called the patient; will recheck."
    assert body["acknowledged_by"]["uuid"] == str(nurse.uuid)
    assert response["ETag"] == tag(open_alert) != detail["ETag"]
    assert AuditEvent.objects.filter(
        actor=nurse, action="update", object_type="home_bp_alert", patient=patient
    ).exists()
    # Off the open list now, still readable.
    assert client.get(API).json()["items"] == []
    assert client.get(f"{API}/{open_alert.uuid}").json()["status"] == "acknowledged"


def test_refusals_write_nothing(nurse, prescriber, open_alert):
    client = client_for(nurse)
    before = state()
    empty = acknowledge(client, open_alert, {"note": ""}, tag(open_alert))
    assert empty.status_code == 422 and empty.json()["code"] == "invalid_input"
    assert [p["loc"][-1] for p in empty.json()["detail"]] == ["note"]
    unknown = acknowledge(client, open_alert, {"note": "x", "done": True}, tag(open_alert))
    assert unknown.status_code == 422
    missing = acknowledge(client, open_alert, {"note": "Seen"})
    assert missing.status_code == 428 and missing.json()["code"] == "precondition_required"
    stale = tag(open_alert)
    services.home_bp_alert_acknowledge(actor=prescriber, alert=open_alert, note="Handled")
    before = state()
    old = acknowledge(client, open_alert, {"note": "Seen"}, stale)
    assert old.status_code == 412 and old.json()["code"] == "precondition_failed"
    again = acknowledge(client, open_alert, {"note": "Seen"}, tag(open_alert))
    assert again.status_code == 409 and again.json()["code"] == "alert_not_open"
    assert state() == before


def test_the_list_is_flat_in_queries(nurse, patient, portal_user, home_plan):
    client = client_for(nurse)
    high_reading(patient, portal_user)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(API).status_code == 200
        return len(queries)

    one = count()
    for systolic in (150, 151, 153, 160):
        high_reading(patient, portal_user, systolic, 95)
    assert count() == one
    assert len(client.get(API).json()["items"]) == 5


# fmt: off
MATRIX = {
    #              anon portal admin presc nurse ther desk bill off-team presc/nurse/ther
    "list":        [401, 401, 403, 200, 200, 403, 403, 403, 200, 200, 403],
    "detail":      [401, 401, 403, 200, 200, 403, 403, 403, 404, 404, 403],
    "acknowledge": [401, 401, 403, 200, 200, 403, 403, 403, 404, 404, 403],
}
# fmt: on
CODES = {401: "unauthenticated", 403: "permission_denied", 404: "not_found"}


@pytest.mark.parametrize("who", ACTOR_ORDER)
def test_permission_matrix_and_a_refusal_writes_nothing(actors, patient, open_alert, who):
    client = client_for(actors[who])
    expected = {name: row[ACTOR_ORDER.index(who)] for name, row in MATRIX.items()}
    before = state()
    listed = client.get(API)
    detail = client.get(f"{API}/{open_alert.uuid}")
    acknowledged = acknowledge(client, open_alert, {"note": "Called"}, tag(open_alert))
    got = {"list": listed, "detail": detail, "acknowledge": acknowledged}
    assert {name: r.status_code for name, r in got.items()} == expected
    for name, response in got.items():
        if expected[name] != 200:
            assert response.json()["code"] == CODES[expected[name]]
    if expected["list"] == 200:
        # Off the team the list is empty: the patient is not theirs.
        on_team = expected["detail"] == 200
        assert bool(listed.json()["items"]) == on_team
    if expected["acknowledge"] != 200:
        assert state() == before


CHANGE = {"200", "400", "401", "403", "404", "409", "412", "413", "422", "428"}
DECLARED = {
    ("get", API): {"200", "401", "403", "422"},
    ("get", f"{API}/{{alert_uuid}}"): {"200", "401", "403", "404", "422"},
    ("post", f"{API}/{{alert_uuid}}/acknowledge"): CHANGE,
}


def test_each_operation_declares_its_statuses_with_the_envelope(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for (method, path), statuses in DECLARED.items():
        operation = paths[path][method]
        responses = operation["responses"]
        assert set(responses) == statuses, (method, path, set(responses))
        for status in statuses - {"200"}:
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == ENVELOPE, (method, path, status)
        if path != API:
            assert "ETag" in responses["200"]["headers"], path
        if "428" in statuses:
            parameters = {p["name"]: p for p in operation["parameters"]}
            assert parameters["If-Match"]["in"] == "header", path
