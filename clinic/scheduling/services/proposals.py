"""Slot proposals: the earliest free chair and nurse for each planned session of a plan."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone

from clinic.accounts.choices import Role
from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.exceptions import Conflict, NotFound
from clinic.locations.models import Location
from clinic.locations.selectors import location_default
from clinic.patients.models import Patient
from clinic.protocols.choices import PlanStatus
from clinic.protocols.models import PlannedSession, TreatmentPlan
from clinic.scheduling.choices import (
    BOOKED_SESSION_STATUSES,
    IN_CLINIC_ROUTES,
    ChairCapability,
)
from clinic.scheduling.models import (
    Appointment,
    Chair,
    OpeningHours,
    StaffShift,
)
from clinic.scheduling.policy import SchedulingPolicy, scheduling_policy
from clinic.scheduling.services._common import at, date_text, local, peak_concurrency
from clinic.scheduling.services.booking import appointment_length_min


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


# An appointment's [start, end), and who is busy when: a chair's or a nurse's pk → intervals.
Interval = tuple[datetime.datetime, datetime.datetime]
Busy = dict[int, list[Interval]]
# A nurse's shifts on a day: (nurse pk, date) → shifts.
Shifts = dict[tuple[int, datetime.date], list[StaffShift]]


def _busy(
    intervals: Iterable[Interval], starts_at: datetime.datetime, ends_at: datetime.datetime
) -> bool:
    return any(s < ends_at and starts_at < e for s, e in intervals)


def appointment_propose(
    *, actor: User, plan: TreatmentPlan, location: Location | None = None
) -> list[Proposal]:
    """For each planned session of an active plan that is not booked yet (in session order):
    the earliest slot on its planned date, or the next open day, within opening hours, in a
    free chair with the equipment the route needs and with a nurse on shift who has fewer than
    the clinic's limit of patients at once throughout (`peak_concurrency`, as when booking).
    Of the nurses who could take it, the one with the fewest patients in chairs at that time
    (then the care team's nurses, then by name): patients are spread across the nurses on
    shift rather than stacked on the first one. Sessions stay in order and never two on one
    day for the patient. Only `location`'s chairs, hours and shifts (the default location's
    when none is named; the patient may be booked at any location). Writes nothing."""
    require(actor, Capability.SCHEDULE_BOOK)
    location = location or location_default()
    current = TreatmentPlan.objects.select_related("patient").filter(pk=plan.pk).first()
    if (
        current is None
        or not Patient.objects.visible_to(actor).filter(pk=current.patient_id).exists()
    ):
        raise NotFound("No such plan, or the patient is not on your care team.")
    plan = current
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

    hours = {h.weekday: h for h in OpeningHours.objects.filter(location=location)}
    capable = policy.capabilities_for(plan.route)
    chairs = [
        c
        for c in Chair.objects.filter(
            active=True, room__active=True, room__location=location
        ).select_related("room")
        if c.has(capable)
    ]
    team = set(plan.patient.care_team_members.values_list("staff_id", flat=True))
    nurses = sorted(
        User.objects.filter(role=Role.NURSE, is_active=True),
        key=lambda n: (n.pk not in team, n.last_name, n.first_name, n.username),
    )
    shifts: Shifts = {}
    for shift in StaffShift.objects.filter(
        location=location, staff__in=nurses, date__gte=first_day, date__lte=last_day
    ):
        shifts.setdefault((shift.staff_id, shift.date), []).append(shift)
    taken = list(
        Appointment.objects.active()
        .filter(starts_at__lt=window_end, ends_at__gt=window_start)
        .values_list("chair_id", "nurse_id", "starts_at", "ends_at")
    )
    chair_busy: Busy = {}
    nurse_busy: Busy = {}
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
            note = f"Planned for {date_text(session.planned_date)}; moved to the next free day."
        proposals.append(Proposal(session, starts_at, ends_at, chair, nurse, note))
    return proposals


def _first_slot(
    *,
    day: datetime.date,
    hours: OpeningHours,
    length: datetime.timedelta,
    step: datetime.timedelta,
    not_before: datetime.datetime,
    chairs: list[Chair],
    nurses: list[User],
    shifts: Shifts,
    chair_busy: Busy,
    nurse_busy: Busy,
    nurse_limit: int,
) -> tuple[datetime.datetime, Chair, User] | None:
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


def _least_busy_nurse(
    nurses: list[User],
    *,
    day: datetime.date,
    start: datetime.datetime,
    end: datetime.datetime,
    shifts: Shifts,
    nurse_busy: Busy,
    nurse_limit: int,
) -> User | None:
    """The nurse on shift for all of [start, end) with the fewest patients in chairs at its
    busiest instant, below the clinic's limit (ADR 0006); a tie goes to the earlier nurse in
    `nurses` (the care team's first, then by name), so a proposal is the same every time."""
    best: tuple[int, int, User] | None = None
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


def _no_slot_note(
    hours: dict[int, OpeningHours],
    chairs: list[Chair],
    policy: SchedulingPolicy,
    capable: Iterable[str],
) -> str:
    if not hours:
        return "No opening hours are set: a clinic administrator sets them first."
    if not chairs:
        needs = " and ".join(ChairCapability(c).label for c in capable) or "a chair"
        return f"No chair in service has {needs}."
    return (
        f"No free chair with a nurse on shift within {policy.proposal_search_days} days of the "
        "planned date: choose a time by hand, or add shifts."
    )
