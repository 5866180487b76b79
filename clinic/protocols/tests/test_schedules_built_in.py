"""The built-in treatment schedules (clinic/protocols/schedules/built_in.py), date by date.

Sources: calculators.md §5 (the protocols table), clinical-reference.md §1.2 ([A9] 6
infusions 3×/week over 12 days; [A10] twice weekly × 3 weeks), §3.2 ([C2] esketamine TRD:
weeks 1–4 twice weekly, day 1 56 mg then 56 or 84; evaluate at week 4; weeks 5–8 weekly; week 9+
every 2 weeks or weekly), §3.3 ([C6] MDSI 84 mg twice weekly × 4 weeks), seed-facts.md
(maintenance every 2–8 weeks; one or two treatments a week during a series), policy-defaults.md
("Frequency warning": more than 2 a week beyond 8 weeks, [A5]).

Date layout (module docstring): n a week → days floor(7k/n) of each 7-day week from the phase's
first day (3 a week: days 0, 2, 4; 2 a week: days 0, 3); intervals step from the phase's first
day; each phase starts where the previous one's whole weeks (or intervals) end.
2027-01-04 is a Monday and 2027-01-07 a Thursday (1 January 2027 is a Friday). Every expected
date list below is worked by hand from those rules.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest

from clinic.protocols.dosing import DosingPolicy
from clinic.protocols.schedules import (
    BUILT_IN,
    ScheduleError,
    plan_schedule,
    validate_definition,
)
from clinic.protocols.tests.test_schedules import IV_DOSE, MONDAY, THURSDAY, days, plan

# --------------------------------------------------------------------------- built-in: IV

# 3 a week: days 0, 2, 4, 7, 9, 11 (twelve days, day 0 to day 11) [A9].
# 2 a week: days 0, 3, 7, 10, 14, 17 (three weeks) [A10].
IV_DATES = {
    ("iv-induction-3x-weekly", MONDAY): days("01-04", "01-06", "01-08", "01-11", "01-13", "01-15"),
    ("iv-induction-3x-weekly", THURSDAY): days(
        "01-07", "01-09", "01-11", "01-14", "01-16", "01-18"
    ),
    ("iv-induction-2x-weekly", MONDAY): days("01-04", "01-07", "01-11", "01-14", "01-18", "01-21"),
    ("iv-induction-2x-weekly", THURSDAY): days(
        "01-07", "01-10", "01-14", "01-17", "01-21", "01-24"
    ),
}


@pytest.mark.parametrize(("code", "start"), list(IV_DATES))
def test_iv_induction_dates_phases_doses_and_review(code, start):
    schedule = plan(code, start)
    assert list(schedule.dates) == IV_DATES[code, start]
    assert [s.number for s in schedule.sessions] == [1, 2, 3, 4, 5, 6]
    assert {s.phase for s in schedule.sessions} == {"induction"}
    assert all(s.dose.as_dict() == IV_DOSE for s in schedule.sessions)
    assert [r.after_session for r in schedule.review_points] == [6]
    assert schedule.warnings == ()


def test_the_contract_shape():
    body = plan("iv-induction-3x-weekly").as_dict()
    assert set(body) == {"protocol", "sessions", "review_points"}
    assert body["protocol"] == "iv-induction-3x-weekly"
    assert body["sessions"][0] == {
        "number": 1,
        "date": "2027-01-04",
        "phase": "induction",
        "dose": IV_DOSE,
    }
    assert body["review_points"] == [
        {
            "after_session": 6,
            "reason": "End of the induction series (6 infusions [A9]): review the response "
            "before any further sessions.",
        }
    ]
    json.dumps(body)  # JSON-serialisable as it is


def test_three_a_week_spans_twelve_days():
    dates = plan("iv-induction-3x-weekly").dates
    assert (dates[-1] - dates[0]).days + 1 == 12  # [A9] "over 12 days"


# --------------------------------------------------------------------------- built-in: esketamine

# Induction 2 a week: days 0, 3, 7, 10, 14, 17, 21, 24 (weeks 1–4); optimisation weekly from
# day 28: 28, 35, 42, 49 (weeks 5–8); maintenance from day 56 (week 9) every 2 weeks:
# 56, 70, 84, 98. From Monday 4 Jan: 4 Jan + 28 = 1 Feb; + 56 = 1 Mar (2027 is not a leap year).
TRD_MONDAY = days(
    "01-04", "01-07", "01-11", "01-14", "01-18", "01-21", "01-25", "01-28",
    "02-01", "02-08", "02-15", "02-22",
    "03-01", "03-15", "03-29", "04-12",
)  # fmt: skip
# From Thursday 7 Jan: + 28 = 4 Feb; + 56 = 4 Mar; then 18 Mar, 1 Apr, 15 Apr.
TRD_THURSDAY = days(
    "01-07", "01-10", "01-14", "01-17", "01-21", "01-24", "01-28", "01-31",
    "02-04", "02-11", "02-18", "02-25",
    "03-04", "03-18", "04-01", "04-15",
)  # fmt: skip
TRD_PHASES = ["induction"] * 8 + ["optimization"] * 4 + ["maintenance"] * 4


@pytest.mark.parametrize(("start", "dates"), [(MONDAY, TRD_MONDAY), (THURSDAY, TRD_THURSDAY)])
def test_esketamine_trd_default(start, dates):
    schedule = plan("esketamine-trd", start)
    assert list(schedule.dates) == dates
    assert [s.phase for s in schedule.sessions] == TRD_PHASES
    # Day 1 56 mg [C2]; then the option dose_mg (default 56).
    assert [s.dose.as_dict() for s in schedule.sessions] == [
        {"route": "esketamine", "dose_mg": 56}
    ] * 16
    assert [(r.after_session, r.reason) for r in schedule.review_points] == [
        (8, "End of week 4: evaluate the therapeutic benefit before continuing [C2].")
    ]
    assert dict(schedule.options) == {
        "dose_mg": 56,
        "maintenance_interval_weeks": 2,
        "maintenance_sessions": 4,
    }


def test_esketamine_trd_84_mg_weekly_maintenance():
    schedule = plan(
        "esketamine-trd", dose_mg=84, maintenance_interval_weeks=1, maintenance_sessions=3
    )
    # Maintenance weekly from day 56: 1 Mar, 8 Mar, 15 Mar.
    assert list(schedule.dates) == TRD_MONDAY[:12] + days("03-01", "03-08", "03-15")
    doses = [s.dose.dose_mg for s in schedule.sessions]
    assert doses == [56] + [84] * 14  # session 1 is always 56 mg [C2]


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"dose_mg": 28}, "dose_mg"),  # US label: subsequent doses 56 or 84 [C2]
        ({"dose_mg": 42}, "dose_mg"),
        ({"dose_mg": 56.0}, "dose_mg"),
        ({"maintenance_interval_weeks": 3}, "maintenance_interval_weeks"),
        ({"maintenance_interval_weeks": 0}, "maintenance_interval_weeks"),
        ({"maintenance_sessions": 0}, "maintenance_sessions"),
        ({"maintenance_sessions": 500}, "maintenance_sessions"),  # 200-session software limit
        ({"interval_weeks": 2}, "interval_weeks"),  # not an option of this protocol
    ],
)
def test_esketamine_trd_refused_options(options, field):
    with pytest.raises(ScheduleError) as raised:
        plan("esketamine-trd", **options)
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("start", "dates"),
    [
        (MONDAY, days("01-04", "01-07", "01-11", "01-14", "01-18", "01-21", "01-25", "01-28")),
        (THURSDAY, days("01-07", "01-10", "01-14", "01-17", "01-21", "01-24", "01-28", "01-31")),
    ],
)
def test_esketamine_mdsi(start, dates):
    schedule = plan("esketamine-mdsi", start)
    assert list(schedule.dates) == dates
    assert {s.phase for s in schedule.sessions} == {"induction"}
    assert {s.dose.dose_mg for s in schedule.sessions} == {84}  # [C6]
    assert [r.after_session for r in schedule.review_points] == [8]
    assert "[C6]" in schedule.review_points[0].reason


# --------------------------------------------------------------------------- built-in: maintenance


@pytest.mark.parametrize(
    ("start", "options", "dates"),
    [
        # Every 4 weeks (28 days), 6 sessions by default.
        (MONDAY, {"interval_weeks": 4}, days("01-04", "02-01", "03-01", "03-29", "04-26", "05-24")),
        (
            THURSDAY,
            {"interval_weeks": 4},
            days("01-07", "02-04", "03-04", "04-01", "04-29", "05-27"),
        ),
        # Every 2 weeks, 3 sessions: 4, 18 Jan, 1 Feb.
        (MONDAY, {"interval_weeks": 2, "count": 3}, days("01-04", "01-18", "02-01")),
        # Every 8 weeks (56 days), 3 sessions: 4 Jan, 1 Mar, 26 Apr.
        (MONDAY, {"interval_weeks": 8, "count": 3}, days("01-04", "03-01", "04-26")),
    ],
)
def test_maintenance(start, options, dates):
    schedule = plan("maintenance", start, **options)
    assert list(schedule.dates) == dates
    assert {s.phase for s in schedule.sessions} == {"maintenance"}
    assert all(s.dose.as_dict() == {} for s in schedule.sessions)  # the plan sets the dose
    assert schedule.review_points == ()


@pytest.mark.parametrize(
    ("options", "field", "message"),
    [
        ({"interval_weeks": 1}, "interval_weeks", "between 2 and 8"),
        ({"interval_weeks": 9}, "interval_weeks", "between 2 and 8"),
        ({}, "interval_weeks", "required"),
        ({"interval_weeks": None}, "interval_weeks", "required"),
        ({"interval_weeks": 4.0}, "interval_weeks", "whole number"),
        ({"interval_weeks": "4"}, "interval_weeks", "whole number"),
        ({"interval_weeks": True}, "interval_weeks", "whole number"),
        ({"interval_weeks": 4, "count": 0}, "count", "at least 1"),
        ({"interval_weeks": 4, "count": 201}, "count", "200"),
        ({"interval_weeks": 4, "weeks": 4}, "weeks", "Unknown option"),
    ],
)
def test_maintenance_refused_options(options, field, message):
    with pytest.raises(ScheduleError) as raised:
        plan("maintenance", **options)
    assert raised.value.field == field
    assert message in raised.value.message


# --------------------------------------------------------------------------- built-in: IM, SL


@pytest.mark.parametrize(
    ("start", "options", "dates"),
    [
        # 2 a week (days 0, 3, 7, 10, 14, 17), 6 sessions.
        (
            MONDAY,
            {"sessions": 6, "sessions_per_week": 2},
            days("01-04", "01-07", "01-11", "01-14", "01-18", "01-21"),
        ),
        # Once a week, 3 sessions.
        (THURSDAY, {"sessions": 3, "sessions_per_week": 1}, days("01-07", "01-14", "01-21")),
        # 2 a week, 3 sessions from a Thursday: days 0, 3, 7.
        (THURSDAY, {"sessions": 3, "sessions_per_week": 2}, days("01-07", "01-10", "01-14")),
    ],
)
def test_im_induction(start, options, dates):
    schedule = plan("im-induction", start, **options)
    assert list(schedule.dates) == dates
    assert {s.phase for s in schedule.sessions} == {"induction"}
    assert {json.dumps(s.dose.as_dict()) for s in schedule.sessions} == {
        json.dumps({"route": "im", "dose_mg_per_kg": 0.5})  # [B1]
    }
    assert [r.after_session for r in schedule.review_points] == [options["sessions"]]


def test_im_dose_option_within_the_policy_range():
    schedule = plan("im-induction", sessions=2, sessions_per_week=1, dose_mg_per_kg=0.25)
    assert schedule.sessions[0].dose.dose_mg_per_kg == Decimal("0.25")
    with pytest.raises(ScheduleError) as raised:
        plan("im-induction", sessions=2, sessions_per_week=1, dose_mg_per_kg=0.2)
    assert raised.value.field == "dose_mg_per_kg"
    assert "between 0.25 and 1.0 mg/kg" in raised.value.message


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"sessions_per_week": 2}, "sessions"),  # no reference gives an IM series length
        ({"sessions": 6}, "sessions_per_week"),
        ({"sessions": 6, "sessions_per_week": 3}, "sessions_per_week"),  # one or two a week
        ({"sessions": 0, "sessions_per_week": 2}, "sessions"),
    ],
)
def test_im_induction_required_options(options, field):
    with pytest.raises(ScheduleError) as raised:
        plan("im-induction", **options)
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("start", "options", "dates", "phase"),
    [
        (MONDAY, {"interval_days": 7}, days("01-04", "01-11", "01-18", "01-25"), "maintenance"),
        (
            THURSDAY,
            {"interval_days": 3, "phase": "induction"},
            days("01-07", "01-10", "01-13", "01-16"),
            "induction",
        ),
    ],
)
def test_sublingual_home(start, options, dates, phase):
    schedule = plan("sublingual-home", start, dose_mg=100, sessions=4, **options)
    assert list(schedule.dates) == dates
    assert {s.phase for s in schedule.sessions} == {phase}
    assert schedule.sessions[0].dose.as_dict() == {
        "route": "sublingual",
        "dose_mg": 100,
        "setting": "home",
    }
    assert [r.after_session for r in schedule.review_points] == [4]


def test_sublingual_decimal_dose():
    schedule = plan("sublingual-home", dose_mg=12.5, sessions=1, interval_days=1)
    assert schedule.sessions[0].dose.as_dict()["dose_mg"] == 12.5


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"sessions": 4, "interval_days": 7}, "dose_mg"),  # prescriber-set: no default
        ({"dose_mg": 0, "sessions": 4, "interval_days": 7}, "dose_mg"),
        ({"dose_mg": -5, "sessions": 4, "interval_days": 7}, "dose_mg"),
        ({"dose_mg": float("nan"), "sessions": 4, "interval_days": 7}, "dose_mg"),
        ({"dose_mg": 100, "interval_days": 7}, "sessions"),
        ({"dose_mg": 100, "sessions": 4}, "interval_days"),
        ({"dose_mg": 100, "sessions": 4, "interval_days": 0}, "interval_days"),
        ({"dose_mg": 100, "sessions": 4, "interval_days": 7, "phase": "optimization"}, "phase"),
    ],
)
def test_sublingual_refused_options(options, field):
    with pytest.raises(ScheduleError) as raised:
        plan("sublingual-home", **options)
    assert raised.value.field == field


# --------------------------------------------------------------------------- all built-ins

OPTIONS_FOR = {
    "maintenance": {"interval_weeks": 2},
    "im-induction": {"sessions": 8, "sessions_per_week": 2},
    "sublingual-home": {"dose_mg": 50, "sessions": 10, "interval_days": 1},
}


def test_the_built_in_codes():
    assert tuple(BUILT_IN) == (
        "iv-induction-3x-weekly",
        "iv-induction-2x-weekly",
        "esketamine-trd",
        "esketamine-mdsi",
        "maintenance",
        "im-induction",
        "sublingual-home",
    )


@pytest.mark.parametrize("code", list(BUILT_IN))
@pytest.mark.parametrize("start", [MONDAY, THURSDAY, datetime.date(2028, 2, 28)])
def test_no_date_twice_and_numbers_in_order(code, start):
    schedule = plan(code, start, **OPTIONS_FOR.get(code, {}))
    dates = schedule.dates
    assert len(set(dates)) == len(dates)
    assert list(dates) == sorted(dates)
    assert [s.number for s in schedule.sessions] == list(range(1, len(dates) + 1))
    assert dates[0] == start


@pytest.mark.parametrize("code", list(BUILT_IN))
def test_a_built_in_definition_round_trips_through_json(code):
    definition = BUILT_IN[code]
    data = json.loads(json.dumps(definition.as_dict()))
    assert validate_definition(data) == definition


def test_a_stricter_clinic_policy_applies_to_built_in_doses():
    policy = DosingPolicy(iv_max_mg_per_kg=Decimal("0.4"), iv_dose_mg_per_kg=Decimal("0.4"))
    with pytest.raises(ScheduleError) as raised:
        plan_schedule(BUILT_IN["iv-induction-3x-weekly"], MONDAY, policy=policy)
    assert "between 0.1 and 0.4 mg/kg" in raised.value.message


def test_the_start_date_must_be_a_date():
    with pytest.raises(ScheduleError) as raised:
        plan_schedule(BUILT_IN["esketamine-mdsi"], datetime.datetime(2027, 1, 4, 9, 0))
    assert raised.value.field == "start_date"
    with pytest.raises(ScheduleError) as raised:
        plan_schedule(BUILT_IN["esketamine-mdsi"], "2027-01-04")  # type: ignore[arg-type]
    assert raised.value.field == "start_date"


def test_a_schedule_past_the_calendar_is_refused():
    with pytest.raises(ScheduleError) as raised:
        plan("maintenance", datetime.date(9999, 12, 1), interval_weeks=2)
    assert raised.value.field == "start_date"
