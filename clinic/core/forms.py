from __future__ import annotations

import datetime
from collections.abc import Callable

from django import forms
from django.utils import timezone

from clinic.core.exceptions import DomainError, InvalidInput
from clinic.core.parsing import birth_date_problem, date_problem, event_moment, planned_moment
from clinic.core.policy import date_policy
from clinic.core.text import TEXT_POLICY_VALIDATORS, validate_multi_line, validate_one_line


def apply_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's refusal next to the field it names, or above the form."""
    if isinstance(error, InvalidInput):
        for field, messages in error.errors.items():
            target = field if field in form.fields else None
            for message in messages:
                form.add_error(target, message)
    else:
        form.add_error(error.field if error.field in form.fields else None, error.message)


def refusal_text(error: DomainError) -> str:
    """A service's refusal in one line, for a page that answers with a flash message rather
    than a form: the first field's first message, or the refusal's own."""
    if isinstance(error, InvalidInput) and error.errors:
        return next(iter(error.errors.values()))[0]
    return error.message


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def _text_validator(field: forms.CharField, multiline: bool | None) -> Callable[[object], None]:
    if multiline is None:
        # A JSON document's strings may hold line breaks (they are escaped in it).
        multiline = isinstance(field.widget, forms.Textarea) or isinstance(field, forms.JSONField)
    return validate_multi_line if multiline else validate_one_line


def apply_text_policy(field: forms.Field, *, multiline: bool | None = None) -> forms.Field:
    """Put a CharField (or EmailField, SlugField...) under the clinic's text policy
    (clinic/core/text.py): a Textarea may hold line breaks, any other widget one line.
    Password fields are left alone: a password is never shown, and refusing a character there
    would lock out whoever chose it."""
    if (
        isinstance(field, forms.CharField)
        and not isinstance(field.widget, forms.PasswordInput)
        and not any(v in TEXT_POLICY_VALIDATORS for v in field.validators)
    ):
        field.validators.append(_text_validator(field, multiline))
    return field


def text_policy_formfield(model_field, **kwargs) -> forms.Field | None:
    """A ModelForm's `formfield_callback`: every generated text field under the text policy."""
    return apply_text_policy(model_field.formfield(**kwargs)) if model_field else None


class TextField(forms.CharField):
    """Free text under the clinic's one text policy. `multiline` defaults to "the widget is a
    Textarea"; pass it to say otherwise."""

    def __init__(self, *, multiline: bool | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        apply_text_policy(self, multiline=multiline)


# ------------------------------------------------------------------ plausible dates
# Every date a page accepts is one of these (tests/test_date_policy.py walks the forms). The
# bounds are clinic.core.parsing's, shared with the services; a bound that depends on the
# patient (their date of birth) is the service's to check.

# Days after today a date may fall: a number, or the name of a DatePolicy bound
# (clinic/core/policy.py), read when the form is checked so that a clinic's setting applies.
DaysAhead = int | str


def _days(ahead: DaysAhead) -> int:
    return getattr(date_policy(), ahead) if isinstance(ahead, str) else ahead


class PlausibleDateField(forms.DateField):
    """A calendar date not before the clinic's founding-era floor and at most `days_ahead`
    days after today (0, the default: not in the future; None: the form bounds the future
    itself, with words of its own, as the treatment plan's dates do)."""

    def __init__(self, *, days_ahead: DaysAhead | None = 0, **kwargs) -> None:
        self.days_ahead = days_ahead
        super().__init__(**kwargs)

    def validate(self, value: datetime.date | None) -> None:
        super().validate(value)
        if value is not None:
            today = timezone.localdate()
            if self.days_ahead is None:
                problem = date_problem(value, today=value) if value < today else ""
            else:
                problem = date_problem(value, today=today, days_ahead=_days(self.days_ahead))
            if problem:
                raise forms.ValidationError(problem, code="implausible_date")


class PlausibleDateTimeField(forms.DateTimeField):
    """When something happened (or, with `days_ahead`, is planned): not before the founding-era
    floor, and not after now plus the clock skew (or plus `days_ahead` days)."""

    def __init__(self, *, days_ahead: DaysAhead | None = None, **kwargs) -> None:
        self.days_ahead = days_ahead
        super().__init__(**kwargs)

    def validate(self, value: datetime.datetime | None) -> None:
        super().validate(value)
        if value is None:
            return
        now = timezone.now()
        try:
            if self.days_ahead is None:
                event_moment("value", value, now=now)
            else:
                planned_moment("value", value, now=now, days_ahead=_days(self.days_ahead))
        except InvalidInput as error:
            raise forms.ValidationError(error.errors["value"], code="implausible_date") from error


class BirthDateField(forms.DateField):
    """A date of birth: not in the future, not older than the clinic's oldest plausible age."""

    def validate(self, value: datetime.date | None) -> None:
        super().validate(value)
        if value is not None:
            problem = birth_date_problem(value, today=timezone.localdate())
            if problem:
                raise forms.ValidationError(problem, code="implausible_date")
