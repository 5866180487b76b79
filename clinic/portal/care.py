"""The portal's read models for the care pages: the next appointment with its preparation,
appointments, questionnaires due, open tasks, one response's result, and progress.

Every function takes the signed-in patient's `actor` (their user) and `patient` (their own
record, from `patient_required`) and reads only rows of that patient: no function takes a
patient id, and an appointment or response of anyone else is "not found" (the same 404 as
one that does not exist). Each read leaves an audit event with the patient's user as actor.
Queries per call are fixed: a longer history means more rows, never more queries.

Preparation text comes from the clinic's scheduling policy (`clinic.scheduling.policy`), the
same values the reminder e-mails use (`clinic.scheduling.services.reminder_text`):
- IV/IM: no solid food from `fasting_solids_min` before the start (default 4 h), clear liquids
  until `fasting_liquids_min` before (default 2 h) — policy-defaults.md, founding documents
  (4–6 h) and ASA [E12].
- Esketamine: no food 2 h, no liquids 30 min before; a nasal corticosteroid or decongestant at
  least 1 h before [C3]; observation of at least 2 h after the dose [C9], [C10].
- An escort home for every in-clinic session; no driving until the next day (esketamine:
  after a restful sleep) [C3], [E11].
- The setting: a quiet room, eye masks and headphones with calming music (seed-facts.md,
  "The treatment experience", step 3).
Source keys are those of ../shared/domain/clinical-reference.md.
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
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import NotFound
from clinic.journal import selectors as journal_selectors
from clinic.outcomes.charts import course_chart_svg
from clinic.outcomes.metrics import INSTRUMENT_MAX_TOTAL, percent_change
from clinic.outcomes.policy import outcome_policy
from clinic.scheduling.choices import (
    ACTIVE_STATUSES,
    BOOKED_SESSION_STATUSES,
    IN_CLINIC_ROUTES,
    AppointmentStatus,
)
from clinic.scheduling.models import Appointment
from clinic.scheduling.policy import SchedulingPolicy, scheduling_policy
from clinic.screening.choices import Route

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

ROUTE_WORDS: dict[str, str] = {
    Route.IV: "Ketamine infusion (IV, through a drip in your arm)",
    Route.IM: "Ketamine injection (IM, into a muscle)",
    Route.ESKETAMINE: "Esketamine nasal spray (Spravato)",
    Route.SUBLINGUAL: "At-home ketamine tablets (under the tongue)",
}

STATUS_WORDS: dict[str, str] = {
    AppointmentStatus.BOOKED: "Booked",
    AppointmentStatus.CHECKED_IN: "Checked in",
    AppointmentStatus.COMPLETED: "Completed",
    AppointmentStatus.CANCELLED: "Cancelled",
    AppointmentStatus.NO_SHOW: "Missed (you did not come)",
}


# --------------------------------------------------------------------------- words


def local(moment: datetime.datetime) -> datetime.datetime:
    """In the clinic's time zone (settings.TIME_ZONE)."""
    return timezone.localtime(moment)


def date_words(day: datetime.date) -> str:
    """ "Monday, June 2, 2031"."""
    return f"{day:%A}, {day:%B} {day.day}, {day.year}"


def clock_words(moment: datetime.datetime, day: datetime.date) -> str:
    """ "05:00", or "23:00 on Sunday, June 1" when it falls on another day than `day`."""
    moment = local(moment)
    if moment.date() == day:
        return f"{moment:%H:%M}"
    return f"{moment:%H:%M} on {moment:%A}, {moment:%B} {moment.day}"


def minutes_words(minutes: int) -> str:
    """240 → "4 hours", 30 → "30 minutes", 90 → "1 hour 30 minutes"."""
    hours, rest = divmod(int(minutes), 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if rest or not hours:
        parts.append(f"{rest} minute{'s' if rest != 1 else ''}")
    return " ".join(parts)


def _audit(actor, patient, action, object_type: str, summary: str, object_id="") -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient=patient,
        summary=f"Portal: {summary}",
    )


# --------------------------------------------------------------------------- appointments


@dataclass(frozen=True)
class AppointmentCard:
    uuid: object
    starts_at: datetime.datetime  # in the clinic's time zone
    date_text: str
    time_text: str
    end_time_text: str
    route: str
    route_text: str
    duration_text: str
    status: str
    status_text: str
    upcoming: bool
    in_clinic: bool


def _card(appointment: Appointment, now: datetime.datetime) -> AppointmentCard:
    start, end = local(appointment.starts_at), local(appointment.ends_at)
    upcoming = appointment.status in ACTIVE_STATUSES and appointment.starts_at > now
    return AppointmentCard(
        uuid=appointment.uuid,
        starts_at=start,
        date_text=date_words(start.date()),
        time_text=f"{start:%H:%M}",
        end_time_text=f"{end:%H:%M}",
        route=appointment.route,
        route_text=ROUTE_WORDS.get(appointment.route, appointment.get_route_display()),
        duration_text=minutes_words(appointment.duration_min),
        status=appointment.status,
        status_text=STATUS_WORDS.get(appointment.status, appointment.get_status_display()),
        upcoming=upcoming,
        in_clinic=appointment.route in IN_CLINIC_ROUTES,
    )


def _upcoming(patient):
    return Appointment.objects.filter(patient=patient, status__in=ACTIVE_STATUSES)


def appointment_lists(
    *, actor, patient, now: datetime.datetime | None = None
) -> tuple[list[AppointmentCard], list[AppointmentCard]]:
    """(upcoming, earlier): upcoming are booked or checked in and not started, soonest first;
    everything else (past, cancelled, missed), latest first. One query."""
    now = now or timezone.now()
    cards = [
        _card(a, now) for a in Appointment.objects.filter(patient=patient).order_by("starts_at")
    ]
    upcoming = [c for c in cards if c.upcoming]
    earlier = sorted((c for c in cards if not c.upcoming), key=lambda c: c.starts_at, reverse=True)
    _audit(actor, patient, AuditAction.LIST, "appointment", f"{len(cards)} appointments")
    return upcoming, earlier


def appointment_for(
    *, actor, patient, appointment_uuid, now=None
) -> tuple[Appointment, AppointmentCard]:
    """One of the patient's own appointments; anyone else's is not found."""
    now = now or timezone.now()
    appointment = Appointment.objects.filter(patient=patient, uuid=appointment_uuid).first()
    if appointment is None:
        audit_record(
            actor=actor,
            action=AuditAction.DENIED,
            object_type="appointment",
            object_id=appointment_uuid,
            summary="Portal: appointment not found or not the patient's own",
        )
        raise NotFound("No such appointment.")
    _audit(actor, patient, AuditAction.VIEW, "appointment", "appointment", appointment.uuid)
    return appointment, _card(appointment, now)


# --------------------------------------------------------------------------- preparation


@dataclass(frozen=True)
class Preparation:
    eat_and_drink: tuple[str, ...]
    medicines: tuple[str, ...]
    at_the_clinic: tuple[str, ...]
    going_home: tuple[str, ...]
    bring: tuple[str, ...]
    solids_until: str  # "05:00": the clock time to stop solid food (esketamine: all food)
    liquids_until: str  # "07:00": the clock time to stop clear liquids (esketamine: liquids)


def preparation_for(
    appointment: Appointment, policy: SchedulingPolicy | None = None
) -> Preparation | None:
    """How to prepare for this appointment, with the times worked out from its start in the
    clinic's time zone. None for a route that is not given at the clinic."""
    if appointment.route not in IN_CLINIC_ROUTES:
        return None
    policy = policy or scheduling_policy()
    route = appointment.route
    start = appointment.starts_at
    day = local(start).date()
    solids_min = policy.fasting_solids_min[route]
    liquids_min = policy.fasting_liquids_min[route]
    solids = clock_words(start - datetime.timedelta(minutes=solids_min), day)
    liquids = clock_words(start - datetime.timedelta(minutes=liquids_min), day)
    medicines: tuple[str, ...] = ()
    at_the_clinic: list[str] = []
    if route == Route.ESKETAMINE:
        # [C3]: no food ≥ 2 h, no liquids ≥ 30 min, nasal medicines ≥ 1 h before.
        eat_and_drink = (
            f"Do not eat after {solids} ({minutes_words(solids_min)} before your appointment).",
            f"Do not drink anything after {liquids} "
            f"({minutes_words(liquids_min)} before your appointment).",
        )
        nasal_min = policy.nasal_medication_min_before
        nasal = clock_words(start - datetime.timedelta(minutes=nasal_min), day)
        medicines = (
            "If you use a nasal corticosteroid or a nasal decongestant, use it no later than "
            f"{nasal} (at least {minutes_words(nasal_min)} before).",
        )
        # [C3] self-administered under direct observation; [C9], [C10] ≥ 2 h observation.
        at_the_clinic.append(
            "You give yourself the nasal spray at the clinic while a clinician watches, then "
            f"rest at the clinic for at least {minutes_words(policy.esketamine_observation_min)} "
            "while the staff check on you."
        )
        driving = "Do not drive or use machinery until the next day, after a restful sleep."
    else:
        eat_and_drink = (
            f"Stop eating solid food at {solids} "
            f"({minutes_words(solids_min)} before your appointment).",
            f"You may drink clear liquids until {liquids} "
            f"({minutes_words(liquids_min)} before); after that, nothing to eat or drink.",
        )
        driving = "Do not drive until the next day."
    at_the_clinic.append(
        "The treatment room is quiet; eye masks and headphones with calming music are there for "
        "you, and you are welcome to bring your own music."
    )
    at_the_clinic.append(
        f"Plan to be at the clinic for about {minutes_words(appointment.duration_min)}."
    )
    going_home = []
    if policy.escort_required:
        going_home.append(
            "A responsible adult must take you home after the session. Bring their phone "
            "number, so the staff can call them when you are ready to leave."
        )
    going_home.append(driving)
    bring = tuple(item[:1].upper() + item[1:] for item in policy.what_to_bring)
    return Preparation(
        eat_and_drink=eat_and_drink,
        medicines=medicines,
        at_the_clinic=tuple(at_the_clinic),
        going_home=tuple(going_home),
        bring=bring,
        solids_until=solids,
        liquids_until=liquids,
    )


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
    taken = [Taken(code, local(at)) for _, code, at in rows]
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
        _audit(
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
    response = AssessmentResponse.objects.filter(patient=patient, uuid=response_uuid).first()
    if response is None:
        audit_record(
            actor=actor,
            action=AuditAction.DENIED,
            object_type="assessment_response",
            object_id=response_uuid,
            summary="Portal: response not found or not the patient's own",
        )
        raise NotFound("No such result.")
    instrument = get_instrument(response.instrument_code)
    crisis = response.in_suicidality_alert()
    _audit(actor, patient, AuditAction.VIEW, "assessment_response", "result", response.uuid)
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


# --------------------------------------------------------------------------- tasks


@dataclass(frozen=True)
class Task:
    text: str
    url: str
    link_text: str
    done: bool = False


def open_tasks(
    *,
    actor,
    patient,
    next_appointment: Appointment | None,
    last_session: Appointment | None,
    now: datetime.datetime,
) -> list[Task]:
    """Before the next in-clinic session: an intention (seed-facts.md, "Preparation": set an
    intention); after the last completed one: an integration journal entry ("Recovery and
    integration"). Whether each is written comes from the journal app's portal selectors."""
    tasks = []
    if next_appointment is not None and next_appointment.route in IN_CLINIC_ROUTES:
        card = _card(next_appointment, now)
        intention = journal_selectors.portal_intention_get(
            actor=actor, patient=patient, appointment=next_appointment
        )
        url = reverse("portal:intention", args=[next_appointment.uuid])
        if intention is None:
            tasks.append(
                Task(
                    text=f"Before your session on {card.date_text}: "
                    "set an intention for it, in your own words.",
                    url=url,
                    link_text="Write your intention",
                )
            )
        else:
            tasks.append(
                Task(
                    text=f"You have written your intention for your session on {card.date_text}.",
                    url=url,
                    link_text="Read or change it",
                    done=True,
                )
            )
    if (
        last_session is not None
        and journal_selectors.portal_entry_for_session(patient=patient, appointment=last_session)
        is None
    ):
        card = _card(last_session, now)
        tasks.append(
            Task(
                text=f"After your session on {card.date_text}: how did it go? "
                "Note your mood before and after, your reflections and insights.",
                url=f"{reverse('portal:journal_new')}?appointment={last_session.uuid}",
                link_text="Write a journal entry",
            )
        )
    return tasks


# --------------------------------------------------------------------------- home


@dataclass(frozen=True)
class Home:
    next_appointment: AppointmentCard | None
    preparation: Preparation | None
    questionnaires: QuestionnaireState
    tasks: tuple[Task, ...]


def home_for(*, actor, patient, now=None) -> Home:
    now = now or timezone.now()
    upcoming = _upcoming(patient).filter(starts_at__gt=now).order_by("starts_at").first()
    last = (
        Appointment.objects.filter(
            patient=patient,
            status=AppointmentStatus.COMPLETED,
            route__in=IN_CLINIC_ROUTES,
            starts_at__lte=now,
        )
        .order_by("-starts_at")
        .first()
    )
    next_card = _card(upcoming, now) if upcoming else None
    if upcoming is not None:
        _audit(actor, patient, AuditAction.VIEW, "appointment", "next appointment", upcoming.uuid)
    state = questionnaire_state(actor=actor, patient=patient, now=now)
    return Home(
        next_appointment=next_card,
        preparation=preparation_for(upcoming) if upcoming else None,
        questionnaires=state,
        tasks=tuple(
            open_tasks(
                actor=actor, patient=patient, next_appointment=upcoming, last_session=last, now=now
            )
        ),
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
    ]
    policy = outcome_policy()
    courses = []
    for code in codes:
        points = [(local(at), total) for c, at, total in responses if c == code]
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
                    scale_max=instrument.total_range[1],
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
                        band_label=(
                            instrument.band_for(total).label if instrument.band_for(total) else ""
                        ),
                    )
                    for at, total in reversed(points)
                ),
            )
        )
    _audit(
        actor,
        patient,
        AuditAction.LIST,
        "assessment_response",
        f"progress ({len(responses)} scores)",
    )
    return courses
