"""Each instrument's course for the chart: points, the status in words, and an SVG chart."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from clinic.assessments.instruments import get_instrument
from clinic.assessments.models import AssessmentResponse
from clinic.core.dates import in_era
from clinic.outcomes.charts import course_chart_svg
from clinic.outcomes.metrics import INSTRUMENT_MAX_TOTAL, course_status
from clinic.outcomes.policy import outcome_policy


@dataclass(frozen=True)
class Course:
    code: str
    name: str
    status_text: str
    svg: str


def course_for(
    *, patient, responses: list[AssessmentResponse], session_dates=(), first_session_at=None
) -> list[Course]:
    """Courses of the outcome instruments (PHQ-9, GAD-7, QIDS-SR16, MADRS, PCL-5) from the
    patient's valid, complete responses; entered-in-error and incomplete ones are left out."""
    policy = outcome_policy()
    courses = []
    for code in INSTRUMENT_MAX_TOTAL:
        # Local clinic time, so the chart's dates are the clinic's dates; sorted by time only.
        # A date outside the plausible era (a row stored before validation) is left out.
        points = sorted(
            (
                (timezone.localtime(r.taken_at), r.total)
                for r in responses
                if r.instrument_code == code
                and r.entered_in_error_at is None
                and r.complete
                and r.total is not None
                and in_era(r.taken_at)
            ),
            key=lambda point: point[0],
        )
        if not points:
            continue
        instrument = get_instrument(code)
        # Without treatment sessions recorded yet (a later stage), the baseline is the first
        # score and rapid response cannot be judged; `first_session_at` comes with sessions.
        status = course_status(code, points, first_session_at=first_session_at, policy=policy)
        threshold = policy.remission_threshold(code)
        courses.append(
            Course(
                code=code,
                name=instrument.name,
                status_text=status.summary,
                svg=course_chart_svg(
                    title=f"{instrument.name} over time",
                    points=points,
                    scale_max=INSTRUMENT_MAX_TOTAL[code],  # the instrument's highest total
                    bands=[(b.label, b.low, b.high) for b in instrument.bands],
                    baseline=status.baseline,
                    response_reduction_percent=policy.response_reduction_percent,
                    remission_threshold=(threshold.comparison, threshold.value)
                    if threshold
                    else None,
                    session_dates=session_dates,
                    chart_id=f"course-{code}",
                ),
            )
        )
    return courses
