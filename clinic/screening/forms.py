from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django import forms

from clinic.core.forms import DateInput, PlausibleDateField, TextField
from clinic.core.policy import plausible_range
from clinic.screening.choices import Condition, Indication, MedicationClass, TrialOutcome
from clinic.screening.rules import DEFAULT_RULE_SET, THRESHOLDS, RuleSet, describe_rules

# An explicit yes or no; no choice made is "not answered" (None), never "no".
YES_NO = [("true", "Yes"), ("false", "No")]
_YES_NO_INITIAL: dict[object, str] = {True: "true", False: "false"}


def _as_bool(value):
    return {"true": True, "false": False}.get(value)


def _yes_no(label: str, help_text: str = "") -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=YES_NO,
        coerce=_as_bool,
        empty_value=None,
        required=False,
        help_text=help_text,
        widget=forms.RadioSelect,
    )


def _number(name: str, label: str, step: str = "1") -> forms.DecimalField:
    allowed = plausible_range(name)
    return forms.DecimalField(
        label=label,
        required=False,
        help_text=f"{allowed.low}–{allowed.high} {allowed.unit}",
        widget=forms.NumberInput(attrs={"step": step, "inputmode": "decimal"}),
    )


CONDITION_PREFIX = "condition_"


class IntakePatientForm(forms.Form):
    """What the patient answers (through the link) — staff see the same questions and more.

    Every question the rules need is an explicit yes or no (docs/adr/0010): the medical history
    is one yes/no per condition, and the medicines and antidepressant tables each start with a
    yes/no. Pregnancy and breastfeeding are not asked of a patient whose recorded sex is male.
    """

    history_detail = TextField(
        label="Other medical history, in your own words",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    allergies = TextField(
        label="Allergies", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    psychiatric_history = TextField(
        label="Psychiatric history (diagnoses, hospital stays)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    substance_use = TextField(
        label="Alcohol, cannabis or other substance use",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    pregnant = _yes_no("Are you pregnant, or could you be?")
    breastfeeding = _yes_no("Are you breastfeeding?")
    weight_kg = _number("weight_kg", "Weight (kg)", "0.1")
    height_cm = _number("height_cm", "Height (cm)", "0.1")
    takes_medications = _yes_no(
        "Do you take any medicines now?",
        "Prescribed or not, including sleeping pills and pain relief. If yes, list each below.",
    )
    tried_antidepressants = _yes_no(
        "Have you taken any antidepressants?", "If yes, list each one below."
    )
    home_treatment_monitor_name = TextField(
        label="For at-home treatment: the adult who will stay with you during sessions",
        required=False,
        max_length=200,
    )
    home_bp_monitor = _yes_no("Do you have a blood-pressure monitor at home?")

    def __init__(self, *args, patient_sex: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        for code, label in Condition.choices:
            self.fields[CONDITION_PREFIX + code] = _yes_no(label)
        self.pregnancy_not_asked = patient_sex == "male"
        if self.pregnancy_not_asked:
            del self.fields["pregnant"], self.fields["breastfeeding"]

    def condition_fields(self):
        return [self[name] for name in self.fields if name.startswith(CONDITION_PREFIX)]

    def intake_data(self) -> dict:
        """The valid answers as the intake services take them (a field refused by the form is
        left out, so the services still check the rest at the same time)."""
        cleaned = getattr(self, "cleaned_data", {})
        data = {
            name: cleaned[name]
            for name in self.fields
            if not name.startswith(CONDITION_PREFIX) and name in cleaned
        }
        data["condition_answers"] = {
            name.removeprefix(CONDITION_PREFIX): cleaned.get(name)
            for name in self.fields
            if name.startswith(CONDITION_PREFIX)
        }
        return data

    @staticmethod
    def initial_for(intake) -> dict:
        """The saved answers as the form shows them: yes/no answers as the choices' "true" and
        "false" (unanswered as no choice), so re-saving an untouched form changes nothing."""
        initial: dict[str, object] = {}
        for name in IntakeStaffForm.base_fields:
            value = getattr(intake, name, None)
            initial[name] = _YES_NO_INITIAL.get(value, value)
        for code, value in (intake.condition_answers or {}).items():
            initial[CONDITION_PREFIX + code] = _YES_NO_INITIAL.get(value)
        return initial


class IntakeStaffForm(IntakePatientForm):
    indication = forms.ChoiceField(
        label="Indication", choices=[("", "Choose…"), *Indication.choices], required=False
    )
    systolic_mmhg = _number("systolic_mmhg", "Systolic BP (mmHg)")
    diastolic_mmhg = _number("diastolic_mmhg", "Diastolic BP (mmHg)")
    heart_rate_bpm = _number("heart_rate_bpm", "Heart rate (bpm)")

    field_order = ["indication", "systolic_mmhg", "diastolic_mmhg", "heart_rate_bpm"]


class MedicationForm(forms.Form):
    name = TextField(label="Medicine", required=False, max_length=120)
    medication_class = forms.ChoiceField(
        label="Class", required=False, choices=[("", "Choose…"), *MedicationClass.choices]
    )
    dose = TextField(label="Dose", required=False, max_length=120)


class TrialForm(forms.Form):
    drug = TextField(label="Antidepressant", required=False, max_length=120)
    dose = TextField(label="Highest dose", required=False, max_length=120)
    duration_weeks = forms.IntegerField(
        label="Weeks taken", required=False, min_value=0, max_value=520
    )
    outcome = forms.ChoiceField(
        label="How it ended", required=False, choices=[("", "Choose…"), *TrialOutcome.choices]
    )
    adequate = _yes_no("Adequate dose and duration?")
    current_episode = _yes_no("In this episode of depression?")


# One blank row under the saved ones; "Add a row" adds more (blank rows are ignored).
MedicationFormSet = forms.formset_factory(MedicationForm, extra=1)
TrialFormSet = forms.formset_factory(TrialForm, extra=1)


class RemsForm(forms.Form):
    enrolled_on = PlausibleDateField(label="Enrolment date", widget=DateInput())
    rems_patient_id = TextField(
        label="REMS patient ID",
        max_length=40,
        required=False,
        help_text="As the REMS issued it; it goes on every patient monitoring form.",
    )
    signed_by_patient = forms.BooleanField(
        label="The patient signed the Patient Enrollment Form", required=False
    )


JUSTIFICATION_PREFIX = "justification_"


@dataclass(frozen=True)
class DecisionAnswers:
    """What the prescriber chose; empty until the page is posted."""

    outcome: str = ""
    approved_routes: tuple[str, ...] = ()
    justifications: dict[str, str] = field(default_factory=dict)
    awaiting: str = ""


class _PostedText(forms.Field):
    """A value exactly as posted ("" when absent). The decision's rules (which outcomes and
    routes exist, what needs a justification) are the service's, so the page and every other
    caller are refused with the same words."""

    def to_python(self, value: object) -> str:
        return "" if value is None else str(value)


class _PostedList(forms.Field):
    """Every value posted under one name (a group of checkboxes), as posted."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: object) -> list[str]:
        return [str(item) for item in value] if isinstance(value, list | tuple) else []


class EligibilityDecisionForm(forms.Form):
    """The prescriber's decision as the review page posts it: the outcome, the routes, one
    justification per relative finding (`justification_<rule code>`), what a deferral awaits,
    and the intake revision the page showed (anything unreadable counts as stale)."""

    outcome = _PostedText(required=False)
    approved_routes = _PostedList(required=False)
    awaiting = _PostedText(required=False)
    revision = _PostedText(required=False)

    def clean_revision(self) -> int:
        try:
            return int(self.cleaned_data["revision"])
        except ValueError:
            return -1

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        cleaned["justifications"] = {
            key.removeprefix(JUSTIFICATION_PREFIX): str(value)
            for key, value in self.data.items()
            if key.startswith(JUSTIFICATION_PREFIX)
        }
        return cleaned

    def answers(self) -> DecisionAnswers:
        """The answers as `decision_sign` takes them, and as the page shows them back."""
        return DecisionAnswers(
            outcome=self.cleaned_data["outcome"],
            approved_routes=tuple(self.cleaned_data["approved_routes"]),
            justifications=self.cleaned_data["justifications"],
            awaiting=self.cleaned_data["awaiting"],
        )


@dataclass(frozen=True)
class RuleSetChange:
    """A clinic admin's change to the rule set's policy values, read from the rules page: the
    policy stored whole relative to the defaults (so each version stands alone), or the
    problems in the order the page lists its fields."""

    policy: dict[str, dict[str, object]]
    note: str
    errors: tuple[str, ...]


def rule_set_change_from(data: Mapping[str, str], *, current: RuleSet) -> RuleSetChange:
    """Each threshold a whole number; each rule the label does not fix at a level of its own.
    A field left out of the POST keeps the current value."""
    errors: list[str] = []
    thresholds: dict[str, int] = {}
    for name, spec in THRESHOLDS.items():
        raw = str(data.get(f"threshold_{name}", "")).strip()
        # ASCII digits only: "²" is a digit to str.isdigit and not a number to int().
        if not (raw.isascii() and raw.isdigit()):
            errors.append(f"{spec.description}: enter a whole number.")
        elif int(raw) != current.thresholds[name]:
            thresholds[name] = int(raw)
    levels: dict[str, object] = {}
    for rule in describe_rules(current):
        level = data.get(f"level_{rule.code}", rule.level)
        if not rule.label and level != DEFAULT_RULE_SET.levels.get(rule.code):
            levels[rule.code] = level
    policy: dict[str, dict[str, object]] = {
        "thresholds": {
            name: value
            for name, value in {**current.thresholds, **thresholds}.items()
            if value != DEFAULT_RULE_SET.thresholds[name]
        },
        "levels": levels,
    }
    return RuleSetChange(policy=policy, note=str(data.get("note", "")), errors=tuple(errors))
