"""Closing a session's record through the API, the permission matrix: every operation of
api/signing.py (and signing_rems.py, signing_requests.py) for every role, on and off the care
team, anonymous and a patient principal; a refusal writes nothing. And the OpenAPI document
declares each operation's statuses with the error envelope.

Expected statuses come from clinic/accounts/permissions.py (session.run: prescriber, nurse;
session.sign and session.override: prescriber; session.integration_note: prescriber,
therapist; session.rems: clinic administrator, prescriber, nurse; patient.view_clinical: the
clinic administrator and the clinical roles) and the pages' own checks: the role first (403,
nothing looked up), then the care team (404); the lists of a location (forms due) and of the
in-basket (requests) answer those off the care team with what reaches them. The API answers
401 where a page redirects to sign-in, and a patient principal is not staff: 401 as well.
"""

from __future__ import annotations

import pytest

from clinic.patients.tests.api_helpers import JSON, client_for
from clinic.treatment_sessions import services
from clinic.treatment_sessions.api.signing_requests import request_etag
from clinic.treatment_sessions.models import PrescriberRequest
from clinic.treatment_sessions.tests.api_helpers import etag_of, one
from clinic.treatment_sessions.tests.conftest import COMPLETE_REMS, MONDAY, at, fresh
from clinic.treatment_sessions.tests.test_api_signing import NOTE, closing_rows
from tests.helpers import ACTOR_ORDER

pytestmark = pytest.mark.django_db

# fmt: off
MATRIX = {
    #                  anon portal admin presc nurse ther desk bill off-team ×3 (presc, nurse, ther)
    "note_draft":      [401, 401, 403, 200, 200, 403, 403, 403, 404, 404, 403],
    "note_save":       [401, 401, 403, 200, 200, 403, 403, 403, 404, 404, 403],
    "sign":            [401, 401, 403, 200, 403, 403, 403, 403, 404, 403, 403],
    "addendum":        [401, 401, 403, 201, 201, 403, 403, 403, 404, 404, 403],
    "integration":     [401, 401, 403, 201, 403, 201, 403, 403, 404, 403, 404],
    "rems_due":        [401, 401, 200, 200, 200, 403, 403, 403, 200, 200, 403],
    "rems_form":       [401, 401, 200, 200, 200, 403, 403, 403, 404, 404, 403],
    "rems_save":       [401, 401, 403, 200, 200, 403, 403, 403, 404, 404, 403],
    "rems_submitted":  [401, 401, 200, 200, 200, 403, 403, 403, 404, 404, 403],
    "rems_pdf":        [401, 401, 200, 200, 200, 403, 403, 403, 404, 404, 403],
    "ask":             [401, 401, 403, 201, 201, 403, 403, 403, 404, 404, 403],
    "waiting":         [401, 401, 200, 200, 200, 200, 403, 403, 200, 200, 200],
    "request":         [401, 401, 200, 200, 200, 200, 403, 403, 404, 404, 404],
    "answer":          [401, 401, 403, 200, 403, 403, 403, 403, 404, 403, 403],
    "decline":         [401, 401, 403, 200, 403, 403, 403, 403, 404, 403, 403],
    "withdraw":        [401, 401, 403, 200, 200, 403, 403, 403, 404, 404, 403],
}
# fmt: on
CODES = {401: "unauthenticated", 403: "permission_denied", 404: "not_found"}
S = "/api/v1/sessions"


@pytest.fixture
def iv_signable(iv_stopped, nurse, clock):
    clock.move_to(at(MONDAY, 10, 10))
    services.session_score_record(
        actor=nurse, session=iv_stopped, kind="modified-aldrete", answers=[2, 2, 2, 2, 2]
    )
    services.session_discharge(
        actor=nurse, session=iv_stopped, escort_present=True, instructions_given=True
    )
    services.nurse_note_save(actor=nurse, session=iv_stopped, text=NOTE)
    return fresh(iv_stopped)


@pytest.fixture
def esketamine_complete(esketamine_dosed, nurse):
    services.rems_form_save(actor=nurse, session=esketamine_dosed, values=COMPLETE_REMS)
    return fresh(esketamine_dosed)


@pytest.fixture
def bp_request(iv_cleared, nurse):
    """A pre-dose reading of 190/120 after the passing one: the prescriber is asked."""
    services.vitals_record(
        actor=nurse, session=iv_cleared, systolic_mmhg=190, diastolic_mmhg=120, heart_rate_bpm=72
    )
    return PrescriberRequest.objects.get(session=iv_cleared, status="open")


def _request(name, request, nurse, prescriber):
    """(method, path, body, If-Match) of each operation."""
    if name == "rems_due":
        request.getfixturevalue("esketamine_dosed")
        return "get", f"{S}/rems/due", None, None
    if name == "waiting":
        request.getfixturevalue("bp_request")
        return "get", f"{S}/requests/waiting", None, None
    if name in ("request", "answer", "decline", "withdraw"):
        waiting = request.getfixturevalue("bp_request")
        path = f"{S}/requests/{waiting.uuid}"
        body = {
            "request": None,
            "answer": {"reason": "Known white-coat hypertension"},
            "decline": {"note": "Recheck in ten minutes"},
            "withdraw": {},
        }[name]
        if name == "request":
            return "get", path, None, None
        return "post", f"{path}/{name}", body, request_etag(waiting)
    if name in ("note_draft", "note_save", "integration", "ask"):
        session = request.getfixturevalue("iv_stopped" if name != "ask" else "iv_checked_in")
        return {
            "note_draft": ("get", f"{one(session)}/note/draft", None, None),
            "note_save": ("put", f"{one(session)}/note", {"text": NOTE}, etag_of(session, nurse)),
            "integration": ("post", f"{one(session)}/integration-notes", {"text": "Met"}, None),
            "ask": ("post", f"{one(session)}/ask", {"kind": "pre_checks"}, None),
        }[name]
    if name in ("sign", "addendum"):
        session = request.getfixturevalue("iv_signable")
        if name == "sign":
            return "post", f"{one(session)}/sign", None, etag_of(session, prescriber)
        services.session_sign(actor=prescriber, session=session)
        return "post", f"{one(session)}/addenda", {"text": "Called: well"}, None
    session = request.getfixturevalue(
        "esketamine_complete" if name == "rems_submitted" else "esketamine_dosed"
    )
    path = f"{one(session)}/rems"
    return {
        "rems_form": ("get", path, None, None),
        "rems_pdf": ("get", f"{one(session)}/rems.pdf", None, None),
        "rems_save": ("patch", path, {"lot_number": "ESK1"}, etag_of(session, nurse)),
        "rems_submitted": ("post", f"{path}/submitted", None, etag_of(session, nurse)),
    }[name]


@pytest.mark.parametrize(
    ("name", "who", "expected"),
    [
        pytest.param(name, who, status, id=f"{name}-{who}")
        for name, statuses in MATRIX.items()
        for who, status in zip(ACTOR_ORDER, statuses, strict=True)
    ],
)
def test_permission_matrix(actors, request, nurse, prescriber, clock, name, who, expected):
    method, path, body, if_match = _request(name, request, nurse, prescriber)
    headers = {"HTTP_IF_MATCH": if_match} if if_match is not None else {}
    before = closing_rows()
    client = client_for(actors[who])
    if method == "get":
        response = client.get(path)
    else:
        response = getattr(client, method)(path, body or {}, content_type=JSON, **headers)
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response.json()["code"] == CODES[expected]
        assert closing_rows() == before, "a refused request writes nothing"
    elif method != "get":
        assert closing_rows() != before


def test_the_clinic_administrator_sees_only_requests_no_prescriber_can_answer(
    bp_request, clinic_admin, prescriber
):
    mine = client_for(prescriber).get(f"{S}/requests/waiting").json()["items"]
    assert [r["uuid"] for r in mine] == [str(bp_request.uuid)]
    assert client_for(clinic_admin).get(f"{S}/requests/waiting").json()["items"] == []


# --------------------------------------------------------------------------- the contract

ONE = S + "/{session_uuid}"
REQUEST = S + "/requests/{request_uuid}"
READ = {"200", "401", "403", "422"}
BODY = {"400", "413"}
IF_MATCH = {"412", "428"}
DECLARED = {
    ("get", ONE + "/note/draft"): READ | {"404", "409"},
    ("put", ONE + "/note"): READ | BODY | IF_MATCH | {"404", "409"},
    ("post", ONE + "/sign"): READ | IF_MATCH | {"404", "409"},
    ("post", ONE + "/addenda"): (READ - {"200"}) | BODY | {"201", "404", "409"},
    ("post", ONE + "/integration-notes"): (READ - {"200"}) | BODY | {"201", "404"},
    ("get", S + "/rems/due"): READ,
    ("get", ONE + "/rems"): READ | {"404"},
    ("patch", ONE + "/rems"): READ | BODY | IF_MATCH | {"404", "409"},
    ("post", ONE + "/rems/submitted"): READ | IF_MATCH | {"404", "409"},
    ("get", ONE + "/rems.pdf"): READ | {"404"},
    ("post", ONE + "/ask"): (READ - {"200"}) | BODY | {"201", "404", "409"},
    ("get", S + "/requests/waiting"): READ,
    ("get", REQUEST): READ | {"404"},
    ("post", REQUEST + "/answer"): READ | BODY | IF_MATCH | {"404", "409"},
    ("post", REQUEST + "/decline"): READ | BODY | IF_MATCH | {"404", "409"},
    ("post", REQUEST + "/withdraw"): READ | BODY | IF_MATCH | {"404", "409"},
}
ENVELOPE = {"$ref": "#/components/schemas/ApiError"}


def test_each_operation_declares_its_statuses_with_the_envelope(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for (method, path), statuses in DECLARED.items():
        operation = paths[path][method]
        assert set(operation["responses"]) == statuses, (method, path)
        for status in statuses - {"200", "201"}:
            schema = operation["responses"][status]["content"]["application/json"]["schema"]
            assert schema == ENVELOPE, (method, path, status)
        if "428" in statuses:  # a change: If-Match in, the record's new ETag out
            parameters = {p["name"]: p for p in operation["parameters"]}
            assert parameters["If-Match"]["in"] == "header", path
            assert "ETag" in operation["responses"]["200"]["headers"], path
    pdf = paths[ONE + "/rems.pdf"]["get"]["responses"]["200"]["content"]
    assert list(pdf) == ["application/pdf"]
    for path in (ONE + "/rems", REQUEST):
        assert "ETag" in paths[path]["get"]["responses"]["200"]["headers"], path
    for path in (ONE + "/addenda", ONE + "/integration-notes", ONE + "/ask"):
        assert "ETag" in paths[path]["post"]["responses"]["201"]["headers"], path
