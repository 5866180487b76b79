"""One check the billing services share for a typed line of text."""

from __future__ import annotations

from clinic.core.text import CONTROL_CHARACTER_MESSAGE, has_control_characters


def one_line(errors: dict[str, list[str]], field: str, value: str, limit: int) -> str:
    """The value trimmed; a control character or more than `limit` characters is noted in
    `errors` under `field` (the caller raises them all together)."""
    value = (value or "").strip()
    if has_control_characters(value):
        errors[field] = [CONTROL_CHARACTER_MESSAGE]
    elif len(value) > limit:
        errors[field] = [f"At most {limit} characters."]
    return value
