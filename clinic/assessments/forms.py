from __future__ import annotations

from django import forms
from django.utils import timezone

from clinic.assessments.choices import Timepoint
from clinic.assessments.instruments import ALL_CODES, get_instrument
from clinic.assessments.instruments.base import Instrument


class InstrumentForm(forms.Form):
    """One radio group per item, in published order. Unanswered items stay null: the score
    then says the form is incomplete (no prorating), and flags still count."""

    def __init__(self, *args, instrument: Instrument, staff: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        for item in instrument.items:
            self.fields[f"item_{item.number}"] = forms.TypedChoiceField(
                label=item.text,
                choices=[(o.value, o.label) for o in item.options],
                coerce=int,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
            )
        if staff:
            self.fields["timepoint"] = forms.ChoiceField(
                choices=Timepoint.choices, initial=Timepoint.UNSCHEDULED
            )
            self.fields["taken_at"] = forms.DateTimeField(
                label="Taken at",
                initial=lambda: timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
                widget=forms.DateTimeInput(
                    attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
                ),
            )

    def item_fields(self):
        return [self[f"item_{item.number}"] for item in self.instrument.items]

    def answers(self) -> list[int | None]:
        values = [self.cleaned_data.get(f"item_{i.number}") for i in self.instrument.items]
        # Trailing optional items left blank are simply not sent (PHQ-9 item 10, GAD-7 item 8).
        while values and values[-1] is None and not self.instrument.items[len(values) - 1].required:
            values.pop()
        return values


def _patient_facing_choices():
    return [(c, get_instrument(c).name) for c in ALL_CODES if get_instrument(c).patient_facing]


class LinkForm(forms.Form):
    instrument_codes = forms.MultipleChoiceField(
        label="Questionnaires", widget=forms.CheckboxSelectMultiple, choices=()
    )
    timepoint = forms.ChoiceField(choices=Timepoint.choices, initial=Timepoint.UNSCHEDULED)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["instrument_codes"].choices = _patient_facing_choices()


class NoteForm(forms.Form):
    note = forms.CharField(label="Note", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=300, label="Why is this entry wrong?")
