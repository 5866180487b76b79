"""The public consultation form. It checks with the same rules the service applies, so a
visitor sees every problem at once; the service checks again when it stores the request."""

from __future__ import annotations

from django import forms

from clinic.core.exceptions import InvalidInput
from clinic.core.forms import BirthDateField, DateInput, TextField
from clinic.screening.choices import ContactMethod, SeekingHelp
from clinic.screening.services import (
    REQUEST_FIELDS,
    TEXT_LIMITS,
    clean_consultation_request,
)

# The honeypot: a field people never see (hidden from sight and from screen readers) and
# browsers do not fill in. Anything in it means a program filled in the form.
HONEYPOT_FIELD = "website"


class ConsultationRequestForm(forms.Form):
    given_name = TextField(
        label="First name",
        max_length=TEXT_LIMITS["given_name"],
        widget=forms.TextInput(attrs={"autocomplete": "given-name", "autocapitalize": "words"}),
    )
    family_name = TextField(
        label="Last name",
        max_length=TEXT_LIMITS["family_name"],
        widget=forms.TextInput(attrs={"autocomplete": "family-name", "autocapitalize": "words"}),
    )
    email = TextField(
        label="E-mail",
        required=False,
        max_length=TEXT_LIMITS["email"],
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = TextField(
        label="Phone",
        required=False,
        max_length=TEXT_LIMITS["phone"],
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    preferred_contact = forms.ChoiceField(
        label="How should we contact you?",
        choices=ContactMethod.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how you would like us to contact you."},
    )
    date_of_birth = BirthDateField(
        label="Date of birth",
        required=False,
        help_text="Optional. It helps us prepare for your consultation.",
        widget=DateInput(attrs={"autocomplete": "bday"}),
        error_messages={"invalid": "Enter the date as YYYY-MM-DD."},
    )
    seeking_help_with = forms.ChoiceField(
        label="What would you like help with?",
        choices=[("", "Choose…"), *SeekingHelp.choices],
        error_messages={"required": "Choose what you would like help with (or “Not sure yet”)."},
    )
    message = TextField(
        label="Anything you would like us to know",
        required=False,
        max_length=TEXT_LIMITS["message"],
        help_text="Optional. Please do not include anything urgent: see the box below.",
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    heard_about = TextField(
        label="How did you hear about us?",
        required=False,
        max_length=TEXT_LIMITS["heard_about"],
        help_text="Optional, e.g. my doctor, a friend, a web search.",
    )
    consent_to_contact = forms.BooleanField(
        label="I agree that the clinic may contact me about this request, by the method I chose.",
        error_messages={"required": "Please agree to be contacted, so that we can reply to you."},
    )
    website = TextField(
        label="Leave this field empty",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def clean(self):
        cleaned = super().clean()
        data = {name: cleaned[name] for name in REQUEST_FIELDS if name in cleaned}
        # A box left unticked fails the field check; give the service what the person sent.
        data.setdefault("consent_to_contact", False)
        try:
            clean_consultation_request(data)
        except InvalidInput as error:
            for field, messages in error.errors.items():
                if field in self.fields and field not in self.errors:
                    self.add_error(field, messages)
        return cleaned

    def request_data(self) -> dict:
        """What the service stores: the form's fields without the honeypot."""
        return {name: self.cleaned_data[name] for name in REQUEST_FIELDS}
