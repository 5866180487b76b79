"""Reads of the clinic floor: today's check-in list and the live chair board.

Each takes the actor, checks `session.board` and writes one LIST audit event. Both load a fixed
number of queries however many chairs, appointments and sessions there are. Everyone who runs
the floor sees every chair, but a patient's name only when they may open that patient
(`Patient.objects.visible_to`); other patients show as "Booked" (day list) or "In use" (board),
and opening one is the same 404 as a session that does not exist.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Max, Prefetch, Q
from django.utils import timezone

from clinic.accounts.choices import Role
from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.assessments.models import SuicidalityAlert
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import NotFound
from clinic.core.page_loads import PageLoad
from clinic.core.parsing import record_uuid
from clinic.locations.models import Location
from clinic.locations.selectors import require_works_at, working_at
from clinic.patients.models import Patient
from clinic.scheduling.choices import AppointmentStatus
from clinic.scheduling.models import Appointment, Chair
from clinic.scheduling.services import at
from clinic.screening.choices import Route
from clinic.screening.selectors import allergies_by_patient
from clinic.treatment_sessions.choices import AlertSeverity, SessionPhase
from clinic.treatment_sessions.clocks import countdown_text, duration_text, vitals_due_at
from clinic.treatment_sessions.models import PrescriberRequest, SessionAlert, TreatmentSession

# The appointments of the day list: everything that is or was on the floor today.
DAY_STATUSES = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.CHECKED_IN,
    AppointmentStatus.COMPLETED,
)


def _visible_patient_ids(actor, patient_ids: set[int]) -> set[int]:
    if not patient_ids:
        return set()
    return set(
        Patient.objects.visible_to(actor).filter(pk__in=patient_ids).values_list("pk", flat=True)
    )


def _day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    start = at(day, datetime.time.min)
    return start, at(day + datetime.timedelta(days=1), datetime.time.min)


# --------------------------------------------------------------------------- the day list


@dataclass(frozen=True)
class Flag:
    """Something about the patient a nurse should see before the chair: `level` is "danger",
    "warning" or "info" (the badge's colour), `text` the words."""

    level: str
    text: str


@dataclass(frozen=True)
class DayRow:
    appointment: Appointment
    session: TreatmentSession | None
    reachable: bool  # the actor may open the patient (and the session)
    can_check_in: bool
    flags: tuple[Flag, ...] = ()

    @property
    def label(self) -> str:
        return self.appointment.patient.display_name if self.reachable else "Booked"

    @property
    def nurse(self):
        """The nurse running the chair: chosen at check-in, else the booked one."""
        if self.session is not None and self.session.assigned_nurse_id:
            return self.session.assigned_nurse
        return self.appointment.nurse


@dataclass(frozen=True)
class DayList:
    day: datetime.date
    rows: list[DayRow]
    location: Location | None = None  # None: every location


def day_list(
    *, actor, now: datetime.datetime | None = None, location: Location | None = None
) -> DayList:
    """Today's appointments (booked, checked in, completed) in the clinic's time zone, by
    time, each with its session once checked in: at `location`, or at every location when it
    is None (the caller has checked the actor sees the network: `location_scope`)."""
    require(actor, Capability.SESSION_BOARD)
    now = now or timezone.now()
    day = timezone.localdate(now)
    start, end = _day_bounds(day)
    rows_here = Appointment.objects.filter(
        starts_at__gte=start, starts_at__lt=end, status__in=DAY_STATUSES
    )
    if location is not None:
        rows_here = rows_here.filter(chair__room__location=location)
    appointments = list(
        rows_here.select_related(
            "patient",
            "chair__room__location",
            "nurse",
            "planned_session",
            "treatment_session__assigned_nurse",
        ).order_by("starts_at", "chair__name", "id")
    )
    visible = _visible_patient_ids(actor, {a.patient_id for a in appointments})
    flags = _flags(
        [a for a in appointments if a.patient_id in visible],
        clinical=actor.can(Capability.PATIENT_VIEW_CLINICAL),
    )
    can_run = actor.can(Capability.SESSION_RUN)
    rows = []
    for appointment in appointments:
        session = getattr(appointment, "treatment_session", None)
        reachable = appointment.patient_id in visible
        rows.append(
            DayRow(
                appointment=appointment,
                session=session,
                reachable=reachable,
                can_check_in=(
                    can_run
                    and reachable
                    and session is None
                    and appointment.status == AppointmentStatus.BOOKED
                ),
                flags=flags.get(appointment.pk, ()) if reachable else (),
            )
        )
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="appointment",
        summary=(
            f"Session day list of {day:%Y-%m-%d}"
            + (f" at {location.code}" if location else " at every location")
            + f": {len(rows)} appointment(s)"
        ),
    )
    return DayList(day=day, rows=rows, location=location)


def _flags(appointments: list[Appointment], *, clinical: bool) -> dict[int, tuple[Flag, ...]]:
    """What a nurse should know before each reachable patient sits down, in a fixed number of
    queries: a suicidality alert on the chart, allergies (or that none are recorded), a first
    session, open vitals alerts and a decision waited on from a prescriber."""
    if not appointments or not clinical:
        return {}
    patient_ids = {a.patient_id for a in appointments}
    flagged = set(
        SuicidalityAlert.objects.unresolved()
        .filter(patient_id__in=patient_ids)
        .values_list("patient_id", flat=True)
    )
    allergies = allergies_by_patient(patient_ids)
    session_ids = [a.treatment_session.pk for a in appointments if _session_of(a) is not None]
    open_alerts = dict(
        SessionAlert.objects.unacknowledged()
        .filter(session_id__in=session_ids)
        .values_list("session_id")
        .annotate(n=Count("id"))
        .values_list("session_id", "n")
    )
    waiting = set(
        PrescriberRequest.objects.waiting()
        .filter(session_id__in=session_ids)
        .values_list("session_id", flat=True)
    )
    found: dict[int, tuple[Flag, ...]] = {}
    for appointment in appointments:
        session = _session_of(appointment)
        row: list[Flag] = []
        if appointment.patient_id in flagged:
            row.append(Flag("danger", "Suicidality alert"))
        if session is not None and session.pk in waiting:
            row.append(Flag("danger", "Awaiting prescriber"))
        if session is not None and open_alerts.get(session.pk):
            count = open_alerts[session.pk]
            row.append(Flag("danger", f"{count} open vitals alert{'s' if count > 1 else ''}"))
        text = allergies.get(appointment.patient_id)
        row.append(
            Flag("warning", f"Allergies: {text}")
            if text
            else Flag("info", "Allergies not recorded")
        )
        if appointment.planned_session is not None and appointment.planned_session.number == 1:
            row.append(Flag("info", "First session of this plan"))
        found[appointment.pk] = tuple(row)
    return found


def _session_of(appointment: Appointment) -> TreatmentSession | None:
    return getattr(appointment, "treatment_session", None)


def appointment_for_check_in(*, actor, appointment_uuid) -> Appointment:
    """An appointment the actor may check in: a session runner on the patient's care team.
    Otherwise NotFound; at a location the actor does not work at (its chair's), refused as
    that location's chair board is: 403, audited (the service repeats every check under its
    locks)."""
    require(actor, Capability.SESSION_RUN)
    key = record_uuid(appointment_uuid)
    appointment = (
        Appointment.objects.filter(uuid=key, patient_id__in=Patient.objects.ids_visible_to(actor))
        .select_related("patient", "chair__room__location")
        .first()
    )
    if appointment is None:
        raise NotFound("No such appointment, or the patient is not on your care team.")
    require_works_at(actor, appointment.chair.room.location)
    return appointment


def nurses_for_the_chair(*, appointment: Appointment):
    """The nurses who may run this patient's chair: active nurses on the care team who work at
    the chair's location."""
    nurses = User.objects.filter(
        is_active=True,
        role=Role.NURSE,
        care_team_memberships__patient_id=appointment.patient_id,
    )
    return (
        working_at(nurses, appointment.chair.room.location)
        .order_by("last_name", "first_name", "username")
        .distinct()
    )


# --------------------------------------------------------------------------- the chair board


@dataclass(frozen=True)
class BoardCard:
    chair: Chair
    session: TreatmentSession | None  # the open session in the chair
    appointment: Appointment | None  # the session's appointment, or the next one booked today
    reachable: bool
    next_vitals_due: datetime.datetime | None
    open_alerts: int
    critical_alerts: int
    now: datetime.datetime
    # Decisions the chair waits for (prescriber_requests): shown as "awaiting prescriber".
    waiting: tuple[PrescriberRequest, ...] = ()

    @property
    def waiting_since_text(self) -> str:
        """How long the oldest request has waited, in the live clock's words."""
        if not self.waiting:
            return ""
        return duration_text(self.now - min(r.created_at for r in self.waiting))

    @property
    def label(self) -> str:
        if self.session is not None:
            return self.session.patient.display_name if self.reachable else "In use"
        if self.appointment is not None:
            return self.appointment.patient.display_name if self.reachable else "Booked"
        return "Free"

    @property
    def route(self) -> str:
        return self.appointment.get_route_display() if self.appointment is not None else ""

    @property
    def phase(self) -> str:
        if self.session is not None:
            return self.session.get_phase_display()
        if self.appointment is not None:
            return "Not checked in"
        return "Free"

    @property
    def phase_key(self) -> str:
        if self.session is not None:
            return self.session.phase
        return "booked" if self.appointment is not None else "free"

    @property
    def dose_started_at(self) -> datetime.datetime | None:
        return self.session.dose_started_at if self.session is not None else None

    @property
    def vitals_due_now(self) -> bool:
        return self.next_vitals_due is not None and self.next_vitals_due <= self.now

    @property
    def vitals_overdue(self) -> bool:
        """A minute or more past due (the countdown then reads "overdue by n min")."""
        return (
            self.next_vitals_due is not None
            and self.now - self.next_vitals_due >= datetime.timedelta(minutes=1)
        )

    @property
    def elapsed_text(self) -> str:
        """Time since the dose started, in the words of the live clock ("m min", "h:mm")."""
        if self.dose_started_at is None:
            return ""
        return duration_text(self.now - self.dose_started_at)

    @property
    def countdown_text(self) -> str:
        """Time to the next vitals, in the words of the live countdown ("m:ss", "due now",
        "overdue by n min")."""
        if self.next_vitals_due is None:
            return ""
        return countdown_text(self.next_vitals_due, self.now)

    @property
    def continuous_oximetry(self) -> bool:
        """Esketamine between devices: no set is scheduled, pulse oximetry runs throughout."""
        return (
            self.session is not None
            and self.session.route == Route.ESKETAMINE
            and self.session.phase == SessionPhase.DOSING
        )


@dataclass(frozen=True)
class Board:
    cards: list[BoardCard]
    now: datetime.datetime
    location: Location | None = None

    @property
    def in_use(self) -> int:
        return sum(1 for card in self.cards if card.session is not None)


def board_get(
    *,
    actor,
    location: Location,
    now: datetime.datetime | None = None,
    page_load: PageLoad | None = None,
) -> Board:
    """Every chair in service at `location` (and any other chair there holding an open
    session): the open session in it, or else the next appointment booked in it today. The
    caller has checked the actor works at `location` (`location_scope`). With a `page_load`
    (the board's page and its polls), a poll is audited only if it shows a patient the page
    load has not shown before (clinic/core/page_loads.py); the event names the patients shown."""
    require(actor, Capability.SESSION_BOARD)
    now = now or timezone.now()
    start, end = _day_bounds(timezone.localdate(now))
    chairs = list(
        Chair.objects.filter(active=True, room__active=True, room__location=location)
        .select_related("room")
        .order_by("room__name", "name", "id")
    )
    sessions = list(
        TreatmentSession.objects.open()
        .filter(appointment__chair__room__location=location)
        .select_related("patient", "appointment__chair__room")
        .prefetch_related(
            "infusion_events",
            Prefetch(
                "prescriber_requests",
                queryset=PrescriberRequest.objects.waiting(),
                to_attr="waiting_requests",
            ),
        )
        .annotate(
            last_reading_at=Max(
                "vitals__taken_at",
                filter=Q(
                    vitals__entered_in_error_at__isnull=True,
                    vitals__systolic_mmhg__isnull=False,
                ),
            ),
            open_alert_count=Count(
                "alerts", filter=Q(alerts__acknowledged_at__isnull=True), distinct=True
            ),
            critical_alert_count=Count(
                "alerts",
                filter=Q(
                    alerts__acknowledged_at__isnull=True, alerts__severity=AlertSeverity.CRITICAL
                ),
                distinct=True,
            ),
        )
        .order_by("checked_in_at", "id")
    )
    booked = list(
        Appointment.objects.filter(
            starts_at__gte=start,
            starts_at__lt=end,
            status=AppointmentStatus.BOOKED,
            treatment_session__isnull=True,
            chair__room__location=location,
        )
        .select_related("patient", "chair__room")
        .order_by("starts_at", "id")
    )
    visible = _visible_patient_ids(
        actor, {s.patient_id for s in sessions} | {a.patient_id for a in booked}
    )
    # A chair taken out of service still shows the session running in it.
    for session in sessions:
        if all(c.pk != session.appointment.chair_id for c in chairs):
            chairs.append(session.appointment.chair)
    by_chair: dict[int, list[TreatmentSession]] = {}
    for session in sessions:
        by_chair.setdefault(session.appointment.chair_id, []).append(session)
    next_booked: dict[int, Appointment] = {}
    for appointment in booked:
        next_booked.setdefault(appointment.chair_id, appointment)
    cards = []
    for chair in chairs:
        # One card per open session (a chair normally holds one; a session left open from an
        # earlier patient must not hide the next), else the chair's next booking or "Free".
        for session in by_chair.get(chair.pk, []):
            cards.append(
                BoardCard(
                    chair=chair,
                    session=session,
                    appointment=session.appointment,
                    reachable=session.patient_id in visible,
                    # The board's queryset annotates these (see the query above).
                    next_vitals_due=vitals_due_at(
                        session,
                        last_reading_at=session.last_reading_at,  # type: ignore[attr-defined]
                        now=now,
                    ),
                    open_alerts=session.open_alert_count,  # type: ignore[attr-defined]
                    critical_alerts=session.critical_alert_count,  # type: ignore[attr-defined]
                    now=now,
                    waiting=tuple(session.waiting_requests),  # type: ignore[attr-defined]
                )
            )
        if chair.pk in by_chair:
            continue
        waiting_appointment = next_booked.get(chair.pk)
        cards.append(
            BoardCard(
                chair=chair,
                session=None,
                appointment=waiting_appointment,
                reachable=waiting_appointment is not None
                and waiting_appointment.patient_id in visible,
                next_vitals_due=None,
                open_alerts=0,
                critical_alerts=0,
                now=now,
            )
        )
    summary = (
        f"Chair board at {location.code}: {len(cards)} chair(s), "
        f"{len(sessions)} open session(s), {len(booked)} booked today"
    )
    if page_load is None:
        audit_record(
            actor=actor, action=AuditAction.LIST, object_type="treatment_session", summary=summary
        )
        return Board(cards=cards, now=now, location=location)
    # The patients whose names the board shows (a card the actor may not open says "Booked").
    shown = {
        str((card.session or card.appointment).patient.uuid)
        for card in cards
        if card.appointment is not None and card.reachable
    }
    if page_load.needs_audit(shown):
        new = shown if page_load.new else set(page_load.unseen(shown))
        audit_record(
            actor=actor,
            action=AuditAction.LIST,
            object_type="treatment_session",
            summary=summary if page_load.new else f"{summary} (refresh: {len(new)} newly shown)",
            changes={"page_load": page_load.id, "patients": sorted(new)},
        )
        page_load.remember(shown)
    return Board(cards=cards, now=now, location=location)
