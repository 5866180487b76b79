"""Portal pages for the intention and the integration journal.

Only the signed-in patient's own records are reachable: anonymous visitors are sent to sign in,
staff and a patient account without a patient record are refused (403, clinic/portal/access.py),
and another patient's intention, entry or session is the same 404 as one that does not exist,
with nothing written. Fixtures: clinic/journal/tests/conftest.py (Jordan = `patient` with
`portal_user`, Casey = `other_patient` with `other_user`; the clock at Monday 2 June 2031 08:30).
"""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.core.models import AuditEvent
from clinic.journal import services
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
from tests.helpers import ACTOR_ORDER, client_as, status_word

pytestmark = pytest.mark.django_db

# Everyone but the patient themself: anonymous signs in, everyone else is refused.
# fmt: off
#           anon     portal admin presc nurse ther desk bill off-team presc/nurse/ther
OTHERS = ["login", 403,  403,  403,  403,  403, 403, 403, 403, 403, 403]
# fmt: on
PAGES = ["intention", "journal", "journal_new", "journal_entry"]

ENTRY_POST = {
    "mood_before": "3",
    "mood_after": "7",
    "reflections": "I felt held by the music.",
    "insights": "I can slow down.",
    "remind_at": "",
}


@pytest.fixture
def entry(patient, portal_user, past_session):  # noqa: F811
    return services.journal_entry_create(
        actor=portal_user,
        patient=patient,
        appointment=past_session,
        mood_before=4,
        mood_after=6,
        reflections="Jordan's own reflection.",
    )


@pytest.fixture
def intention(patient, portal_user, coming):  # noqa: F811
    return services.intention_save(
        actor=portal_user, patient=patient, appointment=coming, text="Jordan's intention."
    )


def _url(page, *, coming=None, entry=None):  # noqa: F811
    if page == "intention":
        return reverse("portal:intention", args=[coming.uuid])
    if page == "journal_entry":
        return reverse("portal:journal_entry", args=[entry.uuid])
    return reverse(f"portal:{page}")


def _state():
    return {
        "intentions": list(Intention.objects.order_by("pk").values()),
        "entries": list(JournalEntry.objects.order_by("pk").values()),
    }


def _as(client, user):
    client.force_login(user)
    return client


# --------------------------------------------------------------------------- who may open them


@pytest.mark.parametrize(
    ("page", "who", "expected"),
    [
        pytest.param(page, who, expected, id=f"{page}-{who}")
        for page in PAGES
        for who, expected in zip(ACTOR_ORDER, OTHERS, strict=True)
    ],
)
def test_only_the_patient_opens_their_journal_pages(
    client,
    actors,
    coming,  # noqa: F811
    entry,
    page,
    who,
    expected,
):
    response = client_as(client, actors[who]).get(_url(page, coming=coming, entry=entry))
    assert status_word(response) == expected


@pytest.mark.parametrize("page", PAGES)
def test_the_patient_opens_each_page(client, portal_user, coming, entry, page):  # noqa: F811
    response = _as(client, portal_user).get(_url(page, coming=coming, entry=entry))
    assert response.status_code == 200
    assert "If you need help now" in response.content.decode()  # crisis resources


@pytest.mark.parametrize("who", ACTOR_ORDER)
def test_a_refused_write_writes_nothing(client, actors, coming, entry, who):  # noqa: F811
    before = _state()
    client = client_as(client, actors[who])
    responses = [
        client.post(_url("intention", coming=coming), {"text": "Not theirs"}),
        client.post(_url("journal_new"), ENTRY_POST),
        client.post(_url("journal_entry", entry=entry), {**ENTRY_POST, "mood_after": "1"}),
        client.post(
            _url("journal_entry", entry=entry),
            {"action": "share", "shared_with_care_team": "on"},
        ),
    ]
    assert {status_word(r) for r in responses} == {"login" if who == "anonymous" else 403}
    assert _state() == before


# --------------------------------------------------------------------------- another patient


def test_another_patient_cannot_read_or_change_an_intention(
    client,
    other_user,  # noqa: F811
    coming,  # noqa: F811
    intention,
):
    client = _as(client, other_user)
    before = _state()
    assert client.get(_url("intention", coming=coming)).status_code == 404
    assert client.post(_url("intention", coming=coming), {"text": "Mine now"}).status_code == 404
    assert _state() == before
    denied = AuditEvent.objects.filter(actor=other_user, action="denied", object_type="appointment")
    assert denied.count() == 2


def test_another_patient_cannot_read_or_change_an_entry(client, other_user, entry):  # noqa: F811
    client = _as(client, other_user)
    before = _state()
    url = _url("journal_entry", entry=entry)
    assert client.get(url).status_code == 404
    assert client.get(f"{url}?edit=1").status_code == 404
    assert client.post(url, {**ENTRY_POST, "mood_after": "1"}).status_code == 404
    share = {"action": "share", "shared_with_care_team": "on"}
    assert client.post(url, share).status_code == 404
    assert _state() == before
    assert "Jordan's own reflection." not in client.get(_url("journal")).content.decode()


def test_another_patient_cannot_attach_an_entry_to_someone_elses_session(
    client,
    other_user,  # noqa: F811
    past_session,  # noqa: F811
):
    client = _as(client, other_user)
    url = f"{_url('journal_new')}?appointment={past_session.uuid}"
    assert client.get(url).status_code == 404
    assert client.post(url, ENTRY_POST).status_code == 404
    assert not JournalEntry.objects.exists()


@pytest.mark.parametrize("key", [str(uuid.uuid4()), "not-a-uuid"])
def test_an_unknown_session_is_not_found(client, portal_user, key):  # noqa: F811
    response = _as(client, portal_user).get(f"{_url('journal_new')}?appointment={key}")
    assert response.status_code == 404


def test_an_unknown_entry_is_not_found(client, portal_user):  # noqa: F811
    url = reverse("portal:journal_entry", args=[uuid.uuid4()])
    assert _as(client, portal_user).get(url).status_code == 404


# --------------------------------------------------------------------------- the intention


def test_the_patient_writes_their_intention(client, portal_user, coming):  # noqa: F811
    client = _as(client, portal_user)
    html = client.get(_url("intention", coming=coming)).content.decode()
    assert "Monday, June 2, 2031 at 10:00 AM" in html
    assert "Set an intention" in html
    response = client.post(_url("intention", coming=coming), {"text": "To rest in the music."})
    assert response.status_code == 302
    assert response.headers["Location"] == _url("intention", coming=coming)
    html = client.get(_url("intention", coming=coming)).content.decode()
    assert "Your intention is saved. Your care team will see it at your session." in html
    assert "To rest in the music.</textarea>" in html
    assert Intention.objects.get().text == "To rest in the music."


def test_an_empty_intention_is_refused_next_to_the_field(client, portal_user, coming):  # noqa: F811
    response = _as(client, portal_user).post(_url("intention", coming=coming), {"text": " "})
    assert response.status_code == 200
    assert "Write your intention in a few words." in response.content.decode()
    assert not Intention.objects.exists()


def test_the_intention_is_read_only_once_the_session_started(
    client,
    portal_user,  # noqa: F811
    coming,  # noqa: F811
    intention,
    clock,  # noqa: F811
):
    clock.move_to(at(MONDAY, 10))
    client = _as(client, portal_user)
    html = client.get(_url("intention", coming=coming)).content.decode()
    assert "This session has started, so the intention is kept as it was." in html
    assert "Jordan&#x27;s intention." in html
    assert "<textarea" not in html
    response = client.post(_url("intention", coming=coming), {"text": "Too late"})
    assert response.status_code == 302
    assert Intention.objects.get().text == "Jordan's intention."


# --------------------------------------------------------------------------- the journal


def test_the_journal_page_offers_intentions_and_sessions_to_write_about(
    client,
    portal_user,  # noqa: F811
    coming,  # noqa: F811
    past_session,  # noqa: F811
):
    html = _as(client, portal_user).get(_url("journal")).content.decode()
    assert f'href="{_url("intention", coming=coming)}">Set your intention' in html
    new = f"{_url('journal_new')}?appointment={past_session.uuid}"
    assert f'href="{new}">Write about your IV infusion session of Friday, May 30' in html
    assert "You have not written any entries yet." in html


def test_the_patient_writes_about_a_session_privately_then_shares_it(
    client,
    portal_user,  # noqa: F811
    past_session,  # noqa: F811
):
    client = _as(client, portal_user)
    response = client.post(f"{_url('journal_new')}?appointment={past_session.uuid}", ENTRY_POST)
    created = JournalEntry.objects.get()
    assert response.status_code == 302
    assert response.headers["Location"] == _url("journal_entry", entry=created)
    assert (created.appointment, created.mood_before, created.mood_after) == (past_session, 3, 7)
    assert created.shared_with_care_team is False
    html = client.get(_url("journal_entry", entry=created)).content.decode()
    assert "Your entry is saved. It is private: only you can read it." in html
    assert "About your IV infusion session of Friday, May 30, 2031." in html
    assert "3 out of 10" in html and "7 out of 10" in html
    assert "I felt held by the music." in html

    client.post(
        _url("journal_entry", entry=created), {"action": "share", "shared_with_care_team": "on"}
    )
    created.refresh_from_db()
    assert created.shared_with_care_team is True
    html = client.get(_url("journal_entry", entry=created)).content.decode()
    assert "This entry is now shared with your care team." in html
    client.post(_url("journal_entry", entry=created), {"action": "share"})
    created.refresh_from_db()
    assert created.shared_with_care_team is False

    journal = client.get(_url("journal")).content.decode()
    assert "No sessions waiting for an entry." in journal
    assert "mood 3 → 7" in journal and "Private" in journal


def test_a_second_entry_for_the_same_session_goes_to_the_first(client, portal_user, entry):  # noqa: F811
    url = f"{_url('journal_new')}?appointment={entry.appointment.uuid}"
    response = _as(client, portal_user).get(url)
    assert response.status_code == 302
    assert response.headers["Location"] == f"{_url('journal_entry', entry=entry)}?edit=1"


@pytest.mark.parametrize(("field", "value"), [("mood_before", "0"), ("mood_after", "11")])
def test_a_mood_outside_1_to_10_is_refused_next_to_the_field(
    client,
    portal_user,  # noqa: F811
    field,
    value,
):
    response = _as(client, portal_user).post(_url("journal_new"), {**ENTRY_POST, field: value})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="id_{field}_error" role="alert">Choose a whole number from 1 to 10.' in html
    assert not JournalEntry.objects.exists()


def test_the_patient_edits_an_entry_and_sets_a_reminder(client, portal_user, entry):  # noqa: F811
    client = _as(client, portal_user)
    url = _url("journal_entry", entry=entry)
    form = client.get(f"{url}?edit=1").content.decode()
    assert "Jordan&#x27;s own reflection.</textarea>" in form
    response = client.post(
        url,
        {
            **ENTRY_POST,
            "mood_after": "8",
            "reflections": "Added later.",
            "remind_at": "2031-06-02T12:00",
        },
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.mood_after, entry.reflections, entry.remind_at) == (
        8,
        "Added later.",
        at(MONDAY, 12),
    )
    html = client.get(url).content.decode()
    assert "We will send you a reminder on Monday, June 2 at 12:00 PM." in html
    assert AuditEvent.objects.filter(
        actor=portal_user, action="update", object_type="journal_entry"
    ).exists()


def test_a_reminder_in_the_past_is_refused_next_to_the_field(client, portal_user, entry):  # noqa: F811
    response = _as(client, portal_user).post(
        _url("journal_entry", entry=entry), {**ENTRY_POST, "remind_at": "2031-06-01T12:00"}
    )
    assert response.status_code == 200
    assert 'id="id_remind_at_error" role="alert">Choose a time in the future.' in (
        response.content.decode()
    )
    entry.refresh_from_db()
    assert entry.remind_at is None


def test_reading_an_entry_is_audited(client, portal_user, entry):  # noqa: F811
    _as(client, portal_user).get(_url("journal_entry", entry=entry))
    event = AuditEvent.objects.filter(action="view", object_type="journal_entry").get()
    assert (event.actor, event.patient, event.object_id) == (
        portal_user,
        entry.patient,
        str(entry.uuid),
    )


def test_the_journal_page_stays_flat_as_entries_grow(
    client,
    patient,
    portal_user,  # noqa: F811
    coming,  # noqa: F811
    past_session,  # noqa: F811
):
    client = _as(client, portal_user)
    client.get(_url("journal"))  # the first request settles the session

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(_url("journal")).status_code == 200
        return len(queries)

    services.journal_entry_create(actor=portal_user, patient=patient, mood_before=2, mood_after=3)
    one = count()
    for _ in range(4):
        services.journal_entry_create(
            actor=portal_user, patient=patient, mood_before=2, mood_after=3
        )
    assert count() == one


def test_the_journal_read_is_audited_without_a_count_of_entries(client, portal_user, entry):  # noqa: F811
    _as(client, portal_user).get(_url("journal"))
    event = AuditEvent.objects.get(action="list", object_type="journal_entry")
    assert (event.actor, event.patient) == (portal_user, entry.patient)
    assert event.summary == "Own journal read in the portal"
