"""MOAA/S, Modified Observer's Assessment of Alertness/Sedation (clinician-rated; staff entry).

calculators.md §1: one rating 0–5; no severity bands; `loss_of_consciousness` when 0. The
Spravato label reports sedation and loss of consciousness with this scale (MOAA/S 0 = loss of
consciousness) [C9].

The reference documents give no anchor texts. The labels below are the MOAA/S table of BMC
Anesthesiology 2022 (doi 10.1186/s12871-022-01788-1, Table 2); other publications word the
lowest levels differently, so treat them as short labels, not as a published form.
WORDING UNCONFIRMED: MOAA/S anchor labels (one secondary source; not in clinical-reference.md).
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
)

STEM = "Rate the patient's responsiveness (5 = alert, 0 = no response)."

LEVELS = (
    Option(0, "Does not respond to painful trapezius squeeze"),
    Option(1, "Responds only after painful trapezius squeeze"),
    Option(2, "Responds only after mild prodding or shaking"),
    Option(3, "Responds only after name is called loudly and/or repeatedly"),
    Option(4, "Lethargic response to name spoken in normal tone"),
    Option(5, "Responds readily to name spoken in normal tone"),
)

ITEMS = (Item(number=1, text="Responsiveness", options=LEVELS, short_label="MOAA/S"),)

LOSS_OF_CONSCIOUSNESS = 0  # MOAA/S 0 = loss of consciousness [C9]


def score(instrument: Instrument, answers: Sequence[Answer], policy: ScoringPolicy) -> ScoreResult:
    """The total is the single rating; severity is always null."""
    (level,) = answers
    return ScoreResult(
        instrument=instrument.code,
        complete=level is not None,
        missing_items=(1,) if level is None else (),
        total=level,
        severity=None,
        flags=("loss_of_consciousness",) if level == LOSS_OF_CONSCIOUSNESS else (),
    )


INSTRUMENT = Instrument(
    code="moaas",
    name="MOAA/S",
    version="MOAA/S 0–5",
    rater="clinician",
    stem=STEM,
    items=ITEMS,
    total_range=(0, 5),
    bands=(),
    licence="Clinician-rated observation scale; stored as the rating only.",
    source="[C9]",
    scorer=score,
    patient_facing=False,
)
