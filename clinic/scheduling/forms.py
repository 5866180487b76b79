from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone

from clinic.accounts.choices import STAFF_ROLES
from clinic.accounts.models import User
from clinic.core.forms import DateInput, PlausibleDateField, TextField
from clinic.scheduling import selectors
from clinic.scheduling.choices import ChairCapability, Weekday
from clinic.scheduling.models import Room


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%H:%M")


class ChairChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, chair):
        equipment = ", ".join(chair.capability_labels) or "no special equipment"
        return f"{chair.name} ({chair.room.name}) — {equipment}"


class NurseChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return user.display_name


class SlotForm(forms.Form):
    """A date, a start time, a chair and a nurse: one appointment's place in the schedule."""

    date = PlausibleDateField(days_ahead="booking_days_ahead", widget=DateInput())
    time = forms.TimeField(label="Start time", widget=TimeInput())
    chair = ChairChoiceField(queryset=None, to_field_name="uuid", empty_label="Choose a chair…")
    nurse = NurseChoiceField(queryset=None, to_field_name="uuid", empty_label="Choose a nurse…")

    def __init__(self, *args, location=None, **kwargs):
        """`location`: the only location whose chairs are offered (every location's when
        None)."""
        super().__init__(*args, **kwargs)
        self.fields["chair"].queryset = selectors.booking_chairs(location)
        self.fields["nurse"].queryset = selectors.booking_nurses()

    @property
    def starts_at(self) -> datetime.datetime:
        combined = datetime.datetime.combine(self.cleaned_data["date"], self.cleaned_data["time"])
        return timezone.make_aware(combined)


class RescheduleForm(SlotForm):
    reason = TextField(max_length=300, widget=forms.TextInput())


class ReasonForm(forms.Form):
    reason = TextField(max_length=300, widget=forms.TextInput())


class RoomForm(forms.Form):
    name = TextField(label="Room name", max_length=100)


class ChairForm(forms.Form):
    room = forms.ModelChoiceField(queryset=Room.objects.filter(active=True), to_field_name="uuid")
    name = TextField(label="Chair name", max_length=100)
    capabilities = forms.MultipleChoiceField(
        label="Equipment",
        choices=ChairCapability.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, location=None, **kwargs):
        """`location`: the location whose rooms the chair may go in."""
        super().__init__(*args, **kwargs)
        if location is not None:
            self.fields["room"].queryset = Room.objects.filter(active=True, location=location)


class OpeningHoursForm(forms.Form):
    """Opening and closing time for each weekday; both blank means closed."""

    def __init__(self, *args, hours=None, **kwargs):
        super().__init__(*args, **kwargs)
        hours = hours or {}
        for weekday, label in Weekday.choices:
            row = hours.get(weekday)
            self.fields[f"opens_{weekday}"] = forms.TimeField(
                label=f"{label} opens",
                required=False,
                widget=TimeInput(),
                initial=row.opens if row else None,
            )
            self.fields[f"closes_{weekday}"] = forms.TimeField(
                label=f"{label} closes",
                required=False,
                widget=TimeInput(),
                initial=row.closes if row else None,
            )

    def rows(self):
        return [
            (label, self[f"opens_{weekday}"], self[f"closes_{weekday}"])
            for weekday, label in Weekday.choices
        ]

    def hours(self) -> dict[int, tuple[datetime.time | None, datetime.time | None] | None]:
        """Each weekday's (opens, closes), None when both are empty; one of the two alone is
        the service's to refuse."""
        result: dict[int, tuple[datetime.time | None, datetime.time | None] | None] = {}
        for weekday, _label in Weekday.choices:
            opens = self.cleaned_data.get(f"opens_{weekday}")
            closes = self.cleaned_data.get(f"closes_{weekday}")
            result[weekday] = None if opens is None and closes is None else (opens, closes)
        return result


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return f"{user.display_name} ({user.get_role_display()})"


class ShiftForm(forms.Form):
    staff = StaffChoiceField(
        queryset=User.objects.filter(is_active=True, role__in=list(STAFF_ROLES)).order_by(
            "role", "last_name", "first_name", "username"
        ),
        to_field_name="uuid",
    )
    date = PlausibleDateField(days_ahead="booking_days_ahead", widget=DateInput())
    start = forms.TimeField(widget=TimeInput())
    end = forms.TimeField(widget=TimeInput())
