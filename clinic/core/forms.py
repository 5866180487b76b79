from __future__ import annotations

from django import forms

from clinic.core.exceptions import DomainError, InvalidInput
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


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def _text_validator(field: forms.CharField, multiline: bool | None) -> object:
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
