"""Amend, never erase: shared steps for clinical records that can be marked entered-in-error.

A record with `entered_in_error_at`, `entered_in_error_by` and `entered_in_error_reason` stays
in the chart, struck through, with who marked it and why.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.utils import timezone

from clinic.core.exceptions import InvalidInput
from clinic.core.models import EnteredInErrorMixin
from clinic.core.text import CONTROL_CHARACTER_MESSAGE, has_control_characters


def required_text(field: str, text: str | None, missing_message: str) -> str:
    """A stripped, non-empty free-text value without control characters, or InvalidInput."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput({field: [missing_message]})
    if has_control_characters(text):
        raise InvalidInput({field: [CONTROL_CHARACTER_MESSAGE]})
    return text


def mark_entered_in_error(record: EnteredInErrorMixin, *, actor: AbstractUser, reason: str) -> bool:
    """Mark a row (already locked by the caller) entered in error. False if it already was."""
    if record.entered_in_error_at is not None:
        return False
    record.entered_in_error_at = timezone.now()
    # The clinic's User; core sits below accounts, so it knows it as an AbstractUser.
    record.entered_in_error_by = actor  # type: ignore[assignment]
    record.entered_in_error_reason = reason[:300]
    # Every record marked is also a ClinicModel, with its `updated_at`.
    record.save(  # type: ignore[misc]
        update_fields=[
            "entered_in_error_at",
            "entered_in_error_by",
            "entered_in_error_reason",
            "updated_at",
        ]
    )
    return True
