"""Every portal page that tells a patient to call the clinic gives the clinic's number
(settings.CLINIC_PHONE) as a tel: link, and says just "call the clinic" when none is set."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.accounts.models import User
from clinic.patients.models import Patient
from clinic.scheduling.models import Appointment, Chair, Room

pytestmark = pytest.mark.django_db

NUMBER = "(212) 555-0142"
LINK = f'call the clinic on <a href="tel:2125550142" class="clinic-phone">{NUMBER}</a>'


@pytest.fixture
def portal(client, patient):
    user = User.objects.create_user(username="jordan", password="x" * 12, role="patient")
    Patient.objects.filter(pk=patient.pk).update(user=user)
    client.force_login(user)
    return client


@pytest.fixture
def appointment(patient, nurse, front_desk):
    room = Room.objects.create(name="Room A")
    chair = Chair.objects.create(room=room, name="Chair 1", capabilities=["iv_pump"])
    starts_at = timezone.now() + datetime.timedelta(days=2)
    return Appointment.objects.create(
        patient=patient,
        chair=chair,
        nurse=nurse,
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(minutes=70),
        route="iv",
        created_by=front_desk,
    )


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.mark.parametrize(
    ("page", "sentence"),
    [
        ("appointments", "To book, change or cancel an appointment, please {}."),
        ("appointment", "To change or cancel the appointment, please {}."),
        ("journal_new", "use the numbers at the bottom of this page or {}."),
    ],
)
def test_care_pages_give_the_number_when_set_and_plain_words_when_not(
    portal, appointment, settings, page, sentence
):
    url = reverse(f"portal:{page}", args=[appointment.uuid] if page == "appointment" else [])
    settings.CLINIC_PHONE = NUMBER
    assert sentence.format(LINK) in _text(portal.get(url))

    settings.CLINIC_PHONE = ""
    html = _text(portal.get(url))
    assert sentence.format("call the clinic") in html
    assert "tel:" not in html


def test_the_password_reset_pages_give_the_number(client, settings):
    settings.CLINIC_PHONE = NUMBER

    sent = _text(client.get(reverse("portal:password_reset_sent")))
    assert f"Check your spam folder, or {LINK}." in sent

    settings.PORTAL_PASSWORD_RESET_RATE_LIMIT_COUNT = 0
    limited = client.post(reverse("portal:password_reset"), {"email": "a@example.org"})
    assert limited.status_code == 429
    assert f"try again, or {LINK}." in _text(limited)


def test_an_unusable_invitation_link_gives_the_number_to_ask_for_a_new_one(client, settings):
    settings.CLINIC_PHONE = NUMBER
    client.get(reverse("portal:activate_link", args=["not-a-real-token"]))

    response = client.get(reverse("portal:activate"))

    assert response.status_code == 404
    assert (
        "Please ask the clinic for a new invitation.</strong> Call "
        f'<a href="tel:2125550142" class="clinic-phone">{NUMBER}</a>.' in _text(response)
    )
