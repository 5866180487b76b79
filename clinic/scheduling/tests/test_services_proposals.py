"""Slot proposals for a plan's sessions: the earliest free chair with the route's equipment and
a nurse on shift under the clinic's limit of chairs at once (`nurse_max_concurrent_chairs`),
patients spread across the nurses on shift, sessions in order and never two on one day."""

from __future__ import annotations

import datetime

import pytest

from clinic.core.exceptions import PermissionDenied
from clinic.patients.services import care_team_set
from clinic.patients.tests.factories import register
from clinic.scheduling import services
from clinic.scheduling.models import Appointment
from clinic.scheduling.tests.conftest import (
    FRIDAY,
    MONDAY,
    NEXT_MONDAY,
    SATURDAY,
    WEDNESDAY,
    WEEKDAYS,
    at,
    book,
    conflict,
    limit_nurses_to,
    make_plan,
    shifts_for,
)

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------- proposals


def test_proposals_take_the_earliest_free_slot_on_each_planned_date(
    clinic, plan, front_desk, chair1, nurse
):
    proposals = services.appointment_propose(actor=front_desk, plan=plan)
    assert [(p.session.number, p.starts_at, p.chair, p.nurse) for p in proposals] == [
        (1, at(MONDAY, 8), chair1, nurse),  # the care team's nurse first
        (2, at(WEDNESDAY, 8), chair1, nurse),
        (3, at(FRIDAY, 8), chair1, nurse),
    ]
    assert all(p.ends_at - p.starts_at == datetime.timedelta(minutes=70) for p in proposals)
    assert not Appointment.objects.exists()  # proposing writes nothing


def test_proposals_need_a_chair_with_the_equipment(
    clinic, plan, other_patient, front_desk, chair1, nurse2
):
    # Chair 1 (the only one with an IV pump) is taken 08:00–09:10; Chair 2 is free but cannot
    # take an infusion, so the first slot is the next 15-minute step after 09:10.
    book(front_desk, other_patient, chair1, nurse2, at(MONDAY, 8))
    first = services.appointment_propose(actor=front_desk, plan=plan)[0]
    assert (first.starts_at, first.chair) == (at(MONDAY, 9, 15), chair1)


def test_proposals_give_a_nurse_more_chairs_up_to_the_limit(
    settings, clinic_admin, opening_hours, plan, other_patient, front_desk, chair1, chair2, nurse
):
    # Only the care team's nurse is on shift; she already sits with an esketamine patient in
    # Chair 2, 08:00–10:10. Up to the clinic's 4 chairs at once she takes the infusion too.
    shifts_for(clinic_admin, nurse)
    book(front_desk, other_patient, chair2, nurse, at(MONDAY, 8), "esketamine")
    first = services.appointment_propose(actor=front_desk, plan=plan)[0]
    assert (first.starts_at, first.chair, first.nurse) == (at(MONDAY, 8), chair1, nurse)


# Balancing (issue 11): "the booking proposal put both 08:00 IV patients on one nurse while
# another nurse on shift was free". Of the nurses who could take a slot, the one with the fewest
# patients in chairs at that time; a tie goes to the care team's nurse, then by name; never
# past nurse_max_concurrent_chairs (ADR 0006).


@pytest.fixture
def chair3(clinic_admin, room):
    return services.chair_create(
        actor=clinic_admin,
        room=room,
        name="Chair 3",
        capabilities=["iv_pump", "cardiac_monitor", "pulse_oximeter"],
    )


def test_a_second_patient_at_the_same_time_goes_to_the_free_nurse(
    clinic, plan, other_patient, front_desk, chair1, chair3, nurse, nurse2
):
    # Another IV patient is booked with the care team's nurse at 08:00 in Chair 1.
    book(front_desk, other_patient, chair1, nurse, at(MONDAY, 8))

    first = services.appointment_propose(actor=front_desk, plan=plan)[0]

    # Chair 3 is free at 08:00 and so is the second nurse on shift: she takes the patient.
    assert (first.starts_at, first.chair, first.nurse) == (at(MONDAY, 8), chair3, nurse2)


def test_the_nurse_with_fewer_patients_at_that_time_is_proposed(
    clinic_admin, clinic, plan, front_desk, chair1, chair2, chair3, nurse, nurse2
):
    chair4 = services.chair_create(
        actor=clinic_admin,
        room=chair1.room,
        name="Chair 4",
        capabilities=["iv_pump", "cardiac_monitor", "pulse_oximeter"],
    )
    people = [register(front_desk, legal_given_name=name) for name in ("Ada", "Ben", "Cy")]
    # 08:00: the care team's nurse has two patients in chairs, the other nurse one.
    book(front_desk, people[0], chair2, nurse, at(MONDAY, 8), "esketamine")
    book(front_desk, people[1], chair1, nurse, at(MONDAY, 8))
    book(front_desk, people[2], chair4, nurse2, at(MONDAY, 8))

    first = services.appointment_propose(actor=front_desk, plan=plan)[0]

    assert (first.starts_at, first.chair, first.nurse) == (at(MONDAY, 8), chair3, nurse2)


def test_between_nurses_equally_busy_the_care_teams_nurse_is_proposed(
    clinic, plan, front_desk, chair1, chair2, chair3, nurse, nurse2
):
    people = [register(front_desk, legal_given_name=name) for name in ("Ada", "Ben")]
    book(front_desk, people[0], chair2, nurse2, at(MONDAY, 8), "esketamine")
    book(front_desk, people[1], chair1, nurse, at(MONDAY, 8))

    first = services.appointment_propose(actor=front_desk, plan=plan)[0]

    assert (first.starts_at, first.chair, first.nurse) == (at(MONDAY, 8), chair3, nurse)


def test_balancing_never_goes_past_the_limit(
    settings, clinic, plan, front_desk, chair1, chair2, chair3, nurse, nurse2
):
    # One chair per nurse, both busy 08:00–09:10: the first slot is when one is free again.
    limit_nurses_to(settings, 1)
    people = [register(front_desk, legal_given_name=name) for name in ("Ada", "Ben")]
    book(front_desk, people[0], chair1, nurse, at(MONDAY, 8))
    book(front_desk, people[1], chair2, nurse2, at(MONDAY, 8), "im")

    first = services.appointment_propose(actor=front_desk, plan=plan)[0]

    ends = Appointment.objects.get(nurse=nurse2).ends_at
    # IM holds 60 min of observation by default (policy-defaults.md): nurse2 is free at 09:00.
    assert ends == at(MONDAY, 9)
    assert (first.starts_at, first.chair, first.nurse) == (at(MONDAY, 9), chair3, nurse2)


def test_a_morning_of_iv_patients_is_shared_between_the_nurses_on_shift(
    clinic_admin, clinic, front_desk, prescriber, chair1, chair3, nurse, nurse2
):
    chair4 = services.chair_create(
        actor=clinic_admin,
        room=chair1.room,
        name="Chair 4",
        capabilities=["iv_pump", "cardiac_monitor", "pulse_oximeter"],
    )
    booked = []
    for name in ("Ada", "Ben", "Cy"):
        person = register(front_desk, legal_given_name=name)
        care_team_set(
            actor=front_desk, patient=person, primary_prescriber=prescriber, nurses=[nurse]
        )
        person_plan = make_plan(person, nurse=nurse, prescriber=prescriber, dates=[MONDAY])
        proposal = services.appointment_propose(actor=front_desk, plan=person_plan)[0]
        booked.append(
            services.appointment_book(
                actor=front_desk,
                patient=person,
                chair=proposal.chair,
                nurse=proposal.nurse,
                starts_at=proposal.starts_at,
                route="iv",
                planned_session=proposal.session,
            )
        )

    # All three at 08:00 in the three IV chairs. Their care team's nurse takes the first, the
    # free nurse the second, and the third (both now with one) goes to the care team's nurse:
    # two and one, never three and none.
    assert [a.starts_at for a in booked] == [at(MONDAY, 8)] * 3
    assert {a.chair for a in booked} == {chair1, chair3, chair4}
    assert [a.nurse for a in booked] == [nurse, nurse2, nurse]


def test_proposals_wait_for_a_nurse_at_the_limit(
    settings, clinic_admin, opening_hours, chair1, chair2, plan, other_patient, front_desk, nurse
):
    # Only the care team's nurse is on shift on Monday, and she already has one patient until
    # 10:10: with a limit of one chair the first proposal is the next 15-minute step after.
    shifts_for(clinic_admin, nurse)
    book(front_desk, other_patient, chair2, nurse, at(MONDAY, 8), "esketamine")
    limit_nurses_to(settings, 1)
    first = services.appointment_propose(actor=front_desk, plan=plan)[0]
    assert (first.starts_at, first.chair, first.nurse) == (at(MONDAY, 10, 15), chair1, nurse)


def test_proposals_follow_the_nurses_shifts(
    clinic_admin, opening_hours, chair1, plan, front_desk, nurse
):
    shifts_for(clinic_admin, nurse, days=[MONDAY], start=datetime.time(12), end=datetime.time(16))
    shifts_for(clinic_admin, nurse, days=[WEDNESDAY, FRIDAY])
    proposals = services.appointment_propose(actor=front_desk, plan=plan)
    assert [p.starts_at for p in proposals] == [
        at(MONDAY, 12),
        at(WEDNESDAY, 8),
        at(FRIDAY, 8),
    ]


def test_a_closed_planned_date_moves_to_the_next_open_day_and_order_holds(
    clinic_admin, clinic, patient, nurse, prescriber, front_desk
):
    shifts_for(clinic_admin, nurse, days=[NEXT_MONDAY, NEXT_MONDAY + datetime.timedelta(days=1)])
    dates = [FRIDAY, SATURDAY, SATURDAY]
    plan = make_plan(patient, nurse=nurse, prescriber=prescriber, dates=dates)
    proposals = services.appointment_propose(actor=front_desk, plan=plan)
    days = [p.starts_at.date() for p in proposals]
    assert days == [FRIDAY, NEXT_MONDAY, NEXT_MONDAY + datetime.timedelta(days=1)]
    assert proposals[1].note == "Planned for Saturday 06/07/2031; moved to the next free day."
    assert proposals[0].note == ""


def test_proposals_never_put_two_sessions_on_one_day(
    clinic, plan, patient, front_desk, chair2, nurse2
):
    # The patient already has an esketamine appointment that Monday (outside the plan).
    book(front_desk, patient, chair2, nurse2, at(MONDAY, 14), "esketamine")
    proposals = services.appointment_propose(actor=front_desk, plan=plan)
    assert [p.starts_at.date() for p in proposals] == [WEEKDAYS[1], WEDNESDAY, FRIDAY]


def test_booked_sessions_are_not_proposed_again(clinic, plan, patient, front_desk, chair1, nurse):
    session = plan.sessions.get(number=2)
    book(front_desk, patient, chair1, nurse, at(WEDNESDAY, 14), planned_session=session)
    proposals = services.appointment_propose(actor=front_desk, plan=plan)
    assert [p.session.number for p in proposals] == [1, 3]


def test_without_a_nurse_on_shift_there_is_no_proposal(
    clinic_admin, opening_hours, chair1, plan, front_desk
):
    proposals = services.appointment_propose(actor=front_desk, plan=plan)
    assert [p.found for p in proposals] == [False, False, False]
    assert "No free chair with a nurse on shift within 14 days" in proposals[0].note


def test_only_an_active_plans_sessions_are_proposed(clinic, patient, nurse, prescriber, front_desk):
    draft = make_plan(patient, nurse=nurse, prescriber=prescriber, status="draft")
    assert (
        conflict(lambda: services.appointment_propose(actor=front_desk, plan=draft)).code
        == "plan_not_active"
    )


def test_proposing_needs_the_booking_capability(clinic, plan, nurse):
    with pytest.raises(PermissionDenied):
        services.appointment_propose(actor=nurse, plan=plan)
