"""The idle sign-out (SESSION_IDLE_TIMEOUT_MIN): pages the user opens push it back; a page that
refreshes itself in the background does not, so a screen left open still signs out. Once
signed out, a background refresh takes the whole page to the sign-in form."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db


def _expiry(client) -> datetime.datetime:
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_a_background_refresh_does_not_push_back_the_idle_sign_out(client, nurse, settings):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client.force_login(nurse)
        client.get(reverse("dashboard:home"))
        first = _expiry(client)
        assert first == start + datetime.timedelta(minutes=settings.SESSION_IDLE_TIMEOUT_MIN)

        clock.move_to(start + datetime.timedelta(minutes=10))
        client.get(reverse("dashboard:home"), headers={"X-Background-Refresh": "1"})
        assert _expiry(client) == first

        clock.move_to(start + datetime.timedelta(minutes=20))
        client.get(reverse("dashboard:home"))
        assert _expiry(client) == start + datetime.timedelta(
            minutes=20 + settings.SESSION_IDLE_TIMEOUT_MIN
        )


def test_a_signed_out_background_refresh_sends_the_page_to_sign_in(client):
    response = client.get(
        reverse("patients:patient_list"),
        headers={"HX-Request": "true", "X-Background-Refresh": "1"},
    )
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("accounts:login"))


def test_activity_pushes_the_idle_sign_out_back_at_most_once_a_refresh_interval(
    client, nurse, settings
):
    settings.SESSION_REFRESH_INTERVAL_S = 60
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client.force_login(nurse)
        client.get(reverse("dashboard:home"))
        first = _expiry(client)

        # Pages opened within the interval write nothing: the deadline stays where it was.
        clock.move_to(start + datetime.timedelta(seconds=59))
        client.get(reverse("dashboard:home"))
        assert _expiry(client) == first

        # The first page after the interval pushes it back from that moment.
        clock.move_to(start + datetime.timedelta(seconds=61))
        client.get(reverse("dashboard:home"))
        assert _expiry(client) == start + datetime.timedelta(
            seconds=61, minutes=settings.SESSION_IDLE_TIMEOUT_MIN
        )


def test_a_change_to_the_session_is_saved_within_the_refresh_interval(client, nurse, settings):
    """Flash messages, the location switcher's choice, sign-out: never held back."""
    settings.SESSION_REFRESH_INTERVAL_S = 60
    client.force_login(nurse)
    client.get(reverse("dashboard:home"))
    client.post(reverse("accounts:logout"))
    assert not Session.objects.exists()
    response = client.get(reverse("patients:patient_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
