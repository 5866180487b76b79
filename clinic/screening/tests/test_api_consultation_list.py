"""The front desk's consultation requests over the API (issue 16): the queue a cursor page at a
time by its status filter, one request with its ETag, and the page's actions — a new status
and/or a note, registering the person as a patient, linking to a registered patient — with
the page's forms, services, roles (`consultation.manage`: the clinic administrator and the
front desk) and audit, each change with If-Match. The public POST stays the one operation
without credentials.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinic.core.models import AuditEvent
from clinic.patients.duplicates import MATCH_EMAIL, MATCH_NAME_AND_BIRTH, MATCH_PHONE
from clinic.patients.models import Patient, PatientQuerySet
from clinic.patients.tests.factories import register
from clinic.screening import services
from clinic.screening.models import ConsultationRequest

pytestmark = pytest.mark.django_db

URL = "/api/v1/consultations"
UNKNOWN = "5d1d8a9c-0000-4000-8000-000000000009"
CONVERT = {
    "legal_given_name": "Maribel",
    "legal_family_name": "Achterberg",
    "date_of_birth": "1988-02-14",
    "sex": "female",
    "email": "maribel.achterberg@example.org",
    "phone_mobile": "(555) 010-7788",
}


def submit(**overrides):
    """A request as the public form stores it."""
    data = {
        "given_name": "Maribel",
        "family_name": "Achterberg",
        "email": "maribel.achterberg@example.org",
        "phone": "(555) 010-7788",
        "preferred_contact": "phone",
        "date_of_birth": datetime.date(1988, 2, 14),
        "seeking_help_with": "treatment_resistant_depression",
        "message": "Please call after 5 pm.",
        "heard_about": "My GP",
        "consent_to_contact": True,
    }
    data.update(overrides)
    return services.consultation_request_create(data=data)


def _with_status(status, minutes_ago, **overrides):
    """A request received `minutes_ago`, moved to `status` (set up directly: the order and
    the filter are what is tested)."""
    request = submit(**overrides)
    ConsultationRequest.objects.filter(pk=request.pk).update(
        status=status, created_at=timezone.now() - datetime.timedelta(minutes=minutes_ago)
    )
    return request


@pytest.fixture
def queue():
    return [
        _with_status("new", 50, family_name="Oldest"),
        _with_status("contacted", 40, family_name="Middle"),
        _with_status("booked", 30, family_name="Booked"),
        _with_status("declined", 20, family_name="Declined"),
        _with_status("new", 10, family_name="Newest"),
    ]


@pytest.fixture
def consultation():
    return submit()


def _post(client, url, body, **headers):
    return client.post(url, body, content_type="application/json", **headers)


def _as(client, actor):
    client.logout()
    if actor is not None:
        client.force_login(actor)


def _state():
    """Everything a front-desk write could change."""
    return (
        list(
            ConsultationRequest.objects.order_by("pk").values_list(
                "pk", "status", "front_desk_note", "patient_id", "updated_at"
            )
        ),
        Patient.objects.count(),
        AuditEvent.objects.filter(object_type="consultation_request", action="update").count(),
    )


# --------------------------------------------------------------------------- who may


EXPECTED = {
    "anonymous": 401,
    "patient_principal": 401,  # not staff: the API does not know them
    "prescriber": 403,
    "nurse": 403,
    "therapist": 403,
    "billing": 403,
    "prescriber_off_team": 403,
    "nurse_off_team": 403,
    "therapist_off_team": 403,
}


def test_only_the_desk_reads_the_queue_and_a_request(client, consultation, actors):
    for name, status in {**EXPECTED, "clinic_admin": 200, "front_desk": 200}.items():
        _as(client, actors[name])
        for url in (URL, f"{URL}/{consultation.uuid}"):
            response = client.get(url)
            assert response.status_code == status, (name, url, response.content)
            if status != 200:
                assert set(response.json()) >= {"detail", "code"}
                assert "Achterberg" not in response.content.decode()


def test_a_refused_change_writes_nothing(client, consultation, actors, patient, front_desk):
    client.force_login(front_desk)
    tag = client.get(f"{URL}/{consultation.uuid}")["ETag"]
    before = _state()
    changes = {
        "status": {"status": "contacted"},
        "convert": CONVERT,
        "link": {"patient": str(patient.uuid)},
    }
    for name, status in EXPECTED.items():
        _as(client, actors[name])
        for action, body in changes.items():
            response = _post(client, f"{URL}/{consultation.uuid}/{action}", body, HTTP_IF_MATCH=tag)
            assert response.status_code == status, (name, action, response.content)
    assert _state() == before


def test_the_clinic_administrator_works_the_queue_too(client, consultation, clinic_admin):
    client.force_login(clinic_admin)
    tag = client.get(f"{URL}/{consultation.uuid}")["ETag"]
    changed = _post(
        client, f"{URL}/{consultation.uuid}/status", {"status": "declined"}, HTTP_IF_MATCH=tag
    )
    assert changed.status_code == 200 and changed.json()["status"] == "declined"


# --------------------------------------------------------------------------- the queue


def _page(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (None, ["Newest", "Middle", "Oldest"]),  # open: new and contacted
        ("open", ["Newest", "Middle", "Oldest"]),
        ("new", ["Newest", "Oldest"]),
        ("contacted", ["Middle"]),
        ("booked", ["Booked"]),
        ("declined", ["Declined"]),
        ("all", ["Newest", "Declined", "Booked", "Middle", "Oldest"]),
    ],
)
def test_the_queue_by_the_pages_filter_newest_first(client, queue, front_desk, status, expected):
    client.force_login(front_desk)
    body = _page(client, **({"status": status} if status else {}))
    assert [item["family_name"] for item in body["items"]] == expected
    assert body["next_cursor"] is None


def test_the_queue_says_what_the_page_says(client, queue, front_desk, patient):
    ConsultationRequest.objects.filter(pk=queue[4].pk).update(patient=patient)
    client.force_login(front_desk)
    first = _page(client, limit=1)["items"][0]
    assert first == {
        "uuid": str(queue[4].uuid),
        "received_at": first["received_at"],
        "given_name": "Maribel",
        "family_name": "Newest",
        "seeking_help_with": "treatment_resistant_depression",
        "seeking_help_label": "Depression that has not improved with treatment",
        "preferred_contact": "phone",
        "status": "new",
        "patient": {"uuid": str(patient.uuid), "mrn": patient.mrn},
    }
    # The list leaves the contact details and the message to the request's own read.
    assert "email" not in first and "message" not in first


def test_a_bad_filter_or_cursor_is_refused(client, queue, front_desk):
    client.force_login(front_desk)
    assert client.get(URL, {"status": "nonsense"}).status_code == 422
    cursor = _page(client, limit=1)["next_cursor"]
    other = client.get(URL, {"cursor": cursor, "status": "all"})
    assert other.status_code == 422 and other.json()["detail"][0]["loc"] == ["query", "cursor"]
    assert client.get(URL, {"cursor": "not-a-cursor"}).status_code == 422


def test_paging_gives_each_request_once_while_requests_arrive(client, queue, front_desk):
    client.force_login(front_desk)
    first = _page(client, status="all", limit=2)
    assert [i["family_name"] for i in first["items"]] == ["Newest", "Declined"]
    # A request that arrives between two pages is newer than every one listed: it comes
    # before the first page and shifts nothing after it.
    submit(family_name="Arrived")
    second = _page(client, status="all", limit=2, cursor=first["next_cursor"])
    third = _page(client, status="all", limit=2, cursor=second["next_cursor"])
    assert [i["family_name"] for i in second["items"] + third["items"]] == [
        "Booked",
        "Middle",
        "Oldest",
    ]
    assert third["next_cursor"] is None
    assert _page(client, status="all")["items"][0]["family_name"] == "Arrived"


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(URL, {"status": "all"}).status_code == 200
    return len(captured)


def test_the_queue_reads_in_flat_queries_and_each_page_is_audited(
    client, queue, front_desk, patient
):
    client.force_login(front_desk)
    ConsultationRequest.objects.filter(pk=queue[0].pk).update(patient=patient)
    before = _queries(client)
    for number in range(6):
        linked = submit(family_name=f"More{number}")
        ConsultationRequest.objects.filter(pk=linked.pk).update(patient=patient)
    assert _queries(client) == before
    listed = AuditEvent.objects.filter(
        actor=front_desk, object_type="consultation_request", action="list"
    )
    assert listed.count() == 2


# --------------------------------------------------------------------------- one request


def test_a_request_reads_whole_with_its_etag_and_the_read_is_audited(
    client, consultation, front_desk
):
    client.force_login(front_desk)
    response = client.get(f"{URL}/{consultation.uuid}")
    body = response.json()
    assert response["ETag"] == body["etag"]
    assert (body["email"], body["phone"], body["date_of_birth"]) == (
        "maribel.achterberg@example.org",
        "(555) 010-7788",
        "1988-02-14",
    )
    assert (body["message"], body["heard_about"], body["status"]) == (
        "Please call after 5 pm.",
        "My GP",
        "new",
    )
    assert (body["front_desk_note"], body["status_changed_by"], body["patient"]) == ("", None, None)
    assert AuditEvent.objects.filter(
        actor=front_desk,
        object_type="consultation_request",
        object_id=str(consultation.uuid),
        action="view",
    ).exists()
    assert client.get(f"{URL}/{UNKNOWN}").status_code == 404


# --------------------------------------------------------------------------- status and note


def test_a_status_and_a_note_with_the_current_etag(client, consultation, front_desk):
    client.force_login(front_desk)
    url = f"{URL}/{consultation.uuid}/status"
    tag = client.get(f"{URL}/{consultation.uuid}")["ETag"]
    body = {"status": "contacted", "note": "Left a voicemail"}
    before = _state()
    missing = _post(client, url, body)
    assert missing.status_code == 428 and missing.json()["code"] == "precondition_required"
    stale = _post(client, url, body, HTTP_IF_MATCH='"0000"')
    assert stale.status_code == 412 and stale.json()["code"] == "precondition_failed"
    assert _state() == before
    done = _post(client, url, body, HTTP_IF_MATCH=tag)
    assert done.status_code == 200, done.content
    changed = done.json()
    assert changed["status"] == "contacted"
    assert changed["status_changed_by"]["uuid"] == str(front_desk.uuid)
    assert changed["front_desk_note"].endswith(" front_desk: Left a voicemail")
    assert done["ETag"] == changed["etag"] != tag
    audit = AuditEvent.objects.get(
        object_type="consultation_request", object_id=str(consultation.uuid), action="update"
    )
    assert audit.summary == "Consultation request status: New → Contacted, with a note"
    # A second device with the tag it read before: refused, the note is not added twice.
    assert _post(client, url, body, HTTP_IF_MATCH=tag).status_code == 412
    stored = ConsultationRequest.objects.get(pk=consultation.pk)
    assert stored.front_desk_note.count("Left a voicemail") == 1


def test_a_status_change_refuses_what_the_page_refuses(client, consultation, front_desk):
    client.force_login(front_desk)
    url = f"{URL}/{consultation.uuid}/status"
    tag = client.get(f"{URL}/{consultation.uuid}")["ETag"]
    before = _state()
    same = _post(client, url, {"status": "new"}, HTTP_IF_MATCH=tag)
    assert same.status_code == 422
    assert same.json()["detail"][0]["msg"] == "Choose a different status, or add a note."
    assert _post(client, url, {"status": "lost"}, HTTP_IF_MATCH=tag).status_code == 422
    control = _post(client, url, {"status": "contacted", "note": "a\x00b"}, HTTP_IF_MATCH=tag)
    assert control.status_code == 422
    too_long = {"status": "contacted", "note": "x" * (services.NOTE_MAX_LENGTH + 1)}
    assert _post(client, url, too_long, HTTP_IF_MATCH=tag).status_code == 422
    assert _state() == before
    unknown = _post(client, f"{URL}/{UNKNOWN}/status", {"status": "booked"}, HTTP_IF_MATCH=tag)
    assert unknown.status_code == 404


# --------------------------------------------------------------------------- patients


def test_registering_the_person_links_the_request(client, consultation, front_desk):
    client.force_login(front_desk)
    url = f"{URL}/{consultation.uuid}/convert"
    tag = client.get(f"{URL}/{consultation.uuid}")["ETag"]
    assert _post(client, url, CONVERT).status_code == 428
    incomplete = _post(client, url, {**CONVERT, "legal_family_name": " "}, HTTP_IF_MATCH=tag)
    assert incomplete.status_code == 422
    assert not Patient.objects.exists()
    done = _post(client, url, CONVERT, HTTP_IF_MATCH=tag)
    assert done.status_code == 201, done.content
    patient = Patient.objects.get()
    assert (patient.legal_family_name, patient.date_of_birth, patient.sex) == (
        "Achterberg",
        datetime.date(1988, 2, 14),
        "female",
    )
    body = done.json()
    assert body["patient"] == {"uuid": str(patient.uuid), "mrn": patient.mrn}
    assert body["status"] == "new"  # the request's status stays as it was
    assert done["ETag"] == body["etag"] != tag
    assert AuditEvent.objects.filter(
        object_type="consultation_request",
        action="update",
        summary=f"Consultation request converted: registered patient MRN {patient.mrn}",
    ).exists()
    again = _post(client, url, CONVERT, HTTP_IF_MATCH=done["ETag"])
    assert again.status_code == 409 and again.json()["code"] == "consultation_already_linked"
    assert Patient.objects.count() == 1


def test_a_likely_duplicate_needs_the_desks_confirmation(client, consultation, front_desk):
    registered = register(
        front_desk,
        legal_given_name="Maribel",
        legal_family_name="Achterberg",
        date_of_birth=datetime.date(1988, 2, 14),
        phone_mobile="(555) 010-0000",
    )
    client.force_login(front_desk)
    url = f"{URL}/{consultation.uuid}/convert"
    tag = client.get(f"{URL}/{consultation.uuid}")["ETag"]
    before = _state()
    refused = _post(client, url, CONVERT, HTTP_IF_MATCH=tag)
    # As POST /patients answers: who matched and why, so the desk can link the request to
    # them instead, or confirm that this is another person.
    assert refused.status_code == 409, refused.content
    assert refused.json() == {
        "detail": "A patient with matching details is already registered. Open that patient, "
        "or confirm that this is a different person.",
        "code": "possible_duplicate_patient",
        "field": "confirm_new_patient",
        "candidates": [
            {
                "reasons": [MATCH_NAME_AND_BIRTH],
                "patient": {
                    "uuid": str(registered.uuid),
                    "mrn": registered.mrn,
                    "legal_given_name": "Maribel",
                    "legal_family_name": "Achterberg",
                    "date_of_birth": "1988-02-14",
                    "is_active": True,
                },
            }
        ],
    }
    assert _state() == before
    assert ConsultationRequest.objects.get(pk=consultation.pk).patient_id is None
    confirmed = _post(client, url, {**CONVERT, "confirm_new_patient": True}, HTTP_IF_MATCH=tag)
    assert confirmed.status_code == 201, confirmed.content
    assert Patient.objects.count() == 2


def test_a_duplicate_the_desk_may_not_open_is_named_only_by_why_it_matched(
    client, consultation, front_desk, monkeypatch
):
    register(front_desk, legal_given_name="Ines", email=CONVERT["email"])
    register(front_desk, legal_given_name="Tomas", phone_mobile="555.010.7788")
    monkeypatch.setattr(PatientQuerySet, "visible_to", lambda self, actor: self.none())
    client.force_login(front_desk)
    url = f"{URL}/{consultation.uuid}/convert"
    tag = client.get(f"{URL}/{consultation.uuid}")["ETag"]
    refused = _post(client, url, CONVERT, HTTP_IF_MATCH=tag)
    assert refused.status_code == 409, refused.content
    candidates = refused.json()["candidates"]
    assert sorted(candidates, key=lambda c: c["reasons"]) == [
        {"reasons": [MATCH_EMAIL], "patient": None},
        {"reasons": [MATCH_PHONE], "patient": None},
    ]
    assert "Rivera" not in refused.content.decode()
    assert Patient.objects.count() == 2


def test_linking_to_a_registered_patient(client, consultation, front_desk, patient, prescriber):
    client.force_login(front_desk)
    url = f"{URL}/{consultation.uuid}/link"
    tag = client.get(f"{URL}/{consultation.uuid}")["ETag"]
    before = _state()
    assert _post(client, url, {"patient": UNKNOWN}, HTTP_IF_MATCH=tag).status_code == 404
    assert _post(client, url, {"patient": str(patient.uuid)}).status_code == 428
    assert _state() == before
    linked = _post(client, url, {"patient": str(patient.uuid)}, HTTP_IF_MATCH=tag)
    assert linked.status_code == 200, linked.content
    assert linked.json()["patient"] == {"uuid": str(patient.uuid), "mrn": patient.mrn}
    other = register(front_desk, legal_given_name="Avery", phone_mobile="(555) 010-3344")
    taken = _post(client, url, {"patient": str(other.uuid)}, HTTP_IF_MATCH=linked["ETag"])
    assert taken.status_code == 409 and taken.json()["code"] == "consultation_already_linked"
    assert ConsultationRequest.objects.get(pk=consultation.pk).patient_id == patient.pk


# --------------------------------------------------------------------------- the contract


def test_each_operation_declares_exactly_its_statuses_with_the_envelope(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    one = URL + "/{consultation_uuid}"
    change = {"200", "400", "401", "403", "404", "412", "413", "422", "428"}
    declared = {
        ("get", URL): {"200", "401", "403", "422"},
        ("get", one): {"200", "401", "403", "404", "422"},
        ("post", one + "/status"): change,
        ("post", one + "/convert"): change - {"200"} | {"201", "409"},
        ("post", one + "/link"): change | {"409"},
    }
    for (method, path), statuses in declared.items():
        operation = paths[path][method]
        assert set(operation["responses"]) == statuses, (method, path)
        # The front desk's operations keep the API's staff authentication.
        assert operation["security"], (method, path)
        for status in statuses - {"200", "201"}:
            schema = operation["responses"][status]["content"]["application/json"]["schema"]
            expected = {"$ref": "#/components/schemas/ApiError"}
            if (method, path, status) == ("post", one + "/convert", "409"):
                # possible_duplicate_patient lists the matches, as POST /patients does;
                # consultation_already_linked is the envelope alone.
                duplicate = {"$ref": "#/components/schemas/PatientDuplicateConflict"}
                assert schema["anyOf"] == [duplicate, expected], (method, path, status)
                continue
            assert schema == expected, (method, path, status)
        if "428" in statuses:
            parameters = {p["name"]: p for p in operation["parameters"]}
            assert parameters["If-Match"]["in"] == "header", path
            success = "201" if "201" in statuses else "200"
            assert "ETag" in operation["responses"][success]["headers"], path
    assert "ETag" in paths[one]["get"]["responses"]["200"]["headers"]
    # The public request on the same path still takes no credentials.
    assert "security" not in paths[URL]["post"]
