from __future__ import annotations

from django import forms
from django.utils import timezone

from clinic.assessments.choices import Timepoint
from clinic.assessments.instruments import ALL_CODES, get_instrument
from clinic.assessments.instruments.base import Instrument
from clinic.assessments.suicidality import CSSRS_CODE
from clinic.core.forms import PlausibleDateTimeField, TextField

# How to fill in a questionnaire whose questions branch, in plain words, for each audience:
# the C-SSRS screener asks questions 3–5 only after a yes to question 2, and its last
# question (within the past 3 months) only after a yes to question 6 (clinical-reference.md
# §7.4, [G11]; calculators.md §1 `cssrs-screen`). A skipped question is blank by design:
# it is neither a "no" nor a missing answer.
PATIENT_HOW_TO_ANSWER: dict[str, str] = {
    CSSRS_CODE: (
        "If your answer to question 2 is No, leave questions 3, 4 and 5 blank and go on to "
        "question 6. Answer the last question only if your answer to question 6 is Yes."
    ),
}
STAFF_HOW_TO_ANSWER: dict[str, str] = {
    CSSRS_CODE: (
        "The screener branches. Ask questions 1 and 2. If 2 is Yes, ask 3, 4 and 5; if 2 is "
        "No, skip them and go to 6. Ask 6 every time, and 7 (within the past 3 months) only "
        "if 6 is Yes. Skipped questions stay blank: they are skipped by design, not answered "
        "No, and the risk level is still worked out."
    ),
}


class InstrumentForm(forms.Form):
    """One radio group per item, in published order. Unanswered items stay null: the score
    then says the form is incomplete (no prorating), and flags still count."""

    def __init__(self, *args, instrument: Instrument, staff: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        self.staff = staff
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
            self.fields["taken_at"] = PlausibleDateTimeField(
                label="Taken at",
                initial=lambda: timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
                widget=forms.DateTimeInput(
                    attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
                ),
            )

    def item_fields(self):
        return [self[f"item_{item.number}"] for item in self.instrument.items]

    def item_rows(self) -> list[tuple]:
        """(bound field, item, skip words) per item; skip words say when a branching item is
        asked, "" for an item that is always asked."""
        return [
            (self[f"item_{item.number}"], item, self._asked_words(item))
            for item in self.instrument.items
        ]

    @property
    def how_to_answer(self) -> str:
        words = STAFF_HOW_TO_ANSWER if self.staff else PATIENT_HOW_TO_ANSWER
        return words.get(self.instrument.code, "")

    @property
    def branching(self) -> bool:
        return any(item.asked_when for item in self.instrument.items)

    def _gate_words(self, item) -> tuple[int, str]:
        gate, value = item.asked_when
        gate_item = self.instrument.items[gate - 1]
        label = next((o.label for o in gate_item.options if o.value == value), str(value))
        return gate, label

    def _asked_words(self, item) -> str:
        if item.asked_when is None:
            return ""
        gate, label = self._gate_words(item)
        if self.staff:
            return (
                f"Ask only after a {label} to question {gate}; otherwise skip it (leave it blank)."
            )
        return f"Only if your answer to question {gate} is {label}."

    def _skipped_answer_words(self, item) -> str:
        gate, label = self._gate_words(item)
        if self.staff:
            return (
                f"Question {item.number} is asked only after a {label} to question {gate}, and "
                f"question {gate} was not answered {label}: leave question {item.number} blank, "
                f"or change the answer to question {gate}."
            )
        return (
            f"Please leave question {item.number} blank: it is only for a {label} to question "
            f"{gate}. Or change your answer to question {gate}."
        )

    def clean(self):
        cleaned = super().clean()
        # The screener's branching, said in words at the question (the scorer refuses the
        # same answers, for the API, in terms of nulls).
        for item in self.instrument.items:
            if item.asked_when is None:
                continue
            gate, value = item.asked_when
            gate_answer = cleaned.get(f"item_{gate}")
            if (
                gate_answer is not None
                and gate_answer != value
                and cleaned.get(f"item_{item.number}") is not None
            ):
                self.add_error(f"item_{item.number}", self._skipped_answer_words(item))
        return cleaned

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
    note = TextField(label="Note", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class ReasonForm(forms.Form):
    reason = TextField(max_length=300, label="Why is this entry wrong?")
