"""Demo measurement-based care: a PHQ-9 course for each patient with a clinician on the care
team, a GAD-7 pair for some, and one patient whose latest PHQ-9 raises a suicidality alert.

The courses are illustrations for the demo, not data from any trial: most patients improve
over an induction series, some do not, so every chart state can be seen.
"""

from __future__ import annotations

import datetime
import random

from django.utils import timezone

from clinic.assessments.services import response_record

# Days before today of each PHQ-9: baseline, ~24 h after the first session, then weekly.
PHQ9_DAYS_AGO = (29, 27, 21, 14, 7, 1)
# Each demo patient's course: the fraction of the baseline total left at each follow-up.
COURSES = {
    "responder": (1.0, 0.7, 0.55, 0.4, 0.3, 0.2),
    "partial": (1.0, 0.9, 0.8, 0.75, 0.7, 0.65),
    "early_responder": (1.0, 0.45, 0.35, 0.3, 0.25, 0.2),
}
ALERT_PATIENT_INDEX = 3


def answers_for_total(total: int, items: int, rng: random.Random, top: int = 3) -> list[int]:
    """Item answers (0..top) that add up to `total`, spread the way real forms look."""
    answers = [0] * items
    for _ in range(total):
        choices = [i for i, v in enumerate(answers) if v < top]
        answers[rng.choice(choices)] += 1
    return answers


def seed_patient_assessments(*, index: int, patient, clinician, rng: random.Random) -> None:
    now = timezone.now()
    baseline = rng.randint(12, 22)
    course = COURSES[rng.choice(sorted(COURSES))]
    for step, (days_ago, fraction) in enumerate(zip(PHQ9_DAYS_AGO, course, strict=True)):
        total = round(baseline * fraction)
        last = step == len(PHQ9_DAYS_AGO) - 1
        item9 = 1 if index == ALERT_PATIENT_INDEX and last else 0
        answers = answers_for_total(total - item9, 8, rng) + [item9]
        response_record(
            actor=clinician,
            patient=patient,
            instrument_code="phq9",
            answers=answers,
            timepoint=(
                "baseline" if step == 0 else "after_first_session" if step == 1 else "pre_session"
            ),
            taken_at=now - datetime.timedelta(days=days_ago, hours=rng.randint(0, 6)),
        )
    if index % 3 == 0:
        start = rng.randint(8, 16)
        for days_ago, total in ((29, start), (1, max(start - rng.randint(3, 9), 0))):
            response_record(
                actor=clinician,
                patient=patient,
                instrument_code="gad7",
                answers=answers_for_total(total, 7, rng),
                timepoint="baseline" if days_ago == 29 else "pre_session",
                taken_at=now - datetime.timedelta(days=days_ago, hours=2),
            )
