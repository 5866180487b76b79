from __future__ import annotations

from django import forms

from clinic.core.forms import DateInput, PlausibleDateField, TextField


class DiagnosisForm(forms.Form):
    icd10_code = TextField(
        label="ICD-10-CM code",
        max_length=10,
        help_text="A billable code, e.g. F33.1. Find one by words below, or use a suggestion.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    onset_date = PlausibleDateField(label="Onset", required=False, widget=DateInput())
    primary = forms.BooleanField(
        label="Primary diagnosis for treatment (claims list it first)", required=False
    )
    note = TextField(label="Note", required=False, max_length=300)


class ResolveForm(forms.Form):
    resolved_on = PlausibleDateField(label="Resolved on", widget=DateInput())


class EnteredInErrorForm(forms.Form):
    reason = TextField(max_length=300, label="Why is this entry wrong?")
