"""MADRS, Montgomery–Åsberg Depression Rating Scale (clinician-rated; entered by staff).

Items, scoring and bands: clinical-reference.md §7.5, [G15]. Ten items, each 0–6 (even values
anchored, odd values intermediate); total 0–60. Only the item names are stored here: the
anchor texts are not in the reference documents.
Licence: described as public domain; © British Journal of Psychiatry (1979 publication) [G15].
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
    SeverityBand,
    all_answered,
)

STEM = "Rate each item 0–6; even values are anchored, odd values are intermediate."  # [G15]

RATING = tuple(Option(v, str(v)) for v in range(7))  # 0–6 [G15]

_NAMES = (
    "Apparent sadness",
    "Reported sadness",
    "Inner tension",
    "Reduced sleep",
    "Reduced appetite",
    "Concentration difficulties",
    "Lassitude",
    "Inability to feel",
    "Pessimistic thoughts",
    "Suicidal thoughts",
)  # [G15]

ITEMS = tuple(
    Item(number=n, text=name, options=RATING, short_label=name)
    for n, name in enumerate(_NAMES, start=1)
)

SUICIDAL_THOUGHTS_ITEM = 10
SUICIDAL_THOUGHTS_AT = 2  # calculators.md §1: `suicidal_thoughts` if item 10 ≥ 2

# Snaith bands [G15].
BANDS = (
    SeverityBand("normal", "Normal/absent", 0, 6),
    SeverityBand("mild", "Mild", 7, 19),
    SeverityBand("moderate", "Moderate", 20, 34),
    SeverityBand("severe", "Severe", 35, 60),
)


def score(instrument: Instrument, answers: Sequence[Answer], policy: ScoringPolicy) -> ScoreResult:
    """Total = sum of the ten items [G15]; no prorating; the flag also on an incomplete form."""
    missing = tuple(n for n, a in enumerate(answers, start=1) if a is None)
    values = all_answered(answers)
    total = None if values is None else sum(values)
    band = instrument.band_for(total)
    flags = []
    if (answers[SUICIDAL_THOUGHTS_ITEM - 1] or 0) >= SUICIDAL_THOUGHTS_AT:
        flags.append("suicidal_thoughts")
    return ScoreResult(
        instrument=instrument.code,
        complete=not missing,
        missing_items=missing,
        total=total,
        severity=band.slug if band else None,
        flags=tuple(flags),
    )


INSTRUMENT = Instrument(
    code="madrs",
    name="MADRS",
    version="MADRS (Montgomery & Åsberg 1979)",
    rater="clinician",
    stem=STEM,
    items=ITEMS,
    total_range=(0, 60),
    bands=BANDS,
    licence="Described as public domain; © British Journal of Psychiatry (1979 publication) [G15].",
    source="[G15]",
    scorer=score,
    patient_facing=False,
    suicidality_items={},  # item 10 raises `suicidal_thoughts`, not the suicidality alert
)
