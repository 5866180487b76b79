"""The assessment schedule (policy-defaults.md): baseline, pre-session, ~24 h after the first
session (20–28 h, [H2]), end of induction, every 14 days in maintenance."""

import datetime as dt

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from clinic.assessments.schedule import (
    CourseFacts,
    SchedulePolicy,
    SessionBounds,
    Taken,
    due_assessments,
    facts_from_witnesses,
    witnesses_of,
)

T0 = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)  # the first session
POLICY = SchedulePolicy(
    baseline_instruments=("phq9",),
    pre_session_instruments=("phq9",),
    after_first_session_instruments=("phq9",),
    end_of_induction_instruments=("phq9",),
    maintenance_instruments=("phq9",),
)


def hours(n):
    return dt.timedelta(hours=n)


def due(facts, now):
    return [(d.timepoint, d.overdue) for d in due_assessments(facts, now, POLICY)]


def test_a_new_patient_owes_a_baseline_that_is_not_overdue_without_sessions():
    assert due(CourseFacts(), T0) == [("baseline", False)]


def test_baseline_is_overdue_once_the_first_session_has_started():
    assert due(CourseFacts(sessions=[T0]), T0 + hours(1))[0] == ("baseline", True)


def test_a_baseline_taken_before_the_first_session_satisfies_it():
    facts = CourseFacts(taken=[Taken("phq9", T0 - hours(48))], sessions=[T0])
    assert ("baseline", False) not in due(facts, T0 - hours(1))
    assert "baseline" not in [t for t, _ in due(facts, T0 + hours(1))]


def test_the_24_hour_check_opens_at_20_h_and_is_overdue_after_28_h():
    facts = CourseFacts(taken=[Taken("phq9", T0 - hours(1))], sessions=[T0])
    assert due(facts, T0 + hours(19)) == []
    assert due(facts, T0 + hours(20)) == [("after_first_session", False)]
    assert due(facts, T0 + hours(28)) == [("after_first_session", False)]
    assert due(facts, T0 + hours(29)) == [("after_first_session", True)]


def test_a_response_inside_the_window_satisfies_the_24_hour_check():
    facts = CourseFacts(
        taken=[Taken("phq9", T0 - hours(1)), Taken("phq9", T0 + hours(24))], sessions=[T0]
    )
    assert due(facts, T0 + hours(30)) == []


def test_the_pre_session_set_is_due_on_the_day_of_the_next_session():
    second = T0 + dt.timedelta(days=2)
    facts = CourseFacts(
        taken=[Taken("phq9", T0 - hours(1)), Taken("phq9", T0 + hours(24))], sessions=[T0, second]
    )
    assert due(facts, second - dt.timedelta(days=1)) == []
    assert due(facts, second - hours(2)) == [("pre_session", False)]
    done = CourseFacts(
        taken=[*facts.taken, Taken("phq9", second - hours(1))], sessions=[T0, second]
    )
    assert due(done, second - hours(0.5)) == []


def test_end_of_induction_is_due_after_the_last_induction_session_and_overdue_at_the_next():
    last = T0 + dt.timedelta(days=12)
    maintenance = last + dt.timedelta(days=21)
    taken = [Taken("phq9", T0 - hours(1)), Taken("phq9", T0 + hours(24))]
    facts = CourseFacts(taken=taken, sessions=[T0, last, maintenance], induction_end=last)
    assert ("end_of_induction", False) in due(facts, last + hours(2))
    assert ("end_of_induction", True) in due(facts, maintenance + hours(1))


def test_maintenance_checks_every_14_days_after_the_last_score():
    last_score = T0 + dt.timedelta(days=30)
    facts = CourseFacts(
        taken=[
            Taken("phq9", T0 - hours(1)),
            Taken("phq9", T0 + hours(24)),
            Taken("phq9", last_score),
        ],
        sessions=[T0],
        in_maintenance=True,
    )
    assert due(facts, last_score + dt.timedelta(days=13)) == []
    assert due(facts, last_score + dt.timedelta(days=14)) == [("maintenance", False)]
    assert due(facts, last_score + dt.timedelta(days=15)) == [("maintenance", True)]


def test_only_the_missing_instruments_are_listed():
    policy = SchedulePolicy(baseline_instruments=("phq9", "gad7", "cssrs-screen"))
    facts = CourseFacts(taken=[Taken("gad7", T0 - hours(3))])
    [item] = due_assessments(facts, T0, policy)
    assert item.missing == ("phq9", "cssrs-screen")


# ------------------------------------------------------------------ the witnesses of a history
# The due list reads, per instrument, three witnesses instead of the whole history
# (schedule.py, "the history that counts"). Whatever the history, the answer must not change.


_START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
# Times on a 30-minute grid over ~40 days: windows of hours and days are hit and missed often.
_moments = st.integers(min_value=0, max_value=40 * 48).map(
    lambda n: _START + dt.timedelta(minutes=30 * n)
)
_taken = st.lists(
    st.builds(Taken, st.sampled_from(["phq9", "gad7", "cssrs-screen"]), _moments), max_size=25
)


@hypothesis_settings(max_examples=400, deadline=None)
@given(taken=_taken, sessions=st.lists(_moments, max_size=8), now=_moments)
def test_three_witnesses_per_instrument_answer_as_the_whole_history_does(taken, sessions, now):
    whole = due_assessments(CourseFacts(taken=taken, sessions=sessions), now)
    bounds = SessionBounds(
        first=min(sessions, default=None),
        next_after_now=min((s for s in sessions if s > now), default=None),
    )
    assert due_assessments(facts_from_witnesses(witnesses_of(taken, bounds), bounds), now) == whole


def test_the_witnesses_of_a_history():
    first = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    upcoming = dt.datetime(2026, 3, 20, 9, tzinfo=dt.UTC)
    taken = [
        Taken("phq9", first - dt.timedelta(days=3)),  # baseline
        Taken("phq9", first + dt.timedelta(hours=19)),  # before the next-day window opens (20 h)
        Taken("phq9", first + dt.timedelta(hours=22)),  # in it
        Taken("phq9", first + dt.timedelta(days=10)),
        Taken("phq9", upcoming - dt.timedelta(hours=1)),  # before the next session
        Taken("phq9", upcoming + dt.timedelta(hours=1)),  # after it (dated ahead)
    ]
    w = witnesses_of(taken, SessionBounds(first=first, next_after_now=upcoming))["phq9"]
    assert w.first == first - dt.timedelta(days=3)
    assert w.first_after_next_day_opens == first + dt.timedelta(hours=22)
    assert w.last_before_next_session == upcoming - dt.timedelta(hours=1)
