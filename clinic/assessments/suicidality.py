"""Which answers raise a suicidality alert. Pure: no Django.

Rule (policy-defaults.md, "Suicidality"; [G5], [G13]): PHQ-9 item 9 ≥ 1, QIDS-SR16 item 12 ≥ 1,
or any "yes" on the C-SSRS screener → alert the patient's primary clinician, prompt a C-SSRS
screen and show crisis resources to the patient. A high C-SSRS risk also raises its own alert,
shown on the chart header until resolved. The item thresholds live on each instrument
(`Instrument.suicidality_items`); this module reads them through
`Instrument.suicidality_positives`, the same definition the scorers' `suicidal_ideation` flag
comes from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from clinic.assessments.instruments.base import (
    SUICIDAL_IDEATION,
    Answer,
    Instrument,
    ScoreResult,
)

CSSRS_CODE = "cssrs-screen"
# C-SSRS screener questions that are "yes/no" findings (Q1–Q6); the seventh value only says
# whether Q6's behaviour was within 3 months.
_CSSRS_FINDINGS = range(1, 7)


@dataclass(frozen=True)
class Trigger:
    kind: str  # "suicidal_ideation" or "high_suicide_risk"
    text: str


def suicidality_triggers(
    instrument: Instrument, answers: Sequence[Answer], result: ScoreResult
) -> list[Trigger]:
    """Every alert these answers raise; answered items count even on an incomplete form."""
    positives: list[str] = []
    if instrument.code == CSSRS_CODE:
        positives = [
            f"C-SSRS Q{n} answered yes"
            for n in _CSSRS_FINDINGS
            if n <= len(answers) and answers[n - 1] == 1
        ]
    else:
        positives = [
            f"{instrument.name} item {number} answered {value}"
            for number, value in instrument.suicidality_positives(answers)
        ]
    triggers = []
    if positives:
        triggers.append(Trigger(SUICIDAL_IDEATION, "; ".join(positives)))
    # The flag is set even on an incomplete form, where severity stays null.
    if instrument.code == CSSRS_CODE and "immediate_safety_evaluation" in result.flags:
        triggers.append(Trigger("high_suicide_risk", "C-SSRS screen: high risk"))
    return triggers
