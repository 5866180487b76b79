"""GAD-7, Generalized Anxiety Disorder 7-item scale (self-report, shown to patients in full).

Wording, response options and LOINC codes: clinical-reference.md §7.2, from [G3] (the MII
PROMs FHIR definitions). The optional functional-difficulty question has the same wording and
answers as PHQ-9 item 10 [G3]. Bands: [G6]. Licence: © Pfizer, free to use and reproduce
without permission [G3], [G2].
"""

from __future__ import annotations

from collections.abc import Sequence

from clinic.assessments.instruments.base import (
    Answer,
    Instrument,
    Item,
    ScoreResult,
    ScoringPolicy,
    SeverityBand,
)
from clinic.assessments.instruments.phq9 import DIFFICULTY, DIFFICULTY_QUESTION, FREQUENCY

STEM = "Over the last two weeks, how often have you been bothered by the following problems?"

# Same options and LOINC answer codes as PHQ-9 (answer list LL358-3), and the same optional
# difficulty question [G3]: one definition serves both instruments.
LOINC = {
    "panel": "69737-5",
    "total": "70274-6",
    "items": {
        1: "69725-0",
        2: "68509-9",
        3: "69733-4",
        4: "69734-2",
        5: "69735-9",
        6: "69689-8",
        7: "69736-7",
        8: "69722-7",  # the functional-difficulty question, as PHQ-9 item 10 [G3]
    },
    "answers": {0: "LA6568-5", 1: "LA6569-3", 2: "LA6570-1", 3: "LA6571-9"},
    "answer_list": "LL358-3",
}

_ITEMS = (
    (1, "Feeling nervous, anxious, or on edge", "Nervous or on edge"),
    (2, "Not being able to stop or control worrying", "Uncontrollable worry"),
    (3, "Worrying too much about different things", "Excessive worry"),
    (4, "Trouble relaxing", "Trouble relaxing"),
    (5, "Being so restless that it is hard to sit still", "Restlessness"),
    (6, "Becoming easily annoyed or irritable", "Irritability"),
    (7, "Feeling afraid, as if something awful might happen", "Fear of something awful"),
)

ITEMS = tuple(
    Item(number=n, text=text, options=FREQUENCY, short_label=label) for n, text, label in _ITEMS
) + (
    Item(
        number=8,
        text=DIFFICULTY_QUESTION,
        options=DIFFICULTY,
        scored=False,
        required=False,
        short_label="Functional difficulty",
    ),
)

# Severity bands [G6].
BANDS = (
    SeverityBand("minimal", "Minimal", 0, 4),
    SeverityBand("mild", "Mild", 5, 9),
    SeverityBand("moderate", "Moderate", 10, 14),
    SeverityBand("severe", "Severe", 15, 21),
)


def score(instrument: Instrument, answers: Sequence[Answer], policy: ScoringPolicy) -> ScoreResult:
    """Total = sum of items 1–7 (item 8 never counts) [G6]; no prorating; no flags."""
    # The optional last item may be absent: pair only the answers given.
    given = zip(instrument.items[: len(answers)], answers, strict=True)
    scored = [(item.number, a) for item, a in given if item.scored]
    missing = tuple(n for n, a in scored if a is None)
    total = None if missing else sum(a for _, a in scored if a is not None)
    band = instrument.band_for(total)
    return ScoreResult(
        instrument=instrument.code,
        complete=not missing,
        missing_items=missing,
        total=total,
        severity=band.slug if band else None,
        flags=(),
    )


INSTRUMENT = Instrument(
    code="gad7",
    name="GAD-7",
    version="GAD-7 (Spitzer, Kroenke, Williams & Löwe 2006); LOINC panel 69737-5",
    rater="self",
    stem=STEM,
    items=ITEMS,
    total_range=(0, 21),
    bands=BANDS,
    licence="© Pfizer; free to use and reproduce without permission [G3], [G2].",
    source="[G2], [G3], [G6], [G7]",
    scorer=score,
    patient_facing=True,
)
