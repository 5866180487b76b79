"""The outbox's one way in: a row written in the caller's transaction, delivered once it
commits, and never delivered when it rolls back."""

from __future__ import annotations

import pytest
from django.db import transaction

from clinic.notifications.models import Notification
from clinic.notifications.services import notification_queue

pytestmark = pytest.mark.django_db


def test_a_queued_message_is_delivered_after_the_commit(
    prescriber, mailoutbox, django_capture_on_commit_callbacks
):
    prescriber.email = "rx@clinic.example"
    prescriber.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        notification = notification_queue(
            recipient=prescriber, subject="Please look", body="https://x.example/a"
        )
        assert mailoutbox == []  # not before the event is committed
    assert [m.to for m in mailoutbox] == [["rx@clinic.example"]]
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("sent", 1)
    assert notification.body == "[link removed once sent]"


def test_a_message_rolled_back_with_its_event_is_never_sent(
    mailoutbox, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notification_queue(to_email="pat@example.org", subject="Hello", body="Text")
        raise RuntimeError
    assert callbacks == []
    assert mailoutbox == [] and not Notification.objects.exists()
