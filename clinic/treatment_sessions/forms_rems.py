"""The esketamine REMS monitoring form's fields as a Django form: the page's form
(views_rems.py) and the API's (api/signing_rems.py) parse answers through it, so both accept
and refuse the same."""

from __future__ import annotations

import datetime

from django import forms

from clinic.core.forms import DateInput, PlausibleDateField, TextField
from clinic.treatment_sessions import rems, rules

YES_NO = [("yes", "Yes"), ("no", "No")]
NONE_OF_THESE = "none"
PREFILL_NOTE = "From the session record — check."


class RemsMonitoringForm(forms.Form):
    """Every field of rules.REMS_MONITORING_FIELDS, none required: the form may be saved in
    parts; the record cannot be signed, nor the form marked submitted, until it is complete."""

    def __init__(self, *args, prefilled: frozenset[str] = frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        for item in rules.REMS_MONITORING_FIELDS:
            self.fields[item.key] = self._field(item)
            if item.key in prefilled:
                hint = self.fields[item.key].help_text
                self.fields[item.key].help_text = f"{PREFILL_NOTE} {hint}".strip()

    @staticmethod
    def _field(item: rules.RemsField) -> forms.Field:
        label = item.label
        if item.key in rems.BOOLEAN_FIELDS:
            return forms.ChoiceField(
                label=label, choices=YES_NO, required=False, widget=forms.RadioSelect
            )
        if item.key == "concomitant_medications":
            return forms.MultipleChoiceField(
                label=label,
                required=False,
                choices=[(c, c) for c in item.choices] + [(NONE_OF_THESE, "None of these")],
                widget=forms.CheckboxSelectMultiple,
                help_text="Tick each that applies, or “None of these”.",
            )
        if item.key == "dose":
            return forms.ChoiceField(
                label=label,
                required=False,
                choices=[("", "—")] + [(c, c.capitalize()) for c in item.choices],
            )
        if item.key == "session_date":
            return PlausibleDateField(label=label, required=False, widget=DateInput())
        if item.key == "total_monitoring_minutes":
            return forms.IntegerField(label=label, required=False, min_value=0, max_value=24 * 60)
        if item.key == "serious_adverse_events":
            return TextField(
                label=label,
                required=False,
                max_length=3000,
                widget=forms.Textarea(attrs={"rows": 3}),
                help_text="One per line. Write “None” if there were none.",
            )
        help_text = "For example 128/82." if item.key.startswith("bp_") else ""
        return TextField(label=label, required=False, max_length=200, help_text=help_text)

    def clean_concomitant_medications(self):
        chosen = self.cleaned_data.get("concomitant_medications") or []
        if NONE_OF_THESE in chosen and len(chosen) > 1:
            raise forms.ValidationError("“None of these” cannot go with a medication.")
        return chosen

    def values(self) -> dict:
        """The answers for services.rems_form_save. A field left blank is not sent, so it stays
        as saved before (and unanswered if it never was)."""
        out: dict = {}
        for key, value in self.cleaned_data.items():
            if key in rems.BOOLEAN_FIELDS:
                if value:
                    out[key] = value == "yes"
            elif key == "concomitant_medications":
                if value:
                    out[key] = [] if value == [NONE_OF_THESE] else list(value)
            elif key == "serious_adverse_events":
                lines = [line.strip() for line in (value or "").splitlines() if line.strip()]
                if lines:
                    out[key] = [] if [x.lower() for x in lines] == ["none"] else lines
            elif isinstance(value, datetime.date):
                out[key] = value.isoformat()
            elif value not in (None, ""):
                out[key] = value
        return out
