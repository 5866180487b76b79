"""A small clinic for the schedule's tests.

The clinic is open Monday to Friday 08:00–17:00 (America/New_York, the settings' time zone)
with one room and two chairs: Chair 1 has an IV pump, a cardiac monitor and a pulse oximeter;
Chair 2 only a pulse oximeter. The root conftest's `nurse` (on `patient`'s care team) works
08:00–17:00 on each weekday of the test week, which starts on Monday 2 June 2031 (no
daylight-saving change that week). `plan` is an active IV plan for `patient` with three
sessions on Monday, Wednesday and Friday.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from clinic.core.exceptions import Conflict
from clinic.patients.tests.factories import register
from clinic.protocols.models import PlannedSession, ProtocolTemplate, TreatmentPlan
from clinic.scheduling import services
from clinic.screening import services as screening_services
from clinic.screening.tests.test_eligibility import TRD_HISTORY

MONDAY = datetime.date(2031, 6, 2)
WEEKDAYS = [MONDAY + datetime.timedelta(days=i) for i in range(5)]
SATURDAY = MONDAY + datetime.timedelta(days=5)
NEXT_MONDAY = MONDAY + datetime.timedelta(days=7)
WEDNESDAY, FRIDAY = WEEKDAYS[2], WEEKDAYS[4]
OPEN, CLOSE = datetime.time(8), datetime.time(17)


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


@pytest.fixture
def opening_hours(clinic_admin):
    return services.opening_hours_set(
        actor=clinic_admin, hours={weekday: (OPEN, CLOSE) for weekday in range(5)}
    )


@pytest.fixture
def room(clinic_admin):
    return services.room_create(actor=clinic_admin, name="Room A")


@pytest.fixture
def chair1(clinic_admin, room):
    return services.chair_create(
        actor=clinic_admin,
        room=room,
        name="Chair 1",
        capabilities=["iv_pump", "cardiac_monitor", "pulse_oximeter"],
    )


@pytest.fixture
def chair2(clinic_admin, room):
    return services.chair_create(
        actor=clinic_admin, room=room, name="Chair 2", capabilities=["pulse_oximeter"]
    )


@pytest.fixture
def nurse2(make_staff):
    return make_staff("nurse", username="nurse_b", first_name="Bea", last_name="Nolan")


def shifts_for(admin, staff, days=WEEKDAYS, start=OPEN, end=CLOSE):
    return [
        services.staff_shift_add(actor=admin, staff=staff, date=day, start=start, end=end)
        for day in days
    ]


@pytest.fixture
def clinic(clinic_admin, opening_hours, chair1, chair2, nurse, nurse2):
    """Hours, chairs, and both nurses on shift all week."""
    shifts_for(clinic_admin, nurse)
    shifts_for(clinic_admin, nurse2)
    return {"chair1": chair1, "chair2": chair2, "nurse": nurse, "nurse2": nurse2}


@pytest.fixture
def other_patient(front_desk, prescriber, nurse2):
    from clinic.patients.services import care_team_set

    other = register(
        front_desk,
        legal_given_name="Casey",
        legal_family_name="Morgan",
        email="casey.morgan@example.org",
    )
    care_team_set(actor=front_desk, patient=other, primary_prescriber=prescriber, nurses=[nurse2])
    return other


def make_plan(patient, *, nurse, prescriber, route="iv", dates=None, status="active", **extra):
    """A treatment plan with one session per date, through the screening services for the
    eligibility decision and the ORM for the plan (the protocols app builds its own)."""
    intake = screening_services.intake_start(actor=nurse, patient=patient)
    intake = screening_services.intake_save(actor=nurse, intake=intake, submit=True, **TRD_HISTORY)
    decision = screening_services.decision_sign(
        actor=prescriber,
        intake=intake,
        outcome="eligible",
        approved_routes=[route],
        justifications={"psychosis_history": "One brief episode in 2009; stable since."},
    )
    template, _ = ProtocolTemplate.objects.get_or_create(
        code=f"test-{route}",
        version=1,
        defaults={"name": f"Test {route}", "route": route, "definition": {}},
    )
    dates = dates or [WEEKDAYS[0], WEEKDAYS[2], WEEKDAYS[4]]
    plan = TreatmentPlan.objects.create(
        patient=patient,
        template=template,
        route=route,
        eligibility_decision=decision,
        status=status,
        start_date=dates[0],
        session_count=len(dates),
        prescribed_by=prescriber,
        **extra,
    )
    for number, day in enumerate(dates, start=1):
        PlannedSession.objects.create(plan=plan, number=number, planned_date=day, phase="induction")
    return plan


@pytest.fixture
def plan(patient, nurse, prescriber):
    return make_plan(patient, nurse=nurse, prescriber=prescriber)


def book(actor, patient, chair, nurse, starts_at, route="iv", **kwargs):
    return services.appointment_book(
        actor=actor,
        patient=patient,
        chair=chair,
        nurse=nurse,
        starts_at=starts_at,
        route=route,
        **kwargs,
    )


def conflict(call) -> Conflict:
    with pytest.raises(Conflict) as caught:
        call()
    return caught.value


def limit_nurses_to(settings, chairs: int) -> None:
    settings.CLINIC_POLICY = {"scheduling": {"nurse_max_concurrent_chairs": chairs}}
