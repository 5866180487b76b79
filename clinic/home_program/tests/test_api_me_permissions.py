"""Who reaches the patient's own at-home operations (/api/v1/me): the patient's own token, and
nothing else.

Columns as in clinic/journal/tests/test_api_me_permissions.py: anonymous; the patient's portal
session (no token); each staff role signed in and with their own staff token (401: a staff
token never opens /me, and a prescriber or nurse reviews at-home logs on the chart, not here);
a patient account with no record, holding a patient token (401); Casey's token (Jordan's log is
"not found", 404; Casey's own lists and program are theirs, 200, and Casey may start their own
session, 201); Jordan's own token. A refusal writes nothing. Fixtures:
clinic/home_program/tests/conftest.py (Jordan's log waits for its dose).
"""

from __future__ import annotations

import pytest

from clinic.accounts.models import User
from clinic.home_program import services
from clinic.home_program.models import HomeBpAlert, HomeSessionLog, HomeSideEffect
from clinic.journal.tests.me_api import ME, call, patient_bearer, staff_bearer

pytestmark = pytest.mark.django_db

STAFF = ["clinic_admin", "prescriber", "nurse", "therapist", "front_desk", "billing"]
PRINCIPALS = [
    "anonymous",
    "portal_session",
    *[f"{role}_session" for role in STAFF],
    *[f"{role}_token" for role in STAFF],
    "patient_without_record",
    "other_patient",
    "own",
]
BP = {"systolic_mmhg": 120, "diastolic_mmhg": 80, "monitor_name": "Sam Rivera"}
# (method, path, body, If-Match, Casey's status, Jordan's status). Jordan's dose is the
# prescribed 100 mg; side effects and the check-in come after the dose (409 before it).
OPERATIONS = {
    "program": ("get", "/home-program", None, False, 200, 200),
    "list": ("get", "/home-sessions", None, False, 200, 200),
    "start": ("post", "/home-sessions", BP, False, 201, 201),
    "detail": ("get", "/home-sessions/{log}", None, False, 404, 200),
    "dose": ("post", "/home-sessions/{log}/dose", {"dose_mg": "100"}, True, 404, 200),
    "not_taken": ("post", "/home-sessions/{log}/not-taken", None, True, 404, 200),
    "side_effect": (
        "post",
        "/home-sessions/{log}/side-effects",
        {"kind": "nausea", "severity": "mild"},
        False,
        404,
        409,
    ),
    "check_in": ("post", "/home-sessions/{log}/check-in", {"feeling": "Fine."}, True, 404, 409),
}


@pytest.fixture
def waiting_log(patient, portal_user, home_plan):
    return services.home_session_start(
        actor=portal_user, patient=patient, systolic_mmhg=120, diastolic_mmhg=80, monitor_name="Sam"
    )


@pytest.fixture
def headers(actors, portal_user, other_patient):
    no_record = User.objects.create_user(username="norecord", password="x" * 12, role="patient")
    found = {
        "anonymous": {},
        "portal_session": {},
        "patient_without_record": patient_bearer(no_record),
        "other_patient": patient_bearer(other_patient.portal_user),
        "own": patient_bearer(portal_user),
    }
    for role in STAFF:
        found[f"{role}_session"] = {}
        found[f"{role}_token"] = staff_bearer(actors[role])
    return found


def _state():
    return (
        list(HomeSessionLog.objects.order_by("pk").values()),
        list(HomeSideEffect.objects.order_by("pk").values()),
        list(HomeBpAlert.objects.order_by("pk").values()),
    )


@pytest.mark.parametrize(
    ("operation", "principal"),
    [(operation, principal) for operation in OPERATIONS for principal in PRINCIPALS],
)
def test_only_the_patients_own_token_opens_their_at_home_sessions(
    client, actors, portal_user, waiting_log, headers, operation, principal
):
    method, path, body, needs_tag, other_status, own_status = OPERATIONS[operation]
    path = ME + path.format(log=waiting_log.uuid)
    if principal == "portal_session":
        client.force_login(portal_user)
    elif principal.endswith("_session"):
        client.force_login(actors[principal.removesuffix("_session")])
    log_path = f"{ME}/home-sessions/{waiting_log.uuid}"
    if_match = call(client, "get", log_path, headers["own"])["ETag"] if needs_tag else None
    before = _state()
    response = call(client, method, path, headers[principal], body, if_match)
    expected = {"other_patient": other_status, "own": own_status}.get(principal, 401)
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert set(response.json()) >= {"detail", "code"}
        assert _state() == before
