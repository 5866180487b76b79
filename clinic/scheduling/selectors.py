"""Reads of the schedule. Each takes the actor, checks the capability and writes the audit
trail. Calendar pages load a fixed number of queries, however many appointments they show.

Clinicians (prescriber, nurse, therapist) see the whole calendar, but a patient's name only
when they may open that patient (`Patient.objects.visible_to`); other appointments show as
"Booked", and opening one is the same 404 as an appointment that does not exist.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from clinic.accounts.choices import Role
from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.api_pages import Keyset, KeysetPage, keyset_page
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import InvalidInput, NotFound
from clinic.core.parsing import record_uuid
from clinic.locations.models import Location
from clinic.locations.selectors import require_works_at
from clinic.patients.models import Patient
from clinic.patients.selectors import record_in_reach
from clinic.protocols.models import PlannedSession, TreatmentPlan
from clinic.scheduling.choices import BOOKED_SESSION_STATUSES, IN_CLINIC_ROUTES, AppointmentStatus
from clinic.scheduling.models import (
    Appointment,
    AppointmentReminder,
    CalendarFeed,
    Chair,
    OpeningHours,
    Room,
    StaffShift,
)
from clinic.scheduling.services import at, feed_token_digest, local

VIEWS = ("day", "week")
# How far back a clinician's calendar feed reaches (operational, not clinical); it shows
# everything ahead.
FEED_PAST_DAYS = 30


@dataclass(frozen=True)
class CalendarEntry:
    appointment: Appointment
    visible: bool  # the actor may open the patient (and this appointment)

    @property
    def label(self) -> str:
        return self.appointment.patient.display_name if self.visible else "Booked"


@dataclass
class CalendarDay:
    date: datetime.date
    hours: OpeningHours | None
    entries: list[CalendarEntry] = field(default_factory=list)
    shifts: list[StaffShift] = field(default_factory=list)

    def entries_for(self, chair: Chair) -> list[CalendarEntry]:
        return [e for e in self.entries if e.appointment.chair_id == chair.pk]


@dataclass
class Calendar:
    anchor: datetime.date
    view: str
    days: list[CalendarDay]
    rooms: list[Room]
    nurses: list[User]
    chairs: list[Chair]
    room: Room | None
    nurse: User | None
    # None: every location (the clinic administrator's network view).
    location: Location | None = None
    # The location the actor is working at (the page's links leave it out of the URL).
    current: Location | None = None

    @property
    def step(self) -> datetime.timedelta:
        return datetime.timedelta(days=7 if self.view == "week" else 1)

    @property
    def previous(self) -> datetime.date:
        return self.anchor - self.step

    @property
    def next(self) -> datetime.date:
        return self.anchor + self.step

    @property
    def rows(self) -> list[tuple[Chair, list[CalendarEntry]]]:
        """Day view: each chair (of the chosen room) with its appointments."""
        day = self.days[0]
        chairs = list(self.chairs)
        # A chair taken out of service still shows the appointments it had.
        for entry in day.entries:
            if all(c.pk != entry.appointment.chair_id for c in chairs):
                chairs.append(entry.appointment.chair)
        return [(chair, day.entries_for(chair)) for chair in chairs]


def _visible_patient_ids(actor: User, patient_ids: set[int]) -> set[int]:
    if not patient_ids:
        return set()
    if actor.can(Capability.PATIENT_DIRECTORY):
        return patient_ids
    return set(
        Patient.objects.visible_to(actor).filter(pk__in=patient_ids).values_list("pk", flat=True)
    )


def calendar_get(
    *,
    actor: User,
    day: datetime.date,
    view: str = "day",
    room_uuid: str | uuid.UUID | None = None,
    nurse_uuid: str | uuid.UUID | None = None,
    location: Location | None = None,
) -> Calendar:
    """A day or a week (Monday to Sunday) of one location's appointments (of every location
    when `location` is None: the caller has checked the actor sees the network, see
    `locations.selectors.location_scope`), optionally for one room and/or one nurse. An
    unknown room or nurse is a NotFound."""
    require(actor, Capability.SCHEDULE_VIEW)
    view = view if view in VIEWS else "day"
    first = day - datetime.timedelta(days=day.weekday()) if view == "week" else day
    dates = [first + datetime.timedelta(days=i) for i in range(7 if view == "week" else 1)]
    room_rows = Room.objects.select_related("location").order_by("name", "id")
    if location is not None:
        room_rows = room_rows.filter(location=location)
    rooms = list(room_rows)
    nurses = list(
        User.objects.filter(role=Role.NURSE, is_active=True).order_by(
            "last_name", "first_name", "username"
        )
    )
    room = nurse = None
    if room_uuid:
        key = record_uuid(room_uuid)
        room = next((r for r in rooms if r.uuid == key), None)
        if room is None:
            raise NotFound("No such room.")
    if nurse_uuid:
        key = record_uuid(nurse_uuid)
        nurse = next((n for n in nurses if n.uuid == key), None)
        if nurse is None:
            raise NotFound("No such nurse.")

    chairs = Chair.objects.filter(active=True, room__active=True).select_related("room__location")
    appointments = (
        Appointment.objects.filter(
            starts_at__gte=at(dates[0], datetime.time.min),
            starts_at__lt=at(dates[-1] + datetime.timedelta(days=1), datetime.time.min),
        )
        .exclude(status=AppointmentStatus.CANCELLED)
        .select_related("patient", "chair__room__location", "nurse")
        .order_by("starts_at", "id")
    )
    shifts = StaffShift.objects.filter(date__gte=dates[0], date__lte=dates[-1]).select_related(
        "staff", "location"
    )
    hours_rows = OpeningHours.objects.none()
    if location is not None:
        chairs = chairs.filter(room__location=location)
        appointments = appointments.filter(chair__room__location=location)
        shifts = shifts.filter(location=location)
        hours_rows = OpeningHours.objects.filter(location=location)
    if room is not None:
        chairs = chairs.filter(room=room)
        appointments = appointments.filter(chair__room=room)
    if nurse is not None:
        appointments = appointments.filter(nurse=nurse)
        shifts = shifts.filter(staff=nurse)
    else:
        shifts = shifts.filter(staff__role=Role.NURSE)
    shown = list(appointments)
    visible = _visible_patient_ids(actor, {a.patient_id for a in shown})
    hours = {h.weekday: h for h in hours_rows}
    days = {d: CalendarDay(date=d, hours=hours.get(d.weekday())) for d in dates}
    for appointment in shown:
        entry = CalendarEntry(appointment, appointment.patient_id in visible)
        days[local(appointment.starts_at).date()].entries.append(entry)
    for shift in shifts.order_by("date", "start", "id"):
        days[shift.date].shifts.append(shift)
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="appointment",
        summary=(
            f"Schedule {view} of {dates[0]:%Y-%m-%d}: {len(shown)} appointment(s)"
            + (f" at {location.code}" if location else " at every location")
            + (f", room {room.name}" if room else "")
            + (f", nurse {nurse.username}" if nurse else "")
        ),
    )
    return Calendar(
        anchor=day,
        view=view,
        days=list(days.values()),
        rooms=rooms,
        nurses=nurses,
        chairs=list(chairs),
        room=room,
        nurse=nurse,
        location=location,
    )


def appointment_get(*, actor: User, appointment_uuid: object) -> Appointment:
    """An appointment whose patient the actor may see; otherwise NotFound, like no such row.
    Reading follows the patient (the care team is the network's); changing it is for staff of
    its location (services/booking.py `_appointment_for_change`)."""
    require(actor, Capability.SCHEDULE_VIEW)
    return record_in_reach(
        actor=actor,
        queryset=Appointment.objects.select_related(
            "patient",
            "chair__room__location",
            "nurse",
            "planned_session__plan",
            "created_by",
            "status_changed_by",
        ),
        record_uuid=appointment_uuid,
        object_type="appointment",
        patient_of=lambda appointment: appointment.patient,
        not_found_message="No such appointment, or the patient is not on your care team.",
        view_summary="Appointment",
        denied_summary="Appointment not found or patient not visible",
    )


def appointment_page(
    *,
    actor: User,
    patient: Patient,
    starting_after: datetime.datetime | None = None,
    starting_before: datetime.datetime | None = None,
    updated_after: datetime.datetime | None = None,
    updated_before: datetime.datetime | None = None,
    page_number: int | str = 1,
    page_size: int = 20,
    purpose: str = "appointments",
) -> Page:
    """One page of the appointments of a patient the caller has already reached (every status,
    cancelled and no-show included), starting within [starting_after, starting_before) and last
    changed in [updated_after, updated_before), newest first, with the nurse: the FHIR
    Appointment search."""
    require(actor, Capability.SCHEDULE_VIEW)
    appointments = Appointment.objects.filter(patient=patient)
    if starting_after is not None:
        appointments = appointments.filter(starts_at__gte=starting_after)
    if starting_before is not None:
        appointments = appointments.filter(starts_at__lt=starting_before)
    if updated_after is not None:
        appointments = appointments.filter(updated_at__gte=updated_after)
    if updated_before is not None:
        appointments = appointments.filter(updated_at__lt=updated_before)
    page = Paginator(
        appointments.select_related("nurse").order_by("-starts_at", "-id"), page_size
    ).get_page(page_number)
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="appointment",
        patient=patient,
        summary=f"{len(page.object_list)} of {page.paginator.count} appointments ({purpose})",
    )
    return page


def appointment_reminders(*, appointment: Appointment) -> list[AppointmentReminder]:
    """The reminders of an (already access-checked) appointment, with their e-mail's status."""
    return list(appointment.reminders.select_related("notification").order_by("-created_at"))


def plan_get_for_booking(*, actor: User, plan_uuid: object) -> TreatmentPlan:
    require(actor, Capability.SCHEDULE_BOOK)
    return record_in_reach(
        actor=actor,
        queryset=TreatmentPlan.objects.select_related("patient"),
        record_uuid=plan_uuid,
        object_type="treatment_plan",
        patient_of=lambda plan: plan.patient,
        not_found_message="No such treatment plan.",
        view_summary="Booking sessions",
        denied_summary="Plan not found or patient not visible (booking)",
    )


def plan_sessions(*, plan: TreatmentPlan) -> list[tuple[PlannedSession, Appointment | None]]:
    """Each planned session of an (already access-checked) plan with its live appointment
    (booked, checked in or completed), or None."""
    sessions = list(plan.sessions.order_by("number"))
    booked = {
        a.planned_session_id: a
        for a in Appointment.objects.filter(
            planned_session__plan=plan, status__in=BOOKED_SESSION_STATUSES
        ).select_related("chair__room", "nurse")
    }
    return [(session, booked.get(session.pk)) for session in sessions]


def booking_chairs(location: Location | None = None) -> QuerySet[Chair]:
    """The chairs a booking may use: those in service at `location` (every location's when
    None, e.g. a page that shows an appointment wherever it is)."""
    chairs = Chair.objects.filter(active=True, room__active=True).select_related("room")
    if location is not None:
        chairs = chairs.filter(room__location=location)
    return chairs


def booking_nurses() -> QuerySet[User]:
    return User.objects.filter(role=Role.NURSE, is_active=True).order_by(
        "last_name", "first_name", "username"
    )


@dataclass
class Resources:
    location: Location
    rooms: list[Room]
    chairs: list[Chair]
    hours: dict[int, OpeningHours]
    shifts: list[StaffShift]
    start: datetime.date
    end: datetime.date


def resources_get(
    *, actor: User, start: datetime.date, location: Location, days: int = 14
) -> Resources:
    """One location's rooms, chairs, opening hours and the next `days` of its shifts."""
    require(actor, Capability.SCHEDULE_MANAGE_RESOURCES)
    end = start + datetime.timedelta(days=days - 1)
    return Resources(
        location=location,
        rooms=list(Room.objects.filter(location=location).order_by("name", "id")),
        chairs=list(
            Chair.objects.filter(room__location=location)
            .select_related("room")
            .order_by("room__name", "name", "id")
        ),
        hours={h.weekday: h for h in OpeningHours.objects.filter(location=location)},
        shifts=list(
            StaffShift.objects.filter(location=location, date__gte=start, date__lte=end)
            .select_related("staff")
            .order_by("date", "start", "id")
        ),
        start=start,
        end=end,
    )


def resource_get[ResourceT: (Room, Chair, StaffShift, CalendarFeed)](
    *, actor: User, model: type[ResourceT], resource_uuid: object
) -> ResourceT:
    """A room, chair, shift or calendar feed of the resources page, by its public id."""
    require(actor, Capability.SCHEDULE_MANAGE_RESOURCES)
    found = model.objects.filter(uuid=record_uuid(resource_uuid)).first()
    if found is None:
        raise NotFound()
    return found


def calendar_feed_live(*, user: User) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).first()


def calendar_feed_list(*, actor: User) -> list[CalendarFeed]:
    """Every live feed (clinic admins, to revoke one)."""
    require(actor, Capability.SCHEDULE_MANAGE_RESOURCES)
    return list(
        CalendarFeed.objects.filter(revoked_at__isnull=True)
        .select_related("user")
        .order_by("user__username")
    )


def calendar_feed_by_token(token: str) -> CalendarFeed | None:
    """The live feed a URL token opens, or None (unknown, revoked, or the owner left)."""
    if not token or len(token) > 100:
        return None
    feed = (
        CalendarFeed.objects.filter(digest_sha256=feed_token_digest(token), revoked_at__isnull=True)
        .select_related("user")
        .first()
    )
    if feed is None or not feed.user.is_clinic_staff:
        return None
    return feed


def calendar_feed_events(*, feed: CalendarFeed) -> tuple[list[Appointment], list[StaffShift]]:
    """What a clinician's feed shows: the appointments they staff (never who the patient is)
    and their shifts, from FEED_PAST_DAYS ago on."""
    now = timezone.now()
    appointments = list(
        Appointment.objects.filter(
            nurse=feed.user,
            status__in=BOOKED_SESSION_STATUSES,
            starts_at__gte=now - datetime.timedelta(days=FEED_PAST_DAYS),
        )
        .select_related("chair__room")
        .order_by("starts_at", "id")
    )
    today = timezone.localdate()
    shifts = list(
        StaffShift.objects.filter(
            staff=feed.user,
            date__gte=today - datetime.timedelta(days=FEED_PAST_DAYS),
        ).order_by("date", "start", "id")
    )
    return appointments, shifts


def in_clinic_session_bounds(
    patients: QuerySet[Patient], now: datetime.datetime
) -> QuerySet[Patient]:
    """These patients, each with the start of their first in-clinic session (booked, checked
    in or completed) as `first_session_at` and of their next one after `now` as
    `next_session_at` (None when there is none): the sessions the assessment schedule counts.
    Assessments sit below the schedule, so their due list and questionnaire reminders are
    handed this annotator by the pages and the job above both (the dashboard)."""
    sessions = Appointment.objects.filter(
        patient_id=OuterRef("pk"),
        status__in=BOOKED_SESSION_STATUSES,
        route__in=IN_CLINIC_ROUTES,
    ).order_by("starts_at")
    return patients.annotate(
        first_session_at=Subquery(sessions.values("starts_at")[:1]),
        next_session_at=Subquery(sessions.filter(starts_at__gt=now).values("starts_at")[:1]),
    )


# --------------------------------------------------------------------------- the API's reads

APPOINTMENT_ORDER = Keyset(("starts_at",))


@dataclass(frozen=True)
class AppointmentPage:
    """One page of a day's appointments, and which of their patients the actor may open (the
    others show as booked, as on the calendar)."""

    page: KeysetPage[Appointment]
    visible_patient_ids: set[int]


def _one[RecordT: (Room, Chair, User)](
    queryset: QuerySet[RecordT], key: object, message: str
) -> RecordT:
    found = queryset.filter(uuid=record_uuid(key)).first()
    if found is None:
        raise NotFound(message)
    return found


def appointment_day_page(
    *,
    actor: User,
    day: datetime.date,
    location: Location | None,
    after: list | None,
    limit: int,
    room_uuid: object = None,
    chair_uuid: object = None,
    nurse_uuid: object = None,
    patient: Patient | None = None,
    include_cancelled: bool = False,
) -> AppointmentPage:
    """The calendar's day as a list (the API): appointments starting that day at `location`
    (every location when None, as `calendar_get`), optionally of one room, chair, nurse or
    patient (a patient already reached through `patient_get`), in start order, a page at a
    time. An unknown room, chair or nurse is a NotFound. Audited as the calendar is."""
    require(actor, Capability.SCHEDULE_VIEW)
    appointments = Appointment.objects.filter(
        starts_at__gte=at(day, datetime.time.min),
        starts_at__lt=at(day + datetime.timedelta(days=1), datetime.time.min),
    ).select_related("patient", "chair__room__location", "nurse", "planned_session__plan")
    if not include_cancelled:
        appointments = appointments.exclude(status=AppointmentStatus.CANCELLED)
    if location is not None:
        appointments = appointments.filter(chair__room__location=location)
    named = []
    if room_uuid:
        room = _one(Room.objects.all(), room_uuid, "No such room.")
        appointments = appointments.filter(chair__room=room)
        named.append(f"room {room.name}")
    if chair_uuid:
        chair = _one(Chair.objects.all(), chair_uuid, "No such chair.")
        appointments = appointments.filter(chair=chair)
        named.append(f"chair {chair.name}")
    if nurse_uuid:
        nurse = _one(User.objects.filter(role=Role.NURSE), nurse_uuid, "No such nurse.")
        appointments = appointments.filter(nurse=nurse)
        named.append(f"nurse {nurse.username}")
    if patient is not None:
        appointments = appointments.filter(patient=patient)
    page = keyset_page(appointments, keyset=APPOINTMENT_ORDER, after=after, limit=limit)
    visible = _visible_patient_ids(actor, {a.patient_id for a in page.items})
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="appointment",
        patient=patient,
        summary=(
            f"Schedule day of {day:%Y-%m-%d} (API): {len(page.items)} appointment(s)"
            + (f" at {location.code}" if location else " at every location")
            + "".join(f", {name}" for name in named)
        ),
    )
    return AppointmentPage(page=page, visible_patient_ids=visible)


def chair_for_booking(*, actor: User, chair_uuid: object) -> Chair:
    """A chair in service, chosen by id for a booking: at a location the actor works at, as
    the booking page offers only those (another location's is refused, audited)."""
    chair = (
        Chair.objects.filter(active=True, room__active=True)
        .select_related("room__location")
        .filter(uuid=record_uuid(chair_uuid))
        .first()
    )
    if chair is None:
        raise InvalidInput({"chair": ["Choose a chair."]})
    require_works_at(actor, chair.room.location)
    return chair


def nurse_for_booking(*, nurse_uuid: object) -> User:
    nurse = booking_nurses().filter(uuid=record_uuid(nurse_uuid)).first()
    if nurse is None:
        raise InvalidInput({"nurse": ["Choose a nurse."]})
    return nurse


def planned_session_for_booking(*, patient: Patient, session_uuid: object) -> PlannedSession:
    """One of the (already reached) patient's planned sessions, for a booking."""
    session = (
        PlannedSession.objects.filter(plan__patient=patient, uuid=record_uuid(session_uuid))
        .select_related("plan")
        .first()
    )
    if session is None:
        raise InvalidInput({"planned_session": ["That session is not in this patient's plan."]})
    return session
