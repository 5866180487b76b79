"""The plan pages' vocabulary: each input a prescriber sees named in words, and the pure
calculators' messages (which name their request fields, as the API contract asks,
calculators.md) put into those words before a person reads them."""

from __future__ import annotations

import re

# What each field or template option is called on the plan pages: the form labels, and the
# words that replace the internal name in a message.
LABELS: dict[str, str] = {
    # Plan-level choices.
    "start_date": "Start date",
    "dose_mg_per_kg": "Dose (mg/kg)",
    "infusion_minutes": "Infusion time (minutes)",
    "weight_basis": "Weight basis",
    "esketamine_dose_mg": "Dose (mg)",
    "dose_mg": "Dose (mg)",
    "notes": "Notes",
    # The patient's measurements the dose is calculated from.
    "weight_kg": "The patient's weight (kg)",
    "height_cm": "The patient's height (cm)",
    "sex": "The patient's sex",
    "concentration_mg_per_ml": "Concentration (mg/mL)",
    # Options of the built-in templates (clinic/protocols/schedules/built_in.py).
    "sessions": "Number of sessions",
    "sessions_per_week": "Sessions a week",
    "interval_days": "Days between sessions",
    "interval_weeks": "Weeks between sessions",
    "maintenance_interval_weeks": "Weeks between maintenance sessions",
    "maintenance_sessions": "Maintenance sessions",
    "count": "Number of sessions",
    "phase": "Phase",
    # Titration and maintenance.
    "from_session": "From session",
    "reason": "Reason",
}

ROUTE_WORDS = {
    "iv": "IV infusion",
    "im": "IM injection",
    "esketamine": "esketamine",
    "sublingual": "sublingual",
}

_SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
_ROUTE = re.compile(r"\broute (iv|im|esketamine|sublingual)\b")
_SUBJECT = re.compile(r"^([a-z][a-z0-9_]*)\b")


def label(name: str) -> str:
    """The words for a field or option: its label, or its name with spaces (a clinic's own
    template may name options the clinic chose)."""
    return LABELS.get(name) or name.replace("_", " ").capitalize()


def in_words(message: str) -> str:
    """A calculator's message with every internal name said in words:
    "dose_mg_per_kg must be between 0.1 and 1.0 mg/kg for route iv" →
    "Dose (mg/kg) must be between 0.1 and 1.0 mg/kg for IV infusion"."""

    def lowered(name: str) -> str:
        words = label(name)
        return words[0].lower() + words[1:]

    text = _ROUTE.sub(lambda m: ROUTE_WORDS[m.group(1)], message)
    # The message's subject ("count must be ...", "dose_mg_per_kg must be ..."), then any other
    # internal name within it ("... needed for weight_basis ideal").
    subject = _SUBJECT.match(text)
    if subject and (subject.group(1) in LABELS or "_" in subject.group(1)):
        text = label(subject.group(1)) + text[subject.end() :]
    text = _SNAKE.sub(lambda m: lowered(m.group(0)), text)
    return text[:1].upper() + text[1:]


def errors_in_words(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    return {field: [in_words(text) for text in messages] for field, messages in errors.items()}
