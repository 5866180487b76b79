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


def _riverside(clinic_admin):
    return locations.location_open(
        actor=clinic_admin,
        details=locations.LocationDetails(
            name="Riverside", code="RVS", time_zone="America/Chicago"
        ),
    )


def test_the_staff_pages_of_a_single_location_clinic_say_nothing_of_locations(
    client, clinic_admin, nurse
):
    client.force_login(clinic_admin)
    listing = client.get(reverse("accounts:staff_list")).content.decode()
    detail = client.get(reverse("accounts:staff_detail", args=[nurse.uuid])).content.decode()
    assert "Works at" not in listing and "No location" not in listing
    assert "Works at" not in detail


def test_the_staff_pages_show_where_each_works_and_flag_who_works_nowhere(
    client, clinic_admin, nurse, make_staff
):
    riverside = _riverside(clinic_admin)  # the nurse is recorded at the first location
    locations.location_staff_set(actor=clinic_admin, location=riverside, staff_ids=[nurse.pk])
    stranded = make_staff("nurse", username="nolocation", first_name="Noa", last_name="Lind")
    client.force_login(clinic_admin)

    listing = client.get(reverse("accounts:staff_list")).content.decode()
    assert "Works at" in listing
    nurse_row = listing[
        listing.index(nurse.username) : listing.index("</tr>", listing.index(nurse.username))
    ]
    assert location_default().name in nurse_row and "Riverside" in nurse_row
    stranded_row = listing[
        listing.index("nolocation") : listing.index("</tr>", listing.index("nolocation"))
    ]
    assert "No location" in stranded_row

    detail = client.get(reverse("accounts:staff_detail", args=[stranded.uuid])).content.decode()
    assert "No location." in detail and "cannot open a chair board" in detail
    detail = client.get(reverse("accounts:staff_detail", args=[nurse.uuid])).content.decode()
    assert reverse("locations:staff", args=[riverside.uuid]) in detail


def test_staff_with_no_location_are_told_whom_to_ask(client, clinic_admin, make_staff):
    _riverside(clinic_admin)
    stranded = make_staff("nurse", username="nolocation")
    client.force_login(stranded)
    refused = client.get(reverse("treatment_sessions:board"))
    assert refused.status_code == 403
    assert "ask the clinic administrator to add you to one" in refused.content.decode()
