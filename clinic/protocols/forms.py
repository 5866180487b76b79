from __future__ import annotations

from django import forms
from django.utils import timezone

from clinic.core.forms import DateInput
from clinic.protocols.choices import WeightBasis


class PlanForm(forms.Form):
    template = forms.ChoiceField(label="Protocol")
    start_date = forms.DateField(widget=DateInput(), initial=timezone.localdate)
    dose_mg_per_kg = forms.DecimalField(
        label="Dose (mg/kg, IV and IM)",
        required=False,
        max_digits=4,
        decimal_places=2,
        help_text="Leave blank for the protocol's dose.",
        widget=forms.NumberInput(attrs={"step": "0.05", "inputmode": "decimal"}),
    )
    weight_basis = forms.ChoiceField(
        choices=[("", "Clinic default"), *WeightBasis.choices], required=False
    )
    esketamine_dose_mg = forms.TypedChoiceField(
        label="Dose (mg, esketamine from session 2; sublingual)",
        required=False,
        choices=[("", "Protocol's dose"), (28, "28 mg"), (56, "56 mg"), (84, "84 mg")],
        coerce=int,
        empty_value=None,
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, templates, option_specs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = templates
        self.option_names = []
        for spec in option_specs:
            name = f"option_{spec.name}"
            self.option_names.append(spec.name)
            label = spec.name.replace("_", " ").capitalize()
            help_text = spec.description or ""
            if spec.choices:
                field = forms.TypedChoiceField(
                    label=label,
                    choices=[("", "Default")] + [(c, c) for c in spec.choices],
                    required=False,
                    coerce=int,
                    empty_value=None,
                    help_text=help_text,
                )
            else:
                field = forms.IntegerField(
                    label=label,
                    required=spec.required,
                    min_value=spec.minimum,
                    max_value=spec.maximum,
                    help_text=help_text,
                )
            self.fields[name] = field

    def options(self) -> dict:
        return {
            name: self.cleaned_data[f"option_{name}"]
            for name in self.option_names
            if self.cleaned_data.get(f"option_{name}") is not None
        }


class TitrationForm(forms.Form):
    from_session = forms.IntegerField(min_value=1)
    dose_mg_per_kg = forms.DecimalField(
        label="New dose (mg/kg)", required=False, max_digits=4, decimal_places=2
    )
    esketamine_dose_mg = forms.TypedChoiceField(
        label="New dose (mg)",
        required=False,
        choices=[("", "—"), (28, "28 mg"), (56, "56 mg"), (84, "84 mg")],
        coerce=int,
        empty_value=None,
    )
    reason = forms.CharField(max_length=300)


class MaintenanceForm(forms.Form):
    interval_weeks = forms.IntegerField(
        label="Every (weeks)", min_value=2, max_value=8, help_text="2–8 weeks"
    )
    count = forms.IntegerField(label="Sessions", min_value=1, max_value=52, initial=6)
    start_date = forms.DateField(label="First maintenance session", widget=DateInput())


class FinishForm(forms.Form):
    reason = forms.CharField(max_length=300, required=False)


class TemplateForm(forms.Form):
    code = forms.SlugField(max_length=64)
    name = forms.CharField(max_length=200)
    definition = forms.JSONField(
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false"}),
        help_text="The template as JSON, in the same form as the built-in ones shown below.",
    )
