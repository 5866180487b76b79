"""The portal's forms for the intention and the journal. The services check everything again;
these give the patient the errors next to the field."""

from __future__ import annotations

from django import forms

from clinic.core.forms import PlausibleDateTimeField, TextField
from clinic.journal import rules
from clinic.journal.models import MOOD_MAX, MOOD_MIN

MOOD_CHOICES = [(str(n), str(n)) for n in range(MOOD_MIN, MOOD_MAX + 1)]


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class IntentionForm(forms.Form):
    text = TextField(
        label="My intention for this session",
        max_length=rules.INTENTION_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="In your own words: what you hope to explore, let go of or bring with you. "
        "A sentence or two is plenty. Your care team will see it at your session.",
        error_messages={"required": "Write your intention in a few words."},
    )


class MoodField(forms.TypedChoiceField):
    def __init__(self, **kwargs):
        super().__init__(
            choices=MOOD_CHOICES,
            coerce=int,
            widget=forms.RadioSelect(attrs={"class": "mood-option"}),
            error_messages={
                "required": f"Choose a number from {MOOD_MIN} to {MOOD_MAX}.",
                "invalid_choice": f"Choose a whole number from {MOOD_MIN} to {MOOD_MAX}.",
            },
            **kwargs,
        )


class JournalEntryForm(forms.Form):
    mood_before = MoodField(
        label="My mood before the session",
        help_text=f"{MOOD_MIN} is very low, {MOOD_MAX} is very good.",
    )
    mood_after = MoodField(
        label="My mood now",
        help_text=f"{MOOD_MIN} is very low, {MOOD_MAX} is very good.",
    )
    reflections = TextField(
        label="Reflections",
        required=False,
        max_length=rules.JOURNAL_TEXT_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 7}),
        help_text="What you noticed, felt or remember. There are no right answers.",
    )
    insights = TextField(
        label="Insights",
        required=False,
        max_length=rules.JOURNAL_TEXT_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Anything you understand differently, or want to carry into daily life.",
    )
    shared_with_care_team = forms.BooleanField(
        label="Share this entry with my care team",
        required=False,
        help_text="Only if you want to. Your therapist and prescriber will be able to read it. "
        "You can stop sharing at any time.",
    )
    remind_at = PlausibleDateTimeField(
        days_ahead="booking_days_ahead",
        label="Remind me to reflect later (optional)",
        required=False,
        widget=DateTimeLocalInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text="We will send one e-mail at this time with a link back to this entry, "
        f"within the next {rules.REMIND_LATER_MAX_DAYS} days. The e-mail says nothing about "
        "what you wrote.",
    )


class ShareForm(forms.Form):
    shared_with_care_team = forms.BooleanField(required=False)
