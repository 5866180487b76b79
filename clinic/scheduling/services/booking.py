"""Appointments: book, reschedule, cancel, no-show, and how long one holds a chair (the chair
side's steps on an appointment are in chair_side.py).

No double booking of a chair or a patient; a nurse up to the clinic's limit. `appointment_book`
and `appointment_reschedule` lock, in this fixed order, the chair, the nurse (a User) and the
patient rows (`select_for_update`, each by pk), then look for overlapping active
appointments: two desks booking the same chair at the same moment queue on the chair's lock,
and the second sees the first's appointment. A chair and a patient are in one appointment at
a time; a nurse runs several chairs at once, and is refused only when, at some instant of the
new appointment, they would already hold `nurse_max_concurrent_chairs` (clinic policy)
active appointments (`peak_concurrency`). The nurse's row lock is what makes that count safe
against a concurrent booking. Under that, on PostgreSQL, exclusion constraints refuse a row
overlapping another on its chair or its patient whatever wrote it; an IntegrityError from
them becomes the same `Conflict` the check raises (ADR 0006).
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Callable
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from clinic.accounts.choices import Role
from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.accounts.services import staff_lock
from clinic.core.access import require
from clinic.core.audit import audit_record, diff, snapshot
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, InvalidInput, NotFound
from clinic.core.parsing import clean_text, planned_moment
from clinic.locations.selectors import require_works_at
from clinic.patients.models import Patient
from clinic.patients.services import patient_lock
from clinic.protocols.choices import PlanStatus
from clinic.protocols.models import PlannedSession
from clinic.scheduling.choices import (
    BOOKED_SESSION_STATUSES,
    IN_CLINIC_ROUTES,
    AppointmentStatus,
    ChairCapability,
    Weekday,
)
from clinic.scheduling.models import (
    Appointment,
    Chair,
    OpeningHours,
    StaffShift,
)
from clinic.scheduling.policy import SchedulingPolicy, scheduling_policy
from clinic.scheduling.services._common import at, date_text, local, peak_concurrency, span
from clinic.screening.choices import Route


def _reason(text: str | None) -> str:
    return clean_text(
        "reason",
        text,
        max_length=300,
        required_message="Give a reason.",
        too_long_message="Keep the reason under 300 characters.",
    )


# --------------------------------------------------------------------------- appointment length


def _esketamine_dose_mg(planned_session: PlannedSession | None) -> Decimal | int | None:
    if planned_session is None:
        return None
    return planned_session.dose_mg or planned_session.plan.esketamine_dose_mg


def appointment_length_min(
    *,
    route: str,
    planned_session: PlannedSession | None = None,
    policy: SchedulingPolicy | None = None,
) -> int:
    """Minutes a chair and nurse are held: preparation + administration + minimum observation
    (clinic policy, see clinic/scheduling/policy.py)."""
    policy = policy or scheduling_policy()
    return policy.appointment_min(
        route,
        infusion_min=planned_session.infusion_minutes if planned_session else None,
        esketamine_dose_mg=_esketamine_dose_mg(planned_session),
    )


# --------------------------------------------------------------------------- booking checks


def _lock(
    actor: User, *, chair: Chair, nurse: User, patient: Patient
) -> tuple[Chair, User, Patient]:
    """Lock the chair, the nurse and the patient, in that fixed order, each by pk. The nurse's
    lock is the only guard of their count of concurrent chairs (no database constraint)."""
    locked_chair = Chair.objects.select_for_update().filter(pk=chair.pk).first()
    locked_nurse = staff_lock(staff_id=nurse.pk)
    locked_patient = patient_lock(actor=actor, patient_id=patient.pk)
    if locked_chair is None:
        raise InvalidInput({"chair": ["Choose a chair."]})
    if locked_nurse is None:
        raise InvalidInput({"nurse": ["Choose a nurse."]})
    if locked_patient is None:
        raise NotFound("No such patient, or the patient is not on your care team.")
    return locked_chair, locked_nurse, locked_patient


def _location_time(chair: Chair, moment: datetime.datetime) -> datetime.datetime:
    """`moment` on the wall clock of the chair's location (its opening hours and shifts are
    in its own time zone)."""
    try:
        zone = zoneinfo.ZoneInfo(chair.room.location.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return local(moment)
    return timezone.localtime(moment, zone)


def _opening_problem(
    chair: Chair, starts_at: datetime.datetime, ends_at: datetime.datetime
) -> str | None:
    """Whether the appointment falls within the opening hours of the chair's location."""
    start, end = _location_time(chair, starts_at), _location_time(chair, ends_at)
    day = start.date()
    location_hours = OpeningHours.objects.filter(location=chair.room.location)
    hours = location_hours.filter(weekday=day.weekday()).first()
    if hours is None:
        if not location_hours.exists():
            return (
                "The clinic has no opening hours yet: a clinic administrator sets them on the "
                "resources page."
            )
        return f"The clinic is closed on {Weekday(day.weekday()).label}s."
    if end.date() != day or start.time() < hours.opens or end.time() > hours.closes:
        return (
            f"The clinic is open {hours.opens:%H:%M}–{hours.closes:%H:%M} on "
            f"{Weekday(day.weekday()).label}s; this appointment would run "
            f"{start:%H:%M} to {end:%H:%M}."
        )
    return None


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _check_bookable(
    *,
    policy: SchedulingPolicy,
    chair: Chair,
    nurse: User,
    patient: Patient,
    route: str,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    exclude: Appointment | None = None,
) -> None:
    if not chair.active or not chair.room.active:
        raise InvalidInput({"chair": [f"{chair.name} ({chair.room.name}) is out of service."]})
    missing = [c for c in policy.capabilities_for(route) if c not in chair.capabilities]
    if missing:
        labels = " and ".join(ChairCapability(c).label for c in missing)
        raise InvalidInput(
            {"chair": [f"{chair.name} has no {labels}, which {Route(route).label} needs."]}
        )
    if nurse.role != Role.NURSE or not nurse.is_active:
        raise InvalidInput({"nurse": ["Choose an active nurse."]})
    problem = _opening_problem(chair, starts_at, ends_at)
    if problem:
        raise Conflict(problem, code="outside_opening_hours", field="time")
    start, end = _location_time(chair, starts_at), _location_time(chair, ends_at)
    # On shift at the chair's location.
    on_shift = StaffShift.objects.filter(
        location=chair.room.location,
        staff=nurse,
        date=start.date(),
        start__lte=start.time(),
        end__gte=end.time(),
    ).exists()
    if not on_shift:
        raise Conflict(
            f"{nurse.display_name} is not on shift from {span(starts_at, ends_at)} on "
            f"{date_text(start.date())}.",
            code="nurse_off_shift",
            field="nurse",
        )
    others = Appointment.objects.active()
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    overlapping = others.overlapping(starts_at, ends_at)
    _refuse_overlap("chair", overlapping.filter(chair=chair))
    # The nurse's row is locked (`_lock`), so no other booking adds to this count meanwhile.
    limit = policy.nurse_max_concurrent_chairs
    peak = peak_concurrency(
        overlapping.filter(nurse=nurse).values_list("starts_at", "ends_at"), starts_at, ends_at
    )
    if peak.count >= limit and peak.first_at is not None:  # a peak has its first instant
        raise Conflict(
            f"{nurse.display_name} already has {_plural(peak.count, 'patient')} at "
            f"{local(peak.first_at):%H:%M}; the clinic's limit is "
            f"{_plural(limit, 'chair')} at once.",
            code="nurse_booked",
            field="nurse",
        )
    _refuse_overlap("patient", overlapping.filter(patient=patient))
    day_start = at(start.date(), datetime.time.min)
    same_day = (
        others.filter(patient=patient)
        .overlapping(day_start, day_start + datetime.timedelta(days=1))
        .order_by("starts_at")
        .first()
    )
    if same_day is not None:
        raise Conflict(
            f"The patient already has an appointment on {date_text(start.date())} "
            f"({span(same_day.starts_at, same_day.ends_at)}): one session a day.",
            code="patient_same_day",
            field="date",
        )


_OVERLAP_MESSAGES = {
    "chair": "That chair is already booked from {}.",
    "patient": "The patient already has an appointment from {}.",
}


def _overlap_conflict(key: str, clash: Appointment) -> Conflict:
    return Conflict(
        _OVERLAP_MESSAGES[key].format(span(clash.starts_at, clash.ends_at)),
        code=f"{key}_booked",
        field=key if key != "patient" else "time",
    )


def _refuse_overlap(key: str, queryset: QuerySet[Appointment]) -> None:
    clash = queryset.order_by("starts_at").first()
    if clash is not None:
        raise _overlap_conflict(key, clash)


# The exclusion constraints of migration 0002 (PostgreSQL) that still stand and what their
# refusal means. A nurse's overlaps are the locked count's alone (migration 0003, ADR 0006).
_CONSTRAINT_FIELDS = {
    "appointment_chair_no_overlap": "chair",
    "appointment_patient_no_overlap": "patient",
}


def _constraint_name(error: IntegrityError) -> str:
    diag = getattr(error.__cause__, "diag", None)
    name = getattr(diag, "constraint_name", None)
    if name:
        return name
    text = str(error)
    return next(
        (n for n in (*_CONSTRAINT_FIELDS, "appointment_one_per_planned_session") if n in text), ""
    )


def _conflict_from(error: IntegrityError, appointment: Appointment) -> Conflict:
    """The database refused an overlap (or a second booking of a session): say which."""
    name = _constraint_name(error)
    if name == "appointment_one_per_planned_session" or "planned_session" in str(error):
        return Conflict("That session is already booked.", code="session_booked")
    if name not in _CONSTRAINT_FIELDS:
        raise error
    key = _CONSTRAINT_FIELDS[name]
    clash = (
        Appointment.objects.active()
        .overlapping(appointment.starts_at, appointment.ends_at)
        .filter(**{f"{key}_id": getattr(appointment, f"{key}_id")})
        .exclude(pk=appointment.pk)
        .order_by("starts_at")
        .first()
    )
    return _overlap_conflict(key, clash or appointment)


def _start(starts_at: datetime.datetime) -> datetime.datetime:
    if not isinstance(starts_at, datetime.datetime) or timezone.is_naive(starts_at):
        raise InvalidInput({"time": ["Give the start as a date and time with its time zone."]})
    starts_at = starts_at.replace(second=0, microsecond=0)
    if starts_at < timezone.now():
        raise InvalidInput({"time": ["That time has passed."]})
    # Within the clinic's booking horizon (clinic/core/policy.py): a mistyped year is caught.
    return planned_moment("date", starts_at, now=timezone.now())


def _session_for(
    planned_session: PlannedSession, *, patient: Patient, route: str
) -> PlannedSession:
    session = PlannedSession.objects.select_related("plan").filter(pk=planned_session.pk).first()
    if session is None or session.plan.patient_id != patient.pk:
        raise InvalidInput({"session": ["That session is not in this patient's plan."]})
    if session.plan.status != PlanStatus.ACTIVE:
        raise Conflict("The treatment plan is not active.", code="plan_not_active")
    if session.cancelled:
        raise Conflict(f"Session {session.number} was cancelled.", code="session_cancelled")
    if session.plan.route != route:
        raise InvalidInput({"route": [f"The plan's route is {Route(session.plan.route).label}."]})
    booked = (
        Appointment.objects.filter(planned_session=session, status__in=BOOKED_SESSION_STATUSES)
        .order_by("starts_at")
        .first()
    )
    if booked is not None:
        raise Conflict(
            f"Session {session.number} is already booked on "
            f"{date_text(local(booked.starts_at).date())} at {local(booked.starts_at):%H:%M}.",
            code="session_booked",
        )
    return session


_APPOINTMENT_FIELDS = ["starts_at", "ends_at", "chair", "nurse", "route", "status"]


@transaction.atomic
def appointment_book(
    *,
    actor: User,
    patient: Patient,
    chair: Chair,
    nurse: User,
    starts_at: datetime.datetime,
    route: str,
    planned_session: PlannedSession | None = None,
) -> Appointment:
    """Book a chair and a nurse for a patient from `starts_at`, for as long as the route's
    policy holds them (`appointment_length_min`). Refused with a Conflict naming the clash
    when the chair or the patient is already booked then, or when the nurse already has the
    clinic's limit of patients at once (`nurse_max_concurrent_chairs`) at some instant of it."""
    require(actor, Capability.SCHEDULE_BOOK)
    if route not in IN_CLINIC_ROUTES:
        raise InvalidInput(
            {"route": ["Only IV, IM and esketamine sessions are booked in a chair."]}
        )
    starts_at = _start(starts_at)
    policy = scheduling_policy()
    chair, nurse, patient = _lock(actor, chair=chair, nurse=nurse, patient=patient)
    session = None
    if planned_session is not None:
        session = _session_for(planned_session, patient=patient, route=route)
    ends_at = starts_at + datetime.timedelta(
        minutes=appointment_length_min(route=route, planned_session=session, policy=policy)
    )
    _check_bookable(
        policy=policy,
        chair=chair,
        nurse=nurse,
        patient=patient,
        route=route,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    appointment = Appointment(
        patient=patient,
        chair=chair,
        nurse=nurse,
        starts_at=starts_at,
        ends_at=ends_at,
        route=route,
        planned_session=session,
        created_by=actor,
    )
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError as error:
        raise _conflict_from(error, appointment) from error
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="appointment",
        object_id=appointment.uuid,
        patient=patient,
        summary=(
            f"Booked {Route(route).label} on {local(starts_at):%Y-%m-%d} "
            f"{span(starts_at, ends_at)}, {chair.name}"
            + (f", session {session.number}" if session else "")
        ),
        changes=diff({}, snapshot(appointment, _APPOINTMENT_FIELDS)),
    )
    return appointment


# A check of the locked appointment before it changes, e.g. that the API client's If-Match
# is still its entity tag (clinic/core/api_versions.py): under the lock, so of two changes
# read from the same state, the second sees the first.
Precondition = Callable[[Appointment], None]


def _appointment_for_change(
    actor: User,
    appointment: Appointment,
    *,
    chair: Chair | None = None,
    nurse: User | None = None,
    precondition: Precondition | None = None,
) -> tuple[Appointment, Chair, User, Patient]:
    """Lock the resources (fixed order), then the appointment, and check it can change: by
    staff who work at its location (its chair's), as that location's schedule is theirs."""
    require(actor, Capability.SCHEDULE_BOOK)
    current = (
        Appointment.objects.select_related("chair__room__location")
        .filter(pk=appointment.pk)
        .first()
    )
    if current is None:
        raise NotFound()
    require_works_at(actor, current.chair.room.location)
    locked_chair, locked_nurse, patient = _lock(
        actor,
        chair=chair or current.chair,
        nurse=nurse or current.nurse,
        patient=current.patient,
    )
    locked = (
        # Lock only the appointment row: PostgreSQL cannot lock the nullable side of the
        # outer join to the (optional) planned session.
        Appointment.objects.select_for_update(of=("self",))
        .select_related("planned_session__plan")
        .get(pk=appointment.pk)
    )
    if precondition is not None:
        precondition(locked)
    if locked.status != AppointmentStatus.BOOKED:
        raise Conflict(
            f"The appointment is {locked.get_status_display().lower()}: only a booked "
            "appointment can change.",
            code="appointment_not_booked",
        )
    return locked, locked_chair, locked_nurse, patient


@transaction.atomic
def appointment_reschedule(
    *,
    actor: User,
    appointment: Appointment,
    starts_at: datetime.datetime,
    reason: str,
    chair: Chair | None = None,
    nurse: User | None = None,
    precondition: Precondition | None = None,
) -> Appointment:
    """Move a booked appointment to a new start (and optionally another chair or nurse)."""
    reason = _reason(reason)
    starts_at = _start(starts_at)
    locked, chair, nurse, patient = _appointment_for_change(
        actor, appointment, chair=chair, nurse=nurse, precondition=precondition
    )
    policy = scheduling_policy()
    ends_at = starts_at + datetime.timedelta(
        minutes=appointment_length_min(
            route=locked.route, planned_session=locked.planned_session, policy=policy
        )
    )
    _check_bookable(
        policy=policy,
        chair=chair,
        nurse=nurse,
        patient=patient,
        route=locked.route,
        starts_at=starts_at,
        ends_at=ends_at,
        exclude=locked,
    )
    before = snapshot(locked, _APPOINTMENT_FIELDS)
    locked.starts_at, locked.ends_at, locked.chair, locked.nurse = starts_at, ends_at, chair, nurse
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError as error:
        raise _conflict_from(error, locked) from error
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="appointment",
        object_id=locked.uuid,
        patient=patient,
        summary=f"Rescheduled to {local(starts_at):%Y-%m-%d} {span(starts_at, ends_at)}: {reason}",
        changes={**diff(before, snapshot(locked, _APPOINTMENT_FIELDS)), "reason": reason},
    )
    return locked


def _status_set(
    actor: User,
    appointment: Appointment,
    *,
    status: str,
    reason: str,
    precondition: Precondition | None = None,
) -> Appointment:
    locked, _chair, _nurse, patient = _appointment_for_change(
        actor, appointment, precondition=precondition
    )
    now = timezone.now()
    if status == AppointmentStatus.NO_SHOW and now < locked.starts_at:
        raise Conflict(
            "An appointment is a no-show only once its start time has passed.",
            code="not_started",
        )
    before = snapshot(locked, ["status", "status_reason"])
    locked.status = status
    locked.status_reason = reason
    locked.status_changed_at = now
    locked.status_changed_by = actor
    if status == AppointmentStatus.CANCELLED:
        locked.cancelled_at = now
    locked.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="appointment",
        object_id=locked.uuid,
        patient=patient,
        summary=f"{AppointmentStatus(status).label}: {reason}",
        changes=diff(before, snapshot(locked, ["status", "status_reason"])),
    )
    return locked


@transaction.atomic
def appointment_cancel(
    *,
    actor: User,
    appointment: Appointment,
    reason: str,
    precondition: Precondition | None = None,
) -> Appointment:
    """Cancel a booked appointment; its chair, nurse and time are free again."""
    return _status_set(
        actor,
        appointment,
        status=AppointmentStatus.CANCELLED,
        reason=_reason(reason),
        precondition=precondition,
    )


@transaction.atomic
def appointment_mark_no_show(
    *,
    actor: User,
    appointment: Appointment,
    reason: str,
    precondition: Precondition | None = None,
) -> Appointment:
    """Record that the patient did not come (only after the start time)."""
    return _status_set(
        actor,
        appointment,
        status=AppointmentStatus.NO_SHOW,
        reason=_reason(reason),
        precondition=precondition,
    )
