"""Booking and the overlap rules: an appointment's length, the count of appointments at once,
booking, rescheduling, cancelling and no-shows, and booking a plan's planned sessions.

A nurse runs up to four chairs at once (the clinic's workflow, issue 6; clinic policy
`nurse_max_concurrent_chairs`); a chair and a patient are in one appointment at a time.
Intervals are half-open: [09:00, 10:00) and [10:00, 11:00) never run together.

Expected lengths come from policy-defaults.md ("Preparation and discharge") and
clinical-reference.md: IV 40 min infusion [A1] + 30 min observation [E11] = 70 min; IM 60 min
observation (clinic policy); esketamine 120 min observation [C9] + 5 min between devices
[C2] (84 mg = 3 devices → 10 min). Preparation has no published number: 0 min by default.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured

from clinic.core.exceptions import InvalidInput, PermissionDenied
from clinic.core.models import AuditEvent
from clinic.patients.tests.factories import register
from clinic.protocols.models import PlannedSession
from clinic.scheduling import services
from clinic.scheduling.models import Appointment
from clinic.scheduling.policy import SchedulingPolicy, scheduling_policy
from clinic.scheduling.tests.conftest import (
    MONDAY,
    SATURDAY,
    WEDNESDAY,
    at,
    book,
    conflict,
    limit_nurses_to,
    shifts_for,
)

pytestmark = pytest.mark.django_db


def patients(front_desk, count: int) -> list:
    """`count` more patients (one session a day each, so each overlapping booking needs its own)."""
    return [register(front_desk, legal_given_name=f"Chairside{i}") for i in range(count)]


def chairs(clinic_admin, room, count: int) -> list:
    """`count` more chairs with no equipment (enough for IM, 60 minutes)."""
    return [
        services.chair_create(actor=clinic_admin, room=room, name=f"IM chair {i}")
        for i in range(count)
    ]


# --------------------------------------------------------------------------- lengths


@pytest.mark.parametrize(
    ("route", "kwargs", "minutes"),
    [
        ("iv", {}, 70),  # 40 min infusion + 30 min observation
        ("iv", {"infusion_min": 60}, 90),  # the planned session's own infusion length wins
        ("im", {}, 60),  # 60 min observation after the injection
        ("esketamine", {"esketamine_dose_mg": 28}, 120),  # 1 device: no wait
        ("esketamine", {"esketamine_dose_mg": 56}, 125),  # 2 devices: one 5-min wait
        ("esketamine", {"esketamine_dose_mg": 84}, 130),  # 3 devices: two 5-min waits
        ("esketamine", {}, 130),  # dose unknown: the largest label dose
    ],
)
def test_appointment_length_is_preparation_dosing_and_observation(route, kwargs, minutes):
    assert SchedulingPolicy().appointment_min(route, **kwargs) == minutes


def test_preparation_is_the_clinics_own_setting(settings):
    settings.CLINIC_POLICY = {"scheduling": {"preparation_min": {"iv": 20}}}
    policy = scheduling_policy()
    assert policy.appointment_min("iv") == 90
    assert policy.appointment_min("im") == 60  # others keep the default 0


@pytest.mark.parametrize(
    "override",
    [
        {"esketamine_observation_min": 90},  # below the label's 2 h [C9]
        {"esketamine_device_spacing_min": 3},  # below the label's 5 min [C2]
        {"fasting_liquids_min": {"esketamine": 15}},  # below 30 min [C3]
        {"fasting_solids_min": {"iv": 120}},  # IV/IM solids: 4–8 h
        {"preparation_min": {"oral": 5}},
        {"observation_minutes": 10},
        {"iv_observation_min": "30"},
        {"nurse_max_concurrent_chairs": 0},  # a nurse runs at least one chair
        {"nurse_max_concurrent_chairs": -1},
        {"nurse_max_concurrent_chairs": 2.5},
        {"nurse_max_concurrent_chairs": "4"},
        {"nurse_max_concurrent_chairs": True},
    ],
)
def test_bad_or_below_label_policy_values_stop_start_up(settings, override):
    settings.CLINIC_POLICY = {"scheduling": override}
    with pytest.raises(ImproperlyConfigured):
        scheduling_policy()


def test_a_nurse_runs_four_chairs_by_default_and_the_clinic_sets_its_own(settings):
    assert scheduling_policy().nurse_max_concurrent_chairs == 4
    limit_nurses_to(settings, 1)
    assert scheduling_policy().nurse_max_concurrent_chairs == 1


# --------------------------------------------------------------------------- peak concurrency


def _t(hour: int, minute: int = 0) -> datetime.datetime:
    return at(MONDAY, hour, minute)


NINE_TO_ELEVEN = [(_t(9), _t(10)), (_t(10), _t(11)), (_t(9, 30), _t(10, 30))]


@pytest.mark.parametrize(
    ("intervals", "window", "count", "first"),
    [
        ([], (_t(9), _t(10)), 0, None),
        # Three appointments overlap 09:00–11:00, but never more than two at one instant: the
        # one ending at 10:00 has gone when the one starting at 10:00 comes.
        (NINE_TO_ELEVEN, (_t(9), _t(11)), 2, _t(9, 30)),
        (NINE_TO_ELEVEN, (_t(10), _t(10, 30)), 2, _t(10)),
        (NINE_TO_ELEVEN, (_t(10, 30), _t(11)), 1, _t(10, 30)),
        (NINE_TO_ELEVEN, (_t(8), _t(9)), 0, None),  # ends where the first starts
        (NINE_TO_ELEVEN, (_t(11), _t(12)), 0, None),  # starts where the last ends
        (NINE_TO_ELEVEN, (_t(9, 10), _t(9, 20)), 1, _t(9, 10)),  # clipped to the window
        ([(_t(9), _t(10)), (_t(10), _t(11))], (_t(9), _t(11)), 1, _t(9)),  # back to back
        ([(_t(9), _t(10))] * 3, (_t(9, 30), _t(9, 45)), 3, _t(9, 30)),
        # Two at 09:10, one again at 09:30, two at 09:40 and three only from 09:50.
        (
            [(_t(9), _t(10)), (_t(9, 10), _t(9, 30)), (_t(9, 40), _t(10)), (_t(9, 50), _t(10))],
            (_t(9), _t(10)),
            3,
            _t(9, 50),
        ),
    ],
)
def test_peak_concurrency_is_the_busiest_instant_of_half_open_intervals(
    intervals, window, count, first
):
    assert services.peak_concurrency(intervals, *window) == services.Peak(count, first)


# --------------------------------------------------------------------------- booking


def test_booking_holds_chair_nurse_and_patient_for_the_routes_length(
    clinic, patient, front_desk, chair1, nurse
):
    appointment = book(front_desk, patient, chair1, nurse, at(MONDAY, 9))
    assert appointment.ends_at == at(MONDAY, 10, 10)
    assert appointment.status == "booked" and appointment.created_by == front_desk
    event = AuditEvent.objects.get(object_type="appointment")
    assert event.patient == patient and event.action == "create"
    assert "2031-06-02 09:00 to 10:10" in event.summary


def test_a_second_booking_of_the_chair_is_refused_with_its_times(
    clinic, patient, other_patient, front_desk, chair1, nurse, nurse2
):
    book(front_desk, patient, chair1, nurse, at(MONDAY, 9))
    error = conflict(lambda: book(front_desk, other_patient, chair1, nurse2, at(MONDAY, 9, 30)))
    assert error.message == "That chair is already booked from 09:00 to 10:10."
    assert error.code == "chair_booked" and error.field == "chair"
    assert Appointment.objects.count() == 1


def test_a_second_booking_of_the_nurse_is_refused_when_the_clinic_allows_one_chair(
    settings, clinic, patient, other_patient, front_desk, chair1, chair2, nurse
):
    limit_nurses_to(settings, 1)
    book(front_desk, patient, chair1, nurse, at(MONDAY, 9))
    error = conflict(
        lambda: book(front_desk, other_patient, chair2, nurse, at(MONDAY, 10), "esketamine")
    )
    assert error.message == (
        "nurse, RN already has 1 patient at 10:00; the clinic's limit is 1 chair at once."
    )
    assert error.code == "nurse_booked" and error.field == "nurse"
    assert Appointment.objects.count() == 1
    # Back to back is fine.
    assert book(front_desk, other_patient, chair2, nurse, at(MONDAY, 10, 10), "esketamine")


def test_a_nurse_runs_four_overlapping_chairs_and_the_fifth_is_refused(
    clinic, clinic_admin, room, front_desk, nurse2
):
    # IM holds a chair 60 minutes: 09:00, 09:10, 09:20 and 09:30 all run from 09:30 to 10:00.
    five = chairs(clinic_admin, room, 5)
    people = patients(front_desk, 5)
    for i in range(4):
        book(front_desk, people[i], five[i], nurse2, at(MONDAY, 9, 10 * i), "im")
    assert Appointment.objects.filter(nurse=nurse2).count() == 4
    error = conflict(lambda: book(front_desk, people[4], five[4], nurse2, at(MONDAY, 9, 50), "im"))
    assert error.message == (
        "Bea Nolan already has 4 patients at 09:50; the clinic's limit is 4 chairs at once."
    )
    assert error.code == "nurse_booked" and error.field == "nurse"
    assert Appointment.objects.count() == 4
    # At 10:00 the 09:00 patient's chair is free again: three running, a fourth may start.
    assert book(front_desk, people[4], five[4], nurse2, at(MONDAY, 10), "im").ends_at == at(
        MONDAY, 11
    )


def test_the_limit_counts_the_busiest_instant_not_every_overlapping_appointment(
    settings, clinic, clinic_admin, room, front_desk, nurse2
):
    # 09:00–10:00, 10:00–11:00 and 09:30–10:30: three overlap 09:30–10:30, but at most two run
    # at any one instant (the first has ended when the second starts).
    six = chairs(clinic_admin, room, 6)
    people = patients(front_desk, 6)
    for i, start in enumerate([at(MONDAY, 9), at(MONDAY, 10), at(MONDAY, 9, 30)]):
        book(front_desk, people[i], six[i], nurse2, start, "im")

    limit_nurses_to(settings, 2)
    error = conflict(lambda: book(front_desk, people[3], six[3], nurse2, at(MONDAY, 10), "im"))
    assert error.message == (
        "Bea Nolan already has 2 patients at 10:00; the clinic's limit is 2 chairs at once."
    )
    error = conflict(lambda: book(front_desk, people[3], six[3], nurse2, at(MONDAY, 9, 45), "im"))
    assert "already has 2 patients at 09:45" in error.message
    # 10:30–11:30 meets only 10:00–11:00; 08:00–09:00 meets nothing.
    assert book(front_desk, people[3], six[3], nurse2, at(MONDAY, 10, 30), "im")
    assert book(front_desk, people[4], six[4], nurse2, at(MONDAY, 8), "im")

    # With a limit of 3, 09:30–10:30 is allowed though it overlaps all three first bookings
    # (a plain count of overlaps would refuse it): only two run beside it at any instant.
    limit_nurses_to(settings, 3)
    assert book(front_desk, people[5], six[5], nurse2, at(MONDAY, 9, 30), "im")
    assert Appointment.objects.filter(nurse=nurse2).count() == 6


def test_a_nurses_overlaps_never_allow_a_chair_or_a_patient_twice(
    clinic, patient, other_patient, front_desk, chair1, chair2, nurse
):
    book(front_desk, patient, chair1, nurse, at(MONDAY, 9))
    error = conflict(lambda: book(front_desk, other_patient, chair1, nurse, at(MONDAY, 9, 30)))
    assert error.code == "chair_booked"
    error = conflict(lambda: book(front_desk, patient, chair2, nurse, at(MONDAY, 9), "im"))
    assert error.code == "patient_booked"
    assert book(front_desk, other_patient, chair2, nurse, at(MONDAY, 9), "esketamine")


def test_a_patient_cannot_be_in_two_chairs_at_once_nor_twice_a_day(
    clinic, patient, front_desk, chair1, chair2, nurse, nurse2
):
    book(front_desk, patient, chair1, nurse, at(MONDAY, 9))
    error = conflict(lambda: book(front_desk, patient, chair2, nurse2, at(MONDAY, 9), "im"))
    assert error.message == "The patient already has an appointment from 09:00 to 10:10."
    assert error.code == "patient_booked"
    error = conflict(lambda: book(front_desk, patient, chair2, nurse2, at(MONDAY, 14), "im"))
    assert error.code == "patient_same_day"
    assert "Monday 06/02/2031 (09:00 to 10:10): one session a day" in error.message


def test_back_to_back_appointments_are_allowed(
    clinic, patient, other_patient, front_desk, chair1, nurse
):
    first = book(front_desk, patient, chair1, nurse, at(MONDAY, 9))
    second = book(front_desk, other_patient, chair1, nurse, first.ends_at)
    assert second.starts_at == at(MONDAY, 10, 10)


def test_a_cancelled_appointment_frees_its_slot(
    clinic, patient, other_patient, front_desk, chair1, nurse
):
    first = book(front_desk, patient, chair1, nurse, at(MONDAY, 9))
    with pytest.raises(InvalidInput):
        services.appointment_cancel(actor=front_desk, appointment=first, reason="  ")
    cancelled = services.appointment_cancel(
        actor=front_desk, appointment=first, reason="Patient has a cold"
    )
    assert cancelled.status == "cancelled" and cancelled.cancelled_at is not None
    assert cancelled.status_reason == "Patient has a cold"
    assert book(front_desk, other_patient, chair1, nurse, at(MONDAY, 9)).status == "booked"
    # A cancelled appointment cannot be cancelled or moved again.
    assert (
        conflict(
            lambda: services.appointment_cancel(actor=front_desk, appointment=first, reason="again")
        ).code
        == "appointment_not_booked"
    )


def test_opening_hours_bound_every_booking(clinic, patient, front_desk, chair1, nurse):
    error = conflict(lambda: book(front_desk, patient, chair1, nurse, at(MONDAY, 16, 30)))
    assert error.message == (
        "The clinic is open 08:00–17:00 on Mondays; this appointment would run 16:30 to 17:40."
    )
    error = conflict(lambda: book(front_desk, patient, chair1, nurse, at(SATURDAY, 9)))
    assert error.message == "The clinic is closed on Saturdays."
    assert book(front_desk, patient, chair1, nurse, at(MONDAY, 15, 50)).ends_at == at(MONDAY, 17)


def test_without_opening_hours_nothing_is_booked(clinic_admin, patient, front_desk, chair1, nurse):
    shifts_for(clinic_admin, nurse)
    error = conflict(lambda: book(front_desk, patient, chair1, nurse, at(MONDAY, 9)))
    assert error.code == "outside_opening_hours"
    assert "no opening hours yet" in error.message


def test_the_nurse_must_be_on_shift_for_the_whole_appointment(
    clinic_admin, opening_hours, patient, front_desk, chair1, nurse
):
    services.staff_shift_add(
        actor=clinic_admin,
        staff=nurse,
        date=MONDAY,
        start=datetime.time(8),
        end=datetime.time(10),
    )
    error = conflict(lambda: book(front_desk, patient, chair1, nurse, at(MONDAY, 9)))
    assert error.code == "nurse_off_shift" and error.field == "nurse"
    assert "is not on shift from 09:00 to 10:10 on Monday 06/02/2031" in error.message
    assert book(front_desk, patient, chair1, nurse, at(MONDAY, 8, 50)).ends_at == at(MONDAY, 10)


def test_the_chair_must_have_the_routes_equipment(clinic, patient, front_desk, chair2, nurse):
    with pytest.raises(InvalidInput) as caught:
        book(front_desk, patient, chair2, nurse, at(MONDAY, 9))
    assert caught.value.errors == {
        "chair": ["Chair 2 has no IV pump and cardiac monitor, which IV infusion needs."]
    }
    assert book(front_desk, patient, chair2, nurse, at(MONDAY, 9), "esketamine").ends_at == at(
        MONDAY, 11, 10
    )


def test_only_the_front_desk_and_admins_book(clinic, patient, actors, chair1, nurse):
    for who in ("prescriber", "nurse", "therapist", "billing"):
        with pytest.raises(PermissionDenied):
            book(actors[who], patient, chair1, nurse, at(MONDAY, 9))
    assert not Appointment.objects.exists()
    assert book(actors["clinic_admin"], patient, chair1, nurse, at(MONDAY, 9))


def test_nurses_only_sit_with_patients_and_only_chair_routes_are_booked(
    clinic, patient, front_desk, chair1, prescriber
):
    with pytest.raises(InvalidInput) as caught:
        book(front_desk, patient, chair1, prescriber, at(MONDAY, 9))
    assert "nurse" in caught.value.errors
    with pytest.raises(InvalidInput) as caught:
        book(front_desk, patient, chair1, clinic["nurse"], at(MONDAY, 9), "sublingual")
    assert "route" in caught.value.errors


def test_a_time_in_the_past_is_refused(clinic, patient, front_desk, chair1, nurse):
    with pytest.raises(InvalidInput) as caught:
        book(front_desk, patient, chair1, nurse, at(datetime.date(2020, 6, 1), 9))
    assert caught.value.errors == {"time": ["That time has passed."]}


def test_rescheduling_moves_the_appointment_and_keeps_the_rules(
    clinic, patient, other_patient, front_desk, chair1, chair2, nurse, nurse2
):
    first = book(front_desk, patient, chair1, nurse, at(MONDAY, 9))
    book(front_desk, other_patient, chair1, nurse2, at(MONDAY, 13))
    # Overlapping its own old time is fine.
    moved = services.appointment_reschedule(
        actor=front_desk, appointment=first, starts_at=at(MONDAY, 9, 30), reason="Late bus"
    )
    assert (moved.starts_at, moved.ends_at) == (at(MONDAY, 9, 30), at(MONDAY, 10, 40))
    error = conflict(
        lambda: services.appointment_reschedule(
            actor=front_desk, appointment=first, starts_at=at(MONDAY, 12, 30), reason="Later"
        )
    )
    assert error.message == "That chair is already booked from 13:00 to 14:10."
    event = AuditEvent.objects.filter(object_type="appointment", action="update").get()
    assert event.changes["reason"] == "Late bus"
    assert event.changes["starts_at"]["after"] == "2031-06-02T09:30:00-04:00"
    with pytest.raises(InvalidInput):
        services.appointment_reschedule(
            actor=front_desk, appointment=first, starts_at=at(MONDAY, 11), reason=""
        )


def test_rescheduling_respects_the_nurses_limit(
    settings, clinic, patient, other_patient, front_desk, chair1, chair2, nurse, nurse2
):
    book(front_desk, patient, chair1, nurse, at(MONDAY, 9))  # 09:00–10:10
    second = book(front_desk, other_patient, chair2, nurse2, at(MONDAY, 9), "esketamine")
    # By default the nurse may take the second chair too.
    moved = services.appointment_reschedule(
        actor=front_desk, appointment=second, starts_at=at(MONDAY, 9), nurse=nurse, reason="Cover"
    )
    assert moved.nurse == nurse
    limit_nurses_to(settings, 1)
    error = conflict(
        lambda: services.appointment_reschedule(
            actor=front_desk, appointment=second, starts_at=at(MONDAY, 9, 30), reason="Later"
        )
    )
    assert error.message == (
        "nurse, RN already has 1 patient at 09:30; the clinic's limit is 1 chair at once."
    )
    assert error.code == "nurse_booked"
    # Moving the appointment to the other nurse, or after the first one ends, is fine.
    moved = services.appointment_reschedule(
        actor=front_desk, appointment=second, starts_at=at(MONDAY, 9), nurse=nurse2, reason="Back"
    )
    assert moved.nurse == nurse2
    moved = services.appointment_reschedule(
        actor=front_desk,
        appointment=second,
        starts_at=at(MONDAY, 10, 10),
        nurse=nurse,
        reason="After the infusion",
    )
    assert (moved.nurse, moved.starts_at) == (nurse, at(MONDAY, 10, 10))


def test_a_no_show_is_marked_only_after_the_start(clinic, patient, front_desk, chair1, nurse):
    appointment = book(front_desk, patient, chair1, nurse, at(MONDAY, 9))
    error = conflict(
        lambda: services.appointment_mark_no_show(
            actor=front_desk, appointment=appointment, reason="Did not come"
        )
    )
    assert error.code == "not_started"
    past = at(datetime.date(2025, 6, 2), 9)
    Appointment.objects.filter(pk=appointment.pk).update(
        starts_at=past, ends_at=past + datetime.timedelta(minutes=70)
    )
    marked = services.appointment_mark_no_show(
        actor=front_desk, appointment=appointment, reason="Did not come; no answer by phone"
    )
    assert marked.status == "no_show" and marked.status_changed_by == front_desk
    assert AuditEvent.objects.filter(summary__startswith="No-show: Did not come").exists()


# --------------------------------------------------------------------------- planned sessions


def test_a_planned_session_is_booked_once(
    clinic, plan, patient, front_desk, chair1, chair2, nurse, nurse2
):
    session = plan.sessions.get(number=1)
    appointment = book(front_desk, patient, chair1, nurse, at(MONDAY, 9), planned_session=session)
    assert appointment.planned_session == session
    error = conflict(
        lambda: book(front_desk, patient, chair1, nurse2, at(WEDNESDAY, 9), planned_session=session)
    )
    assert error.code == "session_booked"
    assert error.message == "Session 1 is already booked on Monday 06/02/2031 at 09:00."
    # Once cancelled, the session can be booked again.
    services.appointment_cancel(actor=front_desk, appointment=appointment, reason="Unwell")
    assert book(front_desk, patient, chair1, nurse2, at(WEDNESDAY, 9), planned_session=session)


def test_a_planned_session_must_be_the_patients_and_the_plans_route(
    clinic, plan, patient, other_patient, front_desk, chair1, nurse
):
    session = plan.sessions.get(number=1)
    with pytest.raises(InvalidInput) as caught:
        book(front_desk, other_patient, chair1, nurse, at(MONDAY, 9), planned_session=session)
    assert "session" in caught.value.errors
    with pytest.raises(InvalidInput) as caught:
        book(front_desk, patient, chair1, nurse, at(MONDAY, 9), "im", planned_session=session)
    assert "route" in caught.value.errors


def test_a_planned_sessions_infusion_length_sets_the_appointment(
    clinic, plan, patient, front_desk, chair1, nurse
):
    session = plan.sessions.get(number=1)
    PlannedSession.objects.filter(pk=session.pk).update(infusion_minutes=60)
    session.refresh_from_db()
    appointment = book(front_desk, patient, chair1, nurse, at(MONDAY, 9), planned_session=session)
    assert appointment.ends_at == at(MONDAY, 10, 30)
