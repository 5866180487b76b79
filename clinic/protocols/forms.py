from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator
from django.utils import timezone

from clinic.core.forms import DateInput, PlausibleDateField, TextField, apply_text_policy
from clinic.protocols.choices import WeightBasis
from clinic.protocols.dosing import ESKETAMINE_MG_PER_DEVICE, DosingPolicy
from clinic.protocols.policy import dosing_policy, plan_date_policy
from clinic.protocols.words import ROUTE_WORDS, label
from clinic.screening.choices import Route


def _esketamine_choices(doses) -> list[tuple]:
    return [
        (
            dose,
            f"{dose} mg ({dose // ESKETAMINE_MG_PER_DEVICE} device"
            f"{'' if dose == ESKETAMINE_MG_PER_DEVICE else 's'})",
        )
        for dose in doses
    ]


def _dose_per_kg_field(route: str, policy: DosingPolicy, *, label: str, help_text: str):
    """mg/kg within the clinic's range for the route (policy-defaults.md "Dosing": IV 0.1–1.0,
    IM 0.25–1.0 by default), refused in words next to the field."""
    low = getattr(policy, f"{route}_min_mg_per_kg")
    high = getattr(policy, f"{route}_max_mg_per_kg")
    words = f"Enter a dose from {low} to {high} mg/kg (clinic policy for {ROUTE_WORDS[route]})."
    return forms.DecimalField(
        label=label,
        required=False,
        max_digits=4,
        decimal_places=2,
        min_value=low,
        max_value=high,
        help_text=help_text.format(low=low, high=high),
        error_messages={
            "invalid": "Enter the dose as a number of mg/kg, e.g. 0.5.",
            "min_value": words,
            "max_value": words,
            "max_digits": words,
            "max_decimal_places": "Give the dose in mg/kg to two decimal places at most.",
        },
        widget=forms.NumberInput(
            attrs={"step": "0.05", "min": low, "max": high, "inputmode": "decimal"}
        ),
    )


def _date_bounds(field: forms.DateField, earliest, latest) -> None:
    """Let the browser's date picker offer only plausible dates (the server checks them too)."""
    field.widget.attrs.update({"min": earliest.isoformat(), "max": latest.isoformat()})


class PlanForm(forms.Form):
    """A plan's choices for one protocol. Each route shows only what applies to it: IV the dose
    in mg/kg, the infusion time and the weight basis; IM the mg/kg dose and the weight basis;
    esketamine the label's fixed doses from session 2; sublingual the protocol's own options
    (its prescriber-set mg dose)."""

    template = forms.ChoiceField(label="Protocol")
    start_date = PlausibleDateField(
        days_ahead=None,  # the plan policy bounds it, in its own words
        label=label("start_date"),
        widget=DateInput(),
        initial=timezone.localdate,
        error_messages={
            "required": "Enter the date of the first session.",
            "invalid": "Enter the start date as a date, e.g. 06/02/2031.",
        },
    )
    notes = TextField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, templates, option_specs, route, policy=None, dates=None, **kwargs):
        super().__init__(*args, **kwargs)
        policy = policy or dosing_policy()
        dates = dates or plan_date_policy()
        today = timezone.localdate()
        _date_bounds(
            self.fields["start_date"], dates.earliest_start(today), dates.latest_start(today)
        )
        self.fields["template"].choices = templates
        self.route = route
        hidden_options: set[str] = set()
        if route in (Route.IV, Route.IM):
            default = getattr(policy, f"{route}_dose_mg_per_kg")
            self.fields["dose_mg_per_kg"] = _dose_per_kg_field(
                route,
                policy,
                label=label("dose_mg_per_kg"),
                help_text=f"Leave blank for the protocol's dose ({default} mg/kg by default); "
                "clinic range {low}–{high} mg/kg.",
            )
            # The IM series template takes its dose as an option: the field above is that dose.
            hidden_options.add("dose_mg_per_kg")
        if route == Route.IV:
            self.fields["infusion_minutes"] = forms.IntegerField(
                label=label("infusion_minutes"),
                required=False,
                min_value=policy.iv_min_infusion_minutes,
                max_value=policy.iv_max_infusion_minutes,
                help_text=f"Leave blank for the protocol's time ({policy.iv_infusion_minutes} "
                f"minutes by default); clinic range {policy.iv_min_infusion_minutes}–"
                f"{policy.iv_max_infusion_minutes} minutes.",
                error_messages={
                    "invalid": "Enter the infusion time in whole minutes.",
                    "min_value": "Enter an infusion time of "
                    f"{policy.iv_min_infusion_minutes} to {policy.iv_max_infusion_minutes} "
                    "minutes (clinic policy).",
                    "max_value": "Enter an infusion time of "
                    f"{policy.iv_min_infusion_minutes} to {policy.iv_max_infusion_minutes} "
                    "minutes (clinic policy).",
                },
                widget=forms.NumberInput(
                    attrs={
                        "min": policy.iv_min_infusion_minutes,
                        "max": policy.iv_max_infusion_minutes,
                        "inputmode": "numeric",
                    }
                ),
            )
        if route in (Route.IV, Route.IM):
            self.fields["weight_basis"] = forms.ChoiceField(
                label=label("weight_basis"),
                choices=[("", "Clinic default"), *WeightBasis.choices],
                required=False,
            )
        if route == Route.ESKETAMINE:
            doses = list(policy.esketamine_doses_mg)
            own = next((spec for spec in option_specs if spec.name == "dose_mg"), None)
            if own is not None and own.choices:
                # The protocol's own choices (TRD: 56 or 84 mg from session 2 [C2]).
                doses = [dose for dose in doses if dose in own.choices]
            hidden_options.add("dose_mg")
            self.fields["esketamine_dose_mg"] = forms.TypedChoiceField(
                label="Dose from session 2 (mg)",
                required=False,
                choices=[("", "Protocol's dose"), *_esketamine_choices(doses)],
                coerce=int,
                empty_value=None,
                help_text="Session 1 is the protocol's starting dose. 28 mg per nasal spray "
                "device.",
                error_messages={"invalid_choice": "Choose one of the doses listed."},
            )
        self.option_names = []
        for spec in option_specs:
            if spec.name in hidden_options:
                continue
            self.option_names.append(spec.name)
            self.fields[f"option_{spec.name}"] = _option_field(spec)
        # Notes last, after the route's choices.
        self.fields["notes"] = self.fields.pop("notes")

    def clean_start_date(self):
        start_date = self.cleaned_data["start_date"]
        problem = plan_date_policy().start_problem(start_date, timezone.localdate())
        if problem:
            raise forms.ValidationError(problem)
        return start_date

    def plan_values(self) -> dict:
        """The keyword values plan_preview and plan_create take, for this route."""
        data = self.cleaned_data
        return {
            "dose_mg_per_kg": data.get("dose_mg_per_kg"),
            "weight_basis": data.get("weight_basis") or None,
            "esketamine_dose_mg": data.get("esketamine_dose_mg"),
            "infusion_minutes": data.get("infusion_minutes"),
        }

    def options(self) -> dict:
        return {
            name: self.cleaned_data[f"option_{name}"]
            for name in self.option_names
            if self.cleaned_data.get(f"option_{name}") is not None
        }


def _option_field(spec) -> forms.Field:
    """A template option as a labelled field of its own type (whole number, number or words),
    with its limits said in words."""
    name = label(spec.name)
    help_text = spec.description or ""
    if spec.choices:
        coerce: Callable[[Any], Any] = {"integer": int, "number": Decimal}.get(spec.type, str)
        return forms.TypedChoiceField(
            label=name,
            choices=[("", "Protocol's default" if spec.default is not None else "Choose…")]
            + [(str(choice), str(choice)) for choice in spec.choices],
            required=spec.required,
            coerce=coerce,
            empty_value=None,
            help_text=help_text,
            error_messages={
                "required": f"Choose the {name.lower()}.",
                "invalid_choice": "Choose one of the values listed.",
            },
        )
    limits = []
    if spec.minimum is not None:
        limits.append(f"at least {spec.minimum}")
    if spec.maximum is not None:
        limits.append(f"at most {spec.maximum}")
    within = f"Enter {' and '.join(limits)}." if limits else ""
    messages = {
        "required": f"Enter the {name.lower()}: this protocol needs it.",
        "min_value": within,
        "max_value": within,
    }
    if spec.type == "integer":
        return forms.IntegerField(
            label=name,
            required=spec.required,
            min_value=spec.minimum,
            max_value=spec.maximum,
            help_text=help_text,
            error_messages={**messages, "invalid": "Enter a whole number."},
        )
    if spec.type == "number":
        return forms.DecimalField(
            label=name,
            required=spec.required,
            min_value=spec.minimum,
            max_value=spec.maximum,
            max_digits=8,
            decimal_places=2,
            help_text=help_text,
            error_messages={**messages, "invalid": "Enter a number, e.g. 50 or 12.5."},
            widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
        )
    return TextField(
        label=name,
        required=spec.required,
        max_length=200,
        help_text=help_text,
        error_messages=messages,
    )


class TitrationForm(forms.Form):
    """A new dose from one session on: mg/kg for IV and IM, a mg dose otherwise."""

    from_session = forms.IntegerField(
        label=label("from_session"),
        min_value=1,
        error_messages={
            "required": "Enter the number of the first session to change.",
            "invalid": "Enter a session number.",
            "min_value": "Sessions are numbered from 1.",
        },
    )
    reason = TextField(
        label=label("reason"),
        max_length=300,
        error_messages={"required": "Say why the dose changes."},
    )

    def __init__(self, *args, route: str, policy=None, last_session: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        policy = policy or dosing_policy()
        if last_session:
            self.fields["from_session"].validators.append(
                MaxValueValidator(
                    last_session, message=f"The plan's last session is number {last_session}."
                )
            )
            self.fields["from_session"].widget.attrs.update({"min": 1, "max": last_session})
        if route in (Route.IV, Route.IM):
            self.fields["dose_mg_per_kg"] = _dose_per_kg_field(
                route,
                policy,
                label="New dose (mg/kg)",
                help_text="Clinic range {low}–{high} mg/kg.",
            )
            self.fields["dose_mg_per_kg"].required = True
            self.fields["dose_mg_per_kg"].error_messages["required"] = (
                "Enter the new dose in mg/kg."
            )
        elif route == Route.ESKETAMINE:
            self.fields["esketamine_dose_mg"] = forms.TypedChoiceField(
                label="New dose (mg)",
                choices=[("", "Choose…"), *_esketamine_choices(policy.esketamine_doses_mg)],
                coerce=int,
                empty_value=None,
                error_messages={"required": "Choose the new dose."},
            )
        else:
            self.fields["esketamine_dose_mg"] = forms.IntegerField(
                label="New dose (mg)",
                min_value=1,
                error_messages={"required": "Enter the new dose in mg."},
            )
        self.fields["reason"] = self.fields.pop("reason")


class MaintenanceForm(forms.Form):
    interval_weeks = forms.IntegerField(
        label="Every (weeks)",
        min_value=2,
        max_value=8,
        help_text="2–8 weeks",
        error_messages={
            "required": "Enter how many weeks apart the sessions are.",
            "min_value": "Maintenance sessions are 2 to 8 weeks apart.",
            "max_value": "Maintenance sessions are 2 to 8 weeks apart.",
        },
    )
    count = forms.IntegerField(
        label="Sessions",
        min_value=1,
        max_value=52,
        initial=6,
        error_messages={
            "required": "Enter how many maintenance sessions to add.",
            "min_value": "Add 1 to 52 sessions at a time.",
            "max_value": "Add 1 to 52 sessions at a time.",
        },
    )
    start_date = PlausibleDateField(
        days_ahead=None,  # the plan policy bounds it, in its own words
        label="First maintenance session",
        widget=DateInput(),
        error_messages={
            "required": "Enter the date of the first maintenance session.",
            "invalid": "Enter the date as a date, e.g. 06/02/2031.",
        },
    )

    def __init__(self, *args, last_planned=None, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        dates = plan_date_policy()
        after = max(today, last_planned + datetime.timedelta(days=1)) if last_planned else today
        _date_bounds(
            self.fields["start_date"], after, dates.latest_start(max(today, last_planned or today))
        )


class FinishForm(forms.Form):
    reason = TextField(max_length=300, required=False)


class TemplateForm(forms.Form):
    code = apply_text_policy(forms.SlugField(max_length=64))
    name = TextField(max_length=200)
    definition = apply_text_policy(
        forms.JSONField(
            widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false"}),
            help_text="The template as JSON, in the same form as the built-in ones shown below.",
        )
    )
