"""Text checks shared by every service that stores free text."""

from __future__ import annotations

import unicodedata

# Line breaks and tabs are ordinary in notes; every other control character (NUL above all,
# which PostgreSQL refuses in text) is a paste accident or an attack, never patient data.
_ALLOWED_CONTROL = {"\n", "\r", "\t"}
CONTROL_CHARACTER_MESSAGE = "Remove the invisible control characters from this text."


def has_control_characters(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" and ch not in _ALLOWED_CONTROL for ch in text)
