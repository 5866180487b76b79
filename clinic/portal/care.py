"""The portal's read models for the care pages: the next appointment with its preparation,
appointments, open tasks and the home page. Questionnaires, results and progress are in
care_questionnaires.py.

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
Source keys are those of docs/clinical/clinical-reference.md.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone

from clinic.core.choices import AuditAction
from clinic.journal import selectors as journal_selectors
from clinic.patients.selectors import record_in_reach
from clinic.portal.care_questionnaires import QuestionnaireState, questionnaire_state
from clinic.portal.words import clock_words, date_words, local, minutes_words, portal_audit
from clinic.scheduling.choices import (
    ACTIVE_STATUSES,
    IN_CLINIC_ROUTES,
    AppointmentStatus,
)
from clinic.scheduling.models import Appointment
from clinic.scheduling.policy import SchedulingPolicy, scheduling_policy
from clinic.screening.choices import Route

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
    portal_audit(actor, patient, AuditAction.LIST, "appointment", f"{len(cards)} appointments")
    return upcoming, earlier


def appointment_for(
    *, actor, patient, appointment_uuid, now=None
) -> tuple[Appointment, AppointmentCard]:
    """One of the patient's own appointments; anyone else's is not found."""
    now = now or timezone.now()
    appointment = record_in_reach(
        actor=actor,
        queryset=Appointment.objects.filter(patient=patient),
        record_uuid=appointment_uuid,
        object_type="appointment",
        patient_of=lambda appointment: patient,
        in_reach=lambda appointment: True,  # only the patient's own are in the queryset
        not_found_message="No such appointment.",
        denied_summary="Portal: appointment not found or not the patient's own",
        view_summary="Portal: appointment",
    )
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
        portal_audit(
            actor, patient, AuditAction.VIEW, "appointment", "next appointment", upcoming.uuid
        )
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
