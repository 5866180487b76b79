"""Opening a location and working at one: who may, what is checked, what the switcher
remembers, and which locations each role sees."""

from __future__ import annotations

import pytest

from clinic.core.exceptions import Conflict, DomainError, NotFound, PermissionDenied
from clinic.core.models import AuditEvent
from clinic.locations import selectors, services
from clinic.locations.models import Location

pytestmark = pytest.mark.django_db


def _details(**overrides) -> services.LocationDetails:
    values = {
        "name": "Riverside",
        "code": "rvs",
        "time_zone": "America/Chicago",
        "state": "il",
        "postal_code": "60601",
        "service_facility_npi": "1234567893",
        "dea_registration_number": "bk1234563",
        "spravato_rems_setting_id": "REMS-7",
    }
    return services.LocationDetails(**(values | overrides))


def test_the_clinic_starts_as_a_network_of_one_default_location():
    (default,) = Location.objects.all()
    assert default.is_default and default.code == "MAIN"
    assert selectors.location_default() == default


def test_the_clinic_admin_opens_a_location_and_it_is_audited(clinic_admin):
    location = services.location_open(actor=clinic_admin, details=_details())
    assert (location.code, location.state, location.dea_registration_number) == (
        "RVS",
        "IL",
        "BK1234563",
    )
    event = AuditEvent.objects.get(object_type="location", object_id=str(location.uuid))
    assert event.actor == clinic_admin and event.summary == "Opened location RVS"


@pytest.mark.parametrize("role", ["prescriber", "nurse", "front_desk", "billing", "therapist"])
def test_only_the_clinic_admin_opens_a_location(make_staff, role):
    with pytest.raises(PermissionDenied):
        services.location_open(actor=make_staff(role), details=_details())
    assert Location.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"time_zone": "Mars/Olympus"}, "location_time_zone_unknown"),
        ({"service_facility_npi": "1234567890"}, "location_npi_invalid"),
        ({"dea_registration_number": "12345"}, "location_dea_invalid"),
        ({"place_of_service_code": "10"}, "location_place_of_service_unknown"),
        ({"postal_code": "ABCDE"}, "location_postal_code_invalid"),
        ({"name": "  "}, "location_name_missing"),
    ],
)
def test_a_location_with_bad_details_is_refused_with_the_field_named(clinic_admin, overrides, code):
    with pytest.raises(DomainError) as refused:
        services.location_open(actor=clinic_admin, details=_details(**overrides))
    assert refused.value.code == code
    assert Location.objects.count() == 1


def test_two_locations_never_share_a_dea_registration(clinic_admin):
    services.location_open(actor=clinic_admin, details=_details())
    with pytest.raises(Conflict):
        services.location_open(actor=clinic_admin, details=_details(name="Hillside", code="HLS"))


def test_the_default_location_cannot_be_closed(clinic_admin):
    default = selectors.location_default()
    with pytest.raises(Conflict):
        services.location_update(
            actor=clinic_admin,
            location=default,
            details=_details(
                name=default.name, code="MAIN", dea_registration_number="", active=False
            ),
        )


def test_staff_see_the_locations_they_work_at_and_the_admin_sees_the_network(
    clinic_admin, nurse, make_staff
):
    default = selectors.location_default()
    # A network of one: everyone works there, no membership needed.
    assert list(selectors.locations_for(nurse)) == [default]
    riverside = services.location_open(actor=clinic_admin, details=_details())
    other_nurse = make_staff("nurse", username="nurse_rvs")
    services.location_staff_set(actor=clinic_admin, location=riverside, staff_ids=[other_nurse.pk])
    services.location_staff_set(actor=clinic_admin, location=default, staff_ids=[nurse.pk])
    assert list(selectors.locations_for(nurse)) == [default]
    assert list(selectors.locations_for(other_nurse)) == [riverside]
    assert set(selectors.locations_for(clinic_admin)) == {default, riverside}
    with pytest.raises(NotFound):
        selectors.location_get(actor=nurse, location_uuid=riverside.uuid)


def test_a_record_kept_at_a_location_is_refused_to_staff_who_do_not_work_there(
    clinic_admin, nurse, make_staff
):
    """`require_works_at`: what a session or an appointment asks of the actor, by its chair's
    location. The refusal is the one another location's lists give."""
    default = selectors.location_default()
    selectors.require_works_at(nurse, default)  # a network of one: no membership needed
    riverside = services.location_open(actor=clinic_admin, details=_details())
    services.location_staff_set(actor=clinic_admin, location=default, staff_ids=[nurse.pk])
    selectors.require_works_at(nurse, default)
    with pytest.raises(PermissionDenied) as refused:
        selectors.require_works_at(nurse, riverside)
    assert refused.value.message == "You do not work at that location."
    # The clinic administrator reaches every location, a closed one too.
    Location.objects.filter(pk=riverside.pk).update(active=False)
    selectors.require_works_at(clinic_admin, riverside)


def test_the_switcher_remembers_the_chosen_location(clinic_admin, prescriber):
    default = selectors.location_default()
    riverside = services.location_open(actor=clinic_admin, details=_details())
    services.location_staff_set(actor=clinic_admin, location=riverside, staff_ids=[prescriber.pk])
    services.location_staff_set(actor=clinic_admin, location=default, staff_ids=[prescriber.pk])
    assert selectors.location_current(prescriber) == default  # the default location first
    services.location_choose(actor=prescriber, location=riverside)
    assert selectors.location_current(prescriber) == riverside
    # Taken off Riverside, the remembered choice no longer holds.
    services.location_staff_set(actor=clinic_admin, location=riverside, staff_ids=[])
    assert selectors.location_current(prescriber) == default


def test_nobody_chooses_a_location_they_do_not_work_at(clinic_admin, nurse):
    default = selectors.location_default()
    riverside = services.location_open(actor=clinic_admin, details=_details())
    services.location_staff_set(actor=clinic_admin, location=default, staff_ids=[nurse.pk])
    with pytest.raises(PermissionDenied):
        services.location_choose(actor=nurse, location=riverside)


def test_opening_a_second_location_keeps_everyone_at_the_first(clinic_admin, make_staff):
    """Staff of a single-location clinic had no membership to lose."""
    from clinic.locations.models import LocationStaff

    default = selectors.location_default()
    LocationStaff.objects.all().delete()
    latecomer = make_staff("nurse", username="latecomer")
    LocationStaff.objects.filter(user=latecomer).delete()
    assert list(selectors.locations_for(latecomer)) == [default]
    services.location_open(actor=clinic_admin, details=_details())
    assert list(selectors.locations_for(latecomer)) == [default]
