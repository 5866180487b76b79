"""Modified Aldrete score: discharge readiness after a session (clinician-rated; staff entry).

Five items, 0–2 each, total 0–10; anchors from clinical-reference.md §5.4, [E8]. The discharge
threshold is clinic policy (default ≥ 9, policy-defaults.md "Discharge score" [E8]) and arrives
in the ScoringPolicy. No severity bands.
"""

from __future__ import annotations

from collections.abc import Sequence

from clinic.assessments.instruments.base import (
    Answer,
    Instrument,
    Item,
    Option,
    ScoreResult,
    ScoringPolicy,
    all_answered,
)

STEM = "Score each item 0–2."

# (item, short label, anchors for 0, 1, 2) [E8]
_ITEMS = (
    (
        "Activity",
        (
            "Moves 0 extremities",
            "Moves 2 extremities",
            "Moves 4 extremities voluntarily/on command",
        ),
    ),
    (
        "Respiration",
        ("Apnoeic", "Dyspnoea or limited breathing", "Breathes deeply and coughs freely"),
    ),
    (
        "Circulation",
        (
            "BP ± 50 mmHg of pre-procedure level",
            "BP ± 20–50 mmHg of pre-procedure level",
            "BP ± 20 mmHg of pre-procedure level",
        ),
    ),
    ("Consciousness", ("Not responding", "Arousable on calling", "Fully awake")),
    (
        "SpO2",
        ("< 90% even with O2", "Needs O2 to keep SpO2 > 90%", "> 92% on room air"),
    ),
)

ITEMS = tuple(
    Item(
        number=n,
        text=name,
        options=tuple(Option(value, label) for value, label in enumerate(anchors)),
        short_label=name,
    )
    for n, (name, anchors) in enumerate(_ITEMS, start=1)
)


def score(instrument: Instrument, answers: Sequence[Answer], policy: ScoringPolicy) -> ScoreResult:
    """Total = sum of the five items [E8].

    `discharge_criteria_met` needs a complete form: a patient with an item not yet assessed
    does not meet discharge criteria, whatever the other items add up to.
    """
    missing = tuple(n for n, a in enumerate(answers, start=1) if a is None)
    values = all_answered(answers)
    total = None if values is None else sum(values)
    flags: tuple[str, ...] = ()
    if total is not None and total >= policy.aldrete_discharge_total:  # clinic policy [E8]
        flags = ("discharge_criteria_met",)
    return ScoreResult(
        instrument=instrument.code,
        complete=not missing,
        missing_items=missing,
        total=total,
        severity=None,
        flags=flags,
    )


INSTRUMENT = Instrument(
    code="modified-aldrete",
    name="Modified Aldrete score",
    version="Modified Aldrete (SpO2 version), 5 items",
    rater="clinician",
    stem=STEM,
    items=ITEMS,
    total_range=(0, 10),
    bands=(),
    licence="Published clinical scoring system; item anchors as in the cited tables [E8].",
    source="[E8]",
    scorer=score,
    patient_facing=False,
)
