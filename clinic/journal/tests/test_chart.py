"""The chart's "Integration journal" section.

Expected from clinic/accounts/permissions.py and docs/permissions.md: `journal.view_shared` is
held by prescribers and therapists, and the section needs the patient on the actor's care team.
Those two see the entries the patient shared (newest first) and the intentions for coming
sessions; an unshared entry never reaches staff, not even as a count. Everyone else who can open
the chart (clinic admin, nurse, front desk, billing) sees no section; off-team clinicians cannot
open the chart (404), anonymous visitors sign in, a patient principal is refused (403).
"""

from __future__ import annotations

import pytest

from clinic.core.models import AuditEvent
from clinic.journal import services
from clinic.journal.tests.conftest import MONDAY, at
from tests.helpers import ACTOR_ORDER, chart_html, client_as, status_word

pytestmark = pytest.mark.django_db

SHARED_OLDER = "The music carried me somewhere calm."
SHARED_NEWER = "I noticed I was less afraid of silence."
PRIVATE = "Something only for me about my brother."
INTENTION = "To meet my sadness with curiosity."

# fmt: off
#                anon     portal admin presc nurse ther desk bill off-team presc/nurse/ther
CHART_STATUS = ["login", 403,  200,  200,  200,  200, 200, 200, 404, 404, 404]
SEES_SECTION = [False,   False, False, True, False, True, False, False, False, False, False]
# fmt: on


@pytest.fixture
def journal(patient, portal_user, past_session, coming, clock):
    services.journal_entry_create(
        actor=portal_user,
        patient=patient,
        appointment=past_session,
        mood_before=3,
        mood_after=6,
        reflections=SHARED_OLDER,
        insights="Calm is possible.",
        shared_with_care_team=True,
    )
    clock.move_to(at(MONDAY, 8, 40))
    services.journal_entry_create(
        actor=portal_user,
        patient=patient,
        mood_before=5,
        mood_after=5,
        reflections=PRIVATE,
        insights="PRIVATE-INSIGHT",
    )
    clock.move_to(at(MONDAY, 8, 45))
    services.journal_entry_create(
        actor=portal_user,
        patient=patient,
        mood_before=4,
        mood_after=8,
        reflections=SHARED_NEWER,
        shared_with_care_team=True,
    )
    services.intention_save(actor=portal_user, patient=patient, appointment=coming, text=INTENTION)


@pytest.mark.parametrize(
    ("who", "status", "sees"),
    [
        pytest.param(who, status, sees, id=who)
        for who, status, sees in zip(ACTOR_ORDER, CHART_STATUS, SEES_SECTION, strict=True)
    ],
)
def test_who_sees_the_journal_section(client, actors, patient, journal, who, status, sees):
    client = client_as(client, actors[who])
    response = client.get(f"/patients/{patient.uuid}/")
    assert status_word(response) == status
    html = response.content.decode() if status == 200 else ""
    assert ("Integration journal" in html) is sees
    assert (SHARED_NEWER in html) is sees
    assert (INTENTION in html) is sees
    assert PRIVATE not in html and "PRIVATE-INSIGHT" not in html


def test_the_therapist_reads_shared_entries_newest_first(client, therapist, patient, journal):
    html = chart_html(client_as(client, therapist), patient)
    section = html[html.index('id="journal-heading"') :]
    assert section.index(SHARED_NEWER) < section.index(SHARED_OLDER)
    assert "4 → 8" in section and "3 → 6" in section
    assert "about the IV infusion session of 05/30/2031" in section
    assert "Calm is possible." in section
    assert "written by the patient on 06/02/2031" in section
    # Nothing betrays the private entry: not its words, its mood, nor a count.
    assert PRIVATE not in section and "5 → 5" not in section
    assert section.count("<li>") == 3  # one intention and two shared entries


def test_an_unshared_entry_leaves_the_chart(client, therapist, patient, portal_user, journal):
    from clinic.journal.models import JournalEntry

    newer = JournalEntry.objects.get(reflections=SHARED_NEWER)
    services.journal_entry_update(
        actor=portal_user, entry=newer, data={"shared_with_care_team": False}
    )
    html = chart_html(client_as(client, therapist), patient)
    assert SHARED_NEWER not in html
    assert SHARED_OLDER in html


def test_the_staff_read_is_audited_without_counting_private_entries(
    client, therapist, patient, journal
):
    chart_html(client_as(client, therapist), patient)
    summaries = set(
        AuditEvent.objects.filter(actor=therapist, patient=patient, action="list").values_list(
            "summary", flat=True
        )
    )
    assert "2 shared journal entries (chart)" in summaries
    assert "1 intention(s) for coming sessions (chart)" in summaries


def test_no_section_and_no_journal_read_for_a_nurse(client, nurse, patient, journal):
    chart_html(client_as(client, nurse), patient)
    assert not AuditEvent.objects.filter(
        actor=nurse, object_type__in=["journal_entry", "intention"]
    ).exists()


def test_a_past_sessions_intention_is_not_listed_as_coming(
    client, therapist, patient, journal, clock
):
    clock.move_to(at(MONDAY, 11, 30))  # the 10:00 appointment (70 min) has ended
    html = chart_html(client_as(client, therapist), patient)
    assert INTENTION not in html
    assert "No intentions written for coming sessions." in html
