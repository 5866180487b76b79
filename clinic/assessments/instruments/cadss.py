"""CADSS, Clinician-Administered Dissociative States Scale (clinician-rated; entered by staff).

clinical-reference.md §7.6, [G16]: the version used with ketamine/esketamine has 23 items, each
0–4, total 0–92 (19 subject-rated and 4 observer-rated; that split and the range are marked
UNCONFIRMED there, and calculators.md §1 fixes 23 items of 0–4). The item texts are not in
the reference documents, so items are stored as "Item 1" … "Item 23" with numeric ratings.
No validated severity bands: severity is always null. Licence UNCONFIRMED (Bremner et al. 1998).
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

STEM = "Rate each item 0–4."

RATING = tuple(Option(v, str(v)) for v in range(5))  # 0–4 [G16]

ITEMS = tuple(
    Item(number=n, text=f"Item {n}", options=RATING, short_label=f"Item {n}") for n in range(1, 24)
)

# The CADSS-6 short form uses these items [G16]; kept for reports, not used in scoring.
CADSS6_ITEMS = (1, 2, 6, 7, 15, 22)


def score(instrument: Instrument, answers: Sequence[Answer], policy: ScoringPolicy) -> ScoreResult:
    """Total = sum of the 23 items; no prorating, no bands, no flags."""
    missing = tuple(n for n, a in enumerate(answers, start=1) if a is None)
    values = all_answered(answers)
    return ScoreResult(
        instrument=instrument.code,
        complete=not missing,
        missing_items=missing,
        total=None if values is None else sum(values),
        severity=None,
        flags=(),
    )


INSTRUMENT = Instrument(
    code="cadss",
    name="CADSS",
    version="CADSS 23-item (Bremner et al. 1998)",
    rater="clinician",
    stem=STEM,
    items=ITEMS,
    total_range=(0, 92),
    bands=(),
    licence="Licensing UNCONFIRMED (author: Bremner et al. 1998); stored as item scores only.",
    source="[G16], [C9]",
    scorer=score,
    patient_facing=False,
)
