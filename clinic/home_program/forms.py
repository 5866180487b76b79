"""Forms of the at-home program. They parse what was typed; every rule (plausibility, the
blood-pressure limit, the prescribed dose, what is allowed when) is the services' and comes
back as field errors."""

from __future__ import annotations

from django import forms

from clinic.core.forms import PlausibleDateTimeField, TextField
from clinic.home_program.choices import Severity, SideEffectKind
from clinic.home_program.services import MONITOR_REQUIRED


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


def _when(label: str) -> forms.DateTimeField:
    return PlausibleDateTimeField(
        label=label,
        required=False,
        widget=DateTimeLocalInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text="Leave empty for now.",
    )


class StartForm(forms.Form):
    """Blood pressure and the treatment monitor, before anything else. The numbers are checked
    by the service (the clinic's plausibility ranges), so the field errors name the field."""

    systolic_mmhg = TextField(
        label="Blood pressure, upper number (systolic, mmHg)",
        max_length=5,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={"required": "Enter the upper number of your blood pressure."},
    )
    diastolic_mmhg = TextField(
        label="Blood pressure, lower number (diastolic, mmHg)",
        max_length=5,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={"required": "Enter the lower number of your blood pressure."},
    )
    monitor_name = TextField(
        label="Name of your treatment monitor",
        max_length=200,
        help_text="The adult who stays with you, in the same place, for the whole session.",
        error_messages={"required": MONITOR_REQUIRED},
    )


class DoseForm(forms.Form):
    dose_mg = TextField(
        label="Dose you took (mg)",
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    taken_at = _when("When you took it")


class SideEffectForm(forms.Form):
    kind = forms.ChoiceField(
        label="Side effect", choices=[("", "Choose…"), *SideEffectKind.choices], required=False
    )
    other_text = TextField(label="If other, what", max_length=200, required=False)
    severity = forms.ChoiceField(
        label="How strong", choices=[("", "Choose…"), *Severity.choices], required=False
    )
    noticed_at = _when("When you noticed it")


class CheckInForm(forms.Form):
    feeling = TextField(
        label="How do you feel now?",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    mood_after = forms.TypedChoiceField(
        label="Your mood now, from 1 (very low) to 10 (very good) — optional",
        choices=[("", "—"), *[(str(n), str(n)) for n in range(1, 11)]],
        required=False,
    )
    checked_in_at = _when("Time of this check-in")


class AcknowledgeForm(forms.Form):
    note = TextField(
        label="Note",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What you did or decided (for example: called the patient).",
    )
