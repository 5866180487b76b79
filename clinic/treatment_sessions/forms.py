"""The session page's forms. They parse what the nurse typed; every rule (plausibility, limits,
what is allowed when) is the services' and comes back as field errors."""

from __future__ import annotations

import datetime
from typing import cast

from django import forms
from django.utils import timezone

from clinic.assessments.instruments import cadss, moaas, modified_aldrete
from clinic.controlled_substances.forms import WitnessMixin
from clinic.core.forms import BirthDateField, DateInput, PlausibleDateTimeField, TextField
from clinic.screening.choices import Route
from clinic.treatment_sessions.choices import (
    AdverseEventOutcome,
    AlertAction,
    ImSite,
    Lighting,
    PregnancyTest,
    QuestionnaireStatus,
    Seriousness,
    SessionScoreKind,
    Severity,
    SideEffectKind,
)
from clinic.treatment_sessions.page import container_label


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%H:%M")


def today_at(clock: datetime.time | None) -> datetime.datetime | None:
    """Today (in the clinic's time zone) at a time of day; None (the service's "now") if blank."""
    if clock is None:
        return None
    return timezone.make_aware(datetime.datetime.combine(timezone.localdate(), clock))


def _time_field(label: str) -> forms.TimeField:
    return forms.TimeField(
        label=label, required=False, widget=TimeInput(), help_text="Leave blank for now."
    )


def _text_field(label: str, *, max_length: int, required: bool = True, rows: int = 0, **kwargs):
    widget = forms.Textarea(attrs={"rows": rows}) if rows else None
    return TextField(label=label, max_length=max_length, required=required, widget=widget, **kwargs)


class NurseChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return user.display_name


class CheckInForm(forms.Form):
    """Two identifiers, asked of the patient (never read to them), and the chair's nurse."""

    full_name_confirmed = forms.BooleanField(required=False)
    stated_date_of_birth = BirthDateField(
        label="Date of birth, as the patient says it",
        required=False,
        widget=DateInput(attrs={"autocomplete": "off"}),
    )
    assigned_nurse = NurseChoiceField(
        label="Nurse running the chair",
        queryset=None,
        required=False,
        empty_label="Choose…",
        to_field_name="uuid",
    )

    def __init__(self, *args, patient_name: str, nurses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[
            "full_name_confirmed"
        ].label = f"The patient said their full name, and it is {patient_name}"
        nurse_field = self.fields["assigned_nurse"]
        assert isinstance(nurse_field, forms.ModelChoiceField)  # declared above
        nurse_field.queryset = nurses

    def identity(self):
        from clinic.treatment_sessions.services import IdentityCheck

        return IdentityCheck(
            full_name_confirmed=bool(self.cleaned_data.get("full_name_confirmed")),
            stated_date_of_birth=self.cleaned_data.get("stated_date_of_birth"),
        )


class ContainerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, container):
        return container_label(container)


class ContainerFormMixin:
    """A container chosen from the usable stock of the session's route (page.usable_containers);
    the service checks it again."""

    fields: dict[str, forms.Field]  # the form's, once mixed into one

    def _container_field(self, containers, label: str):
        from clinic.controlled_substances.models import Container

        field = ContainerChoiceField(
            queryset=Container.objects.filter(pk__in=[c.pk for c in containers]).select_related(
                "lot__product"
            ),
            to_field_name="uuid",
            label=label,
            empty_label="Choose…",
        )
        # Render from the list the page already read (no second query for the options).
        field.choices = [("", "Choose…")] + [(str(c.uuid), container_label(c)) for c in containers]
        self.fields["container"] = field


# --------------------------------------------------------------------------- pre-checks


class PreCheckForm(forms.Form):
    last_food_at = PlausibleDateTimeField(
        label="Last food",
        required=False,
        widget=DateTimeLocalInput(),
    )
    last_liquid_at = PlausibleDateTimeField(
        label="Last clear liquid",
        required=False,
        widget=DateTimeLocalInput(),
    )
    escort_name = _text_field("Escort's name", max_length=120, required=False)
    escort_phone = _text_field("Escort's phone", max_length=40, required=False)
    escort_confirmed = forms.BooleanField(
        label="Escort home confirmed (no driving today)", required=False
    )
    pregnancy_test = forms.ChoiceField(
        label="Pregnancy test",
        required=False,
        choices=[("", "Not recorded"), *PregnancyTest.choices],
    )
    questionnaires = forms.ChoiceField(
        label="Today's questionnaires", required=False, choices=QuestionnaireStatus.choices
    )
    questionnaires_skip_reason = _text_field(
        "Why skipped", max_length=300, required=False, help_text="Needed when skipped."
    )
    suicidality_follow_up = _text_field(
        "Suicidality follow-up today", max_length=2000, required=False, rows=3
    )
    intention = _text_field(
        "Intention, in the patient's own words", max_length=2000, required=False, rows=2
    )
    setting_eye_mask = forms.BooleanField(label="Eye mask", required=False)
    setting_headphones_music = forms.BooleanField(label="Headphones and music", required=False)
    setting_music_choice = _text_field("Music", max_length=200, required=False)
    setting_lighting = forms.ChoiceField(
        label="Lighting", required=False, choices=[("", "Not recorded"), *Lighting.choices]
    )
    weight_today_kg = forms.DecimalField(
        label="Today's weight (kg)",
        required=False,
        max_digits=5,
        decimal_places=1,
        help_text="Recorded in the chart; the dose per kg uses the latest weight.",
    )

    def __init__(self, *args, route: str, flagged: bool, male: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if route == Route.ESKETAMINE:
            # Esketamine: no food 2 h and no liquid of any kind 30 min before [C3].
            self.fields["last_liquid_at"].label = "Last liquid (any drink)"
            self.fields["last_food_at"].help_text = "Esketamine: no food in the hours before."
            self.fields[
                "weight_today_kg"
            ].help_text = "Recorded in the chart (not used for the dose)."
        else:
            # IV/IM: last clear liquid; any other drink counts as food ([E12], rules.fasting_check).
            self.fields[
                "last_liquid_at"
            ].help_text = "Water, clear juice, black coffee or tea. Any other drink counts as food."
        if not flagged:
            self.fields[
                "suicidality_follow_up"
            ].help_text = "Nothing is flagged on the chart; record any follow-up all the same."
        else:
            self.fields[
                "suicidality_follow_up"
            ].help_text = "Suicidality is flagged on the chart: record today's follow-up."
        if male:
            self.fields["pregnancy_test"].help_text = "The patient's sex is recorded as male."

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        if data.get("weight_today_kg") is None:
            data.pop("weight_today_kg", None)
        return data


class ReasonForm(forms.Form):
    reason = _text_field("Reason", max_length=500)


# --------------------------------------------------------------------------- dosing


class InfusionStartForm(ContainerFormMixin, forms.Form):
    drawn_mg = forms.DecimalField(label="Drawn into the bag (mg)", max_digits=9, decimal_places=3)
    rate_ml_per_h = forms.DecimalField(
        label="Rate (mL/h)", required=False, max_digits=6, decimal_places=1
    )

    def __init__(self, *args, containers, **kwargs):
        super().__init__(*args, **kwargs)
        self._container_field(containers, "Vial")
        self.order_fields(["container", "drawn_mg", "rate_ml_per_h"])


class InfusionPauseForm(forms.Form):
    reason = _text_field("Why paused", max_length=300)


class DosingEndForm(forms.Form):
    reason = _text_field("Why no more devices", max_length=300)


class InfusionRateForm(forms.Form):
    rate_ml_per_h = forms.DecimalField(label="New rate (mL/h)", max_digits=6, decimal_places=1)
    reason = _text_field("Reason", max_length=300, required=False)


class _WasteWitnessForm(WitnessMixin, forms.Form):
    """An optional witnessed waste of the residual at once (or later, from the page)."""

    def _witness_now(self, *, actor, request, location):
        """The witness is offered from the staff who work at the session's `location`."""
        self._witness_fields(actor=actor, request=request, location=location)
        self.fields["witness"].label = "Waste witness (optional)"
        self.fields[
            "witness"
        ].help_text = "Waste what is left at once, witnessed; or later from this page."
        self.fields["waste_reason"] = _text_field("Waste reason", max_length=300, required=False)

    def clean(self):
        data = super().clean()
        self._check_witness(data)
        return data


class InfusionStopForm(_WasteWitnessForm):
    given_mg = forms.DecimalField(
        label="Given to the patient (mg)",
        help_text="As the pump shows it.",
        max_digits=9,
        decimal_places=3,
    )
    reason = _text_field(
        "Reason", max_length=300, required=False, help_text="Needed if less than the dose."
    )
    given_above_expected_reason = _text_field(
        "Why more than the pump could have run in",
        max_length=300,
        required=False,
        help_text="Only when the mg given is above what the running time allows.",
    )

    def __init__(self, *args, actor, request, location, **kwargs):
        super().__init__(*args, **kwargs)
        self._witness_now(actor=actor, request=request, location=location)


class ImInjectionForm(ContainerFormMixin, _WasteWitnessForm):
    drawn_mg = forms.DecimalField(label="Drawn (mg)", max_digits=9, decimal_places=3)
    given_mg = forms.DecimalField(label="Injected (mg)", max_digits=9, decimal_places=3)
    site = forms.ChoiceField(label="Injection site", choices=[("", "Choose…"), *ImSite.choices])
    given_at = _time_field("Given at")

    def __init__(self, *args, containers, actor, request, location, **kwargs):
        super().__init__(*args, **kwargs)
        self._container_field(containers, "Vial")
        self._witness_now(actor=actor, request=request, location=location)
        self.order_fields(["container", "drawn_mg", "given_mg", "site", "given_at"])


class DeviceForm(ContainerFormMixin, forms.Form):
    given_at = _time_field("Given at")

    def __init__(self, *args, containers, **kwargs):
        super().__init__(*args, **kwargs)
        self._container_field(containers, "Device")
        self.order_fields(["container", "given_at"])


class WasteForm(WitnessMixin, forms.Form):
    witness_required = True
    reason = _text_field("Reason", max_length=300, required=False, initial="Residual of the dose")

    def __init__(self, *args, actor, request, location, **kwargs):
        """The witness is offered from the staff who work at the session's `location`."""
        super().__init__(*args, **kwargs)
        self._witness_fields(actor=actor, request=request, location=location)
        self.order_fields(["witness", "witness_password", "reason"])

    def clean(self):
        data = super().clean()
        self._check_witness(data)
        return data


# --------------------------------------------------------------------------- monitoring


class VitalsForm(forms.Form):
    taken_at = _time_field("Taken at")
    systolic_mmhg = forms.IntegerField(label="Systolic (mmHg)", required=False)
    diastolic_mmhg = forms.IntegerField(label="Diastolic (mmHg)", required=False)
    heart_rate_bpm = forms.IntegerField(label="Heart rate (/min)", required=False)
    spo2_percent = forms.IntegerField(label="SpO2 (%)", required=False)
    respiratory_rate_per_min = forms.IntegerField(label="Respiratory rate (/min)", required=False)
    temperature_c = forms.DecimalField(
        label="Temperature (°C)", required=False, max_digits=4, decimal_places=1
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name != "taken_at":
                field.widget.attrs.update(
                    {"inputmode": "decimal" if name == "temperature_c" else "numeric"}
                )

    def values(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "taken_at"}


class AlertAcknowledgeForm(forms.Form):
    action = forms.ChoiceField(label="Action", choices=[("", "Choose…"), *AlertAction.choices])
    note = _text_field(
        "Note",
        max_length=500,
        required=False,
        help_text="Needed for stop and intervention: say what was done.",
    )


class EnteredInErrorForm(forms.Form):
    reason = _text_field("Why is it wrong?", max_length=300)


def _instrument_field(item, *, radio: bool) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=item.text,
        coerce=int,
        choices=[(o.value, f"{o.value} — {o.label}" if radio else o.label) for o in item.options],
        widget=forms.RadioSelect if radio else forms.Select,
    )


class ScoreForm(forms.Form):
    """MOAA/S, CADSS or modified Aldrete, item by item with the instrument's own options."""

    INSTRUMENTS = {
        SessionScoreKind.MOAAS: (moaas.INSTRUMENT, True),
        SessionScoreKind.CADSS: (cadss.INSTRUMENT, False),
        SessionScoreKind.MODIFIED_ALDRETE: (modified_aldrete.INSTRUMENT, True),
    }

    taken_at = _time_field("Taken at")

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        instrument, radio = self.INSTRUMENTS[SessionScoreKind(kind)]
        self.kind = kind
        self.instrument = instrument
        for item in instrument.items:
            self.fields[f"item_{item.number}"] = _instrument_field(item, radio=radio)
        if kind == SessionScoreKind.CADSS:
            for item in instrument.items:
                field = self.fields[f"item_{item.number}"]
                assert isinstance(field, forms.ChoiceField)  # _instrument_field's, just above
                # A ChoiceField holds its choices as a list of pairs once set.
                options = cast(list[tuple[object, str]], field.choices)
                field.choices = [("", "–"), *options]

    @property
    def item_fields(self):
        return [self[f"item_{item.number}"] for item in self.instrument.items]

    def answers(self) -> list[int]:
        return [self.cleaned_data[f"item_{item.number}"] for item in self.instrument.items]


class SideEffectForm(forms.Form):
    kind = forms.ChoiceField(
        label="Side effect", choices=[("", "Choose…"), *SideEffectKind.choices]
    )
    other_text = _text_field("If other, what", max_length=200, required=False)
    severity = forms.ChoiceField(label="Severity", choices=[("", "Choose…"), *Severity.choices])
    intervention = _text_field(
        "Intervention", max_length=300, required=False, help_text="E.g. an antiemetic given."
    )
    noticed_at = _time_field("Noticed at")


class AdverseEventForm(forms.Form):
    description = _text_field("What happened", max_length=4000, rows=3)
    seriousness = forms.ChoiceField(
        label="Seriousness", choices=[("", "Choose…"), *Seriousness.choices]
    )
    onset_at = _time_field("Onset")
    action_taken = _text_field("Action taken", max_length=500, required=False)
    outcome = forms.ChoiceField(
        label="Outcome", choices=[("", "Choose…"), *AdverseEventOutcome.choices]
    )


# --------------------------------------------------------------------------- discharge, notes


class DischargeForm(forms.Form):
    escort_present = forms.BooleanField(
        label="The escort is here to take the patient home", required=False
    )
    instructions_given = forms.BooleanField(
        label="Post-session instructions given to the patient and escort", required=False
    )
    instructions_text = _text_field("Instructions given", max_length=4000, required=False, rows=5)
    override_reason = _text_field(
        "Prescriber's override: why discharge despite the criteria",
        max_length=500,
        required=False,
        help_text="Only when discharge is blocked.",
    )

    def __init__(self, *args, can_override: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_override:
            del self.fields["override_reason"]


class NoteForm(forms.Form):
    text = _text_field("Session note", max_length=20000, rows=10)


class AddendumForm(forms.Form):
    text = _text_field("Addendum", max_length=20000, rows=3)


class IntegrationNoteForm(forms.Form):
    text = _text_field("Integration note", max_length=20000, rows=4)
