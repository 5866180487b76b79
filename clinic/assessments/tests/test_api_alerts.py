"""The suicidality alerts' API (/api/v1/alerts/suicidality, clinic/assessments/api.py): the
permission matrix, acknowledge and resolve with If-Match (an answer that joins the alert since
it was read makes the tag stale), the inbox a page at a time in a fixed number of queries.

Expected values come from clinic/accounts/permissions.py (patient.view_clinical: clinic
admin and the clinical roles; alert.acknowledge: prescriber, nurse, therapist; alert.resolve:
prescriber), the alert page's rules (an off-team clinician reaches no alert: 404; the inbox is
the alerts assigned to one, every unresolved one for the clinic administrator) and ADR 0004 (an
ideation alert is done once acknowledged; a high risk stays until a prescriber resolves it; a
positive answer while an alert waits joins it as a follow-up).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.assessments import services
from clinic.assessments.models import SuicidalityAlert
from clinic.assessments.tests.pages import PHQ9_ITEM9
from clinic.patients.tests.api_helpers import JSON, client_for
from tests.helpers import ACTOR_ORDER

pytestmark = pytest.mark.django_db

API = "/api/v1/alerts/suicidality"

# fmt: off
MATRIX = {
    #               anon portal admin presc nurse ther desk bill off-team ×3 (presc, nurse, ther)
    "list":        [401, 401, 200, 200, 200, 200, 403, 403, 200, 200, 200],
    "detail":      [401, 401, 200, 200, 200, 200, 404, 404, 404, 404, 404],
    "acknowledge": [401, 401, 403, 200, 200, 200, 403, 403, 404, 404, 404],
    "resolve":     [401, 401, 403, 200, 403, 403, 403, 403, 404, 403, 403],
}
# fmt: on
CODES = {401: "unauthenticated", 403: "permission_denied", 404: "not_found"}


def etag_of(alert, reader) -> str:
    response = client_for(reader).get(f"{API}/{alert.uuid}")
    assert response.status_code == 200, response.content
    return response["ETag"]


def act(user, alert, action: str, *, if_match: str | None, note: str = "Called the patient."):
    headers = {"HTTP_IF_MATCH": if_match} if if_match is not None else {}
    return client_for(user).post(
        f"{API}/{alert.uuid}/{action}", {"note": note}, content_type=JSON, **headers
    )


def alert_rows() -> list:
    return list(SuicidalityAlert.objects.order_by("pk").values())


@pytest.mark.parametrize(
    ("name", "who", "expected"),
    [
        pytest.param(name, who, status, id=f"{name}-{who}")
        for name, statuses in MATRIX.items()
        for who, status in zip(ACTOR_ORDER, statuses, strict=True)
    ],
)
def test_permission_matrix(actors, request, prescriber, name, who, expected):
    user = actors[who]
    if name == "list":
        request.getfixturevalue("phq9_response")
        response = client_for(user).get(API)
    else:
        alert = (
            request.getfixturevalue("high_risk_alert")
            if name == "resolve"
            else SuicidalityAlert.objects.get(response=request.getfixturevalue("phq9_response"))
        )
        if name == "detail":
            response = client_for(user).get(f"{API}/{alert.uuid}")
        else:
            tag = etag_of(alert, prescriber)
            before = alert_rows()
            response = act(user, alert, name, if_match=tag)
            assert (alert_rows() == before) == (expected != 200), "a refusal writes nothing"
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response.json()["code"] == CODES[expected]


def test_the_inbox_is_the_alerts_waiting_for_you(phq9_response, actors):
    alert = SuicidalityAlert.objects.get(response=phq9_response)
    for who, expected in [
        ("prescriber", [str(alert.uuid)]),  # assigned: the primary prescriber
        ("clinic_admin", [str(alert.uuid)]),  # every unresolved alert
        ("nurse", []),  # assigned to someone still on the team
        ("prescriber_off_team", []),
    ]:
        items = client_for(actors[who]).get(API).json()["items"]
        assert [a["uuid"] for a in items] == expected, who
    [item] = client_for(actors["prescriber"]).get(API).json()["items"]
    assert (item["kind"], item["status"], item["follow_up_count"]) == (
        "suicidal_ideation",
        "open",
        0,
    )


def test_an_answer_that_joined_since_it_was_read_makes_the_tag_stale(
    patient, nurse, prescriber, phq9_response
):
    alert = SuicidalityAlert.objects.get(response=phq9_response)
    tag = etag_of(alert, prescriber)
    # Another positive PHQ-9 while the alert waits: it joins as a follow-up (ADR 0004).
    services.response_record(
        actor=nurse, patient=patient, instrument_code="phq9", answers=PHQ9_ITEM9
    )
    before = alert_rows()
    stale = act(prescriber, alert, "acknowledge", if_match=tag)
    assert (stale.status_code, stale.json()["code"]) == (412, "precondition_failed")
    missing = act(prescriber, alert, "acknowledge", if_match=None)
    assert (missing.status_code, missing.json()["code"]) == (428, "precondition_required")
    assert alert_rows() == before
    read = client_for(prescriber).get(f"{API}/{alert.uuid}")
    assert read.json()["follow_up_count"] == 1
    assert [a["follow_up"] for a in read.json()["answers"]] == [False, True]
    done = act(prescriber, alert, "acknowledge", if_match=read["ETag"])
    assert done.status_code == 200, done.content
    # Suicidal ideation is done once acknowledged.
    assert (done.json()["status"], done.json()["can_acknowledge"]) == ("resolved", False)
    assert client_for(prescriber).get(API).json()["items"] == []


def test_a_high_risk_stays_until_a_prescriber_resolves_it(high_risk_alert, nurse, prescriber):
    acknowledged = act(
        nurse, high_risk_alert, "acknowledge", if_match=etag_of(high_risk_alert, nurse)
    )
    assert acknowledged.status_code == 200
    assert acknowledged.json()["status"] == "acknowledged"
    assert acknowledged.json()["can_resolve"] is False  # a nurse does not resolve
    again = act(nurse, high_risk_alert, "acknowledge", if_match=acknowledged["ETag"])
    assert (again.status_code, again.json()["code"]) == (409, "alert_not_open")
    resolved = act(prescriber, high_risk_alert, "resolve", if_match=acknowledged["ETag"])
    assert resolved.status_code == 200
    assert resolved.json()["status"] == "resolved"


def test_an_ideation_alert_is_not_resolved_but_acknowledged(phq9_response, prescriber):
    alert = SuicidalityAlert.objects.get(response=phq9_response)
    response = act(prescriber, alert, "resolve", if_match=etag_of(alert, prescriber))
    assert (response.status_code, response.json()["code"]) == (409, "not_high_risk")


def test_the_inbox_reads_a_fixed_number_of_queries_and_pages(
    phq9_response, prescriber, nurse, front_desk
):
    from clinic.patients.services import care_team_set
    from clinic.patients.tests.factories import register

    def count() -> int:
        client = client_for(prescriber)
        client.get(API)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(API).status_code == 200
        return len(captured)

    one = count()
    other = register(front_desk, legal_given_name="Casey", legal_family_name="Morgan")
    care_team_set(actor=front_desk, patient=other, primary_prescriber=prescriber, nurses=[nurse])
    services.response_record(actor=nurse, patient=other, instrument_code="phq9", answers=PHQ9_ITEM9)
    assert count() == one
    first = client_for(prescriber).get(f"{API}?limit=1").json()
    rest = client_for(prescriber).get(f"{API}?limit=1&cursor={first['next_cursor']}").json()
    oldest_first = list(
        SuicidalityAlert.objects.order_by("created_at", "uuid").values_list("uuid", flat=True)
    )
    assert [first["items"][0]["uuid"], rest["items"][0]["uuid"]] == [str(u) for u in oldest_first]
    assert rest["next_cursor"] is None
