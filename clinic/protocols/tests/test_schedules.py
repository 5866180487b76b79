"""Treatment schedules (clinic/protocols/schedules/): definitions, the frequency guard,
properties and purity. The built-in templates date by date: test_schedules_built_in.py.

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

import copy
import datetime
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.protocols import schedules
from clinic.protocols.dosing import DosingPolicy
from clinic.protocols.schedules import (
    BUILT_IN,
    ScheduleError,
    frequency_warnings,
    plan_schedule,
    validate_definition,
)

REPO = Path(__file__).resolve().parents[3]
MONDAY = datetime.date(2027, 1, 4)
THURSDAY = datetime.date(2027, 1, 7)


def d(text: str) -> datetime.date:
    """'01-04' → 2027-01-04."""
    return datetime.date.fromisoformat(f"2027-{text}")


def days(*texts: str) -> list[datetime.date]:
    return [d(text) for text in texts]


def plan(code: str, start: datetime.date = MONDAY, **options):
    return plan_schedule(BUILT_IN[code], start, options, protocol=code)


IV_DOSE = {"route": "iv", "dose_mg_per_kg": 0.5, "infusion_minutes": 40}


# --------------------------------------------------------------------------- custom definitions


def titration() -> dict:
    """A clinic's custom template: 0.5 mg/kg × 3 then 0.75 mg/kg × 3, 3 a week (a titration in
    the style of clinical-reference.md §1.1, where the escalation is UNCONFIRMED: a clinic's own
    template, not a built-in)."""
    return {
        "name": "IV titration",
        "route": "iv",
        "options": {},
        "phases": [
            {
                "phase": "induction",
                "sessions": 6,
                "sessions_per_week": 3,
                "dose": IV_DOSE,
                "dose_changes": [
                    {
                        "from_session": 4,
                        "dose": {"route": "iv", "dose_mg_per_kg": 0.75, "infusion_minutes": 40},
                    }
                ],
                "review_points": [{"after": 3, "reason": "After 3 infusions."}],
            }
        ],
    }


def test_a_custom_definition_with_a_dose_change():
    schedule = plan_schedule(validate_definition(titration()), MONDAY, protocol="custom")
    assert [float(s.dose.dose_mg_per_kg) for s in schedule.sessions] == [0.5] * 3 + [0.75] * 3
    assert [r.after_session for r in schedule.review_points] == [3]
    assert schedule.as_dict()["protocol"] == "custom"


def test_review_points_count_within_their_phase():
    data = {
        "route": None,
        "phases": [
            {"phase": "induction", "sessions": 2, "interval_days": 2, "dose": {}},
            {
                "phase": "maintenance",
                "sessions": 3,
                "interval_weeks": 2,
                "dose": {},
                "review_points": [{"after": 1, "reason": "First maintenance session."}],
            },
        ],
    }
    schedule = plan_schedule(validate_definition(data), MONDAY)
    # Induction days 0, 2 (spans 2 × 2 = 4 days); maintenance from day 4 every 14 days: 4, 18, 32.
    assert list(schedule.dates) == days("01-04", "01-06", "01-08", "01-22", "02-05")
    assert [r.after_session for r in schedule.review_points] == [3]


def phase(**changes) -> dict:
    base = {"phase": "induction", "sessions": 2, "sessions_per_week": 2, "dose": IV_DOSE}
    base.update(changes)
    return {key: value for key, value in base.items() if value is not None}


def with_phase(**changes) -> dict:
    return {"route": "iv", "phases": [phase(**changes)]}


INVALID = [
    # (definition, field)
    (with_phase(phase="titration"), "phases[0].phase"),  # unknown phase
    (with_phase(phase="Induction"), "phases[0].phase"),
    (with_phase(sessions=0), "phases[0].sessions"),  # zero sessions
    (with_phase(sessions=-1), "phases[0].sessions"),
    (with_phase(sessions=2.5), "phases[0].sessions"),
    (with_phase(sessions_per_week=8), "phases[0].sessions_per_week"),  # two a day
    (with_phase(sessions_per_week=0), "phases[0].sessions_per_week"),
    (with_phase(sessions_per_week=None, interval_days=0), "phases[0].interval_days"),
    (with_phase(sessions_per_week=None, interval_weeks=0), "phases[0].interval_weeks"),
    (with_phase(sessions_per_week=None), "phases[0].sessions_per_week"),  # no spacing
    (with_phase(interval_days=3), "phases[0].interval_days"),  # two spacings
    (with_phase(sessions=201), "phases"),
    (with_phase(extra=1), "phases[0].extra"),  # unknown key
    (with_phase(dose={"route": "iv", "dose_mg_per_kg": 1.5, "infusion_minutes": 40}),
     "phases[0].dose.dose_mg_per_kg"),
    (with_phase(dose={"route": "iv", "dose_mg_per_kg": 0.5}), "phases[0].dose.infusion_minutes"),
    (with_phase(dose={"route": "iv", "dose_mg_per_kg": 0.5, "infusion_minutes": 200}),
     "phases[0].dose.infusion_minutes"),
    (with_phase(dose={"route": "im", "dose_mg_per_kg": 0.5}), "phases[0].dose.route"),
    (with_phase(dose={"route": "iv", "dose_mg": 40}), "phases[0].dose.dose_mg"),
    (with_phase(dose={"dose_mg": 40}), "phases[0].dose.dose_mg"),
    (with_phase(dose=None), "phases[0].dose"),
    (with_phase(review_points=[{"after": 3, "reason": "x"}]), "phases[0].review_points[0].after"),
    (with_phase(review_points=[{"after": 0, "reason": "x"}]), "phases[0].review_points[0].after"),
    (with_phase(review_points=[{"after": "end"}]), "phases[0].review_points[0].reason"),
    (with_phase(dose_changes=[{"from_session": 1, "dose": IV_DOSE}]),
     "phases[0].dose_changes[0].from_session"),
    (with_phase(dose_changes=[{"from_session": 3, "dose": IV_DOSE}]),
     "phases[0].dose_changes[0].from_session"),
    (with_phase(sessions={"option": "count"}), "phases[0].sessions"),  # undeclared option
    ({"route": "iv", "phases": []}, "phases"),
    ({"route": "oral", "phases": [phase()]}, "route"),
    ({"route": "iv", "phases": [phase()], "code": "x"}, "code"),
    ({"route": "iv", "phases": [phase()], "options": {"count": {"type": "integer"}}},
     "options.count.default"),  # neither required nor a default
    ({"route": "iv", "phases": [phase()],
      "options": {"count": {"type": "integer", "default": 2}}}, "options.count"),  # unused
    ({"route": "iv", "phases": [phase(sessions={"option": "count"})],
      "options": {"count": {"type": "integer", "required": True, "default": 2}}},
     "options.count.default"),
    ({"route": "iv", "phases": [phase(sessions={"option": "count"})],
      "options": {"count": {"type": "number", "default": 2}}}, "options.count.type"),
    ({"route": "iv", "phases": [phase(sessions={"option": "count"})],
      "options": {"count": {"type": "integer", "default": 0}}}, "options.count.default"),
    ({"route": "iv", "phases": [phase(sessions={"option": "count"})],
      "options": {"count": {"type": "integer", "default": 9, "maximum": 8}}},
     "options.count.default"),
    ({"route": "iv", "phases": [phase(sessions={"option": "start_date"})],
      "options": {"start_date": {"type": "integer", "default": 2}}}, "options.start_date"),
    ({"route": "esketamine", "phases": [phase(dose={"route": "esketamine", "dose_mg": 42})]},
     "phases[0].dose.dose_mg"),
    ({"route": "esketamine",
      "phases": [phase(dose={"route": "esketamine", "dose_mg": {"option": "dose_mg"}})],
      "options": {"dose_mg": {"type": "integer", "choices": [56, 70], "default": 56}}},
     "options.dose_mg.choices"),
    ({"route": "sublingual",
      "phases": [phase(dose={"route": "sublingual", "dose_mg": 100, "setting": "car"})]},
     "phases[0].dose.setting"),
    ([], "definition"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "field"), INVALID)
def test_invalid_definitions_name_the_field(data, field):
    with pytest.raises(ScheduleError) as raised:
        validate_definition(data)
    assert raised.value.field == field, raised.value.message


def test_validate_does_not_change_its_input():
    data = titration()
    before = copy.deepcopy(data)
    validate_definition(data)
    assert data == before


# --------------------------------------------------------------------------- frequency guard


def test_more_than_twice_weekly_beyond_8_weeks_is_a_warning():
    data = {"route": "iv", "phases": [phase(sessions=36, sessions_per_week=3)]}
    schedule = plan_schedule(validate_definition(data), MONDAY)  # 12 weeks at 3 a week
    # Weeks 9–12 start on days 56, 63, 70, 77: 1, 8, 15, 22 March.
    assert len(schedule.warnings) == 4
    assert schedule.warnings[0].startswith("3 sessions in week 9 of the course (from 2027-03-01)")
    assert "[A5]" in schedule.warnings[0]
    assert "2027-03-22" in schedule.warnings[3]
    assert list(schedule.warnings) == frequency_warnings(schedule.dates)


@pytest.mark.parametrize(
    ("sessions", "per_week"),
    [(24, 3), (40, 2), (8, 7)],  # 8 weeks at 3 a week; 20 weeks at 2 a week; 8 in one week
)
def test_no_warning_within_8_weeks_or_at_2_a_week(sessions, per_week):
    data = {"route": "iv", "phases": [phase(sessions=sessions, sessions_per_week=per_week)]}
    assert plan_schedule(validate_definition(data), MONDAY).warnings == ()


def test_frequency_warnings_of_loose_dates():
    assert frequency_warnings([]) == []
    start = MONDAY
    # Days 56, 58, 60 are all in week 9 (days 56–62); the order of the input does not matter.
    dates = [start + datetime.timedelta(days=n) for n in (60, 0, 56, 58)]
    assert len(frequency_warnings(dates)) == 1
    assert frequency_warnings(dates, DosingPolicy(frequency_warning_sessions_per_week=3)) == []
    assert frequency_warnings(dates, DosingPolicy(frequency_warning_after_weeks=9)) == []


# --------------------------------------------------------------------------- properties

spacing = st.one_of(
    st.builds(lambda n: {"sessions_per_week": n}, st.integers(1, 7)),
    st.builds(lambda n: {"interval_days": n}, st.integers(1, 30)),
    st.builds(lambda n: {"interval_weeks": n}, st.integers(1, 8)),
)
phase_data = st.builds(
    lambda name, sessions, space: {"phase": name, "sessions": sessions, **space, "dose": {}},
    st.sampled_from(schedules.PHASES),
    st.integers(1, 30),
    spacing,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    phases=st.lists(phase_data, min_size=1, max_size=5),
    start=st.dates(min_value=datetime.date(2000, 1, 1), max_value=datetime.date(2100, 12, 31)),
)
def test_any_valid_definition_gives_strictly_increasing_dates(phases, start):
    schedule = plan_schedule(validate_definition({"phases": phases}), start)
    dates = schedule.dates
    assert len(dates) == sum(p["sessions"] for p in phases)
    assert dates[0] == start
    assert all(earlier < later for earlier, later in zip(dates, dates[1:], strict=False))
    assert [s.phase for s in schedule.sessions] == [
        p["phase"] for p in phases for _ in range(p["sessions"])
    ]


json_value = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=2),
)
option_names = st.sampled_from(
    sorted({o.name for definition in BUILT_IN.values() for o in definition.options} | {"x"})
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    code=st.sampled_from(list(BUILT_IN)),
    options=st.dictionaries(option_names, json_value, max_size=5),
    start=st.dates(),
)
def test_any_options_give_a_schedule_or_a_schedule_error(code, options, start):
    try:
        schedule = plan_schedule(BUILT_IN[code], start, options, protocol=code)
    except ScheduleError as error:
        assert error.field
    else:
        dates = schedule.dates
        assert all(earlier < later for earlier, later in zip(dates, dates[1:], strict=False))
        json.dumps(schedule.as_dict())


# --------------------------------------------------------------------------- vocabularies, purity


def test_phases_match_the_django_choices():
    from clinic.protocols.choices import Phase

    assert tuple(Phase.values) == schedules.PHASES


def test_schedules_imports_no_django():
    code = (
        "import sys, clinic.protocols.schedules; "
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))"
    )
    result = subprocess.run(  # noqa: S603 (our own interpreter, a fixed command)
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
