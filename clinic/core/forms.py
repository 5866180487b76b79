from __future__ import annotations

from django import forms

from clinic.core.exceptions import DomainError, InvalidInput


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
