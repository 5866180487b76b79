"""A draft of the nurse's session note, written from the structured record: times, the dose and
what was given, the vital signs' ranges, alerts and what was done, scores, side effects and
interventions, the prescriber's decisions, and how the session ended. The nurse edits it and
saves it as her note; nothing here is stored or signed by itself.

Pure Python: no Django import (a test checks it). Times come in already in the clinic's time
zone; every list that is empty is said to be empty ("none recorded"), never left out, so the
draft never suggests that something was checked when it was not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Reading:
    at: dt.datetime
    systolic_mmhg: int | None = None
    diastolic_mmhg: int | None = None
    heart_rate_bpm: int | None = None
    spo2_percent: int | None = None
    respiratory_rate_per_min: int | None = None
    temperature_c: Decimal | None = None


@dataclass(frozen=True)
class Given:
    at: dt.datetime
    what: str  # "IV infusion", "IM injection (left deltoid)", "Device 2"
    given_mg: Decimal
    drawn_mg: Decimal
    container: str  # label and lot
    above_expected_reason: str = ""


@dataclass(frozen=True)
class Event:
    """Anything else with a time and words: a pump event, an alert and its answer, a score, a
    side effect, an adverse event, a prescriber's decision."""

    at: dt.datetime
    text: str


@dataclass(frozen=True)
class DraftFacts:
    route: str  # "IV infusion", "IM injection", "Esketamine nasal spray"
    chair: str
    checked_in_at: dt.datetime
    identity_confirmed: bool
    dose_mg: Decimal | None = None
    dose_detail: str = ""  # "0.5 mg/kg × 80 kg, over 40 min" or "2 devices of 28 mg"
    given: Sequence[Given] = ()
    pump: Sequence[Event] = ()
    readings: Sequence[Reading] = field(default_factory=tuple)
    alerts: Sequence[Event] = ()
    scores: Sequence[Event] = ()
    side_effects: Sequence[Event] = ()
    adverse_events: Sequence[Event] = ()
    decisions: Sequence[Event] = ()
    ending: str = ""  # "Discharged 10:20 with the escort; instructions given." or "" if open


def _clock(moment: dt.datetime) -> str:
    return moment.strftime("%H:%M")


def _mg(value: Decimal) -> str:
    return f"{Decimal(value).normalize():f} mg"


def _span(values: Sequence[int | Decimal], unit: str) -> str:
    low, high = min(values), max(values)
    return f"{low}{unit}" if low == high else f"{low}–{high}{unit}"


def _vitals_line(readings: Sequence[Reading]) -> str:
    if not readings:
        return "Vital signs: none recorded."
    ordered = sorted(readings, key=lambda r: r.at)
    count = len(ordered)
    when = (
        f"{_clock(ordered[0].at)}"
        if count == 1
        else f"{_clock(ordered[0].at)}–{_clock(ordered[-1].at)}"
    )
    parts = []
    with_bp = [r for r in ordered if r.systolic_mmhg is not None and r.diastolic_mmhg is not None]
    if with_bp:
        parts.append(
            "BP "
            + _span([r.systolic_mmhg for r in with_bp if r.systolic_mmhg is not None], "")
            + "/"
            + _span([r.diastolic_mmhg for r in with_bp if r.diastolic_mmhg is not None], " mmHg")
        )
    for name, label, unit in (
        ("heart_rate_bpm", "HR", " bpm"),
        ("spo2_percent", "SpO2", " %"),
        ("respiratory_rate_per_min", "RR", "/min"),
        ("temperature_c", "temperature", " °C"),
    ):
        values = [getattr(r, name) for r in ordered if getattr(r, name) is not None]
        if values:
            parts.append(f"{label} {_span(values, unit)}")
    readings_word = "reading" if count == 1 else "readings"
    return f"Vital signs ({count} {readings_word}, {when}): " + ", ".join(parts) + "."


def _events_line(title: str, events: Sequence[Event]) -> str:
    if not events:
        return f"{title}: none recorded."
    ordered = sorted(events, key=lambda e: e.at)
    return f"{title}: " + "; ".join(f"{_clock(e.at)} {e.text.rstrip('.')}" for e in ordered) + "."


def session_note_draft(facts: DraftFacts) -> str:
    """The draft, one line per part of the session, in the order the session ran."""
    identity = (
        "identity confirmed by full name and date of birth"
        if facts.identity_confirmed
        else "identity check not recorded"
    )
    lines = [
        f"{facts.route}, {facts.chair}. Checked in {_clock(facts.checked_in_at)}; {identity}.",
    ]
    if facts.dose_mg is not None:
        detail = f" ({facts.dose_detail})" if facts.dose_detail else ""
        lines.append(f"Planned dose: {_mg(facts.dose_mg)}{detail}.")
    if facts.pump:
        lines.append(_events_line("Infusion", facts.pump))
    if facts.given:
        parts = []
        for given in sorted(facts.given, key=lambda g: g.at):
            text = (
                f"{_clock(given.at)} {given.what}: {_mg(given.given_mg)} given of "
                f"{_mg(given.drawn_mg)} drawn ({given.container})"
            )
            if given.above_expected_reason:
                text += f", more than the pump's running time allows: {given.above_expected_reason}"
            parts.append(text)
        total = sum((g.given_mg for g in facts.given), Decimal(0))
        lines.append("Given: " + "; ".join(parts) + f". Total given {_mg(total)}.")
    else:
        lines.append("Given: no dose recorded.")
    lines.append(_vitals_line(facts.readings))
    lines.append(_events_line("Alerts", facts.alerts))
    lines.append(_events_line("Scores", facts.scores))
    lines.append(_events_line("Side effects", facts.side_effects))
    lines.append(_events_line("Adverse events", facts.adverse_events))
    if facts.decisions:
        lines.append(_events_line("Prescriber decisions", facts.decisions))
    if facts.ending:
        lines.append(facts.ending)
    return "\n".join(lines)
