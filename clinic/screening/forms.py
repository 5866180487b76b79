from __future__ import annotations

from django import forms

from clinic.core.forms import DateInput
from clinic.core.policy import plausible_range
from clinic.screening.choices import Condition, Indication, MedicationClass, TrialOutcome

YES_NO_UNKNOWN = [("", "Not answered"), ("true", "Yes"), ("false", "No")]


def _yes_no(label: str) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=YES_NO_UNKNOWN,
        coerce=lambda v: {"true": True, "false": False}.get(v),
        empty_value=None,
        required=False,
    )


def _number(name: str, label: str, step: str = "1") -> forms.DecimalField:
    allowed = plausible_range(name)
    return forms.DecimalField(
        label=label,
        required=False,
        help_text=f"{allowed.low}–{allowed.high} {allowed.unit}",
        widget=forms.NumberInput(attrs={"step": step, "inputmode": "decimal"}),
    )


class IntakePatientForm(forms.Form):
    """What the patient answers (through the link) — staff see the same questions and more."""

    conditions = forms.MultipleChoiceField(
        label="Have you ever had any of these?",
        choices=Condition.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    history_detail = forms.CharField(
        label="Other medical history, in your own words",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    allergies = forms.CharField(
        label="Allergies", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    psychiatric_history = forms.CharField(
        label="Psychiatric history (diagnoses, hospital stays)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    substance_use = forms.CharField(
        label="Alcohol, cannabis or other substance use",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    pregnant = _yes_no("Are you pregnant, or could you be?")
    breastfeeding = _yes_no("Are you breastfeeding?")
    weight_kg = _number("weight_kg", "Weight (kg)", "0.1")
    height_cm = _number("height_cm", "Height (cm)", "0.1")
    home_treatment_monitor_name = forms.CharField(
        label="For at-home treatment: the adult who will stay with you during sessions",
        required=False,
        max_length=200,
    )
    home_bp_monitor = _yes_no("Do you have a blood-pressure monitor at home?")


class IntakeStaffForm(IntakePatientForm):
    indication = forms.ChoiceField(
        label="Indication", choices=[("", "Choose…"), *Indication.choices], required=False
    )
    systolic_mmhg = _number("systolic_mmhg", "Systolic BP (mmHg)")
    diastolic_mmhg = _number("diastolic_mmhg", "Diastolic BP (mmHg)")
    heart_rate_bpm = _number("heart_rate_bpm", "Heart rate (bpm)")

    field_order = ["indication", "systolic_mmhg", "diastolic_mmhg", "heart_rate_bpm"]


class MedicationForm(forms.Form):
    name = forms.CharField(required=False, max_length=120)
    medication_class = forms.ChoiceField(
        label="Class", required=False, choices=[("", "—"), *MedicationClass.choices]
    )
    dose = forms.CharField(required=False, max_length=120)


class TrialForm(forms.Form):
    drug = forms.CharField(label="Antidepressant", required=False, max_length=120)
    dose = forms.CharField(required=False, max_length=120)
    duration_weeks = forms.IntegerField(label="Weeks", required=False, min_value=0, max_value=520)
    adequate = forms.BooleanField(label="Adequate dose and duration", required=False)
    outcome = forms.ChoiceField(required=False, choices=[("", "—"), *TrialOutcome.choices])
    current_episode = forms.BooleanField(label="This episode", required=False)


MedicationFormSet = forms.formset_factory(MedicationForm, extra=3)
TrialFormSet = forms.formset_factory(TrialForm, extra=3)


class RemsForm(forms.Form):
    enrolled_on = forms.DateField(label="Enrolment date", widget=DateInput())
    rems_patient_id = forms.CharField(
        label="REMS patient ID",
        max_length=40,
        required=False,
        help_text="As the REMS issued it; it goes on every patient monitoring form.",
    )
    signed_by_patient = forms.BooleanField(
        label="The patient signed the Patient Enrollment Form", required=False
    )
