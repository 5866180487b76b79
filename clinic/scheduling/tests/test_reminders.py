"""Appointment reminders: route-specific preparation with fasting times worked out from the
start, sent once 48 h and once 24 h before, through the outbox that retries failures.

Fasting times come from policy-defaults.md: IV/IM no solid food 4 h, clear liquids until 2 h
before ([E12]); esketamine no food 2 h, no liquids 30 min, nasal steroid/decongestant ≥ 1 h
before ([C3]); an escort home and no driving until the next day ([C3], [E11]).
"""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from clinic.core.models import AuditEvent
from clinic.notifications.delivery import notification_deliver
from clinic.notifications.models import Notification
from clinic.patients.models import Patient
from clinic.scheduling import services
from clinic.scheduling.models import Appointment, AppointmentReminder
from clinic.scheduling.tests.conftest import MONDAY, WEEKDAYS, at

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)
MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def emailed(patient):
    Patient.objects.filter(pk=patient.pk).update(email="jordan.rivera@example.org")
    patient.refresh_from_db()
    return patient


@pytest.fixture
def appointment(clinic, emailed, front_desk, chair1, nurse):
    return services.appointment_book(
        actor=front_desk,
        patient=emailed,
        chair=chair1,
        nurse=nurse,
        starts_at=at(MONDAY, 9),
        route="iv",
    )


def _unsaved(route: str, day: datetime.date, hour: int, minute: int = 0, minutes: int = 70):
    starts_at = at(day, hour, minute)
    return Appointment(
        route=route, starts_at=starts_at, ends_at=starts_at + datetime.timedelta(minutes=minutes)
    )


def test_an_iv_reminder_gives_the_fasting_times_for_its_start(settings):
    settings.CLINIC_NAME = "Harbor Ketamine Clinic"
    subject, body = services.reminder_text(_unsaved("iv", MONDAY, 9))
    assert subject == "Harbor Ketamine Clinic: your appointment on Monday 06/02 at 09:00"
    assert "Monday 06/02/2031 at 09:00 (plan to stay about 1 h 10 min)" in body
    assert "- No solid food after 05:00; clear liquids until 07:00.\n" in body
    escort = "- An adult must take you home after the session. Do not drive until the next day."
    assert escort + "\n" in body
    assert "- Bring a photo ID and your insurance card;" in body
    assert "nasal" not in body


def test_a_reminder_gives_the_clinics_number_to_change_or_cancel(settings):
    settings.CLINIC_PHONE = "(212) 555-0142"
    _subject, body = services.reminder_text(_unsaved("iv", MONDAY, 9))
    assert body.endswith(
        "\nTo change or cancel the appointment, please call the clinic on (212) 555-0142.\n"
    )

    settings.CLINIC_PHONE = ""
    _subject, body = services.reminder_text(_unsaved("iv", MONDAY, 9))
    assert body.endswith("\nTo change or cancel the appointment, please call the clinic.\n")


def test_an_im_reminder_uses_the_same_fasting_rule():
    _subject, body = services.reminder_text(_unsaved("im", MONDAY, 13, 30, minutes=60))
    assert "No solid food after 09:30; clear liquids until 11:30." in body
    assert "(plan to stay about 1 h 00 min)" in body


def test_an_esketamine_reminder_follows_the_label():
    _subject, body = services.reminder_text(_unsaved("esketamine", MONDAY, 9, minutes=130))
    assert "- No food after 07:00; no liquids after 08:30.\n" in body
    assert "use it no later than 08:00." in body
    assert "Do not drive or use machinery until the next day, after a restful sleep." in body


def test_fasting_that_starts_the_day_before_says_so(settings):
    settings.CLINIC_POLICY = {"scheduling": {"fasting_solids_min": {"iv": 480}}}
    _subject, body = services.reminder_text(_unsaved("iv", MONDAY, 7, 30))
    assert "No solid food after 23:30 on Sunday 06/01/2031; clear liquids until 05:30." in body


def test_reminders_go_once_48_hours_and_once_24_hours_before(
    appointment, django_capture_on_commit_callbacks
):
    start = appointment.starts_at

    def run(now):
        with django_capture_on_commit_callbacks(execute=True):
            return services.appointment_reminders_send(now)

    assert run(start - 49 * HOUR) == 0  # not yet
    assert run(start - 48 * HOUR + 5 * MINUTE) == 1
    assert run(start - 48 * HOUR + 20 * MINUTE) == 0  # the next cron run: already sent
    assert run(start - 30 * HOUR) == 0
    assert run(start - 24 * HOUR + MINUTE) == 1
    assert run(start - 2 * HOUR) == 0
    assert [m.to for m in mail.outbox] == [["jordan.rivera@example.org"]] * 2
    assert "No solid food after 05:00; clear liquids until 07:00." in mail.outbox[0].body
    reminders = list(AppointmentReminder.objects.order_by("created_at", "id"))
    assert [r.hours_before for r in reminders] == [48, 24]
    assert all(r.notification.status == "sent" for r in reminders)
    notification = reminders[0].notification
    assert notification.patient_id == appointment.patient_id and notification.recipient is None
    assert AuditEvent.objects.filter(object_type="appointment_reminder").count() == 2


def test_a_late_booking_gets_only_the_reminder_still_ahead(appointment):
    assert services.appointment_reminders_send(appointment.starts_at - 10 * HOUR) == 1
    assert AppointmentReminder.objects.get().hours_before == 24


def test_cancelled_appointments_get_no_reminder(appointment, front_desk):
    services.appointment_cancel(actor=front_desk, appointment=appointment, reason="Moved away")
    assert services.appointment_reminders_send(appointment.starts_at - 20 * HOUR) == 0
    assert not Notification.objects.exists()


def test_a_rescheduled_appointment_is_reminded_of_its_new_time(appointment, front_desk):
    assert services.appointment_reminders_send(appointment.starts_at - 20 * HOUR) == 1
    moved = services.appointment_reschedule(
        actor=front_desk, appointment=appointment, starts_at=at(WEEKDAYS[1], 10), reason="Asked"
    )
    assert services.appointment_reminders_send(moved.starts_at - 20 * HOUR) == 1
    latest = Notification.objects.order_by("-id").first()
    assert "Tuesday 06/03/2031 at 10:00" in latest.body
    assert "No solid food after 06:00; clear liquids until 08:00." in latest.body


def test_no_email_address_is_recorded_once_and_queues_nothing(
    clinic, patient, front_desk, chair1, nurse
):
    booked = services.appointment_book(
        actor=front_desk,
        patient=patient,
        chair=chair1,
        nurse=nurse,
        starts_at=at(MONDAY, 9),
        route="iv",
    )
    assert services.appointment_reminders_send(booked.starts_at - 20 * HOUR) == 0
    assert services.appointment_reminders_send(booked.starts_at - 19 * HOUR) == 0
    reminder = AppointmentReminder.objects.get()
    assert reminder.notification is None
    assert reminder.skipped_reason == "The patient has no e-mail address on file."
    assert not Notification.objects.exists()


def test_a_failed_delivery_is_retried_by_the_outbox(
    appointment, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(*args, **kwargs):
        raise ConnectionRefusedError("SMTP server down")

    monkeypatch.setattr("django.core.mail.send_mail", broken)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.appointment_reminders_send(appointment.starts_at - 20 * HOUR) == 1
    notification = AppointmentReminder.objects.get().notification
    notification.refresh_from_db()
    assert notification.status == "failed" and notification.attempts == 1
    assert "SMTP server down" in notification.last_error
    # The reminder is not queued a second time: the outbox owns the retry.
    assert services.appointment_reminders_send(appointment.starts_at - 19 * HOUR) == 0
    monkeypatch.undo()
    Notification.objects.filter(pk=notification.pk).update(next_attempt_at=timezone.now())
    assert notification_deliver(notification.pk) == "sent"
    assert len(mail.outbox) == 1 and Notification.objects.count() == 1


def test_the_command_queues_what_is_due(appointment, monkeypatch, capsys):
    monkeypatch.setattr(
        "clinic.scheduling.services.reminders.timezone.now",
        lambda: appointment.starts_at - 20 * HOUR,
    )
    call_command("send_appointment_reminders")
    assert "Queued 1 appointment reminder(s)." in capsys.readouterr().out
    assert AuditEvent.objects.filter(object_type="appointment_reminder").get().channel == "command"
