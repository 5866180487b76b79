"""The assessments due, read from the database as the due list reads them (three witnesses per
instrument and two session bounds, not the whole history): a test week of sessions on Monday,
Wednesday and Friday at 09:00, looked at on Friday at 08:00.

Expected, from the clinic's schedule (clinic/assessments/schedule.py; policy-defaults.md, [H2]):
- baseline PHQ-9, GAD-7 and C-SSRS screen before the first session, overdue once it began;
- a PHQ-9 20–28 h after the first session (Tuesday 05:00–13:00), overdue once that closed;
- a PHQ-9 on the next session's day before it starts (Friday from 00:00 to 09:00), due now.
"""

from __future__ import annotations

import datetime

import pytest
import time_machine

from clinic.assessments import services as assessments
from clinic.assessments.selectors import due_list
from clinic.scheduling import services
from clinic.scheduling.selectors import in_clinic_session_bounds
from clinic.scheduling.tests.conftest import FRIDAY, MONDAY, WEDNESDAY, WEEKDAYS, at, book

pytestmark = pytest.mark.django_db

PHQ9_NONE = [0] * 9
GAD7_NONE = [0] * 7
TUESDAY = WEEKDAYS[1]


@pytest.fixture
def week(clinic, plan, patient, nurse, chair1, front_desk):
    """The three sessions, and a Tuesday 09:00 booking cancelled (it is no session)."""
    with time_machine.travel(at(MONDAY - datetime.timedelta(days=3), 9), tick=False):
        for day in (MONDAY, WEDNESDAY, FRIDAY):
            book(front_desk, patient, chair1, nurse, at(day, 9))
        cancelled = book(front_desk, patient, chair1, nurse, at(TUESDAY, 15))
        services.appointment_cancel(actor=front_desk, appointment=cancelled, reason="Unwell")
        assessments.response_record(
            actor=nurse,
            patient=patient,
            instrument_code="phq9",
            answers=PHQ9_NONE,
            taken_at=at(MONDAY - datetime.timedelta(days=3), 8),
        )


def _record(nurse, patient, code, answers, taken_at):
    with time_machine.travel(taken_at + datetime.timedelta(minutes=5), tick=False):
        return assessments.response_record(
            actor=nurse, patient=patient, instrument_code=code, answers=answers, taken_at=taken_at
        )


def _due_on_friday_morning(nurse):
    with time_machine.travel(at(FRIDAY, 8), tick=False):
        rows = due_list(actor=nurse, now=at(FRIDAY, 8), session_bounds=in_clinic_session_bounds)
    return {item.timepoint: (item.missing, item.overdue) for _, item, _ in rows}


def test_what_a_patient_owes_on_the_morning_of_their_third_session(week, patient, nurse):
    # Outside the next-day window: 19 h after the first session, and 30 h after it.
    _record(nurse, patient, "phq9", PHQ9_NONE, at(MONDAY, 9) + datetime.timedelta(hours=19))
    _record(nurse, patient, "phq9", PHQ9_NONE, at(MONDAY, 9) + datetime.timedelta(hours=30))
    # Inside it, but entered in error: it counts for nothing.
    wrong = _record(nurse, patient, "phq9", PHQ9_NONE, at(TUESDAY, 10))
    with time_machine.travel(at(TUESDAY, 11), tick=False):
        assessments.response_mark_entered_in_error(
            actor=nurse, response=wrong, reason="Another patient's answers"
        )
    assert _due_on_friday_morning(nurse) == {
        "baseline": (("gad7", "cssrs-screen"), True),
        "after_first_session": (("phq9",), True),
        "pre_session": (("phq9",), False),
    }


def test_responses_in_their_windows_clear_what_they_answer(week, patient, nurse):
    _record(nurse, patient, "gad7", GAD7_NONE, at(MONDAY, 8))
    _record(nurse, patient, "phq9", PHQ9_NONE, at(TUESDAY, 10))  # 25 h after the first session
    _record(nurse, patient, "phq9", PHQ9_NONE, at(FRIDAY, 7, 30))  # the session's morning
    assert _due_on_friday_morning(nurse) == {"baseline": (("cssrs-screen",), True)}


def test_a_response_the_day_before_the_session_is_no_pre_session_answer(week, patient, nurse):
    _record(nurse, patient, "phq9", PHQ9_NONE, at(WEDNESDAY, 8, 30))
    _record(nurse, patient, "phq9", PHQ9_NONE, at(FRIDAY - datetime.timedelta(days=1), 16))
    assert _due_on_friday_morning(nurse)["pre_session"] == (("phq9",), False)
