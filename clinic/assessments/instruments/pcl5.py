"""PCL-5, PTSD Checklist for DSM-5 (self-report, shown to patients in full).

Public domain (U.S. Department of Veterans Affairs, National Center for PTSD) [G8].
Reference: Weathers, Litz, Keane, Palmieri, Marx & Schnurr (2013), The PTSD Checklist for
DSM-5 (PCL-5) – Standard [Measurement instrument], https://www.ptsd.va.gov/.

Wording (instructions, stem, the 20 items, the five answers) is the published standard
past-month form, checked against: CamCOPS `server/camcops_server/extra_strings/pcl5.xml`
(ucam-department-of-psychiatry/camcops, the source [G8] points to; all items), and the
National Center for PTSD form as transcribed at
fill.io/PTSD-Checklist-For-DSM-5-PCL-5---Fillable-Form (version date 11 April 2018;
instructions, stem, answers, items 1–9), pdfslide.us (version date 14 August 2013) and
epavt.org/guia_eng/files/assets/basic-html/page-17.html (items 7–20). Two slips in the CamCOPS
strings are not copied: a missing space in item 4 and a missing question mark in item 10 (the
form ends every item with "?"). Item 18 follows CamCOPS ("jumpy or easily startled"); the
epavt copy has a comma after "jumpy". The paper form says "circle one of the numbers to the
right"; INSTRUCTIONS keeps that text.
WORDING UNCONFIRMED: PCL-5 items 10–20 were read in two independent copies (CamCOPS, epavt),
not in a National Center for PTSD transcription; item 18's comma differs between them.

Scoring [G9]: total 0–80; clusters B (items 1–5), C (6–7), D (8–14), E (15–20); an item rated
2 ("Moderately") or higher counts as endorsed; the provisional DSM-5 rule needs at least 1 B,
1 C, 2 D and 2 E items endorsed. No empirically derived severity bands exist, so there are
none [G9]. The probable-PTSD cut-off is clinic policy (default 33; published range 31–33
[G9], [G10]) and arrives in the ScoringPolicy.
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

INSTRUCTIONS = (
    "Below is a list of problems that people sometimes have in response to a very stressful "
    "experience. Please read each problem carefully and then circle one of the numbers to the "
    "right to indicate how much you have been bothered by that problem in the past month."
)

STEM = "In the past month, how much were you bothered by:"

ANSWERS = (
    Option(0, "Not at all"),
    Option(1, "A little bit"),
    Option(2, "Moderately"),
    Option(3, "Quite a bit"),
    Option(4, "Extremely"),
)

_ITEMS = (
    (1, "Repeated, disturbing, and unwanted memories of the stressful experience?", "Memories"),
    (2, "Repeated, disturbing dreams of the stressful experience?", "Dreams"),
    (
        3,
        "Suddenly feeling or acting as if the stressful experience were actually happening again "
        "(as if you were actually back there reliving it)?",
        "Reliving",
    ),
    (
        4,
        "Feeling very upset when something reminded you of the stressful experience?",
        "Upset at reminders",
    ),
    (
        5,
        "Having strong physical reactions when something reminded you of the stressful "
        "experience (for example, heart pounding, trouble breathing, sweating)?",
        "Physical reactions",
    ),
    (
        6,
        "Avoiding memories, thoughts, or feelings related to the stressful experience?",
        "Avoiding memories",
    ),
    (
        7,
        "Avoiding external reminders of the stressful experience (for example, people, places, "
        "conversations, activities, objects, or situations)?",
        "Avoiding reminders",
    ),
    (
        8,
        "Trouble remembering important parts of the stressful experience?",
        "Trouble remembering",
    ),
    (
        9,
        "Having strong negative beliefs about yourself, other people, or the world (for "
        "example, having thoughts such as: I am bad, there is something seriously wrong with me, "
        "no one can be trusted, the world is completely dangerous)?",
        "Negative beliefs",
    ),
    (
        10,
        "Blaming yourself or someone else for the stressful experience or what happened after it?",
        "Blame",
    ),
    (
        11,
        "Having strong negative feelings such as fear, horror, anger, guilt, or shame?",
        "Negative feelings",
    ),
    (12, "Loss of interest in activities that you used to enjoy?", "Loss of interest"),
    (13, "Feeling distant or cut off from other people?", "Feeling distant"),
    (
        14,
        "Trouble experiencing positive feelings (for example, being unable to feel happiness or "
        "have loving feelings for people close to you)?",
        "Numbness",
    ),
    (15, "Irritable behavior, angry outbursts, or acting aggressively?", "Irritability"),
    (16, "Taking too many risks or doing things that could cause you harm?", "Risk-taking"),
    (17, "Being “superalert” or watchful or on guard?", "Hypervigilance"),
    (18, "Feeling jumpy or easily startled?", "Startle"),
    (19, "Having difficulty concentrating?", "Concentration"),
    (20, "Trouble falling or staying asleep?", "Sleep"),
)

ITEMS = tuple(
    Item(number=n, text=text, options=ANSWERS, short_label=label) for n, text, label in _ITEMS
)

# DSM-5 symptom clusters and the provisional-diagnosis rule [G9]:
# cluster -> (item numbers, endorsed items needed).
CLUSTERS: dict[str, tuple[range, int]] = {
    "B": (range(1, 6), 1),
    "C": (range(6, 8), 1),
    "D": (range(8, 15), 2),
    "E": (range(15, 21), 2),
}
ENDORSED_AT = 2  # "Moderately" or higher counts as a symptom endorsed [G9]


def score(instrument: Instrument, answers: Sequence[Answer], policy: ScoringPolicy) -> ScoreResult:
    """Total and cluster sums [G9]; flags from the answered items, also on an incomplete form.

    On an incomplete form `subscales` holds only the clusters whose items are all answered.
    Both flags can only be added by further answers, never removed: `probable_ptsd` compares the
    sum of the answered items (a lower bound of the total) with the policy cut-off, and
    `dsm5_criteria_met` counts endorsed answered items.
    """
    missing = tuple(n for n, a in enumerate(answers, start=1) if a is None)
    answered_sum = sum(a for a in answers if a is not None)
    total = None if missing else answered_sum

    subscales = {}
    criteria_met = True
    for name, (numbers, needed) in CLUSTERS.items():
        values = [answers[n - 1] for n in numbers]
        if None not in values:
            subscales[name] = sum(v for v in values if v is not None)
        endorsed = sum(1 for v in values if v is not None and v >= ENDORSED_AT)
        criteria_met = criteria_met and endorsed >= needed

    flags = []
    if answered_sum >= policy.pcl5_probable_ptsd_total:  # clinic policy; [G9], [G10]
        flags.append("probable_ptsd")
    if criteria_met:
        flags.append("dsm5_criteria_met")
    return ScoreResult(
        instrument=instrument.code,
        complete=not missing,
        missing_items=missing,
        total=total,
        severity=None,  # no validated bands [G9]
        flags=tuple(flags),
        subscales=subscales,
    )


INSTRUMENT = Instrument(
    code="pcl5",
    name="PCL-5",
    version="PCL-5 standard past-month form (Weathers et al. 2013; form dated 11 April 2018)",
    rater="self",
    stem=STEM,
    items=ITEMS,
    total_range=(0, 80),
    bands=(),
    licence="Public domain (U.S. Department of Veterans Affairs, National Center for PTSD) [G8].",
    source="[G8], [G9], [G10]",
    scorer=score,
    patient_facing=True,
)
