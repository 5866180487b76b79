"""The clinic administrator's location pages and the switcher, through the browser's requests:
who may open them, opening a location end to end, who works there, and the switcher that is
remembered and refuses a location one does not work at."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.core.models import AuditEvent
from clinic.locations import services
from clinic.locations.models import Location, LocationChoice, LocationStaff

pytestmark = pytest.mark.django_db

STAFF_ROLES = ["prescriber", "nurse", "therapist", "front_desk", "billing"]


def _open(admin, name="Riverside", code="RVS", **overrides) -> Location:
    details = services.LocationDetails(
        name=name, code=code, time_zone="America/Chicago", **overrides
    )
    return services.location_open(actor=admin, details=details)


def _pages(location: Location) -> list[str]:
    return [
        reverse("locations:list"),
        reverse("locations:open"),
        reverse("locations:detail", args=[location.uuid]),
        reverse("locations:staff", args=[location.uuid]),
    ]


# --------------------------------------------------------------------------- who may


def test_anonymous_is_sent_to_sign_in(client, clinic_admin):
    location = _open(clinic_admin)
    for url in _pages(location):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_other_roles_are_refused_and_the_refusal_is_audited(client, clinic_admin, make_staff, role):
    location = _open(clinic_admin)
    client.force_login(make_staff(role))
    for url in _pages(location):
        assert client.get(url).status_code == 403
    assert client.post(reverse("locations:open"), {"name": "X", "code": "X"}).status_code == 403
    assert (
        AuditEvent.objects.filter(action="denied", summary__contains="location.manage").count() >= 5
    )
    assert Location.objects.count() == 2


def test_the_clinic_admin_opens_every_page(client, clinic_admin):
    location = _open(clinic_admin)
    client.force_login(clinic_admin)
    for url in _pages(location):
        assert client.get(url).status_code == 200


# --------------------------------------------------------------------------- the pages


def test_the_network_list_shows_each_location_with_its_counts(client, clinic_admin, nurse):
    from clinic.scheduling import services as scheduling

    location = _open(clinic_admin, city="Springfield", state="IL", phone="555-0100")
    services.location_staff_set(actor=clinic_admin, location=location, staff_ids=[nurse.pk])
    room = scheduling.room_create(actor=clinic_admin, name="Blue", location=location)
    scheduling.chair_create(actor=clinic_admin, room=room, name="Chair 1")
    scheduling.chair_create(actor=clinic_admin, room=room, name="Chair 2")
    client.force_login(clinic_admin)
    page = client.get(reverse("locations:list")).content.decode()
    assert "Riverside" in page and "RVS" in page and "Springfield, IL" in page
    assert "555-0100" in page
    assert "1 / 2" in page  # one room, two chairs


def test_the_admin_opens_a_location_from_the_form(client, clinic_admin):
    client.force_login(clinic_admin)
    response = client.post(
        reverse("locations:open"),
        {
            "name": "Lakeside",
            "code": "lks",
            "time_zone": "America/Denver",
            "place_of_service_code": "11",
            "state": "co",
            "postal_code": "80202",
            "active": "on",
        },
    )
    location = Location.objects.get(name="Lakeside")
    assert response.status_code == 302
    assert response["Location"] == reverse("locations:detail", args=[location.uuid])
    assert (location.code, location.state, location.time_zone, location.active) == (
        "LKS",
        "CO",
        "America/Denver",
        True,
    )


def test_a_refused_value_is_shown_next_to_its_field(client, clinic_admin):
    client.force_login(clinic_admin)
    response = client.post(
        reverse("locations:open"),
        {
            "name": "Lakeside",
            "code": "LKS",
            "time_zone": "America/Denver",
            "place_of_service_code": "11",
            # The check digit of an NPI is a Luhn digit: 1234567890 is not a valid NPI.
            "service_facility_npi": "1234567890",
        },
    )
    assert response.status_code == 200
    assert "service_facility_npi_error" in response.content.decode()
    assert not Location.objects.filter(name="Lakeside").exists()


def test_an_unknown_time_zone_is_refused(client, clinic_admin):
    client.force_login(clinic_admin)
    response = client.post(
        reverse("locations:open"),
        {
            "name": "Lakeside",
            "code": "LKS",
            "time_zone": "Mars/Olympus",
            "place_of_service_code": "11",
        },
    )
    assert response.status_code == 200
    assert "time_zone_error" in response.content.decode()


def test_editing_a_location_saves_it(client, clinic_admin):
    location = _open(clinic_admin)
    client.force_login(clinic_admin)
    response = client.post(
        reverse("locations:detail", args=[location.uuid]),
        {
            "name": "Riverside North",
            "code": "RVS",
            "time_zone": "America/Chicago",
            "place_of_service_code": "11",
            "spravato_rems_setting_id": "REMS-9",
            "active": "on",
        },
    )
    assert response.status_code == 302
    location.refresh_from_db()
    assert (location.name, location.spravato_rems_setting_id) == ("Riverside North", "REMS-9")


def test_who_works_here_is_saved_from_the_checkboxes(client, clinic_admin, nurse, prescriber):
    location = _open(clinic_admin)
    client.force_login(clinic_admin)
    page = client.get(reverse("locations:staff", args=[location.uuid])).content.decode()
    assert nurse.display_name in page and prescriber.display_name in page
    response = client.post(
        reverse("locations:staff", args=[location.uuid]), {"staff": [str(nurse.uuid)]}
    )
    assert response.status_code == 302
    assert set(LocationStaff.objects.filter(location=location).values_list("user", flat=True)) == {
        nurse.pk
    }


def test_an_unknown_location_is_not_found(client, clinic_admin):
    client.force_login(clinic_admin)
    url = reverse("locations:detail", args=["00000000-0000-0000-0000-000000000000"])
    assert client.get(url).status_code == 404


# --------------------------------------------------------------------------- the switcher


def _two_locations(admin, nurse):
    main = Location.objects.get(is_default=True)
    other = _open(admin)
    services.location_staff_set(actor=admin, location=main, staff_ids=[nurse.pk])
    services.location_staff_set(actor=admin, location=other, staff_ids=[nurse.pk])
    return main, other


def test_a_single_location_clinic_shows_no_switcher(client, nurse, clinic_admin):
    for user in (nurse, clinic_admin):
        client.force_login(user)
        page = client.get(reverse("dashboard:home")).content.decode()
        assert "location-switcher" not in page


def test_one_location_of_many_shows_no_switcher(client, clinic_admin, nurse):
    main = Location.objects.get(is_default=True)
    _open(clinic_admin)
    services.location_staff_set(actor=clinic_admin, location=main, staff_ids=[nurse.pk])
    client.force_login(nurse)
    assert "location-switcher" not in client.get(reverse("dashboard:home")).content.decode()


def test_the_switcher_shows_and_is_remembered_across_requests(client, clinic_admin, nurse):
    main, other = _two_locations(clinic_admin, nurse)
    client.force_login(nurse)
    page = client.get(reverse("dashboard:home")).content.decode()
    assert "location-switcher" in page
    assert f'<option value="{main.uuid}" selected>' in page
    response = client.post(
        reverse("locations:choose"),
        {"location": str(other.uuid), "next": reverse("treatment_sessions:board")},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("treatment_sessions:board")
    assert LocationChoice.objects.get(user=nurse).location == other
    page = client.get(reverse("dashboard:home")).content.decode()
    assert f'<option value="{other.uuid}" selected>' in page
    # Remembered across sign-ins too.
    client.logout()
    client.force_login(nurse)
    page = client.get(reverse("dashboard:home")).content.decode()
    assert f'<option value="{other.uuid}" selected>' in page


def test_the_switcher_goes_back_only_to_this_site(client, clinic_admin, nurse):
    _main, other = _two_locations(clinic_admin, nurse)
    client.force_login(nurse)
    response = client.post(
        reverse("locations:choose"),
        {"location": str(other.uuid), "next": "https://evil.example/steal"},
    )
    assert response["Location"] == "/"


def test_switching_to_a_location_one_does_not_work_at_is_refused(client, clinic_admin, nurse):
    main = Location.objects.get(is_default=True)
    other = _open(clinic_admin)
    services.location_staff_set(actor=clinic_admin, location=main, staff_ids=[nurse.pk])
    client.force_login(nurse)
    response = client.post(reverse("locations:choose"), {"location": str(other.uuid)})
    assert response.status_code == 403
    assert not LocationChoice.objects.filter(user=nurse).exists()
    assert AuditEvent.objects.filter(
        actor=nurse, action="denied", summary__contains="locations/choose"
    ).exists()


def test_the_clinic_admin_switches_to_any_location(client, clinic_admin):
    other = _open(clinic_admin)
    client.force_login(clinic_admin)
    assert "location-switcher" in client.get(reverse("dashboard:home")).content.decode()
    response = client.post(reverse("locations:choose"), {"location": str(other.uuid)})
    assert response.status_code == 302
    assert LocationChoice.objects.get(user=clinic_admin).location == other


# --------------------------------------------------------------------------- query counts


def _list_queries(client) -> int:
    client.get(reverse("locations:list"))  # the session's one-off reads
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("locations:list")).status_code == 200
    return len(captured.captured_queries)


def _grow(admin, nurse, names):
    from clinic.scheduling import services as scheduling

    for i in names:
        location = _open(admin, name=f"Site {i}", code=f"S{i}")
        services.location_staff_set(actor=admin, location=location, staff_ids=[nurse.pk])
        room = scheduling.room_create(actor=admin, name="Room", location=location)
        scheduling.chair_create(actor=admin, room=room, name="Chair 1")
        scheduling.chair_create(actor=admin, room=room, name="Chair 2")


def test_the_network_list_reads_a_fixed_number_of_queries(
    client, clinic_admin, nurse, django_assert_num_queries
):
    _grow(clinic_admin, nurse, range(1))
    client.force_login(clinic_admin)
    small = _list_queries(client)
    _grow(clinic_admin, nurse, range(1, 8))
    client.get(reverse("locations:list"))
    with django_assert_num_queries(small):
        assert client.get(reverse("locations:list")).status_code == 200
