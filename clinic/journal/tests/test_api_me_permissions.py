"""Who reaches the patient's own journal operations (/api/v1/me): the patient's own token, and
nothing else.

Columns: anonymous; the patient signed in on the portal (a session, no token: /me takes only
the bearer token, 401); each staff role signed in (their session) and with their own staff
token (PatientBearerAuth refuses both: 401, a staff token never opens /me); a patient account
with no patient record, holding a patient token (401: the token speaks for no record); another
patient's token (Jordan's records are "not found", 404; their own lists are theirs, 200); and
Jordan's own token. A refusal writes nothing. Fixtures: clinic/journal/tests/conftest.py.
"""

from __future__ import annotations

import pytest

from clinic.accounts.models import User
from clinic.journal import services
from clinic.journal.models import Intention, JournalEntry

# Fixtures by name.
from clinic.journal.tests.conftest import (  # noqa: F401
    chair,
    clock,
    coming,
    other_patient,
    other_user,
    past_session,
    portal_user,
)
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
# (method, path, body, If-Match): what the other patient gets, and what Jordan gets.
OPERATIONS = {
    "entry_list": ("get", "/journal/entries", None, False, 200, 200),
    "entry_create": ("post", "/journal/entries", "entry", False, 404, 201),
    "entry_detail": ("get", "/journal/entries/{entry}", None, False, 404, 200),
    "entry_update": ("patch", "/journal/entries/{entry}", "share", True, 404, 200),
    "intention_list": ("get", "/intentions", None, False, 200, 200),
    "intention_create": ("post", "/intentions", "intention", False, 404, 409),
    "intention_detail": ("get", "/intentions/{intention}", None, False, 404, 200),
    "intention_update": ("patch", "/intentions/{intention}", "text", True, 404, 200),
}


@pytest.fixture
def records(patient, portal_user, past_session, coming):  # noqa: F811
    entry = services.journal_entry_create(
        actor=portal_user, patient=patient, mood_before=4, mood_after=6
    )
    intention = services.intention_save(
        actor=portal_user, patient=patient, appointment=coming, text="Jordan's."
    )
    return {"entry": entry, "intention": intention, "past": past_session, "coming": coming}


@pytest.fixture
def headers(actors, portal_user, other_user):  # noqa: F811
    no_record = User.objects.create_user(username="norecord", password="x" * 12, role="patient")
    found = {
        "anonymous": {},
        "portal_session": {},
        "patient_without_record": patient_bearer(no_record),
        "other_patient": patient_bearer(other_user),
        "own": patient_bearer(portal_user),
    }
    for role in STAFF:
        found[f"{role}_session"] = {}
        found[f"{role}_token"] = staff_bearer(actors[role])
    return found


def _body(kind, records):
    return {
        None: None,
        "entry": {"appointment": str(records["past"].uuid), "mood_before": 4, "mood_after": 5},
        "share": {"shared_with_care_team": True},
        "intention": {"appointment": str(records["coming"].uuid), "text": "Again."},
        "text": {"text": "Changed."},
    }[kind]


def _state():
    return (
        list(JournalEntry.objects.order_by("pk").values()),
        list(Intention.objects.order_by("pk").values()),
    )


@pytest.mark.parametrize(
    ("operation", "principal"),
    [(operation, principal) for operation in OPERATIONS for principal in PRINCIPALS],
)
def test_only_the_patients_own_token_opens_their_journal(
    client,
    actors,
    portal_user,  # noqa: F811
    records,
    headers,
    operation,
    principal,  # noqa: F811
):
    method, path, body, needs_tag, other_status, own_status = OPERATIONS[operation]
    path = ME + path.format(entry=records["entry"].uuid, intention=records["intention"].uuid)
    if principal == "portal_session":
        client.force_login(portal_user)
    elif principal.endswith("_session"):
        client.force_login(actors[principal.removesuffix("_session")])
    if_match = None
    if needs_tag:
        if_match = call(client, "get", path, headers["own"])["ETag"]
    before = _state()
    response = call(client, method, path, headers[principal], _body(body, records), if_match)
    expected = {"other_patient": other_status, "own": own_status}.get(principal, 401)
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert set(response.json()) >= {"detail", "code"}
        assert _state() == before
