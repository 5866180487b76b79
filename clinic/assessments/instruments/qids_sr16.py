"""QIDS-SR16, Quick Inventory of Depressive Symptomatology, self-report, 16 items.

Shown to patients in full. Freely available for clinical and research use (ids-qids.org) [G18].
Reference: Rush et al., Biol Psychiatry 2003;54:573–583.

Each item is a heading with four full-sentence answers that differ per item. The wording was
compared across independent copies of the published form: the IOM workshop summary box
(ncbi.nlm.nih.gov/books/NBK52954, item 12, citing Rush 2009), and the public repositories
jtopczewski/MindfulSelf `public/src/QIDS_items.js` (answers to 15 items) and
DrugNerdsLab survey seeds (all headings and answers), plus a PHP transcription of the form
(instructions, headings 1–8) and several web forms found by exact-text search whose
repositories the search index does not name. Where copies disagree the majority reading is used.
WORDING UNCONFIRMED: QIDS-SR16 not checked against the ids-qids.org form itself; the copies
disagree on punctuation in item 12 answer 3 (comma after "detail"), item 14 answer 2 (comma
after "cooking"), the capitalisation of the headings, and the verb of the instructions (copies
of electronic versions say "choose"; the paper form may say "circle").

Scoring [G17]: nine DSM-IV symptom domains, sleep = max(items 1–4), sad mood = item 5,
appetite/weight = max(items 6–9), concentration = 10, self-view = 11, suicidal ideation = 12,
interest = 13, energy = 14, psychomotor = max(items 15, 16); total = sum of the domains, 0–27.
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

STEM = (
    "Please choose the one response to each item that best describes you for the past seven days."
)

_ITEMS: tuple[tuple[int, str, tuple[str, str, str, str]], ...] = (
    (
        1,
        "Falling Asleep",
        (
            "I never take longer than 30 minutes to fall asleep.",
            "I take at least 30 minutes to fall asleep, less than half the time.",
            "I take at least 30 minutes to fall asleep, more than half the time.",
            "I take more than 60 minutes to fall asleep, more than half the time.",
        ),
    ),
    (
        2,
        "Sleep During the Night",
        (
            "I do not wake up at night.",
            "I have a restless, light sleep with a few brief awakenings each night.",
            "I wake up at least once a night, but I go back to sleep easily.",
            "I awaken more than once a night and stay awake for 20 minutes or more, more than "
            "half the time.",
        ),
    ),
    (
        3,
        "Waking Up Too Early",
        (
            "Most of the time, I awaken no more than 30 minutes before I need to get up.",
            "More than half the time, I awaken more than 30 minutes before I need to get up.",
            "I almost always awaken at least one hour or so before I need to, but I go back to "
            "sleep eventually.",
            "I awaken at least one hour before I need to, and can’t go back to sleep.",
        ),
    ),
    (
        4,
        "Sleeping Too Much",
        (
            "I sleep no longer than 7-8 hours/night, without napping during the day.",
            "I sleep no longer than 10 hours in a 24-hour period including naps.",
            "I sleep no longer than 12 hours in a 24-hour period including naps.",
            "I sleep longer than 12 hours in a 24-hour period including naps.",
        ),
    ),
    (
        5,
        "Feeling Sad",
        (
            "I do not feel sad.",
            "I feel sad less than half the time.",
            "I feel sad more than half the time.",
            "I feel sad nearly all of the time.",
        ),
    ),
    (
        6,
        "Decreased Appetite",
        (
            "There is no change in my usual appetite.",
            "I eat somewhat less often or lesser amounts of food than usual.",
            "I eat much less than usual and only with personal effort.",
            "I rarely eat within a 24-hour period, and only with extreme personal effort or when "
            "others persuade me to eat.",
        ),
    ),
    (
        7,
        "Increased Appetite",
        (
            "There is no change from my usual appetite.",
            "I feel a need to eat more frequently than usual.",
            "I regularly eat more often and/or greater amounts of food than usual.",
            "I feel driven to overeat both at mealtime and between meals.",
        ),
    ),
    (
        8,
        "Decreased Weight (Within the Last Two Weeks)",
        (
            "I have not had a change in my weight.",
            "I feel as if I’ve had a slight weight loss.",
            "I have lost 2 pounds or more.",
            "I have lost 5 pounds or more.",
        ),
    ),
    (
        9,
        "Increased Weight (Within the Last Two Weeks)",
        (
            "I have not had a change in my weight.",
            "I feel as if I’ve had a slight weight gain.",
            "I have gained 2 pounds or more.",
            "I have gained 5 pounds or more.",
        ),
    ),
    (
        10,
        "Concentration/Decision Making",
        (
            "There is no change in my usual capacity to concentrate or make decisions.",
            "I occasionally feel indecisive or find that my attention wanders.",
            "Most of the time, I struggle to focus my attention or to make decisions.",
            "I cannot concentrate well enough to read or cannot make even minor decisions.",
        ),
    ),
    (
        11,
        "View of Myself",
        (
            "I see myself as equally worthwhile and deserving as other people.",
            "I am more self-blaming than usual.",
            "I largely believe that I cause problems for others.",
            "I think almost constantly about major and minor defects in myself.",
        ),
    ),
    (
        12,
        "Thoughts of Death or Suicide",
        (
            "I do not think of suicide or death.",
            "I feel that life is empty or wonder if it’s worth living.",
            "I think of suicide or death several times a week for several minutes.",
            "I think of suicide or death several times a day in some detail, or I have made "
            "specific plans for suicide or have actually tried to take my life.",
        ),
    ),
    (
        13,
        "General Interest",
        (
            "There is no change from usual in how interested I am in other people or activities.",
            "I notice that I am less interested in people or activities.",
            "I find I have interest in only one or two of my formerly pursued activities.",
            "I have virtually no interest in formerly pursued activities.",
        ),
    ),
    (
        14,
        "Energy Level",
        (
            "There is no change in my usual level of energy.",
            "I get tired more easily than usual.",
            "I have to make a big effort to start or finish my usual daily activities (for "
            "example, shopping, homework, cooking, or going to work).",
            "I really cannot carry out most of my usual daily activities because I just don’t "
            "have the energy.",
        ),
    ),
    (
        15,
        "Feeling Slowed Down",
        (
            "I think, speak, and move at my usual rate of speed.",
            "I find that my thinking is slowed down or my voice sounds dull or flat.",
            "It takes me several seconds to respond to most questions and I’m sure my thinking "
            "is slowed.",
            "I am often unable to respond to questions without extreme effort.",
        ),
    ),
    (
        16,
        "Feeling Restless",
        (
            "I do not feel restless.",
            "I’m often fidgety, wringing my hands, or need to shift how I am sitting.",
            "I have impulses to move about and am quite restless.",
            "At times, I am unable to stay seated and need to pace around.",
        ),
    ),
)

ITEMS = tuple(
    Item(
        number=n,
        text=heading,
        options=tuple(Option(value, label) for value, label in enumerate(answers)),
        short_label=heading,
    )
    for n, heading, answers in _ITEMS
)

# The nine symptom domains: the highest answer among the listed items counts once [G17].
DOMAINS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("sleep", (1, 2, 3, 4)),
    ("sad_mood", (5,)),
    ("appetite_weight", (6, 7, 8, 9)),
    ("concentration", (10,)),
    ("self_view", (11,)),
    ("suicidal_ideation", (12,)),
    ("interest", (13,)),
    ("energy", (14,)),
    ("psychomotor", (15, 16)),
)

# Severity bands [G17].
BANDS = (
    SeverityBand("none", "None", 0, 5),
    SeverityBand("mild", "Mild", 6, 10),
    SeverityBand("moderate", "Moderate", 11, 15),
    SeverityBand("severe", "Severe", 16, 20),
    SeverityBand("very_severe", "Very severe", 21, 27),
)


def score(instrument: Instrument, answers: Sequence[Answer], policy: ScoringPolicy) -> ScoreResult:
    """Domain scoring [G17]; every one of the 16 items is required (no prorating).

    Item 12 ≥ 1 flags suicidal ideation, also on an incomplete form [G17]; clinic policy alerts
    on it (policy-defaults.md, "Suicidality").
    """
    missing = tuple(n for n, a in enumerate(answers, start=1) if a is None)
    values = all_answered(answers)
    total = None
    if values is not None:
        total = sum(max(values[n - 1] for n in numbers) for _, numbers in DOMAINS)
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
    code="qids-sr16",
    name="QIDS-SR16",
    version="QIDS-SR16 (Rush et al. 2003)",
    rater="self",
    stem=STEM,
    items=ITEMS,
    total_range=(0, 27),
    bands=BANDS,
    licence="Freely available for clinical and research use (ids-qids.org) [G18].",
    source="[G17], [G18]",
    scorer=score,
    patient_facing=True,
    suicidality_items={12: 1},  # policy-defaults.md "Suicidality"; item 12 = suicidal ideation
)
