""" "Remind me to reflect later": one e-mail at the time the patient chose, through the outbox,
with a link to the entry in the portal and nothing about what they wrote or their sessions."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.management import call_command

from clinic.core.models import AuditEvent
from clinic.journal import services
from clinic.journal.models import JournalEntry
from clinic.journal.tests.conftest import MONDAY, at
from clinic.notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(patient, portal_user, past_session):
    return services.journal_entry_create(
        actor=portal_user,
        patient=patient,
        appointment=past_session,
        mood_before=4,
        mood_after=7,
        reflections="I saw my father's garden.",
        insights="Grief can be gentle.",
        remind_at=at(MONDAY, 12),
    )


def test_the_reminder_goes_once_at_its_time(entry, clock):
    clock.move_to(at(MONDAY, 11, 59))
    assert services.journal_reminders_send() == 0
    assert not Notification.objects.exists()

    clock.move_to(at(MONDAY, 12))
    assert services.journal_reminders_send() == 1
    clock.move_to(at(MONDAY, 12, 15))
    assert services.journal_reminders_send() == 0
    clock.move_to(at(MONDAY + datetime.timedelta(days=2), 9))
    assert services.journal_reminders_send() == 0

    notification = Notification.objects.get()
    assert notification.to_email == "jordan@example.org"
    assert notification.patient == entry.patient
    assert notification.recipient is None
    assert notification.subject == "KetaCare Clinic: the reminder you asked for"
    assert f"http://127.0.0.1:8000/portal/journal/{entry.uuid}/" in notification.body
    entry.refresh_from_db()
    assert entry.reminder_sent_at == at(MONDAY, 12)
    assert entry.reminder_notification == notification
    audit = AuditEvent.objects.get(object_type="journal_reminder")
    assert audit.summary == "Journal reminder queued"
    assert audit.actor is None


def test_the_e_mail_says_nothing_about_the_entry_or_the_session(entry, clock):
    clock.move_to(at(MONDAY, 12))
    services.journal_reminders_send()
    subject, body = Notification.objects.values_list("subject", "body").get()
    words = set(re.findall(r"[a-z0-9']+", f"{subject} {body}".lower()))
    private = {"garden", "father's", "grief", "gentle", "ketamine", "iv", "infusion", "session"}
    private |= {"mood", "4", "7", "may", "30", "jordan", "rivera"}
    assert words & private == set()


def test_a_new_time_sends_a_new_reminder_once(entry, portal_user, clock):
    clock.move_to(at(MONDAY, 12))
    assert services.journal_reminders_send() == 1
    services.journal_entry_update(
        actor=portal_user,
        entry=JournalEntry.objects.get(pk=entry.pk),
        data={"remind_at": at(MONDAY, 18)},
    )
    assert services.journal_reminders_send() == 0
    clock.move_to(at(MONDAY, 18))
    assert services.journal_reminders_send() == 1
    assert services.journal_reminders_send() == 0
    assert Notification.objects.count() == 2


def test_an_address_removed_since_is_recorded_and_not_retried(entry, clock):
    patient = entry.patient
    patient.email = ""
    patient.save(update_fields=["email"])
    patient.user.email = ""
    patient.user.save(update_fields=["email"])
    clock.move_to(at(MONDAY, 12))
    assert services.journal_reminders_send() == 0
    assert services.journal_reminders_send() == 0
    assert not Notification.objects.exists()
    assert AuditEvent.objects.get(object_type="journal_reminder").summary == (
        "Journal reminder not sent: no e-mail address or inactive record"
    )


def test_the_command_queues_what_is_due(entry, clock, capsys):
    clock.move_to(at(MONDAY, 12, 5))
    call_command("send_journal_reminders")
    assert capsys.readouterr().out == "Queued 1 journal reminder(s).\n"
    call_command("send_journal_reminders")
    assert capsys.readouterr().out == "Queued 0 journal reminder(s).\n"
    assert Notification.objects.count() == 1
