"""Writes to the schedule: resources (rooms, chairs, opening hours, shifts), appointments and
their reminders. Each service checks the actor's capability, runs in one transaction and
leaves an audit event.

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

Opening hours start empty: the clinic must set them (`opening_hours_set`) before anything
can be booked, e.g. from a shell or the demo seed:

    opening_hours_set(actor=admin, hours={0: (time(8), time(17)), 5: None})

maps weekdays (Monday is 0) to (opens, closes) in the clinic's time zone, or None for
closed; weekdays left out keep their hours.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.accounts.choices import STAFF_ROLES, Role
from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.assessments.models import Notification
from clinic.assessments.tasks import enqueue_delivery
from clinic.core.access import require
from clinic.core.audit import audit_record, diff, snapshot
from clinic.core.choices import AuditAction
from clinic.core.clinic_phone import call_the_clinic
from clinic.core.exceptions import Conflict, InvalidInput, NotFound, PermissionDenied
from clinic.core.records import required_text
from clinic.patients.models import Patient
from clinic.protocols.choices import PlanStatus
from clinic.protocols.models import PlannedSession, TreatmentPlan
from clinic.scheduling.choices import (
    BOOKED_SESSION_STATUSES,
    IN_CLINIC_ROUTES,
    AppointmentStatus,
    ChairCapability,
    Weekday,
)
from clinic.scheduling.models import (
    Appointment,
    AppointmentReminder,
    CalendarFeed,
    Chair,
    OpeningHours,
    Room,
    StaffShift,
)
from clinic.scheduling.policy import SchedulingPolicy, scheduling_policy
from clinic.screening.choices import Route

FEED_TOKEN_BYTES = 32


# --------------------------------------------------------------------------- time helpers


def local(moment: datetime.datetime) -> datetime.datetime:
    """An aware datetime in the clinic's time zone (settings.TIME_ZONE)."""
    return timezone.localtime(moment)


def at(day: datetime.date, clock: datetime.time) -> datetime.datetime:
    """The aware moment of a wall-clock time on a date in the clinic's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, clock))


def span(starts_at: datetime.datetime, ends_at: datetime.datetime) -> str:
    return f"{local(starts_at):%H:%M} to {local(ends_at):%H:%M}"


def _date_text(day: datetime.date) -> str:
    return f"{day:%A} {day:%m/%d/%Y}"


def _reason(text: str | None) -> str:
    reason = required_text("reason", text, "Give a reason.")
    if len(reason) > 300:
        raise InvalidInput({"reason": ["Keep the reason under 300 characters."]})
    return reason


def _name(field: str, text: str | None, what: str) -> str:
    name = required_text(field, text, f"Give the {what} a name.")
    if len(name) > 100:
        raise InvalidInput({field: ["Keep the name under 100 characters."]})
    return name


# --------------------------------------------------------------------------- resources


@transaction.atomic
def room_create(*, actor, name: str) -> Room:
    require(actor, Capability.SCHEDULE_MANAGE_RESOURCES)
    name = _name("name", name, "room")
    if Room.objects.filter(name__iexact=name).exists():
        raise InvalidInput({"name": [f"There is already a room called {name}."]})
    room = Room.objects.create(name=name)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="room",
        object_id=room.uuid,
        summary=f"Room {name} added",
    )
    return room


@transaction.atomic
def room_update(*, actor, room: Room, name: str | None = None, active: bool | None = None) -> Room:
    require(actor, Capability.SCHEDULE_MANAGE_RESOURCES)
    locked = Room.objects.select_for_update().get(pk=room.pk)
    before = snapshot(locked, ["name", "active"])
    if name is not None:
        name = _name("name", name, "room")
        if Room.objects.filter(name__iexact=name).exclude(pk=locked.pk).exists():
            raise InvalidInput({"name": [f"There is already a room called {name}."]})
        locked.name = name
    if active is False and locked.active:
        _refuse_if_booked(
            Appointment.objects.filter(chair__room=locked), f"Room {locked.name}", field="active"
        )
    if active is not None:
        locked.active = active
    locked.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="room",
        object_id=locked.uuid,
        summary=f"Room {locked.name} changed",
        changes=diff(before, snapshot(locked, ["name", "active"])),
    )
    return locked


def _capabilities(values: Iterable[str]) -> list[str]:
    values = list(dict.fromkeys(values))
    unknown = [v for v in values if v not in ChairCapability.values]
    if unknown:
        raise InvalidInput({"capabilities": [f"Unknown equipment: {', '.join(unknown)}."]})
    return [c for c in ChairCapability.values if c in values]


def _refuse_if_booked(appointments, what: str, *, field: str) -> None:
    upcoming = appointments.active().filter(ends_at__gt=timezone.now()).order_by("starts_at")
    count = upcoming.count()
    if count:
        first = upcoming.first()
        raise Conflict(
            f"{what} has {count} upcoming appointment(s), the first on "
            f"{_date_text(local(first.starts_at).date())} at {local(first.starts_at):%H:%M}: "
            "move or cancel them first.",
            code="resource_in_use",
            field=field,
        )


@transaction.atomic
def chair_create(*, actor, room: Room, name: str, capabilities: Iterable[str] = ()) -> Chair:
    require(actor, Capability.SCHEDULE_MANAGE_RESOURCES)
    name = _name("name", name, "chair")
    if Chair.objects.filter(room=room, name__iexact=name).exists():
        raise InvalidInput({"name": [f"{room.name} already has a chair called {name}."]})
    chair = Chair.objects.create(room=room, name=name, capabilities=_capabilities(capabilities))
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="chair",
        object_id=chair.uuid,
        summary=f"Chair {name} added to {room.name}",
        changes={"capabilities": {"before": None, "after": chair.capabilities}},
    )
    return chair


@transaction.atomic
def chair_update(
    *,
    actor,
    chair: Chair,
    name: str | None = None,
    capabilities: Iterable[str] | None = None,
    active: bool | None = None,
) -> Chair:
    require(actor, Capability.SCHEDULE_MANAGE_RESOURCES)
    locked = Chair.objects.select_for_update().get(pk=chair.pk)
    fields = ["name", "capabilities", "active"]
    before = snapshot(locked, fields)
    if name is not None:
        name = _name("name", name, "chair")
        if Chair.objects.filter(room_id=locked.room_id, name__iexact=name).exclude(pk=locked.pk):
            raise InvalidInput({"name": ["The room already has a chair of that name."]})
        locked.name = name
    if capabilities is not None:
        locked.capabilities = _capabilities(capabilities)
    if active is False and locked.active:
        _refuse_if_booked(locked.appointments.all(), f"Chair {locked.name}", field="active")
    if active is not None:
        locked.active = active
    locked.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="chair",
        object_id=locked.uuid,
        summary=f"Chair {locked.name} changed",
        changes=diff(before, snapshot(locked, fields)),
    )
    return locked


@transaction.atomic
def opening_hours_set(
    *, actor, hours: Mapping[int, tuple[datetime.time, datetime.time] | None]
) -> list[OpeningHours]:
    """Set the clinic's opening hours: weekday (Monday 0 … Sunday 6) → (opens, closes) in the
    clinic's time zone, or None for closed. Weekdays left out keep their hours. Appointments
    already booked are kept as they are."""
    require(actor, Capability.SCHEDULE_MANAGE_RESOURCES)
    errors: dict[str, list[str]] = {}
    for weekday, value in hours.items():
        if weekday not in Weekday.values:
            errors[f"weekday_{weekday}"] = ["Weekdays are 0 (Monday) to 6 (Sunday)."]
        elif value is not None and (value[0] is None or value[1] is None):
            errors[f"weekday_{weekday}"] = ["Give both the opening and the closing time."]
        elif value is not None and value[1] <= value[0]:
            errors[f"weekday_{weekday}"] = ["The clinic must close after it opens."]
    if errors:
        raise InvalidInput(errors)
    before = {
        str(h.weekday): f"{h.opens:%H:%M}–{h.closes:%H:%M}" for h in OpeningHours.objects.all()
    }
    for weekday, value in hours.items():
        if value is None:
            OpeningHours.objects.filter(weekday=weekday).delete()
        else:
            OpeningHours.objects.update_or_create(
                weekday=weekday, defaults={"opens": value[0], "closes": value[1]}
            )
    rows = list(OpeningHours.objects.order_by("weekday"))
    after = {str(h.weekday): f"{h.opens:%H:%M}–{h.closes:%H:%M}" for h in rows}
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="opening_hours",
        summary="Opening hours set",
        changes=diff(before, after),
    )
    return rows


@transaction.atomic
def staff_shift_add(
    *, actor, staff: User, date: datetime.date, start: datetime.time, end: datetime.time
) -> StaffShift:
    require(actor, Capability.SCHEDULE_MANAGE_RESOURCES)
    if not staff.is_active or staff.role not in STAFF_ROLES:
        raise InvalidInput({"staff": ["Choose an active member of staff."]})
    if end <= start:
        raise InvalidInput({"end": ["A shift must end after it starts."]})
    # Lock the staff member so two admins adding shifts for them serialise.
    User.objects.select_for_update().filter(pk=staff.pk).first()
    clash = StaffShift.objects.filter(staff=staff, date=date, start__lt=end, end__gt=start).first()
    if clash:
        raise Conflict(
            f"{staff.display_name} already has a shift from {clash.start:%H:%M} to "
            f"{clash.end:%H:%M} that day.",
            code="shift_overlap",
            field="start",
        )
    shift = StaffShift.objects.create(
        staff=staff, date=date, start=start, end=end, created_by=actor
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="staff_shift",
        object_id=shift.uuid,
        summary=f"Shift for {staff.username} on {date:%Y-%m-%d} {start:%H:%M}–{end:%H:%M}",
    )
    return shift


@transaction.atomic
def staff_shift_remove(*, actor, shift: StaffShift) -> None:
    """Remove a shift, unless the staff member has active appointments inside it."""
    require(actor, Capability.SCHEDULE_MANAGE_RESOURCES)
    User.objects.select_for_update().filter(pk=shift.staff_id).first()
    locked = StaffShift.objects.select_related("staff").filter(pk=shift.pk).first()
    if locked is None:
        raise NotFound()
    inside = (
        Appointment.objects.active()
        .filter(nurse_id=locked.staff_id)
        .overlapping(at(locked.date, locked.start), at(locked.date, locked.end))
    )
    if inside.exists():
        raise Conflict(
            f"{locked.staff.display_name} has {inside.count()} appointment(s) in this shift: "
            "move them to another nurse first.",
            code="resource_in_use",
        )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="staff_shift",
        object_id=locked.uuid,
        summary=(
            f"Shift removed: {locked.staff.username} on {locked.date:%Y-%m-%d} "
            f"{locked.start:%H:%M}–{locked.end:%H:%M}"
        ),
    )
    locked.delete()


# --------------------------------------------------------------------------- appointment length


def _esketamine_dose_mg(planned_session: PlannedSession | None):
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


def _lock(actor, *, chair: Chair, nurse: User, patient: Patient):
    """Lock the chair, the nurse and the patient, in that fixed order, each by pk. The nurse's
    lock is the only guard of their count of concurrent chairs (no database constraint)."""
    locked_chair = Chair.objects.select_for_update().filter(pk=chair.pk).first()
    locked_nurse = User.objects.select_for_update().filter(pk=nurse.pk).first()
    locked_patient = Patient.objects.visible_to(actor).select_for_update().filter(pk=patient.pk)
    locked_patient = locked_patient.first()
    if locked_chair is None:
        raise InvalidInput({"chair": ["Choose a chair."]})
    if locked_nurse is None:
        raise InvalidInput({"nurse": ["Choose a nurse."]})
    if locked_patient is None:
        raise NotFound("No such patient, or the patient is not on your care team.")
    return locked_chair, locked_nurse, locked_patient


def _opening_problem(starts_at, ends_at) -> str | None:
    start, end = local(starts_at), local(ends_at)
    day = start.date()
    hours = OpeningHours.objects.filter(weekday=day.weekday()).first()
    if hours is None:
        if not OpeningHours.objects.exists():
            return (
                "The clinic has no opening hours yet: a clinic administrator sets them on the "
                "resources page."
            )
        return f"The clinic is closed on {Weekday(day.weekday()).label}s."
    if end.date() != day or start.time() < hours.opens or end.time() > hours.closes:
        return (
            f"The clinic is open {hours.opens:%H:%M}–{hours.closes:%H:%M} on "
            f"{Weekday(day.weekday()).label}s; this appointment would run "
            f"{span(starts_at, ends_at)}."
        )
    return None


@dataclass(frozen=True)
class Peak:
    """The most appointments running at one instant, and the first instant there are that
    many (None when there are none)."""

    count: int
    first_at: datetime.datetime | None


def peak_concurrency(
    intervals: Iterable[tuple[datetime.datetime, datetime.datetime]],
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
) -> Peak:
    """How many of `intervals` ([start, end) pairs) run at once at the busiest instant of
    [starts_at, ends_at): a sweep over their start and end points, clipped to the window.
    Half-open like the rest of the module: one ending at 10:00 and one starting at 10:00 never
    run together."""
    events: list[tuple[datetime.datetime, int]] = []
    for start, end in intervals:
        start, end = max(start, starts_at), min(end, ends_at)
        if start < end:
            events += [(start, 1), (end, -1)]
    # At one instant the ends (-1) sort before the starts (+1).
    events.sort()
    running = best = 0
    when = None
    for moment, change in events:
        running += change
        if running > best:
            best, when = running, moment
    return Peak(best, when)


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
    problem = _opening_problem(starts_at, ends_at)
    if problem:
        raise Conflict(problem, code="outside_opening_hours", field="time")
    start, end = local(starts_at), local(ends_at)
    on_shift = StaffShift.objects.filter(
        staff=nurse, date=start.date(), start__lte=start.time(), end__gte=end.time()
    ).exists()
    if not on_shift:
        raise Conflict(
            f"{nurse.display_name} is not on shift from {span(starts_at, ends_at)} on "
            f"{_date_text(start.date())}.",
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
    if peak.count >= limit:
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
            f"The patient already has an appointment on {_date_text(start.date())} "
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


def _refuse_overlap(key: str, queryset) -> None:
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
    return starts_at


def _session_for(planned_session: PlannedSession, *, patient: Patient, route: str):
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
            f"{_date_text(local(booked.starts_at).date())} at {local(booked.starts_at):%H:%M}.",
            code="session_booked",
        )
    return session


_APPOINTMENT_FIELDS = ["starts_at", "ends_at", "chair", "nurse", "route", "status"]


@transaction.atomic
def appointment_book(
    *,
    actor,
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


def _appointment_for_change(actor, appointment: Appointment, *, chair=None, nurse=None):
    """Lock the resources (fixed order), then the appointment, and check it can change."""
    require(actor, Capability.SCHEDULE_BOOK)
    current = Appointment.objects.filter(pk=appointment.pk).first()
    if current is None:
        raise NotFound()
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
    actor,
    appointment: Appointment,
    starts_at: datetime.datetime,
    reason: str,
    chair: Chair | None = None,
    nurse: User | None = None,
) -> Appointment:
    """Move a booked appointment to a new start (and optionally another chair or nurse)."""
    reason = _reason(reason)
    starts_at = _start(starts_at)
    locked, chair, nurse, patient = _appointment_for_change(
        actor, appointment, chair=chair, nurse=nurse
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


def _status_set(actor, appointment: Appointment, *, status: str, reason: str) -> Appointment:
    locked, _chair, _nurse, patient = _appointment_for_change(actor, appointment)
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
def appointment_cancel(*, actor, appointment: Appointment, reason: str) -> Appointment:
    """Cancel a booked appointment; its chair, nurse and time are free again."""
    return _status_set(
        actor, appointment, status=AppointmentStatus.CANCELLED, reason=_reason(reason)
    )


@transaction.atomic
def appointment_mark_no_show(*, actor, appointment: Appointment, reason: str) -> Appointment:
    """Record that the patient did not come (only after the start time)."""
    return _status_set(actor, appointment, status=AppointmentStatus.NO_SHOW, reason=_reason(reason))


# --------------------------------------------------------------------------- at the chair
# The chair side (treatment_sessions) moves an appointment through check-in and completion
# in its own transaction; these are the steps it takes on the appointment's row.


def appointment_lock(*, appointment_id: int) -> Appointment | None:
    """Lock one appointment's row (for another app's step that must see its status and start
    unchanged until it commits, such as the patient's intention for the visit)."""
    return Appointment.objects.select_for_update(of=("self",)).filter(pk=appointment_id).first()


def appointment_lock_for_check_in(*, appointment_id: int) -> Appointment | None:
    """Lock the appointment (with its patient and planned session) for a check-in."""
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("patient", "planned_session__plan")
        .filter(pk=appointment_id)
        .first()
    )


def appointment_status_from_chair(
    *, actor: User, appointment_id: int, status: AppointmentStatus
) -> Appointment:
    """Checked in, or completed: the appointment follows its session. The caller holds the
    session's lock and has checked the actor's reach; this writes and audits the status."""
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("patient")
        .get(pk=appointment_id)
    )
    before = snapshot(appointment, ["status"])
    appointment.status = status
    appointment.status_changed_at = timezone.now()
    appointment.status_changed_by = actor
    appointment.save(
        update_fields=["status", "status_changed_at", "status_changed_by", "updated_at"]
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="appointment",
        object_id=appointment.uuid,
        patient=appointment.patient,
        summary=AppointmentStatus(status).label,
        changes=diff(before, snapshot(appointment, ["status"])),
    )
    return appointment


# --------------------------------------------------------------------------- proposals


@dataclass(frozen=True)
class Proposal:
    """The earliest free slot for one planned session, or why there is none."""

    session: PlannedSession
    starts_at: datetime.datetime | None
    ends_at: datetime.datetime | None
    chair: Chair | None
    nurse: User | None
    note: str = ""

    @property
    def found(self) -> bool:
        return self.starts_at is not None


def _busy(intervals, starts_at, ends_at) -> bool:
    return any(s < ends_at and starts_at < e for s, e in intervals)


def appointment_propose(*, actor, plan: TreatmentPlan) -> list[Proposal]:
    """For each planned session of an active plan that is not booked yet (in session order):
    the earliest slot on its planned date, or the next open day, within opening hours, in a
    free chair with the equipment the route needs and with a nurse on shift who has fewer than
    the clinic's limit of patients at once throughout (`peak_concurrency`, as when booking).
    Of the nurses who could take it, the one with the fewest patients in chairs at that time
    (then the care team's nurses, then by name): patients are spread across the nurses on
    shift rather than stacked on the first one. Sessions stay in order and never two on one
    day for the patient. Writes nothing."""
    require(actor, Capability.SCHEDULE_BOOK)
    plan = TreatmentPlan.objects.select_related("patient").filter(pk=plan.pk).first()
    if plan is None or not Patient.objects.visible_to(actor).filter(pk=plan.patient_id).exists():
        raise NotFound("No such plan, or the patient is not on your care team.")
    if plan.status != PlanStatus.ACTIVE:
        raise Conflict("Only an active plan's sessions are booked.", code="plan_not_active")
    if plan.route not in IN_CLINIC_ROUTES:
        raise Conflict("At-home sessions are not booked in a chair.", code="route_not_in_clinic")
    policy = scheduling_policy()
    sessions = list(plan.sessions.filter(cancelled=False).select_related("plan").order_by("number"))
    booked = {
        a.planned_session_id: a
        for a in Appointment.objects.filter(
            planned_session__plan=plan, status__in=BOOKED_SESSION_STATUSES
        )
    }
    pending = [s for s in sessions if s.pk not in booked]
    if not pending:
        return []

    now = timezone.now()
    today = timezone.localdate()
    first_day = max(today, min(s.planned_date for s in pending))
    last_day = max(s.planned_date for s in pending) + datetime.timedelta(
        days=policy.proposal_search_days + len(pending)
    )
    window_start, window_end = at(first_day, datetime.time.min), at(last_day, datetime.time.max)

    hours = {h.weekday: h for h in OpeningHours.objects.all()}
    capable = policy.capabilities_for(plan.route)
    chairs = [
        c
        for c in Chair.objects.filter(active=True, room__active=True).select_related("room")
        if c.has(capable)
    ]
    team = set(plan.patient.care_team_members.values_list("staff_id", flat=True))
    nurses = sorted(
        User.objects.filter(role=Role.NURSE, is_active=True),
        key=lambda n: (n.pk not in team, n.last_name, n.first_name, n.username),
    )
    shifts: dict[tuple[int, datetime.date], list[StaffShift]] = {}
    for shift in StaffShift.objects.filter(
        staff__in=nurses, date__gte=first_day, date__lte=last_day
    ):
        shifts.setdefault((shift.staff_id, shift.date), []).append(shift)
    taken = list(
        Appointment.objects.active()
        .filter(starts_at__lt=window_end, ends_at__gt=window_start)
        .values_list("chair_id", "nurse_id", "starts_at", "ends_at")
    )
    chair_busy: dict[int, list] = {}
    nurse_busy: dict[int, list] = {}
    for chair_id, nurse_id, s, e in taken:
        chair_busy.setdefault(chair_id, []).append((s, e))
        nurse_busy.setdefault(nurse_id, []).append((s, e))
    patient_days = {
        local(s).date()
        for s in Appointment.objects.active()
        .filter(patient_id=plan.patient_id)
        .values_list("starts_at", flat=True)
    }

    proposals: list[Proposal] = []
    previous_day: datetime.date | None = None
    for session in sessions:
        if session.pk in booked:
            previous_day = local(booked[session.pk].starts_at).date()
            continue
        length = datetime.timedelta(
            minutes=appointment_length_min(route=plan.route, planned_session=session, policy=policy)
        )
        earliest = max(session.planned_date, today)
        if previous_day is not None:
            earliest = max(earliest, previous_day + datetime.timedelta(days=1))
        found = None
        for offset in range(policy.proposal_search_days + 1):
            day = earliest + datetime.timedelta(days=offset)
            if day in patient_days or day.weekday() not in hours:
                continue
            found = _first_slot(
                day=day,
                hours=hours[day.weekday()],
                length=length,
                step=datetime.timedelta(minutes=policy.slot_step_min),
                not_before=now,
                chairs=chairs,
                nurses=nurses,
                shifts=shifts,
                chair_busy=chair_busy,
                nurse_busy=nurse_busy,
                nurse_limit=policy.nurse_max_concurrent_chairs,
            )
            if found:
                break
        if found is None:
            proposals.append(
                Proposal(
                    session,
                    None,
                    None,
                    None,
                    None,
                    _no_slot_note(hours, chairs, policy, capable),
                )
            )
            continue
        starts_at, chair, nurse = found
        ends_at = starts_at + length
        chair_busy.setdefault(chair.pk, []).append((starts_at, ends_at))
        nurse_busy.setdefault(nurse.pk, []).append((starts_at, ends_at))
        day = local(starts_at).date()
        patient_days.add(day)
        previous_day = day
        note = ""
        if day != session.planned_date:
            note = f"Planned for {_date_text(session.planned_date)}; moved to the next free day."
        proposals.append(Proposal(session, starts_at, ends_at, chair, nurse, note))
    return proposals


def _first_slot(
    *,
    day,
    hours,
    length,
    step,
    not_before,
    chairs,
    nurses,
    shifts,
    chair_busy,
    nurse_busy,
    nurse_limit,
):
    start = at(day, hours.opens)
    closes = at(day, hours.closes)
    while start + length <= closes:
        end = start + length
        if start >= not_before:
            chair = next(
                (c for c in chairs if not _busy(chair_busy.get(c.pk, ()), start, end)), None
            )
            if chair is not None:
                nurse = _least_busy_nurse(
                    nurses,
                    day=day,
                    start=start,
                    end=end,
                    shifts=shifts,
                    nurse_busy=nurse_busy,
                    nurse_limit=nurse_limit,
                )
                if nurse is not None:
                    return start, chair, nurse
        start += step
    return None


def _least_busy_nurse(nurses, *, day, start, end, shifts, nurse_busy, nurse_limit):
    """The nurse on shift for all of [start, end) with the fewest patients in chairs at its
    busiest instant, below the clinic's limit (ADR 0006); a tie goes to the earlier nurse in
    `nurses` (the care team's first, then by name), so a proposal is the same every time."""
    best = None
    for order, nurse in enumerate(nurses):
        if not any(
            at(day, shift.start) <= start and end <= at(day, shift.end)
            for shift in shifts.get((nurse.pk, day), ())
        ):
            continue
        load = peak_concurrency(nurse_busy.get(nurse.pk, ()), start, end).count
        if load < nurse_limit and (best is None or (load, order) < best[:2]):
            best = (load, order, nurse)
    return best[2] if best else None


def _no_slot_note(hours, chairs, policy, capable) -> str:
    if not hours:
        return "No opening hours are set: a clinic administrator sets them first."
    if not chairs:
        needs = " and ".join(ChairCapability(c).label for c in capable) or "a chair"
        return f"No chair in service has {needs}."
    return (
        f"No free chair with a nurse on shift within {policy.proposal_search_days} days of the "
        "planned date: choose a time by hand, or add shifts."
    )


# --------------------------------------------------------------------------- reminders


def _clock(moment: datetime.datetime, day: datetime.date) -> str:
    """ "05:00", or "22:00 on Monday 06/01/2031" when it falls on another day."""
    moment = local(moment)
    if moment.date() == day:
        return f"{moment:%H:%M}"
    return f"{moment:%H:%M} on {_date_text(moment.date())}"


def reminder_text(
    appointment: Appointment, policy: SchedulingPolicy | None = None
) -> tuple[str, str]:
    """The subject and body of a reminder: when, and how to prepare for this route, with the
    fasting times worked out from the start in the clinic's time zone."""
    policy = policy or scheduling_policy()
    start = local(appointment.starts_at)
    day = start.date()
    route = appointment.route
    solids = appointment.starts_at - datetime.timedelta(minutes=policy.fasting_solids_min[route])
    liquids = appointment.starts_at - datetime.timedelta(minutes=policy.fasting_liquids_min[route])
    steps = []
    if route == Route.ESKETAMINE:
        nasal = appointment.starts_at - datetime.timedelta(
            minutes=policy.nasal_medication_min_before
        )
        steps.append(
            f"No food after {_clock(solids, day)}; no liquids after {_clock(liquids, day)}."
        )
        steps.append(
            "If you use a nasal corticosteroid or a nasal decongestant, use it no later than "
            f"{_clock(nasal, day)}."
        )
        driving = "Do not drive or use machinery until the next day, after a restful sleep."
    else:
        steps.append(
            f"No solid food after {_clock(solids, day)}; "
            f"clear liquids until {_clock(liquids, day)}."
        )
        driving = "Do not drive until the next day."
    if policy.escort_required:
        steps.append(f"An adult must take you home after the session. {driving}")
    steps.append("Bring " + "; ".join(policy.what_to_bring) + ".")
    minutes = appointment.duration_min
    stay = f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
    subject = f"{settings.CLINIC_NAME}: your appointment on {start:%A %m/%d} at {start:%H:%M}"
    body = (
        f"This is a reminder of your appointment at {settings.CLINIC_NAME}:\n\n"
        f"    {_date_text(day)} at {start:%H:%M} (plan to stay about {stay})\n\n"
        "Before you come:\n"
        + "".join(f"- {step}\n" for step in steps)
        + f"\nTo change or cancel the appointment, please {call_the_clinic()}.\n"
    )
    return subject, body


def _due_hours(lead: datetime.timedelta, hours_before: tuple[int, ...]) -> int | None:
    """The reminder whose window `lead` (time until the start) is in: the smallest of the
    hours that is still ≥ the lead. A window missed (booked late) is not sent after its time."""
    due = [h for h in hours_before if lead <= datetime.timedelta(hours=h)]
    return min(due) if due else None


def appointment_reminders_send(now: datetime.datetime | None = None) -> int:
    """Queue the reminder e-mails that are due: one at each of the policy's hours before
    (48 h and 24 h by default) each booked appointment, once per appointment time. Returns how
    many were queued. Run every 15 minutes (`manage.py send_appointment_reminders`); the
    worker delivers the e-mail through the outbox, which retries failures."""
    policy = scheduling_policy()
    now = now or timezone.now()
    if not policy.reminder_hours_before:
        return 0
    horizon = now + datetime.timedelta(hours=max(policy.reminder_hours_before))
    appointments = (
        Appointment.objects.filter(
            status=AppointmentStatus.BOOKED, starts_at__gt=now, starts_at__lte=horizon
        )
        .select_related("patient")
        .prefetch_related("reminders")
    )
    queued = 0
    for appointment in appointments:
        hours = _due_hours(appointment.starts_at - now, policy.reminder_hours_before)
        if hours is None or any(
            r.hours_before == hours and r.starts_at == appointment.starts_at
            for r in appointment.reminders.all()
        ):
            continue
        queued += _reminder_queue(appointment, hours=hours, policy=policy)
    return queued


def _reminder_queue(appointment: Appointment, *, hours: int, policy: SchedulingPolicy) -> int:
    patient = appointment.patient
    try:
        with transaction.atomic():
            notification = None
            skipped = ""
            if patient.email:
                subject, body = reminder_text(appointment, policy)
                notification = Notification.objects.create(
                    to_email=patient.email, patient=patient, subject=subject, body=body
                )
                transaction.on_commit(lambda pk=notification.pk: enqueue_delivery(pk))
            else:
                skipped = "The patient has no e-mail address on file."
            AppointmentReminder.objects.create(
                appointment=appointment,
                hours_before=hours,
                starts_at=appointment.starts_at,
                notification=notification,
                skipped_reason=skipped,
            )
            audit_record(
                actor=None,
                action=AuditAction.CREATE,
                object_type="appointment_reminder",
                object_id=appointment.uuid,
                patient=patient,
                summary=f"{hours} h reminder "
                + ("queued" if notification else f"not sent: {skipped}"),
            )
    except IntegrityError:
        return 0  # another run queued it first
    return 1 if notification else 0


# --------------------------------------------------------------------------- calendar feeds


def feed_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def calendar_feed_create(*, actor, user: User | None = None) -> tuple[CalendarFeed, str]:
    """A new secret feed URL token for `user` (default: the actor), replacing any live one.
    The token is returned once; only its digest is kept."""
    require(actor, Capability.SCHEDULE_VIEW)
    user = user or actor
    if user.pk != actor.pk:
        require(actor, Capability.SCHEDULE_MANAGE_RESOURCES)
    User.objects.select_for_update().filter(pk=user.pk).first()
    now = timezone.now()
    CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    token = secrets.token_urlsafe(FEED_TOKEN_BYTES)
    feed = CalendarFeed.objects.create(
        user=user, digest_sha256=feed_token_digest(token), created_by=actor
    )
    audit_record(
        actor=actor,
        action=AuditAction.TOKEN,
        object_type="calendar_feed",
        object_id=feed.uuid,
        summary=f"Calendar feed created for {user.username} (any earlier one revoked)",
    )
    return feed, token


@transaction.atomic
def calendar_feed_revoke(*, actor, feed: CalendarFeed) -> CalendarFeed:
    require(actor, Capability.SCHEDULE_VIEW)
    locked = CalendarFeed.objects.select_for_update().select_related("user").get(pk=feed.pk)
    if locked.user_id != actor.pk and not actor.can(Capability.SCHEDULE_MANAGE_RESOURCES):
        raise PermissionDenied("Only the feed's owner or a clinic administrator revokes it.")
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.TOKEN,
            object_type="calendar_feed",
            object_id=locked.uuid,
            summary=f"Calendar feed revoked for {locked.user.username}",
        )
    return locked


def calendar_feed_touch(feed: CalendarFeed) -> None:
    CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=timezone.now())
