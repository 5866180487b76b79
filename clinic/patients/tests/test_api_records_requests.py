"""Right-of-access records requests through the API (clinic/patients/api_records.py): the
records request pages' log, due dates and closing, by the same roles.

Expected values from the rule and the policy: due 30 days after receipt (45 CFR
164.524(b)(2)(i)), one extension by at most 30 days and only within the first time limit
(164.524(b)(2)(ii)); records_request.manage is the front desk's and the clinic
administrator's (clinic/accounts/permissions.py), as the pages' matrix
(test_records_requests.py). The API answers 401 where a page redirects to sign-in, and a
patient principal is not staff: 401 as well."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinic.core.models import AuditEvent
from clinic.journal.tests.me_api import ENVELOPE
from clinic.patients import services_records
from clinic.patients.api_records import records_request_etag
from clinic.patients.models import RecordsRequest
from clinic.patients.tests.api_helpers import JSON, client_for
from clinic.patients.tests.factories import register
from tests.helpers import ACTOR_ORDER

pytestmark = pytest.mark.django_db

API = "/api/v1"
# A Wednesday; 30 days after 4 November 2026 is 4 December 2026 (late by TODAY); 30 days after
# 1 December is 31 December (open, not yet due soon: the policy's 7 days).
TODAY = datetime.date(2026, 12, 9)
LATE = datetime.date(2026, 11, 4)
RECENT = datetime.date(2026, 12, 1)


@pytest.fixture(autouse=True)
def today():
    noon = timezone.make_aware(datetime.datetime.combine(TODAY, datetime.time(12)))
    with time_machine.travel(noon, tick=False):
        yield


def log(actor, patient, received_on=RECENT, **overrides):
    values = {
        "received_on": received_on,
        "requester": "patient",
        "wanted_format": "pdf",
        "deliver_to": "Secure e-mail",
    } | overrides
    return services_records.records_request_log(actor=actor, patient=patient, **values)


def post(client, path, body, etag=None):
    headers = {"HTTP_IF_MATCH": etag} if etag else {}
    return client.post(path, body, content_type=JSON, **headers)


def tag(records_request):
    records_request.refresh_from_db()
    return records_request_etag(records_request)


def rows():
    return list(RecordsRequest.objects.order_by("pk").values())


# ----------------------------------------------------------------------------- happy paths


def test_the_desk_logs_a_request_due_30_days_later(front_desk, patient):
    client = client_for(front_desk)
    response = post(
        client,
        f"{API}/patients/{patient.uuid}/records-requests",
        {"received_on": "2026-11-04", "requester": "patient", "wanted_format": "fhir"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["due_on"] == "2026-12-04"  # 164.524(b)(2)(i): 30 days
    assert body["due_state"] == "overdue" and body["status"] == "open"
    assert body["patient"]["uuid"] == str(patient.uuid)
    logged = RecordsRequest.objects.get(uuid=body["uuid"])
    assert response["ETag"] == records_request_etag(logged)
    assert logged.logged_by == front_desk
    assert AuditEvent.objects.filter(
        action="create", object_type="records_request", object_id=logged.uuid
    ).exists()


def test_the_open_list_is_by_due_date_with_late_and_due_soon_flags(front_desk, patient):
    other = register(front_desk, legal_given_name="Imke", legal_family_name="Sörensen")
    later = log(front_desk, patient, received_on=RECENT)  # due 31 Dec: open
    late = log(front_desk, other, received_on=LATE)  # due 4 Dec: late
    soon = log(front_desk, patient, received_on=datetime.date(2026, 11, 12))  # due 12 Dec
    closed = log(front_desk, other)
    services_records.records_request_withdraw(actor=front_desk, request=closed, reason="Twice")
    client = client_for(front_desk)
    first = client.get(f"{API}/records-requests?limit=2").json()
    assert [(i["uuid"], i["due_state"]) for i in first["items"]] == [
        (str(late.uuid), "overdue"),
        (str(soon.uuid), "due_soon"),
    ]
    second = client.get(f"{API}/records-requests?limit=2&cursor={first['next_cursor']}").json()
    assert [(i["uuid"], i["due_state"]) for i in second["items"]] == [(str(later.uuid), "open")]
    assert second["next_cursor"] is None
    assert AuditEvent.objects.filter(action="list", object_type="records_request").count() == 2


def test_a_patients_list_holds_closed_ones_too_newest_first(front_desk, patient):
    old = log(front_desk, patient, received_on=LATE)
    services_records.records_request_withdraw(actor=front_desk, request=old, reason="Twice")
    new = log(front_desk, patient)
    response = client_for(front_desk).get(f"{API}/patients/{patient.uuid}/records-requests")
    assert [i["uuid"] for i in response.json()["items"]] == [str(new.uuid), str(old.uuid)]
    assert response.json()["items"][1]["due_state"] == "withdrawn"


def test_given_withdrawn_and_the_one_extension(front_desk, clinic_admin, patient):
    client = client_for(front_desk)
    given = log(front_desk, patient)
    detail = client.get(f"{API}/records-requests/{given.uuid}")
    assert detail.status_code == 200 and detail["ETag"] == tag(given)
    response = post(
        client,
        f"{API}/records-requests/{given.uuid}/given",
        {"given_on": "2026-12-08", "how": "Sent by secure e-mail"},
        detail["ETag"],
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "fulfilled"
    assert response.json()["closed_on"] == "2026-12-08"
    assert response["ETag"] == tag(given)

    withdrawn = log(front_desk, patient)
    response = post(
        client_for(clinic_admin),
        f"{API}/records-requests/{withdrawn.uuid}/withdrawn",
        {"reason": "Logged twice"},
        tag(withdrawn),
    )
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    assert response.json()["closed_on"] == "2026-12-09"

    extended = log(front_desk, patient)
    response = post(
        client,
        f"{API}/records-requests/{extended.uuid}/extend",
        {"reason": "The paper chart is in storage."},
        tag(extended),
    )
    assert response.status_code == 200, response.content
    # 164.524(b)(2)(ii): 30 days more; the first due date kept.
    assert response.json()["due_on"] == "2027-01-30"
    assert response.json()["first_due_on"] == "2026-12-31"


# ------------------------------------------------------------------------------- refusals


def test_bad_input_is_422_in_the_envelope_and_writes_nothing(front_desk, patient):
    client = client_for(front_desk)
    before = rows()
    response = post(
        client,
        f"{API}/patients/{patient.uuid}/records-requests",
        {"received_on": "2026-11-04", "requester": "representative", "wanted_format": "pdf"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"
    assert [p["loc"][-1] for p in response.json()["detail"]] == ["requester_name"]
    future = post(
        client,
        f"{API}/patients/{patient.uuid}/records-requests",
        {"received_on": "2026-12-10", "requester": "patient", "wanted_format": "pdf"},
    )
    assert future.status_code == 422 and future.json()["code"] == "invalid_input"
    request = log(front_desk, patient)
    before = rows()
    early = post(
        client,
        f"{API}/records-requests/{request.uuid}/given",
        {"given_on": "2026-11-30", "how": "Handed over"},  # before it arrived, 1 Dec
        tag(request),
    )
    assert early.status_code == 422
    assert [p["loc"][-1] for p in early.json()["detail"]] == ["given_on"]
    assert rows() == before


@pytest.mark.parametrize("action", ["given", "withdrawn", "extend"])
def test_if_match_missing_is_428_and_stale_is_412_and_nothing_changes(front_desk, patient, action):
    request = log(front_desk, patient)
    stale = tag(request)
    services_records.records_request_extend(actor=front_desk, request=request, reason="Storage")
    body = {
        "given": {"given_on": "2026-12-09", "how": "Handed over"},
        "withdrawn": {"reason": "Logged twice"},
        "extend": {"reason": "Storage"},
    }[action]
    client = client_for(front_desk)
    before = rows()
    missing = post(client, f"{API}/records-requests/{request.uuid}/{action}", body)
    assert missing.status_code == 428 and missing.json()["code"] == "precondition_required"
    old = post(client, f"{API}/records-requests/{request.uuid}/{action}", body, stale)
    assert old.status_code == 412 and old.json()["code"] == "precondition_failed"
    assert rows() == before


def test_conflicts_are_409_as_the_service_refuses_and_write_nothing(front_desk, patient):
    client = client_for(front_desk)
    closed = log(front_desk, patient)
    services_records.records_request_withdraw(actor=front_desk, request=closed, reason="Twice")
    twice = log(front_desk, patient)
    services_records.records_request_extend(actor=front_desk, request=twice, reason="Storage")
    late = log(front_desk, patient, received_on=LATE)  # due 4 Dec, today 9 Dec
    before = rows()
    cases = [
        (closed, "given", {"given_on": "2026-12-09", "how": "Posted"}, "records_request_closed"),
        (twice, "extend", {"reason": "Still in storage"}, "records_request_extended"),
        (late, "extend", {"reason": "Storage"}, "records_request_extension_late"),
    ]
    for request, action, body, code in cases:
        response = post(
            client, f"{API}/records-requests/{request.uuid}/{action}", body, tag(request)
        )
        assert response.status_code == 409, (action, response.content)
        assert response.json()["code"] == code
    assert rows() == before


def test_lists_are_flat_in_queries(front_desk, patient):
    client = client_for(front_desk)
    log(front_desk, patient)
    with CaptureQueriesContext(connection) as one:
        assert client.get(f"{API}/records-requests").status_code == 200
    with CaptureQueriesContext(connection) as one_patient:
        assert client.get(f"{API}/patients/{patient.uuid}/records-requests").status_code == 200
    for n in range(4):
        log(front_desk, register(front_desk, legal_given_name=f"Ada{'x' * n}"))
        log(front_desk, patient)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(f"{API}/records-requests").json()["items"]) == 9
    with CaptureQueriesContext(connection) as many_patient:
        response = client.get(f"{API}/patients/{patient.uuid}/records-requests")
        assert len(response.json()["items"]) == 5
    assert len(many) == len(one)
    assert len(many_patient) == len(one_patient)


# ------------------------------------------------------------------------ permission matrix

DESK = {"clinic_admin", "front_desk"}


def _expected(who: str, success: int) -> int:
    if who in ("anonymous", "patient_principal"):
        return 401
    return success if who in DESK else 403


@pytest.mark.parametrize("who", ACTOR_ORDER)
def test_permission_matrix_and_a_refusal_writes_nothing(actors, front_desk, patient, who):
    client = client_for(actors[who])
    request = log(front_desk, patient)
    before = rows()
    last_audit = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    reads = [
        client.get(f"{API}/records-requests"),
        client.get(f"{API}/patients/{patient.uuid}/records-requests"),
        client.get(f"{API}/records-requests/{request.uuid}"),
    ]
    assert [r.status_code for r in reads] == [_expected(who, 200)] * 3
    writes = [
        post(
            client,
            f"{API}/records-requests/{request.uuid}/extend",
            {"reason": "Storage"},
            tag(request),
        ),
        post(
            client,
            f"{API}/records-requests/{request.uuid}/withdrawn",
            {"reason": "Logged twice"},
            tag(request),
        ),
        post(
            client,
            f"{API}/patients/{patient.uuid}/records-requests",
            {"received_on": "2026-12-01", "requester": "patient", "wanted_format": "pdf"},
        ),
    ]
    assert [r.status_code for r in writes] == [
        _expected(who, 200),
        _expected(who, 200),
        _expected(who, 201),
    ]
    if who not in DESK:
        assert rows() == before
        # A role refused reads nothing: no patient is named in the trail.
        assert not AuditEvent.objects.filter(pk__gt=last_audit, patient=patient).exists()
        anonymous = who in ("anonymous", "patient_principal")
        codes = {r.json()["code"] for r in reads + writes}
        assert codes == {"unauthenticated" if anonymous else "permission_denied"}
    given = post(
        client,
        f"{API}/records-requests/{log(front_desk, patient).uuid}/given",
        {"given_on": "2026-12-09", "how": "Handed over"},
        '"x"',
    )
    assert given.status_code == _expected(who, 412)


# --------------------------------------------------------------------------------- contract

REQUEST = f"{API}/records-requests/{{request_uuid}}"
PATIENT_LIST = f"{API}/patients/{{patient_uuid}}/records-requests"
CHANGE = {"200", "400", "401", "403", "404", "409", "412", "413", "422", "428"}
DECLARED = {
    ("get", f"{API}/records-requests"): {"200", "401", "403", "422"},
    ("get", PATIENT_LIST): {"200", "401", "403", "404", "422"},
    ("post", PATIENT_LIST): {"201", "400", "401", "403", "404", "413", "422"},
    ("get", REQUEST): {"200", "401", "403", "404", "422"},
    ("post", f"{REQUEST}/given"): CHANGE,
    ("post", f"{REQUEST}/withdrawn"): CHANGE,
    ("post", f"{REQUEST}/extend"): CHANGE,
}


def test_each_operation_declares_its_statuses_with_the_envelope(client):
    paths = client.get(f"{API}/openapi.json").json()["paths"]
    for (method, path), statuses in DECLARED.items():
        responses = paths[path][method]["responses"]
        assert set(responses) == statuses, (method, path, set(responses))
        for status in statuses - {"200", "201"}:
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == ENVELOPE, (method, path, status)
        if "428" in statuses or path == REQUEST or method == "post":
            success = "201" if "201" in statuses else "200"
            assert "ETag" in responses[success]["headers"], (method, path)
