"""Inviting staff in a network: the invitation says where they work; a clinic with one
location asks nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clinic.accounts.models import User
from clinic.locations import services as locations
from clinic.locations.selectors import location_default, locations_for

pytestmark = pytest.mark.django_db

INVITE = {
    "username": "newnurse",
    "first_name": "Ari",
    "last_name": "Moss",
    "email": "ari@clinic.example",
    "role": "nurse",
    "credentials": "RN",
}


def test_a_single_location_clinic_asks_nothing_about_locations(client, clinic_admin):
    client.force_login(clinic_admin)
    page = client.get(reverse("accounts:staff_invite"))
    assert b"Works at" not in page.content
    client.post(reverse("accounts:staff_invite"), INVITE)
    invited = User.objects.get(username="newnurse")
    assert list(locations_for(invited)) == [location_default()]


def test_the_invitation_names_the_locations_they_work_at(client, clinic_admin):
    riverside = locations.location_open(
        actor=clinic_admin,
        details=locations.LocationDetails(
            name="Riverside", code="RVS", time_zone="America/Chicago"
        ),
    )
    client.force_login(clinic_admin)
    page = client.get(reverse("accounts:staff_invite"))
    assert b"Works at" in page.content and b"Riverside" in page.content
    missing = client.post(reverse("accounts:staff_invite"), INVITE)
    assert missing.status_code == 200  # a network's invitation must say where
    assert not User.objects.filter(username="newnurse").exists()
    client.post(reverse("accounts:staff_invite"), INVITE | {"works_at": [riverside.pk]})
    invited = User.objects.get(username="newnurse")
    assert list(locations_for(invited)) == [riverside]
