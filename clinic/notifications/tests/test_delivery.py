"""Delivering the outbox: what a sent message keeps."""

from __future__ import annotations

import pytest

from clinic.notifications import delivery
from clinic.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_a_sent_emails_links_do_not_stay_in_the_outbox(patient, mailoutbox):
    """The e-mail carries the link; once it is sent, the stored copy no longer does."""
    patient.email = "jordan@example.org"
    patient.save(update_fields=["email"])
    notification = Notification.objects.create(
        to_email="jordan@example.org",
        patient=patient,
        subject="Your questionnaire",
        body="Please answer: https://clinic.example.org/q/SECRET-TOKEN/ before Friday.",
    )
    assert delivery.notification_deliver(notification.pk) == "sent"
    assert "SECRET-TOKEN" in mailoutbox[0].body
    notification.refresh_from_db()
    assert notification.body == "Please answer: [link removed once sent] before Friday."
