"""The journal's writes: intentions until the session starts, journal entries with their mood
ratings (whole numbers 1–10), sharing, and the audit trail that keeps the patient's private
words out of the log."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, transaction

from clinic.core.exceptions import Conflict, InvalidInput, NotFound
from clinic.core.models import AuditEvent
from clinic.journal import services
from clinic.journal.models import Intention, JournalEntry
from clinic.journal.tests.conftest import MONDAY, at, make_appointment

pytestmark = pytest.mark.django_db


def _entry(actor, patient, **overrides):
    data = {"mood_before": 3, "mood_after": 6, "reflections": "Felt the weight lift."}
    data.update(overrides)
    return services.journal_entry_create(actor=actor, patient=patient, **data)


# --------------------------------------------------------------------------- intentions


def test_an_intention_is_written_then_changed_and_both_are_audited(
    patient, portal_user, coming, clock
):
    intention = services.intention_save(
        actor=portal_user, patient=patient, appointment=coming, text="  To rest.  "
    )
    assert intention.text == "To rest."
    assert intention.written_at == at(MONDAY, 8, 30)
    clock.move_to(at(MONDAY, 9, 15))
    services.intention_save(
        actor=portal_user, patient=patient, appointment=coming, text="To be kind to myself."
    )
    intention.refresh_from_db()
    assert intention.text == "To be kind to myself."
    assert intention.written_at == at(MONDAY, 9, 15)
    assert Intention.objects.count() == 1
    events = list(
        AuditEvent.objects.filter(object_type="intention", object_id=str(intention.uuid))
        .order_by("id")
        .values_list("action", "actor", "changes")
    )
    assert events == [
        ("create", portal_user.pk, {"text": {"before": None, "after": "To rest."}}),
        (
            "update",
            portal_user.pk,
            {"text": {"before": "To rest.", "after": "To be kind to myself."}},
        ),
    ]


def test_the_intention_is_locked_once_the_appointment_starts(patient, portal_user, coming, clock):
    services.intention_save(actor=portal_user, patient=patient, appointment=coming, text="Rest.")
    clock.move_to(at(MONDAY, 10))  # the appointment's start
    with pytest.raises(Conflict) as refused:
        services.intention_save(
            actor=portal_user, patient=patient, appointment=coming, text="Changed"
        )
    assert refused.value.code == "intention_locked"
    assert Intention.objects.get().text == "Rest."


def test_no_intention_for_a_cancelled_appointment(patient, portal_user, coming):
    coming.status = "cancelled"
    coming.status_reason = "Patient unwell"
    coming.save(update_fields=["status", "status_reason"])
    with pytest.raises(Conflict):
        services.intention_save(actor=portal_user, patient=patient, appointment=coming, text="x")
    assert not Intention.objects.exists()


def test_an_intention_needs_words_and_fits_the_session_record(patient, portal_user, coming):
    with pytest.raises(InvalidInput) as empty:
        services.intention_save(actor=portal_user, patient=patient, appointment=coming, text="  ")
    assert empty.value.errors == {"text": ["Write your intention in a few words."]}
    with pytest.raises(InvalidInput) as long:
        services.intention_save(
            actor=portal_user, patient=patient, appointment=coming, text="x" * 2001
        )
    assert long.value.errors == {
        "text": ["Please keep this under 2,000 characters (it has 2,001)."]
    }
    assert not Intention.objects.exists()


def test_nobody_writes_an_intention_for_someone_elses_appointment(
    patient, portal_user, other_patient, other_user, coming, other_coming, therapist
):
    with pytest.raises(NotFound):  # B on A's appointment, claiming to be A's record
        services.intention_save(actor=other_user, patient=patient, appointment=coming, text="x")
    with pytest.raises(NotFound):  # B's own record, A's appointment
        services.intention_save(
            actor=other_user, patient=other_patient, appointment=coming, text="x"
        )
    with pytest.raises(NotFound):  # staff do not write a patient's intention
        services.intention_save(actor=therapist, patient=patient, appointment=coming, text="x")
    assert not Intention.objects.exists()


# --------------------------------------------------------------------------- journal entries


@pytest.mark.parametrize(
    ("field", "value"),
    [("mood_before", 0), ("mood_before", 11), ("mood_after", 0), ("mood_after", 11)],
)
def test_a_mood_outside_1_to_10_is_refused(patient, portal_user, field, value):
    with pytest.raises(InvalidInput) as refused:
        _entry(portal_user, patient, **{field: value})
    assert refused.value.errors == {field: ["Choose a whole number from 1 to 10."]}
    assert not JournalEntry.objects.exists()


@pytest.mark.parametrize("value", [None, "", "7.5", "seven", True, 5.0])
def test_a_mood_must_be_a_whole_number(patient, portal_user, value):
    with pytest.raises(InvalidInput) as refused:
        _entry(portal_user, patient, mood_after=value)
    assert refused.value.errors == {"mood_after": ["Choose a whole number from 1 to 10."]}


@pytest.mark.parametrize("value", [1, 10, "1", "10"])
def test_moods_1_and_10_are_accepted(patient, portal_user, value):
    entry = _entry(portal_user, patient, mood_before=value, mood_after=value)
    assert (entry.mood_before, entry.mood_after) == (int(value), int(value))


def test_the_database_refuses_a_mood_of_11_too(patient):
    with pytest.raises(IntegrityError), transaction.atomic():
        JournalEntry.objects.create(patient=patient, mood_before=11, mood_after=5)


def test_an_entry_is_private_by_default_and_about_a_past_session(
    patient, portal_user, past_session
):
    entry = _entry(portal_user, patient, appointment=past_session)
    assert entry.appointment == past_session
    assert entry.shared_with_care_team is False
    assert entry.shared_at is None
    event = AuditEvent.objects.get(object_type="journal_entry", action="create")
    assert event.actor == portal_user
    assert event.summary == "Journal entry written in the portal (private)"


def test_an_entry_cannot_be_about_a_session_still_to_come(patient, portal_user, coming):
    with pytest.raises(Conflict) as refused:
        _entry(portal_user, patient, appointment=coming)
    assert refused.value.code == "session_not_past"


def test_an_entry_cannot_be_attached_to_another_patients_session(
    patient, other_patient, other_user, past_session
):
    with pytest.raises(NotFound):
        _entry(other_user, other_patient, appointment=past_session)
    assert not JournalEntry.objects.exists()


def test_one_entry_per_session(patient, portal_user, past_session):
    _entry(portal_user, patient, appointment=past_session)
    with pytest.raises(Conflict) as refused:
        _entry(portal_user, patient, appointment=past_session)
    assert refused.value.code == "entry_exists"
    assert JournalEntry.objects.count() == 1


def test_editing_is_audited_with_digests_not_the_private_words(patient, portal_user, clock):
    entry = _entry(portal_user, patient, reflections="secret words")
    clock.move_to(at(MONDAY, 9))
    services.journal_entry_update(
        actor=portal_user,
        entry=entry,
        data={"mood_after": 8, "reflections": "other secret words", "insights": ""},
    )
    entry.refresh_from_db()
    assert (entry.mood_after, entry.reflections) == (8, "other secret words")
    event = AuditEvent.objects.get(object_type="journal_entry", action="update")
    assert event.actor == portal_user
    assert event.summary == "Journal entry edited in the portal"
    assert set(event.changes) == {"mood_after", "reflections"}
    assert event.changes["mood_after"] == {"before": 6, "after": 8}
    before, after = event.changes["reflections"]["before"], event.changes["reflections"]["after"]
    assert before.startswith("sha256:") and before.endswith("(12 characters)")
    assert after.startswith("sha256:") and after.endswith("(18 characters)")
    everything = str(list(AuditEvent.objects.values("summary", "changes")))
    assert "secret" not in everything


def test_sharing_is_the_patients_choice_and_can_be_taken_back(patient, portal_user, clock):
    entry = _entry(portal_user, patient)
    clock.move_to(at(MONDAY, 9))
    services.journal_entry_update(
        actor=portal_user, entry=entry, data={"shared_with_care_team": True}
    )
    entry.refresh_from_db()
    assert entry.shared_with_care_team is True
    assert entry.shared_at == at(MONDAY, 9)
    services.journal_entry_update(
        actor=portal_user, entry=entry, data={"shared_with_care_team": False}
    )
    entry.refresh_from_db()
    assert entry.shared_with_care_team is False
    assert entry.shared_at is None
    summaries = list(
        AuditEvent.objects.filter(object_type="journal_entry", action="update")
        .order_by("id")
        .values_list("summary", flat=True)
    )
    assert summaries == [
        "Journal entry shared with the care team in the portal",
        "Journal entry unshared in the portal",
    ]


def test_nobody_else_edits_an_entry(patient, portal_user, other_user, therapist):
    entry = _entry(portal_user, patient)
    for actor in (other_user, therapist):
        with pytest.raises(NotFound):
            services.journal_entry_update(actor=actor, entry=entry, data={"mood_after": 9})
    entry.refresh_from_db()
    assert entry.mood_after == 6


# --------------------------------------------------------------------------- reminder time


@pytest.mark.parametrize(
    ("remind_at", "message"),
    [
        (at(MONDAY, 8, 30), "Choose a time in the future."),
        (at(MONDAY, 8), "Choose a time in the future."),
        (at(MONDAY, 8, 31) + datetime.timedelta(days=30), "Choose a time within the next 30 days."),
    ],
)
def test_a_reminder_is_for_the_next_30_days(patient, portal_user, remind_at, message):
    with pytest.raises(InvalidInput) as refused:
        _entry(portal_user, patient, remind_at=remind_at)
    assert refused.value.errors == {"remind_at": [message]}


def test_a_reminder_30_days_ahead_is_accepted(patient, portal_user):
    entry = _entry(portal_user, patient, remind_at=at(MONDAY, 8, 30) + datetime.timedelta(days=30))
    assert entry.remind_at == at(MONDAY, 8, 30) + datetime.timedelta(days=30)


def test_no_reminder_without_an_e_mail_address(patient, portal_user):
    patient.email = ""
    patient.save(update_fields=["email"])
    portal_user.email = ""
    portal_user.save(update_fields=["email"])
    with pytest.raises(InvalidInput) as refused:
        _entry(portal_user, patient, remind_at=at(MONDAY, 12))
    assert list(refused.value.errors) == ["remind_at"]
    assert "no e-mail address" in refused.value.errors["remind_at"][0]


def test_an_unchanged_past_reminder_does_not_block_an_edit(patient, portal_user, clock):
    entry = _entry(portal_user, patient, remind_at=at(MONDAY, 12))
    clock.move_to(at(MONDAY, 13))
    services.journal_entry_update(
        actor=portal_user, entry=entry, data={"remind_at": at(MONDAY, 12), "mood_after": 7}
    )
    entry.refresh_from_db()
    assert entry.mood_after == 7


def test_a_new_reminder_time_asks_for_a_new_reminder(patient, portal_user, past_session):
    entry = _entry(portal_user, patient, remind_at=at(MONDAY, 12))
    JournalEntry.objects.filter(pk=entry.pk).update(reminder_sent_at=at(MONDAY, 12))
    entry.refresh_from_db()
    services.journal_entry_update(
        actor=portal_user, entry=entry, data={"remind_at": at(MONDAY, 18)}
    )
    entry.refresh_from_db()
    assert (entry.remind_at, entry.reminder_sent_at) == (at(MONDAY, 18), None)


def test_a_past_session_is_one_the_patient_came_to(patient, chair, nurse, front_desk, portal_user):
    no_show = make_appointment(
        patient,
        chair,
        nurse,
        front_desk,
        starts_at=at(MONDAY, 7),
        status="no_show",
        status_reason="Did not come",
    )
    with pytest.raises(Conflict):
        _entry(portal_user, patient, appointment=no_show)
