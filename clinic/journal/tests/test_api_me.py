"""The patient's own journal and intentions at /api/v1/me, with the patient's token.

What the portal's journal pages do (clinic/portal/tests/test_journal.py), over the API: an entry
is private unless shared, can be shared and unshared (If-Match: 428 without it, 412 stale, and
nothing written), is about a past session of the patient's own or none, once per session (409);
an intention is for a coming session, until it starts. Another patient's records are the same
404 as none, audited as a denial. Lists are cursor-paged, newest first, flat in queries.
Fixtures: clinic/journal/tests/conftest.py (Jordan = `patient` with `portal_user`, Casey =
`other_patient` with `other_user`; the clock at Monday 2 June 2031 08:30, Jordan's IV at 10:00).
"""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.core.models import AuditEvent
from clinic.journal import selectors, services
from clinic.journal.models import Intention, JournalEntry

# Fixtures by name (see the module docstring).
from clinic.journal.tests.conftest import (  # noqa: F401
    MONDAY,
    at,
    chair,
    clock,
    coming,
    other_coming,
    other_past,
    other_patient,
    other_user,
    past_session,
    portal_user,
    second_chair,
)
from clinic.journal.tests.me_api import ME, call, patient_bearer

pytestmark = pytest.mark.django_db

ENTRIES = f"{ME}/journal/entries"
INTENTIONS = f"{ME}/intentions"
# 31 days after the clock, and the day before it.
LATE = "2031-07-03T09:00:00-04:00"
PAST = "2031-06-01T09:00:00-04:00"
ONE_DAY = datetime.timedelta(days=1)


@pytest.fixture
def jordan(portal_user):  # noqa: F811
    return patient_bearer(portal_user)


@pytest.fixture
def casey(other_user):  # noqa: F811
    return patient_bearer(other_user)


def _state():
    return {
        "intentions": list(Intention.objects.order_by("pk").values()),
        "entries": list(JournalEntry.objects.order_by("pk").values()),
    }


# --------------------------------------------------------------------------- entries


def test_a_private_entry_about_a_past_session_is_written_and_read_back(
    client,
    patient,
    portal_user,  # noqa: F811
    past_session,  # noqa: F811
    jordan,
    therapist,
):
    response = call(
        client,
        "post",
        ENTRIES,
        jordan,
        {
            "appointment": str(past_session.uuid),
            "mood_before": 3,
            "mood_after": 7,
            "reflections": "I felt held by the music.",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["appointment"]["uuid"] == str(past_session.uuid)
    assert (body["mood_before"], body["mood_after"]) == (3, 7)
    assert body["shared_with_care_team"] is False and body["shared_at"] is None
    entry = JournalEntry.objects.get(uuid=body["uuid"])
    assert entry.patient == patient and entry.reflections == "I felt held by the music."
    created = AuditEvent.objects.get(object_type="journal_entry", action="create")
    assert created.actor == portal_user and created.patient == patient
    # The private words never reach the audit trail staff administrators read.
    assert "held by the music" not in str(created.changes)

    read = call(client, "get", f"{ENTRIES}/{entry.uuid}", jordan)
    assert read.status_code == 200
    assert read["ETag"] == response["ETag"]
    assert read.json()["reflections"] == "I felt held by the music."
    assert AuditEvent.objects.filter(
        object_type="journal_entry", object_id=str(entry.uuid), action="view", actor=portal_user
    ).exists()
    # Private: the care team's shared list does not hold it.
    assert selectors.shared_entry_list(actor=therapist, patient=patient) == []


def test_an_entry_about_a_session_not_begun_or_someone_elses_is_not_found(
    client,
    coming,  # noqa: F811
    other_past,  # noqa: F811
    jordan,
):
    before = _state()
    for appointment in (coming, other_past):
        response = call(
            client,
            "post",
            ENTRIES,
            jordan,
            {"appointment": str(appointment.uuid), "mood_before": 3, "mood_after": 7},
        )
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert _state() == before


def test_a_second_entry_about_the_same_session_is_a_conflict(
    client,
    past_session,  # noqa: F811
    jordan,
):
    body = {"appointment": str(past_session.uuid), "mood_before": 4, "mood_after": 5}
    assert call(client, "post", ENTRIES, jordan, body).status_code == 201
    again = call(client, "post", ENTRIES, jordan, body)
    assert again.status_code == 409
    assert again.json()["code"] == "entry_exists"
    assert JournalEntry.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"mood_before": 11, "mood_after": 5}, "mood_before"),
        ({"mood_before": 0, "mood_after": 5}, "mood_before"),
        ({"mood_before": 5, "mood_after": 5, "reflections": "x" * 10_001}, "reflections"),
        # The reminder is within 30 days (journal/rules.py), in the future.
        (
            {"mood_before": 5, "mood_after": 5, "remind_at": "2031-07-03T09:00:00-04:00"},
            "remind_at",
        ),
        (
            {"mood_before": 5, "mood_after": 5, "remind_at": "2031-06-01T09:00:00-04:00"},
            "remind_at",
        ),
    ],
)
def test_bad_input_is_refused_in_the_envelope_and_writes_nothing(
    client,
    portal_user,  # noqa: F811
    jordan,
    body,
    field,
):
    response = call(client, "post", ENTRIES, jordan, body)
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "invalid_input"
    assert [item["loc"] for item in problem["detail"]] == [["body", field]]
    assert JournalEntry.objects.count() == 0


def test_an_unknown_field_is_refused(client, jordan):
    response = call(
        client, "post", ENTRIES, jordan, {"mood_before": 5, "mood_after": 5, "patient": "x"}
    )
    assert response.status_code == 422
    assert JournalEntry.objects.count() == 0


def test_sharing_and_unsharing_take_if_match_and_the_care_team_sees_only_shared(
    client,
    patient,
    past_session,  # noqa: F811
    jordan,
    therapist,
):
    created = call(
        client,
        "post",
        ENTRIES,
        jordan,
        {"appointment": str(past_session.uuid), "mood_before": 4, "mood_after": 6},
    )
    path = f"{ENTRIES}/{created.json()['uuid']}"
    before = _state()
    missing = call(client, "patch", path, jordan, {"shared_with_care_team": True})
    assert missing.status_code == 428
    assert missing.json()["code"] == "precondition_required"
    stale = call(client, "patch", path, jordan, {"shared_with_care_team": True}, if_match='"x"')
    assert stale.status_code == 412
    assert stale.json()["code"] == "precondition_failed"
    assert _state() == before

    shared = call(client, "patch", path, jordan, {"shared_with_care_team": True}, created["ETag"])
    assert shared.status_code == 200
    assert shared.json()["shared_with_care_team"] is True
    assert shared["ETag"] != created["ETag"]
    assert [e.uuid for e in selectors.shared_entry_list(actor=therapist, patient=patient)] == [
        uuid.UUID(created.json()["uuid"])
    ]
    # The tag read before the change is stale now.
    assert call(client, "patch", path, jordan, {"mood_after": 8}, created["ETag"]).status_code == (
        412
    )

    unshared = call(client, "patch", path, jordan, {"shared_with_care_team": False}, shared["ETag"])
    assert unshared.status_code == 200
    assert unshared.json()["shared_with_care_team"] is False
    assert selectors.shared_entry_list(actor=therapist, patient=patient) == []
    summaries = list(
        AuditEvent.objects.filter(object_type="journal_entry", action="update")
        .order_by("pk")
        .values_list("summary", flat=True)
    )
    assert summaries == [
        "Journal entry shared with the care team in the portal",
        "Journal entry unshared in the portal",
    ]


def test_an_edit_changes_only_the_fields_sent(
    client,
    past_session,  # noqa: F811
    jordan,
):
    created = call(
        client,
        "post",
        ENTRIES,
        jordan,
        {
            "appointment": str(past_session.uuid),
            "mood_before": 4,
            "mood_after": 6,
            "insights": "Slow down.",
        },
    )
    path = f"{ENTRIES}/{created.json()['uuid']}"
    edited = call(client, "patch", path, jordan, {"reflections": "More, later."}, created["ETag"])
    assert edited.status_code == 200
    body = edited.json()
    assert (body["reflections"], body["insights"], body["mood_after"]) == (
        "More, later.",
        "Slow down.",
        6,
    )


def test_another_patients_entry_is_not_found_and_the_denial_is_audited(
    client,
    other_patient,  # noqa: F811
    other_user,  # noqa: F811
    other_past,  # noqa: F811
    jordan,
):
    theirs = services.journal_entry_create(
        actor=other_user,
        patient=other_patient,
        appointment=other_past,
        mood_before=2,
        mood_after=3,
        reflections="Casey's own words.",
    )
    before = _state()
    path = f"{ENTRIES}/{theirs.uuid}"
    read = call(client, "get", path, jordan)
    assert read.status_code == 404
    assert "Casey" not in read.content.decode()
    changed = call(client, "patch", path, jordan, {"shared_with_care_team": True}, '"any"')
    assert changed.status_code == 404
    assert _state() == before
    assert (
        AuditEvent.objects.filter(
            action="denied", object_type="journal_entry", object_id=str(theirs.uuid)
        ).count()
        == 2
    )
    listed = call(client, "get", ENTRIES, jordan)
    assert listed.json() == {"items": [], "next_cursor": None}


def test_the_list_is_paged_newest_first_and_flat_in_queries(
    client,
    patient,
    portal_user,  # noqa: F811
    clock,  # noqa: F811
    jordan,
):
    def write(count: int) -> None:
        for _ in range(count):
            clock.shift(60)
            services.journal_entry_create(
                actor=portal_user, patient=patient, mood_before=5, mood_after=6
            )

    write(2)
    call(client, "get", ENTRIES, jordan)  # the token's first use is recorded once
    with CaptureQueriesContext(connection) as few:
        assert call(client, "get", ENTRIES, jordan).status_code == 200
    write(8)
    call(client, "get", ENTRIES, jordan)  # minutes later: its use is recorded again, once
    with CaptureQueriesContext(connection) as many:
        assert call(client, "get", ENTRIES, jordan).status_code == 200
    assert len(many) == len(few)

    newest_first = list(JournalEntry.objects.order_by("-created_at").values_list("uuid", flat=True))
    seen, cursor = [], None
    while True:
        query = f"?limit=3&cursor={cursor}" if cursor else "?limit=3"
        page = call(client, "get", ENTRIES + query, jordan).json()
        seen += [uuid.UUID(item["uuid"]) for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == newest_first
    assert AuditEvent.objects.filter(
        action="list", object_type="journal_entry", summary="Own journal read (API)"
    ).exists()


def test_a_cursor_from_another_list_is_refused(client, jordan, portal_user, patient):  # noqa: F811
    for _ in range(2):
        services.journal_entry_create(
            actor=portal_user, patient=patient, mood_before=5, mood_after=6
        )
    cursor = call(client, "get", f"{ENTRIES}?limit=1", jordan).json()["next_cursor"]
    response = call(client, "get", f"{INTENTIONS}?cursor={cursor}", jordan)
    assert response.status_code == 422


# --------------------------------------------------------------------------- intentions


def test_an_intention_is_written_once_then_changed_with_if_match(
    client,
    patient,
    portal_user,  # noqa: F811
    coming,  # noqa: F811
    jordan,
):
    created = call(
        client,
        "post",
        INTENTIONS,
        jordan,
        {"appointment": str(coming.uuid), "text": "To let go of the day."},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["appointment"]["uuid"] == str(coming.uuid)
    assert body["editable"] is True
    again = call(
        client, "post", INTENTIONS, jordan, {"appointment": str(coming.uuid), "text": "Other."}
    )
    assert again.status_code == 409
    assert again.json()["code"] == "intention_exists"
    assert Intention.objects.get().text == "To let go of the day."

    path = f"{INTENTIONS}/{body['uuid']}"
    assert call(client, "patch", path, jordan, {"text": "Rest."}).status_code == 428
    assert call(client, "patch", path, jordan, {"text": "Rest."}, '"stale"').status_code == 412
    changed = call(client, "patch", path, jordan, {"text": "Rest."}, created["ETag"])
    assert changed.status_code == 200
    assert changed.json()["text"] == "Rest."
    assert call(client, "get", path, jordan)["ETag"] == changed["ETag"]
    listed = call(client, "get", INTENTIONS, jordan).json()
    assert [item["text"] for item in listed["items"]] == ["Rest."]
    assert AuditEvent.objects.filter(
        object_type="intention", action="update", actor=portal_user, patient=patient
    ).exists()


def test_an_intention_once_the_session_has_started_is_a_conflict(
    client,
    patient,
    portal_user,  # noqa: F811
    coming,  # noqa: F811
    clock,  # noqa: F811
    jordan,
):
    intention = services.intention_save(
        actor=portal_user, patient=patient, appointment=coming, text="Before."
    )
    tag = call(client, "get", f"{INTENTIONS}/{intention.uuid}", jordan)["ETag"]
    clock.move_to(at(MONDAY, 10, 5))
    response = call(client, "patch", f"{INTENTIONS}/{intention.uuid}", jordan, {"text": "x"}, tag)
    assert response.status_code == 409
    assert response.json()["code"] == "intention_locked"
    assert Intention.objects.get().text == "Before."


def test_another_patients_appointment_and_intention_are_not_found(
    client,
    other_patient,  # noqa: F811
    other_user,  # noqa: F811
    other_coming,  # noqa: F811
    jordan,
):
    theirs = services.intention_save(
        actor=other_user, patient=other_patient, appointment=other_coming, text="Casey's."
    )
    before = _state()
    new = call(
        client, "post", INTENTIONS, jordan, {"appointment": str(other_coming.uuid), "text": "x"}
    )
    assert new.status_code == 404
    assert call(client, "get", f"{INTENTIONS}/{theirs.uuid}", jordan).status_code == 404
    assert (
        call(client, "patch", f"{INTENTIONS}/{theirs.uuid}", jordan, {"text": "x"}, '"a"')
    ).status_code == 404
    assert _state() == before


def test_the_intentions_list_is_flat_in_queries(
    client,
    patient,
    portal_user,  # noqa: F811
    chair,  # noqa: F811
    nurse,
    front_desk,
    clock,  # noqa: F811
    jordan,
):
    from clinic.journal.tests.conftest import make_appointment

    def write(days: range) -> None:
        for day in days:
            appointment = make_appointment(
                patient, chair, nurse, front_desk, starts_at=at(MONDAY, 10) + day * ONE_DAY
            )
            services.intention_save(
                actor=portal_user, patient=patient, appointment=appointment, text=f"Day {day}."
            )

    write(range(1, 3))
    call(client, "get", INTENTIONS, jordan)  # the token's first use is recorded once
    with CaptureQueriesContext(connection) as few:
        assert len(call(client, "get", INTENTIONS, jordan).json()["items"]) == 2
    write(range(3, 9))
    with CaptureQueriesContext(connection) as many:
        assert len(call(client, "get", INTENTIONS, jordan).json()["items"]) == 8
    assert len(many) == len(few)
