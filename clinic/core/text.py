"""The clinic's one text policy: which characters free text may hold, pages and API alike.

Refused everywhere: control characters (category Cc; NUL above all, which PostgreSQL refuses in
text), invisible format characters (Cf: zero-width spaces and joiners, U+FEFF, soft hyphens, and
the bidirectional embeddings, overrides, isolates and marks U+202A–U+202E, U+2066–U+2069,
U+200E, U+200F, U+061C that can make "\u202egnp.exe" read as "exe.png"), line and paragraph
separators (Zl, Zp) and lone surrogates (Cs, which no database can store). Multi-line text (a
note, a reason) may also hold line breaks and tabs; a name or any one-line value may not.

Forms use `clinic.core.forms.TextField` (or `apply_text_policy` for a ModelForm's fields); Ninja
schemas use the `OneLine` and `MultiLine` types below; services call `has_control_characters`
or `text_problem` for text that arrives any other way. tests/test_text_policy.py proves every
form CharField and every str field of an API request body carries the policy.
"""

from __future__ import annotations

import functools
import sys
import unicodedata
from typing import Annotated

from django.core.exceptions import ValidationError
from pydantic import AfterValidator

_LINE_BREAKS = frozenset({"\n", "\r", "\t"})
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})

CONTROL_CHARACTER_MESSAGE = (
    "This text contains hidden characters (control characters, invisible formatting or "
    "text-direction marks), often carried in by copy and paste. Retype the text rather than "
    "pasting it."
)
LINE_BREAK_MESSAGE = "Keep this on one line: remove the line breaks and tabs."


def _refused(ch: str) -> bool:
    return unicodedata.category(ch) in _REFUSED_CATEGORIES


def text_problem(text: str, *, multiline: bool = True) -> str:
    """Why `text` may not be stored, in words a nurse understands ("" when it may)."""
    hidden = False
    breaks = False
    for ch in text:
        if ch in _LINE_BREAKS:
            breaks = True
        elif _refused(ch):
            hidden = True
            break
    if hidden:
        return CONTROL_CHARACTER_MESSAGE
    if breaks and not multiline:
        return LINE_BREAK_MESSAGE
    return ""


def has_control_characters(text: str) -> bool:
    """True when `text` holds a character no free text may hold (line breaks and tabs are
    allowed: the caller decides whether its value may span lines)."""
    return any(ch not in _LINE_BREAKS and _refused(ch) for ch in text)


# ------------------------------------------------------------------ forms (Django validators)


def _strings(value: object) -> list[str]:
    """The text in a value: itself, or every key and string of a parsed JSON document."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list | tuple):
        return [s for item in value for s in _strings(item)]
    return []


def _validate(value: object, *, multiline: bool) -> None:
    for text in _strings(value):
        problem = text_problem(text, multiline=multiline)
        if problem:
            raise ValidationError(problem, code="text_policy")


def validate_one_line(value: object) -> None:
    _validate(value, multiline=False)


def validate_multi_line(value: object) -> None:
    _validate(value, multiline=True)


TEXT_POLICY_VALIDATORS = (validate_one_line, validate_multi_line)


# ------------------------------------------------------------------ API (pydantic types)


def _one_line(value: str) -> str:
    problem = text_problem(value, multiline=False)
    if problem:
        raise ValueError(problem)
    return value


def _multi_line(value: str) -> str:
    problem = text_problem(value, multiline=True)
    if problem:
        raise ValueError(problem)
    return value


def _refused_ranges(*, multiline: bool) -> str:
    """The refused characters as a regular-expression character class body: every code point
    of the refused categories, as ranges, written as escapes (BMP) or literally (beyond it)."""
    allowed_breaks = _LINE_BREAKS if multiline else frozenset()
    ranges: list[tuple[int, int]] = []
    for point in range(sys.maxunicode + 1):
        ch = chr(point)
        if ch in allowed_breaks or not (_refused(ch) or ch in _LINE_BREAKS):
            continue
        # Lone surrogates cannot be written in a pattern other engines compile (JSON carries
        # only valid UTF-16 pairs anyway); the validator still refuses them.
        if unicodedata.category(ch) == "Cs":
            continue
        if ranges and ranges[-1][1] == point - 1:
            ranges[-1] = (ranges[-1][0], point)
        else:
            ranges.append((point, point))

    def one(point: int) -> str:
        return f"\\u{point:04x}" if point <= 0xFFFF else chr(point)

    return "".join(one(a) if a == b else f"{one(a)}-{one(b)}" for a, b in ranges)


class _PublishedPattern:
    """Publishes the policy in the OpenAPI document as a `pattern`, so a client (and the
    contract run) knows which strings the API takes; the validator above still does the
    refusing, with words a person understands."""

    def __init__(self, *, multiline: bool) -> None:
        self.multiline = multiline

    @functools.cached_property
    def pattern(self) -> str:
        return f"^[^{_refused_ranges(multiline=self.multiline)}]*$"

    def __get_pydantic_json_schema__(self, core_schema, handler):
        schema = handler(core_schema)
        schema["pattern"] = self.pattern
        return schema


ONE_LINE = AfterValidator(_one_line)
MULTI_LINE = AfterValidator(_multi_line)
# A name, a code, a phone number: one line of visible text.
OneLine = Annotated[str, ONE_LINE, _PublishedPattern(multiline=False)]
# A note or a reason: visible text, line breaks and tabs allowed.
MultiLine = Annotated[str, MULTI_LINE, _PublishedPattern(multiline=True)]
