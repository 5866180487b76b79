from __future__ import annotations

from django import forms
from django.utils import timezone

from clinic.core.exceptions import InvalidInput
from clinic.core.forms import (
    BirthDateField,
    DateInput,
    PlausibleDateField,
    TextField,
    text_policy_formfield,
)
from clinic.core.policy import plausible_range
from clinic.patients.choices import RecordsFormat, RecordsRequester
from clinic.patients.models import Patient
from clinic.patients.selectors import care_team_candidates
from clinic.patients.services import DEMOGRAPHIC_FIELDS, clean_demographics


class PatientForm(forms.ModelForm):
    class Meta:
        model = Patient
        fields = DEMOGRAPHIC_FIELDS
        formfield_callback = text_policy_formfield
        field_classes = {"date_of_birth": BirthDateField}
        widgets = {
            "date_of_birth": DateInput(),
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
            "phone_mobile": forms.TextInput(attrs={"inputmode": "tel"}),
            "phone_home": forms.TextInput(attrs={"inputmode": "tel"}),
            "emergency_contact_phone": forms.TextInput(attrs={"inputmode": "tel"}),
        }
        labels = {"region": "State", "country": "Country (2 letters)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sex"].choices = [("", "Choose…"), *self.fields["sex"].choices[1:]]
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("autocomplete", "off")
            if name.startswith("legal_") or name == "preferred_name":
                field.widget.attrs["autocapitalize"] = "words"

    def clean(self):
        # The service's rules (dates, phones, email) run here too, so every problem shows
        # at once rather than one round at a time; the service checks again on save.
        cleaned = super().clean()
        try:
            clean_demographics(
                {k: v for k, v in cleaned.items() if k in DEMOGRAPHIC_FIELDS}, partial=True
            )
        except InvalidInput as error:
            for field, messages in error.errors.items():
                if field not in self.errors:
                    self.add_error(field, messages)
        return cleaned

    # Field groups for the template, in the order a registration form is filled in.
    groups = [
        (
            "Name",
            [
                "legal_given_name",
                "legal_middle_name",
                "legal_family_name",
                "preferred_name",
                "pronouns",
            ],
        ),
        ("Birth and sex", ["date_of_birth", "sex"]),
        (
            "Contact",
            [
                "phone_mobile",
                "phone_home",
                "email",
                "address_line1",
                "address_line2",
                "city",
                "region",
                "postal_code",
                "country",
            ],
        ),
        (
            "Emergency contact",
            ["emergency_contact_name", "emergency_contact_relationship", "emergency_contact_phone"],
        ),
    ]

    def grouped(self):
        return [(title, [self[name] for name in names]) for title, names in self.groups]


class PatientRegisterForm(PatientForm):
    """Registering: the demographics, and the confirmation asked only when the person may
    already be registered (clinic/patients/duplicates.py)."""

    confirm_new_patient = forms.BooleanField(
        label="I have checked the patients listed above: this is a different person. Register "
        "anyway.",
        required=False,
    )


class PatientSearchForm(forms.Form):
    q = TextField(
        label="Find a patient",
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": "Name, MRN or date of birth (YYYY-MM-DD or MM/DD/YYYY)",
                "autocomplete": "off",
            }
        ),
    )
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


CARE_TEAM_FORM_ROLES = {
    "primary_prescriber": "prescriber",
    "prescribers": "prescriber",
    "nurses": "nurse",
    "therapists": "therapist",
}


class _StaffChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.display_name


class _StaffMultipleChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.display_name


class CareTeamForm(forms.Form):
    primary_prescriber = _StaffChoice(queryset=None, required=False, empty_label="— none —")
    prescribers = _StaffMultipleChoice(
        queryset=None,
        required=False,
        label="Other prescribers",
        widget=forms.CheckboxSelectMultiple,
    )
    nurses = _StaffMultipleChoice(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    therapists = _StaffMultipleChoice(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, role in CARE_TEAM_FORM_ROLES.items():
            self.fields[name].queryset = care_team_candidates(role)


class MeasurementForm(forms.Form):
    measured_on = PlausibleDateField(widget=DateInput(), initial=timezone.localdate)
    weight_kg = forms.DecimalField(
        label="Weight (kg)",
        required=False,
        max_digits=5,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )
    height_cm = forms.DecimalField(
        label="Height (cm)",
        required=False,
        max_digits=5,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("weight_kg", "height_cm"):
            allowed = plausible_range(name)
            self.fields[name].help_text = f"{allowed.low}–{allowed.high} {allowed.unit}"


class EnteredInErrorForm(forms.Form):
    reason = TextField(max_length=300, label="Why is this entry wrong?")


class EmergencyAccessForm(forms.Form):
    """Break the glass: the reason is required (its minimum length is checked by the service,
    from EMERGENCY_ACCESS_REASON_MIN_LENGTH)."""

    reason = TextField(
        label="Why is this an emergency?",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded in the audit trail, shown to the care team and reviewed by the "
        "clinic administrator.",
    )


class EmergencyAccessReviewForm(forms.Form):
    note = TextField(label="Review note", max_length=300, required=False)


class RecordsRequestForm(forms.Form):
    """A request for a copy of the record, as it arrived (services_records checks the rest)."""

    received_on = PlausibleDateField(label="Received on", widget=DateInput())
    requester = forms.ChoiceField(label="Who asked", choices=RecordsRequester.choices)
    requester_name = TextField(
        label="Their name",
        max_length=200,
        required=False,
        help_text="Needed when someone other than the patient asked; keep their signed "
        "authorization or proof of representation with the clinic's records.",
    )
    wanted_format = forms.ChoiceField(label="Form wanted", choices=RecordsFormat.choices)
    deliver_to = TextField(
        label="Deliver to",
        max_length=300,
        required=False,
        help_text="Where the copy goes: secure e-mail, postal address, collected in person.",
    )
    note = TextField(label="Note", max_length=500, required=False)


class RecordsRequestFulfilForm(forms.Form):
    fulfilled_on = PlausibleDateField(label="Given on", widget=DateInput())
    how = TextField(label="How it was given", max_length=300)


class RecordsRequestWithdrawForm(forms.Form):
    reason = TextField(label="Why it is withdrawn", max_length=300)
