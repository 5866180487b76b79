"""C-SSRS Screener: Columbia-Suicide Severity Rating Scale, Screen Version (lifetime/recent).

Self-report use in this product (patient-facing). Free for clinical and research use through
the Columbia Lighthouse Project; the terms for embedding in a commercial product are
UNCONFIRMED [G14].

Seven values, 0 = no and 1 = yes: Q1–Q5 (past month), Q6 (ever), and Q6-recent ("Was this
within the past three months?"), asked only after a yes to Q6. Branching (clinical-reference.md
§7.4, [G11]): Q1, Q2 and Q6 are always asked; Q3–Q5 only when Q2 is yes ("If YES to 2, ask
questions 3, 4, 5, and 6. If NO to 2, go directly to question 6").

Wording: the "Recent" screener's questions, as found identically in several public
repositories (found by exact-text search), and checked against the screener text [G11]
(docest.com/doc/610945, the "Since Last Contact" screener: Q1–Q4 identical) and the
canportal.org C-SSRS form (Q1–Q4 and Q6 identical). The "Since Last Contact" form words Q5 as
one question ("... how to kill yourself and do you intend to carry out this plan?") and Q6
without "ever"; the lifetime/recent screener used here asks Q5 as two sentences and Q6 with
"ever".
WORDING UNCONFIRMED: C-SSRS screener Q5 and Q6-recent ("Was this within the past three
months?") were not read in a Columbia Lighthouse Project original; copies also write "3
months". The stem "Past month" is the screener's column heading, not a sentence of the form.

Risk (common triage rule [G13]), the highest applicable: high = yes to Q4 or Q5, or Q6 within
the past three months (immediate safety evaluation); moderate = yes to Q3, or Q6 more than
three months ago; low = yes to Q1 and/or Q2 only; none otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

from clinic.assessments.instruments.base import (
    Answer,
    AnswerError,
    Instrument,
    Item,
    Option,
    ScoreResult,
    ScoringPolicy,
)

STEM = "Past month"

# The screener's two branching lines [G11], for staff reviewing a response.
INSTRUCTIONS = (
    "Ask Questions 1 and 2",
    "If YES to 2, ask questions 3, 4, 5, and 6. If NO to 2, go directly to question 6",
)

# Shown with question 6 on the screener (as on the canportal.org form; [G11] cut off here).
Q6_EXAMPLES = (
    "Examples: Collected pills, obtained a gun, gave away valuables, wrote a will or suicide "
    "note, took out pills but didn’t swallow any, held a gun but changed your mind or it was "
    "grabbed from your hand, went to the roof but didn’t jump; or actually took pills, tried to "
    "shoot yourself, cut yourself, tried to hang yourself, etc."
)

YES_NO = (Option(0, "No"), Option(1, "Yes"))

# 1-based positions in the seven answers.
Q1, Q2, Q3, Q4, Q5, Q6, Q6_RECENT = range(1, 8)

_ITEMS = (
    (Q1, "Have you wished you were dead or wished you could go to sleep and not wake up?",
     "Q1 Wish to be dead"),
    (Q2, "Have you actually had any thoughts of killing yourself?", "Q2 Suicidal thoughts"),
    (Q3, "Have you been thinking about how you might do this?", "Q3 Thoughts with method"),
    (Q4, "Have you had these thoughts and had some intention of acting on them?",
     "Q4 Intent without plan"),
    (Q5,
     "Have you started to work out or worked out the details of how to kill yourself? "
     "Do you intend to carry out this plan?",
     "Q5 Intent with plan"),
    (Q6,
     "Have you ever done anything, started to do anything, or prepared to do anything to end "
     "your life?",
     "Q6 Suicidal behaviour (ever)"),
    (Q6_RECENT, "Was this within the past three months?", "Q6 within the past 3 months"),
)  # fmt: skip

YES = 1
NO = 0

# LOINC as the US Behavioral Health Profiles IG codes the screener (fhir-loinc.md §1.1, [X4],
# [X6]): a question code per item and the answers LA32-8 No / LA33-6 Yes. LOINC's long names
# of the question codes were not read, so none is given.
LOINC_ITEMS = {
    Q1: "93246-7",
    Q2: "93247-5",
    Q3: "93248-3",
    Q4: "93249-1",
    Q5: "93250-9",
    Q6: "93267-3",
    Q6_RECENT: "93269-9",
}
LOINC_ANSWERS = {NO: "LA32-8", YES: "LA33-6"}

# The screener's branching [G11]: Q3–Q5 only after a yes to Q2, Q6-recent only after a yes
# to Q6. Forms use it to show and explain the skips; the scorer refuses an answer to a skip.
ASKED_WHEN = {Q3: (Q2, YES), Q4: (Q2, YES), Q5: (Q2, YES), Q6_RECENT: (Q6, YES)}

# Every position must be present (seven values), so each item is `required` for the count;
# which of them must be answered depends on Q2 and Q6 and is checked by the scorer.
ITEMS = tuple(
    Item(number=n, text=text, options=YES_NO, short_label=label, asked_when=ASKED_WHEN.get(n))
    for n, text, label in _ITEMS
)


def _label(number: int) -> str:
    return "Q6-recent" if number == Q6_RECENT else f"Q{number}"


def score(instrument: Instrument, answers: Sequence[Answer], policy: ScoringPolicy) -> ScoreResult:
    """Risk level and flags; total is always null (the screener has no total).

    Skipped by design, not missing: Q3–Q5 when Q2 is no, Q6-recent when Q6 is no. An answer to
    a skipped question is refused (AnswerError naming the item). Flags come from the answered
    questions even when the form is incomplete; the risk level needs a complete form.
    """
    a = dict(enumerate(answers, start=1))
    for skipped, (gate, _asked_on) in ASKED_WHEN.items():
        if a[gate] == NO and a[skipped] is not None:
            raise AnswerError(
                f"Item {skipped} ({_label(skipped)}) must be null when item {gate} "
                f"({_label(gate)}) is 0 (no): that question is skipped; got {a[skipped]!r}.",
                item=skipped,
            )

    required = [Q1, Q2, Q6]
    if a[Q2] == YES:
        required += [Q3, Q4, Q5]
    if a[Q6] == YES:
        required.append(Q6_RECENT)
    missing = tuple(sorted(n for n in required if a[n] is None))

    high = YES in (a[Q4], a[Q5], a[Q6_RECENT])
    moderate = a[Q3] == YES or (a[Q6] == YES and a[Q6_RECENT] == NO)
    low = YES in (a[Q1], a[Q2])
    risk = None
    if not missing:
        risk = "high" if high else "moderate" if moderate else "low" if low else "none"

    flags = instrument.suicidality_flags(answers)
    if high:
        flags.append("immediate_safety_evaluation")
    return ScoreResult(
        instrument=instrument.code,
        complete=not missing,
        missing_items=missing,
        total=None,
        severity=risk,
        flags=tuple(flags),
    )


INSTRUMENT = Instrument(
    code="cssrs-screen",
    name="C-SSRS Screener",
    version="C-SSRS Screen Version, lifetime/recent (Posner et al., Columbia Lighthouse Project)",
    rater="self",
    stem=STEM,
    items=ITEMS,
    total_range=None,
    bands=(),
    licence=(
        "Free for clinical and research use via the Columbia Lighthouse Project; terms for "
        "embedding in a commercial product UNCONFIRMED [G14]."
    ),
    source="[G11], [G12], [G13], [G14]",
    scorer=score,
    patient_facing=True,
    suicidality_items={Q1: 1, Q2: 1},  # any yes to Q1 or Q2 [G13]; policy-defaults "Suicidality"
)
