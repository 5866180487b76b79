"""An API operation checks its body with the page's own form, so that a refusal says what the
page says and no rule is written twice."""

from __future__ import annotations

from collections.abc import Mapping

from django import forms

from clinic.core.exceptions import InvalidInput


def form_checked[FormT: forms.Form](form: FormT, rename: Mapping[str, str] | None = None) -> FormT:
    """The page's form over a body: valid, or its messages as InvalidInput (422) named by the
    body's fields. `rename` maps a form field to the body field it came from, where they differ;
    what the form says of its input as a whole (Django's `__all__`) is said of the `body`."""
    if not form.is_valid():
        names = {"__all__": "body", **(rename or {})}
        raise InvalidInput(
            {
                names.get(field, field): [str(message) for message in messages]
                for field, messages in form.errors.items()
            }
        )
    return form
