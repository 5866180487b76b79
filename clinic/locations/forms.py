"""The clinic administrator's location forms. The service (`services._cleaned`) is the one
that checks the identifiers (NPI, DEA number, state, ZIP); its refusals are shown next to the
field they name."""

from __future__ import annotations

import zoneinfo
from functools import cache

from django import forms

from clinic.core.forms import DateInput, PlausibleDateField, TextField
from clinic.locations.models import PLACE_OF_SERVICE_CHOICES, Location
from clinic.locations.services import LocationDetails


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    """The IANA zones this server knows (the service accepts no other), the US ones first."""
    zones = sorted(zoneinfo.available_timezones())
    american = [z for z in zones if z.startswith("America/") or z.startswith("Pacific/Honolulu")]
    return [("", "Choose a time zone…")] + [
        (z, z) for z in american + [z for z in zones if z not in american]
    ]


class LocationForm(forms.Form):
    name = TextField(max_length=120)
    code = TextField(max_length=12, help_text="A short code for lists and exports (e.g. MAIN).")
    address_line1 = TextField(label="Address", max_length=200, required=False)
    address_line2 = TextField(label="Address (second line)", max_length=200, required=False)
    city = TextField(max_length=100, required=False)
    state = TextField(max_length=2, required=False, help_text="Two letters, e.g. TX.")
    postal_code = TextField(label="ZIP code", max_length=10, required=False)
    time_zone = forms.ChoiceField(choices=time_zone_choices)
    phone = TextField(max_length=30, required=False)
    place_of_service_code = forms.ChoiceField(
        label="Place of service", choices=PLACE_OF_SERVICE_CHOICES, initial="11"
    )
    service_facility_npi = TextField(label="Service facility NPI", max_length=10, required=False)
    dea_registration_number = TextField(
        label="DEA registration number",
        max_length=9,
        required=False,
        help_text="This location's own registration (controlled substances are registered "
        "per location).",
    )
    spravato_rems_setting_id = TextField(
        label="Spravato REMS healthcare setting ID", max_length=40, required=False
    )
    opened_on = PlausibleDateField(
        label="Opened on", required=False, days_ahead="booking_days_ahead", widget=DateInput()
    )
    active = forms.BooleanField(
        label="Open (staff can work here and book its chairs)", required=False, initial=True
    )

    @classmethod
    def for_location(cls, location: Location, data=None) -> LocationForm:
        initial = {name: getattr(location, name) for name in cls.base_fields}
        return cls(data, initial=initial)

    def details(self) -> LocationDetails:
        values = dict(self.cleaned_data)
        return LocationDetails(**values)


class StaffChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, user):
        return f"{user.display_name} ({user.get_role_display()})"


class LocationStaffForm(forms.Form):
    staff = StaffChoiceField(
        queryset=None,
        to_field_name="uuid",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Works here",
    )

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = people


class LocationChooseForm(forms.Form):
    # A location's public id; the selector refuses anything else.
    location = TextField(max_length=64)
    next = TextField(required=False, max_length=2000)
