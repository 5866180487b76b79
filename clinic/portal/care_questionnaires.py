"""The portal's read models for questionnaires: what is due (with any C-SSRS prompt and the
ones always available), one response's result in plain words, and progress over time.

As in care.py, every function takes the signed-in patient's `actor` and `patient` (their own
record) and reads only that patient's rows; another patient's response is "not found". Each
read leaves an audit event with the patient's user as actor, in a fixed number of queries.
"""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from clinic.assessments.choices import AlertStatus, Timepoint
from clinic.assessments.instruments import REGISTRY, get_instrument
from clinic.assessments.instruments.base import Instrument, SeverityBand
from clinic.assessments.models import AssessmentResponse
from clinic.assessments.policy import schedule_policy
from clinic.assessments.schedule import CourseFacts, Taken, due_assessments
from clinic.assessments.suicidality import CSSRS_CODE
from clinic.core.choices import AuditAction
from clinic.core.dates import in_era
from clinic.core.exceptions import NotFound
from clinic.outcomes.charts import course_chart_svg
from clinic.outcomes.metrics import INSTRUMENT_MAX_TOTAL, percent_change
from clinic.outcomes.policy import outcome_policy
from clinic.patients.selectors import record_in_reach
from clinic.portal.words import date_words, local, portal_audit
from clinic.scheduling.choices import (
    BOOKED_SESSION_STATUSES,
    IN_CLINIC_ROUTES,
    AppointmentStatus,
)
from clinic.scheduling.models import Appointment

UNRESOLVED = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)

# The questionnaires a patient may take in the portal at any time, due or not (issue 7:
# "keep to due ones plus PHQ-9 and GAD-7 always available"). Both are free to use [G2].
ALWAYS_AVAILABLE: tuple[str, ...] = ("phq9", "gad7")

# What each self-report questionnaire is about, in plain words (from each instrument's stem).
ABOUT: dict[str, str] = {
    "phq9": "How often you have been bothered by problems such as low mood over the last 2 weeks",
    "gad7": "How often you have been bothered by worry and anxiety over the last 2 weeks",
    "qids-sr16": "How you have been over the past seven days: mood, sleep, appetite, energy",
    "pcl5": "How much reactions to a very stressful experience bothered you in the past month",
    CSSRS_CODE: "A few questions about thoughts of death or suicide",
}


# --------------------------------------------------------------------------- questionnaires


@dataclass(frozen=True)
class QuestionnaireChoice:
    code: str
    name: str
    about: str
    url: str


@dataclass(frozen=True)
class DueGroup:
    timepoint: str
    timepoint_text: str
    overdue: bool
    closes_text: str  # "" when open-ended
    questionnaires: tuple[QuestionnaireChoice, ...]


@dataclass(frozen=True)
class QuestionnaireState:
    due: tuple[DueGroup, ...]
    # C-SSRS after a positive suicidality answer, until it is taken (policy-defaults.md,
    # "Suicidality": "prompt a C-SSRS screen").
    prompted: tuple[QuestionnaireChoice, ...]
    any_time: tuple[QuestionnaireChoice, ...]
    timepoints: dict[str, str]  # code → the timepoint a response now would count for

    @property
    def allowed(self) -> set[str]:
        return set(self.timepoints)


def _by_words(moment: datetime.datetime | None) -> str:
    if moment is None:
        return ""
    moment = local(moment)
    return f"by {moment:%H:%M} on {date_words(moment.date())}"


def _choice(code: str) -> QuestionnaireChoice:
    instrument = get_instrument(code)
    return QuestionnaireChoice(
        code=code,
        name=instrument.name,
        about=ABOUT.get(code, ""),
        url=reverse("portal:questionnaire", args=[code]),
    )


def questionnaire_state(*, actor, patient, now=None, audit: bool = True) -> QuestionnaireState:
    """What the patient owes now (the clinic's assessment schedule, `due_assessments`, with
    their own answers and sessions), any C-SSRS prompt, and what they may take any time.
    Three queries, whatever the history."""
    now = now or timezone.now()
    rows = list(
        AssessmentResponse.objects.valid()
        .filter(patient=patient)
        .values_list("pk", "instrument_code", "taken_at")
    )
    # A date outside the plausible era (stored before validation) counts for no window.
    taken = [Taken(code, local(at)) for _, code, at in rows if in_era(at, now=now)]
    sessions = [
        local(at)
        for at in Appointment.objects.filter(
            patient=patient, status__in=BOOKED_SESSION_STATUSES, route__in=IN_CLINIC_ROUTES
        ).values_list("starts_at", flat=True)
    ]
    items = due_assessments(
        CourseFacts(taken=taken, sessions=sessions), local(now), schedule_policy()
    )
    timepoints: dict[str, str] = {}
    groups = []
    for item in items:
        # A window that has closed cannot be met any more (a baseline after the first session,
        # a pre-session set after the session): answering now would not count for it.
        if item.closes_at is not None and now > item.closes_at:
            continue
        codes = [c for c in item.missing if c in REGISTRY and get_instrument(c).patient_facing]
        codes = [c for c in codes if c not in timepoints]
        if not codes:
            continue
        for code in codes:
            timepoints[code] = item.timepoint
        groups.append(
            DueGroup(
                timepoint=item.timepoint,
                timepoint_text=Timepoint(item.timepoint).label,
                overdue=item.overdue,
                closes_text=_by_words(item.closes_at),
                questionnaires=tuple(_choice(c) for c in codes),
            )
        )
    # After a positive suicidality answer, the C-SSRS screen is asked for until one is
    # entered after it (insertion order, not `taken_at`, which staff may date back), while
    # the alert it raised or joined as a follow-up (ADR 0004) is unresolved.
    prompted: list[QuestionnaireChoice] = []
    raised_by = (
        AssessmentResponse.objects.filter(patient=patient)
        .exclude(instrument_code=CSSRS_CODE)
        .filter(
            Q(alerts__status__in=UNRESOLVED) | Q(alert_follow_ups__alert__status__in=UNRESOLVED)
        )
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if raised_by is not None and not any(
        code == CSSRS_CODE and pk > raised_by for pk, code, _ in rows
    ):
        prompted.append(_choice(CSSRS_CODE))
        timepoints.setdefault(CSSRS_CODE, Timepoint.UNSCHEDULED)
        # Asked once, at the top: not also in a due group.
        groups = [
            dataclasses.replace(
                group,
                questionnaires=tuple(q for q in group.questionnaires if q.code != CSSRS_CODE),
            )
            for group in groups
        ]
        groups = [group for group in groups if group.questionnaires]
    any_time = []
    for code in ALWAYS_AVAILABLE:
        if code not in timepoints:
            timepoints[code] = Timepoint.UNSCHEDULED
        any_time.append(_choice(code))
    if audit:
        portal_audit(
            actor,
            patient,
            AuditAction.LIST,
            "assessment_response",
            f"questionnaires due ({len(taken)} responses read)",
        )
    return QuestionnaireState(
        due=tuple(groups),
        prompted=tuple(prompted),
        any_time=tuple(any_time),
        timepoints=timepoints,
    )


def portal_instrument(code: str, state: QuestionnaireState) -> Instrument:
    """The instrument the patient may answer now, or not found."""
    if code not in REGISTRY or code not in state.allowed or not get_instrument(code).patient_facing:
        raise NotFound("No such questionnaire.")
    return get_instrument(code)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Result:
    response: AssessmentResponse
    instrument: Instrument
    taken_text: str
    total: int | None
    maximum: int | None
    band: SeverityBand | None
    bands: tuple[SeverityBand, ...]
    words: tuple[str, ...]
    crisis: bool  # the answers raised a suicidality alert: the care team was told


def _result_words(instrument: Instrument, response: AssessmentResponse) -> list[str]:
    if instrument.total_range is None:
        return ["Thank you. Your care team will read your answers."]
    if response.total is None:
        return [
            "Some questions were left unanswered, so no total could be worked out. "
            "Your care team sees the answers you gave."
        ]
    words = [f"Your total is {response.total} out of a possible {instrument.total_range[1]}."]
    band = instrument.band_for(response.total)
    if band is not None:
        words.append(
            f"Totals from {band.low} to {band.high} are in the range the {instrument.name} "
            f"calls “{band.label.lower()}”."
        )
    else:
        words.append(
            f"The {instrument.name} has no named score ranges; your care team will go through "
            "your answers with you."
        )
    words.append("On this questionnaire, a lower total means fewer or milder symptoms.")
    return words


def result_for(*, actor, patient, response_uuid) -> Result:
    """One of the patient's own responses, in plain words; anyone else's is not found."""
    response = record_in_reach(
        actor=actor,
        queryset=AssessmentResponse.objects.filter(patient=patient),
        record_uuid=response_uuid,
        object_type="assessment_response",
        patient_of=lambda response: patient,
        in_reach=lambda response: True,  # only the patient's own are in the queryset
        not_found_message="No such result.",
        denied_summary="Portal: response not found or not the patient's own",
        view_summary="Portal: result",
    )
    instrument = get_instrument(response.instrument_code)
    crisis = response.in_suicidality_alert()
    taken = local(response.taken_at)
    return Result(
        response=response,
        instrument=instrument,
        taken_text=f"{date_words(taken.date())} at {taken:%H:%M}",
        total=response.total,
        maximum=instrument.total_range[1] if instrument.total_range else None,
        band=instrument.band_for(response.total),
        bands=instrument.bands,
        words=tuple(_result_words(instrument, response)),
        crisis=crisis,
    )


# --------------------------------------------------------------------------- progress


@dataclass(frozen=True)
class ScoreRow:
    date_text: str
    total: int
    band_label: str


@dataclass(frozen=True)
class ProgressCourse:
    code: str
    name: str
    about: str
    svg: str
    words: tuple[str, ...]
    rows: tuple[ScoreRow, ...]  # latest first


def _percent_words(value: Decimal) -> str:
    magnitude = abs(value)
    text = str(magnitude.to_integral()) if magnitude == magnitude.to_integral() else str(magnitude)
    return f"{text}%"


def progress_words(instrument: Instrument, totals: list[int], policy=None) -> list[str]:
    """The course of one questionnaire in plain words: first and latest score, the change and
    what the clinic's policy calls it (response, remission: policy-defaults.md,
    "Measurement-based care", [H1], [H4])."""
    policy = policy or outcome_policy()
    first, latest = totals[0], totals[-1]

    def with_band(total: int) -> str:
        band = instrument.band_for(total)
        return f"{total} ({band.label.lower()})" if band else f"{total}"

    if len(totals) == 1:
        return [
            f"Your first {instrument.name} score was {with_band(first)}. "
            "Your next one will show how things are changing."
        ]
    change = latest - first
    if change == 0:
        words = [
            f"Your latest {instrument.name} score is {with_band(latest)}, "
            "the same as your first score."
        ]
    else:
        direction = "down" if change < 0 else "up"
        points = abs(change)
        sentence = (
            f"Your latest {instrument.name} score is {with_band(latest)}, {direction} "
            f"{points} point{'s' if points != 1 else ''} from your first score of {first}"
        )
        if first > 0:
            kind = "drop" if change < 0 else "rise"
            sentence += f" (a {_percent_words(percent_change(first, latest))} {kind})"
        words = [sentence + "."]
    words.append("Lower scores mean fewer or milder symptoms.")
    code = instrument.code
    if code in INSTRUMENT_MAX_TOTAL:
        if first > 0 and policy.is_response(first, latest):
            words.append(
                f"A drop of {_percent_words(policy.response_reduction_percent)} or more from the "
                "first score is what your care team calls a response to treatment."
            )
        threshold = policy.remission_threshold(code)
        if threshold is not None and threshold.met(latest):
            below = "below" if threshold.comparison == "<" else "at or below"
            words.append(
                f"A score {below} {threshold.value} is what your care team calls remission."
            )
    return words


def progress_for(*, actor, patient) -> list[ProgressCourse]:
    """The patient's own self-report scores over time, one course per questionnaire, with an
    SVG chart (severity bands, first score as the baseline, completed sessions as ticks).
    Two queries, whatever the history; entered-in-error and incomplete responses are left out.
    Clinician-rated scales are not shown here: they are discussed with the care team."""
    codes = [c for c in INSTRUMENT_MAX_TOTAL if get_instrument(c).patient_facing]
    responses = list(
        AssessmentResponse.objects.valid()
        .filter(patient=patient, complete=True, total__isnull=False, instrument_code__in=codes)
        .order_by("taken_at", "id")
        .values_list("instrument_code", "taken_at", "total")
    )
    sessions = [
        local(at)
        for at in Appointment.objects.filter(
            patient=patient, status=AppointmentStatus.COMPLETED, route__in=IN_CLINIC_ROUTES
        ).values_list("starts_at", flat=True)
        if in_era(at)
    ]
    policy = outcome_policy()
    courses = []
    for code in codes:
        # A score dated outside the plausible era (stored before validation) is not drawn.
        points = [(local(at), total) for c, at, total in responses if c == code and in_era(at)]
        if not points:
            continue
        instrument = get_instrument(code)
        totals = [total for _, total in points]
        courses.append(
            ProgressCourse(
                code=code,
                name=instrument.name,
                about=ABOUT.get(code, ""),
                svg=course_chart_svg(
                    title=f"Your {instrument.name} scores over time",
                    points=points,
                    scale_max=INSTRUMENT_MAX_TOTAL[code],  # the instrument's highest total
                    bands=[(b.label, b.low, b.high) for b in instrument.bands],
                    baseline=totals[0],
                    session_dates=sessions,
                    chart_id=f"progress-{code}",
                ),
                words=tuple(progress_words(instrument, totals, policy)),
                rows=tuple(
                    ScoreRow(
                        date_text=date_words(at.date()),
                        total=total,
                        band_label=band.label if (band := instrument.band_for(total)) else "",
                    )
                    for at, total in reversed(points)
                ),
            )
        )
    portal_audit(
        actor,
        patient,
        AuditAction.LIST,
        "assessment_response",
        f"progress ({len(responses)} scores)",
    )
    return courses
