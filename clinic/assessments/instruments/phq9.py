"""PHQ-9, Patient Health Questionnaire-9 (self-report, shown to patients in full).

Wording, response options and LOINC codes: clinical-reference.md §7.1, from [G3] (the MII
PROMs FHIR definitions) and [G4] (the HL7 US Core PHQ-9 panel example). Scoring: [G1], [G5].
Licence: no permission is required to reproduce, translate, display or distribute [G1], [G2].
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
)

STEM = "Over the last 2 weeks, how often have you been bothered by any of the following problems?"

# LOINC answer list LL358-3 [G3].
FREQUENCY = (
    Option(0, "Not at all"),
    Option(1, "Several days"),
    Option(2, "More than half the days"),
    Option(3, "Nearly every day"),
)

# LOINC answer list LL359-1 [G3]; the functional-difficulty question is asked, never summed.
DIFFICULTY = (
    Option(0, "Not difficult at all"),
    Option(1, "Somewhat difficult"),
    Option(2, "Very difficult"),
    Option(3, "Extremely difficult"),
)

DIFFICULTY_QUESTION = (
    "If you checked off any problems, how difficult have these problems made it for you to do "
    "your work, take care of things at home, or get along with other people?"
)

# Codes for interoperability (FHIR Observation/QuestionnaireResponse), all from [G3], [G4].
LOINC = {
    "panel": "44249-1",
    "total": "44261-6",
    "items": {
        1: "44250-9",
        2: "44255-8",
        3: "44259-0",
        4: "44254-1",
        5: "44251-7",
        6: "44258-2",
        7: "44252-5",
        8: "44253-3",
        9: "44260-8",
        10: "69722-7",
    },
    "answers": {0: "LA6568-5", 1: "LA6569-3", 2: "LA6570-1", 3: "LA6571-9"},
    "answer_list": "LL358-3",
    "difficulty_answers": {0: "LA6572-7", 1: "LA6573-5", 2: "LA6575-0", 3: "LA6574-3"},
    "difficulty_answer_list": "LL359-1",
}

_ITEMS = (
    (1, "Little interest or pleasure in doing things", "Interest or pleasure"),
    (2, "Feeling down, depressed, or hopeless", "Depressed mood"),
    (3, "Trouble falling or staying asleep, or sleeping too much", "Sleep"),
    (4, "Feeling tired or having little energy", "Energy"),
    (5, "Poor appetite or overeating", "Appetite"),
    (
        6,
        "Feeling bad about yourself — or that you are a failure or have let yourself or your "
        "family down",
        "Self-worth",
    ),
    (
        7,
        "Trouble concentrating on things, such as reading the newspaper or watching television",
        "Concentration",
    ),
    (
        8,
        "Moving or speaking so slowly that other people could have noticed? Or the opposite — "
        "being so fidgety or restless that you have been moving around a lot more than usual",
        "Psychomotor",
    ),
    (
        9,
        "Thoughts that you would be better off dead or of hurting yourself in some way",
        "Thoughts of death or self-harm",
    ),
)

ITEMS = tuple(
    Item(number=n, text=text, options=FREQUENCY, short_label=label) for n, text, label in _ITEMS
) + (
    Item(
        number=10,
        text=DIFFICULTY_QUESTION,
        options=DIFFICULTY,
        scored=False,
        required=False,
        short_label="Functional difficulty",
    ),
)

# Severity bands [G1], [G5].
BANDS = (
    SeverityBand("none_minimal", "None–minimal", 0, 4),
    SeverityBand("mild", "Mild", 5, 9),
    SeverityBand("moderate", "Moderate", 10, 14),
    SeverityBand("moderately_severe", "Moderately severe", 15, 19),
    SeverityBand("severe", "Severe", 20, 27),
)


def score(instrument: Instrument, answers: Sequence[Answer], policy: ScoringPolicy) -> ScoreResult:
    """Total = sum of items 1–9 (item 10 never counts) [G1]; no prorating.

    Item 9 ≥ 1 flags suicidal ideation whatever the total, and also on an incomplete form [G5].
    """
    # The optional last item may be absent: pair only the answers given.
    given = zip(instrument.items[: len(answers)], answers, strict=True)
    scored = [(item.number, a) for item, a in given if item.scored]
    missing = tuple(n for n, a in scored if a is None)
    total = None if missing else sum(a for _, a in scored if a is not None)
    band = instrument.band_for(total)
    flags = instrument.suicidality_flags(answers)
    return ScoreResult(
        instrument=instrument.code,
        complete=not missing,
        missing_items=missing,
        total=total,
        severity=band.slug if band else None,
        flags=tuple(flags),
    )


INSTRUMENT = Instrument(
    code="phq9",
    name="PHQ-9",
    version="PHQ-9 (Kroenke, Spitzer & Williams 2001); LOINC panel 44249-1",
    rater="self",
    stem=STEM,
    items=ITEMS,
    total_range=(0, 27),
    bands=BANDS,
    licence=(
        "Public domain use: no permission required to reproduce, translate, display or "
        "distribute (Pfizer; phqscreeners.com) [G1], [G2]."
    ),
    source="[G1], [G2], [G3], [G4], [G5]",
    scorer=score,
    patient_facing=True,
    suicidality_items={9: 1},  # any score > 0 on item 9 [G5]
)
