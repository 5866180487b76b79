"""Session safety rules (clinic/treatment_sessions/rules.py).

Expected values are worked by hand from docs/clinical/policy-defaults.md and
clinical-reference.md (source keys in square brackets, §11), never taken from running the code.
Pure Python: nothing here imports Django.

Long because: table-driven golden cases for the one pure rules module, rule by rule in its
order; they share its policy fixtures and a reader checks them against the sources together.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.assessments.instruments.base import ScoringPolicy
from clinic.protocols.dosing import DosingPolicy
from clinic.treatment_sessions import rules
from clinic.treatment_sessions.rules import (
    ALERT_CODES,
    DEFAULT_POLICY,
    REMS_MONITORING_FIELDS,
    FieldError,
    ImplausibleReadingError,
    SessionPolicy,
    VitalsReading,
    check_vitals_plausible,
    discharge_check,
    esketamine_device_check,
    esketamine_next_device_allowed_at,
    fasting_check,
    minimum_observation_end,
    next_vitals_due,
    pre_dose_check,
    rems_form_due,
    rems_form_missing,
    rems_form_overdue,
    vitals_alerts,
)

REPO = Path(__file__).resolve().parents[3]
UTC = dt.UTC
T0 = dt.datetime(2027, 1, 4, 10, 0, tzinfo=UTC)  # a Monday, 10:00


def at(minutes: float = 0, seconds: int = 0) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes, seconds=seconds)


def clock(hour: int, minute: int = 0) -> dt.datetime:
    return T0.replace(hour=hour, minute=minute)


def bp(systolic, diastolic, minutes: float = 0, seconds: int = 0) -> VitalsReading:
    return VitalsReading(at(minutes, seconds), systolic_mmhg=systolic, diastolic_mmhg=diastolic)


def hr(rate, minutes: float = 0, seconds: int = 0) -> VitalsReading:
    return VitalsReading(at(minutes, seconds), heart_rate_bpm=rate)


def codes(alerts) -> list[str]:
    return [alert.code for alert in alerts]


# --------------------------------------------------------------------------- policy defaults

# Every default, as policy-defaults.md states it.
POLICY_DEFAULTS = [
    ("pre_dose_confirm_systolic_above_mmhg", 140),  # > 140 [C2], [E1]
    ("pre_dose_confirm_diastolic_above_mmhg", 90),  # > 90 [C2], [E1]
    ("bp_alert_systolic_mmhg", 180),  # ≥ 180 [E4]
    ("bp_alert_diastolic_mmhg", 110),  # ≥ 110 [E4]
    ("bp_repeat_minutes", 5),  # two readings 5 min apart [E4]
    ("bp_very_high_systolic_mmhg", 200),  # ≥ 200 once [E4]
    ("bp_very_high_diastolic_mmhg", 120),  # ≥ 120 once [E4]
    ("bp_action_recommendation", "pause"),
    ("hr_alert_above_bpm", 120),  # > 120 [E4]
    ("hr_sustained_minutes", 5),  # sustained 5 min [E4]
    ("hr_sustained_recommendation", "pause"),  # "→ pause recommendation" [E4]
    ("spo2_alert_below_percent", 92),  # < 92 % [E8]
    ("spo2_critical_below_percent", 90),  # < 90 % [E8]
    ("respiratory_rate_alert_below_per_min", 10),  # < 10 [E3]
    ("respiratory_rate_alert_above_per_min", 30),  # > 30 [E3]
    ("iv_vitals_during_infusion_minutes", 10),  # every 10 min during infusion [E6]
    ("iv_vitals_after_infusion_minutes", 15),  # every 15 min until discharge [E6]
    ("im_vitals_after_injection_minutes", 15),  # UNCONFIRMED: the IV interval applied to IM
    ("esketamine_bp_recheck_minutes", 40),  # ~40 min after dose [C2]
    ("esketamine_continuous_pulse_oximetry", True),  # [C2], [C16], [C10]
    ("fasting_solids_hours", 4),  # [E12]
    ("fasting_clear_liquids_hours", 2),  # [E12]
    ("esketamine_no_food_hours", 2),  # [C3]
    ("esketamine_no_liquids_minutes", 30),  # [C3]
    ("escort_required", True),  # [C3], [E11]
    ("esketamine_observation_minutes", 120),  # [C9], [C10]
    ("iv_observation_minutes", 30),  # [E11]
    ("im_observation_minutes", 60),  # clinic policy
    ("discharge_aldrete_minimum", 9),  # [E8]
    ("esketamine_minutes_between_devices", 5),  # [C2]
    ("rems_form_days", 7),  # [C15]
    ("plausible_systolic_mmhg", (50, 300)),
    ("plausible_diastolic_mmhg", (20, 200)),
    ("plausible_heart_rate_bpm", (20, 250)),
    ("plausible_spo2_percent", (50, 100)),
    ("plausible_respiratory_rate_per_min", (4, 60)),
    ("plausible_temperature_c", (Decimal(30), Decimal(43))),
]


def test_every_policy_field_has_its_documented_default():
    assert [name for name, _ in POLICY_DEFAULTS] == [
        field.name for field in dataclasses.fields(SessionPolicy)
    ]
    for name, expected in POLICY_DEFAULTS:
        assert getattr(DEFAULT_POLICY, name) == expected, name


def test_shared_values_agree_with_the_other_pure_policies():
    assert DEFAULT_POLICY.discharge_aldrete_minimum == ScoringPolicy().aldrete_discharge_total
    dosing = DosingPolicy()
    assert (
        DEFAULT_POLICY.esketamine_minutes_between_devices
        == dosing.esketamine_minutes_between_devices
    )
    assert DEFAULT_POLICY.esketamine_observation_minutes == dosing.esketamine_observation_minutes


def _core_plausible_ranges() -> dict[str, tuple[Decimal, Decimal]]:
    """DEFAULT_PLAUSIBLE_RANGES of clinic/core/policy.py, read as source (it imports Django)."""
    tree = ast.parse((REPO / "clinic/core/policy.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == "DEFAULT_PLAUSIBLE_RANGES"
        ):
            assert isinstance(node.value, ast.Dict)
            ranges = {}
            for key, call in zip(node.value.keys, node.value.values, strict=True):
                low, high = (Decimal(str(arg.args[0].value)) for arg in call.args[:2])
                ranges[key.value] = (low, high)
            return ranges
    raise AssertionError("DEFAULT_PLAUSIBLE_RANGES not found in clinic/core/policy.py")


def test_plausible_ranges_match_clinic_core_policy():
    core = _core_plausible_ranges()
    for name in (
        "systolic_mmhg",
        "diastolic_mmhg",
        "heart_rate_bpm",
        "spo2_percent",
        "respiratory_rate_per_min",
        "temperature_c",
    ):
        low, high = getattr(DEFAULT_POLICY, f"plausible_{name}")
        assert (Decimal(low), Decimal(high)) == core[name], name


@pytest.mark.parametrize(
    "changes",
    [
        {"esketamine_minutes_between_devices": 4},  # below the label's 5 [C2]
        {"esketamine_observation_minutes": 119},  # below the label's 120 [C9]
        {"rems_form_days": 8},  # beyond the REMS's 7 days [C15]
        {"esketamine_continuous_pulse_oximetry": False},  # REMS [C10]
        {"fasting_solids_hours": 3},  # clinic may choose 4–8 h
        {"fasting_solids_hours": 9},
        {"discharge_aldrete_minimum": 11},  # the score runs 0–10 [E8]
        {"bp_action_recommendation": "continue"},
        {"hr_sustained_recommendation": "wait"},
        {"spo2_critical_below_percent": 93},
        {"respiratory_rate_alert_below_per_min": 30},
        {"bp_very_high_systolic_mmhg": 179},
        {"bp_alert_systolic_mmhg": 0},
        {"bp_repeat_minutes": True},
        {"escort_required": "yes"},
        {"plausible_systolic_mmhg": (300, 50)},
        {"plausible_temperature_c": (Decimal(30),)},
    ],
)
def test_a_policy_laxer_than_the_label_or_inconsistent_is_refused(changes):
    with pytest.raises(ValueError):
        SessionPolicy(**changes)


def test_a_stricter_policy_is_accepted():
    policy = SessionPolicy(
        esketamine_minutes_between_devices=6,
        esketamine_observation_minutes=150,
        rems_form_days=5,
        fasting_solids_hours=8,
        bp_action_recommendation="stop",
    )
    assert policy.fasting_solids_hours == 8


# --------------------------------------------------------------------------- plausibility


@pytest.mark.parametrize(
    ("values", "error_fields"),
    [
        ({"systolic_mmhg": 50, "diastolic_mmhg": 20}, []),
        ({"systolic_mmhg": 49, "diastolic_mmhg": 20}, ["systolic_mmhg"]),
        ({"systolic_mmhg": 300, "diastolic_mmhg": 200}, []),
        ({"systolic_mmhg": 301, "diastolic_mmhg": 100}, ["systolic_mmhg"]),
        ({"systolic_mmhg": 120, "diastolic_mmhg": 19}, ["diastolic_mmhg"]),
        ({"systolic_mmhg": 250, "diastolic_mmhg": 201}, ["diastolic_mmhg"]),
        ({"systolic_mmhg": 120, "diastolic_mmhg": 119}, []),  # below systolic
        ({"systolic_mmhg": 120, "diastolic_mmhg": 120}, ["diastolic_mmhg"]),  # not below
        ({"systolic_mmhg": 120}, ["diastolic_mmhg"]),  # a BP needs both values
        ({"diastolic_mmhg": 80}, ["systolic_mmhg"]),
        ({"heart_rate_bpm": 20}, []),
        ({"heart_rate_bpm": 19}, ["heart_rate_bpm"]),
        ({"heart_rate_bpm": 250}, []),
        ({"heart_rate_bpm": 251}, ["heart_rate_bpm"]),
        ({"spo2_percent": 50}, []),
        ({"spo2_percent": 49}, ["spo2_percent"]),
        ({"spo2_percent": 100}, []),
        ({"spo2_percent": 101}, ["spo2_percent"]),
        ({"respiratory_rate_per_min": 4}, []),
        ({"respiratory_rate_per_min": 3}, ["respiratory_rate_per_min"]),
        ({"respiratory_rate_per_min": 60}, []),
        ({"respiratory_rate_per_min": 61}, ["respiratory_rate_per_min"]),
        ({"temperature_c": 30}, []),
        ({"temperature_c": Decimal("29.9")}, ["temperature_c"]),
        ({"temperature_c": Decimal("43.0")}, []),
        ({"temperature_c": 43.1}, ["temperature_c"]),
        ({"heart_rate_bpm": True}, ["heart_rate_bpm"]),
        ({"spo2_percent": float("nan")}, ["spo2_percent"]),
        ({"heart_rate_bpm": "80"}, ["heart_rate_bpm"]),
        ({}, []),
    ],
)
def test_plausibility_edges(values, error_fields):
    errors = check_vitals_plausible(VitalsReading(T0, **values))
    assert [error.field for error in errors] == error_fields


def test_plausibility_messages_name_the_field_and_range():
    assert check_vitals_plausible(VitalsReading(T0, heart_rate_bpm=251)) == [
        FieldError("heart_rate_bpm", "Heart rate must be between 20 and 250 bpm.")
    ]
    assert check_vitals_plausible(bp(120, 120)) == [
        FieldError("diastolic_mmhg", "Diastolic pressure (120) must be below systolic (120).")
    ]


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError, match="aware"):
        VitalsReading(dt.datetime(2027, 1, 4, 10, 0))  # noqa: DTZ001 (the case under test)


def test_an_implausible_reading_gets_no_alerts_but_an_error():
    with pytest.raises(ImplausibleReadingError) as caught:
        vitals_alerts(bp(310, 100))
    assert [error.field for error in caught.value.errors] == ["systolic_mmhg"]


# --------------------------------------------------------------------------- single-reading alerts


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # BP: alert at systolic ≥ 180 or diastolic ≥ 110; once ≥ 200/120 → pause [E4].
        ({"systolic_mmhg": 179, "diastolic_mmhg": 109}, []),
        ({"systolic_mmhg": 180, "diastolic_mmhg": 110}, ["bp_high"]),
        ({"systolic_mmhg": 180, "diastolic_mmhg": 90}, ["bp_high"]),
        ({"systolic_mmhg": 150, "diastolic_mmhg": 110}, ["bp_high"]),
        ({"systolic_mmhg": 199, "diastolic_mmhg": 119}, ["bp_high"]),
        ({"systolic_mmhg": 200, "diastolic_mmhg": 119}, ["bp_very_high"]),
        ({"systolic_mmhg": 199, "diastolic_mmhg": 120}, ["bp_very_high"]),
        ({"systolic_mmhg": 200, "diastolic_mmhg": 120}, ["bp_very_high"]),
        # HR: alert above 120 [E4].
        ({"heart_rate_bpm": 120}, []),
        ({"heart_rate_bpm": 121}, ["hr_high"]),
        # SpO2: alert below 92, critical below 90 [E8].
        ({"spo2_percent": 92}, []),
        ({"spo2_percent": 91}, ["spo2_low"]),
        ({"spo2_percent": 90}, ["spo2_low"]),
        ({"spo2_percent": 89}, ["spo2_critical"]),
        # Respiratory rate: alert below 10 or above 30 [E3].
        ({"respiratory_rate_per_min": 10}, []),
        ({"respiratory_rate_per_min": 9}, ["respiratory_rate_low"]),
        ({"respiratory_rate_per_min": 30}, []),
        ({"respiratory_rate_per_min": 31}, ["respiratory_rate_high"]),
        # Temperature has no alert limit in the policy.
        ({"temperature_c": Decimal("38.5")}, []),
        # Several at once: one per vital, in the order BP, HR, SpO2, respiratory rate.
        (
            {
                "systolic_mmhg": 185,
                "diastolic_mmhg": 100,
                "heart_rate_bpm": 125,
                "spo2_percent": 89,
                "respiratory_rate_per_min": 8,
            },
            ["bp_high", "hr_high", "spo2_critical", "respiratory_rate_low"],
        ),
    ],
)
def test_single_reading_alert_boundaries(values, expected):
    assert codes(vitals_alerts(VitalsReading(T0, **values))) == expected


@pytest.mark.parametrize(
    ("code", "severity", "recommendation", "source"),
    [
        ("bp_high", "alert", "continue", "[E4]"),
        ("bp_high_repeated", "critical", "pause", "[E4]"),
        ("bp_very_high", "critical", "pause", "[E4]"),
        ("hr_high", "alert", "continue", "[E4]"),
        ("hr_high_sustained", "critical", "pause", "[E4]"),
        ("spo2_low", "alert", None, "[E8]"),
        ("spo2_critical", "critical", None, "[E8]"),
        ("respiratory_rate_low", "alert", None, "[E3]"),
        ("respiratory_rate_high", "alert", None, "[E3]"),
    ],
)
def test_severity_recommendation_and_source_per_alert(code, severity, recommendation, source):
    cases = {
        "bp_high": (bp(185, 100, 5), []),
        "bp_high_repeated": (bp(185, 100, 5), [bp(185, 100, 0)]),
        "bp_very_high": (bp(200, 100, 5), []),
        "hr_high": (hr(125, 5), []),
        "hr_high_sustained": (hr(125, 5), [hr(125, 0)]),
        "spo2_low": (VitalsReading(T0, spo2_percent=91), []),
        "spo2_critical": (VitalsReading(T0, spo2_percent=89), []),
        "respiratory_rate_low": (VitalsReading(T0, respiratory_rate_per_min=9), []),
        "respiratory_rate_high": (VitalsReading(T0, respiratory_rate_per_min=31), []),
    }
    reading, previous = cases[code]
    (alert,) = vitals_alerts(reading, previous)
    assert (alert.code, alert.severity, alert.recommendation, alert.source) == (
        code,
        severity,
        recommendation,
        source,
    )


def test_messages_give_the_values_and_limits():
    (alert,) = vitals_alerts(bp(185, 100))
    assert alert.message == (
        "BP 185/100 mmHg: systolic 185 mmHg is at or above 180 mmHg. Recheck in 5 min; if "
        "still at or above, pause dosing (clinic policy)."
    )
    (alert,) = vitals_alerts(bp(186, 100, 6), [bp(185, 100, 0)])
    assert alert.message == (
        "BP 186/100 mmHg: systolic 186 mmHg is at or above 180 mmHg on readings 6 min apart. "
        "Pause dosing and inform the prescriber (clinic policy)."
    )


@pytest.mark.parametrize(
    ("systolic", "diastolic", "words"),
    [
        # The example: 190/120 reaches the very-high limit by its diastolic only, so
        # saying "190/120 is at or above 200/120" would be false for the systolic.
        (190, 120, "diastolic 120 mmHg is at or above 120 mmHg (very high)"),
        (205, 100, "systolic 205 mmHg is at or above 200 mmHg (very high)"),
        (210, 125, "systolic 210 and diastolic 125 mmHg are at or above 200 and 120 mmHg"),
    ],
)
def test_a_very_high_reading_names_the_part_that_reached_the_limit(systolic, diastolic, words):
    (alert,) = vitals_alerts(bp(systolic, diastolic))
    assert alert.code == "bp_very_high"
    assert alert.message.startswith(f"BP {systolic}/{diastolic} mmHg: {words}")


def test_a_high_diastolic_alone_is_named_as_the_diastolic():
    (alert,) = vitals_alerts(bp(150, 112))
    assert alert.message.startswith("BP 150/112 mmHg: diastolic 112 mmHg is at or above 110 mmHg")


def test_a_clinic_may_recommend_stop():
    policy = SessionPolicy(bp_action_recommendation="stop", hr_sustained_recommendation="stop")
    (alert,) = vitals_alerts(bp(200, 120), (), policy)
    assert (alert.recommendation, alert.severity) == ("stop", "critical")
    (alert,) = vitals_alerts(hr(130, 5), [hr(130, 0)], policy)
    assert (alert.code, alert.recommendation) == ("hr_high_sustained", "stop")


# ------------------------------------------------------------------------- two readings, sustained


@pytest.mark.parametrize(
    ("previous", "current", "expected"),
    [
        # Both ≥ 180/110, 4 min apart → not yet; 4 min 59 s → not yet; 5 min → pause.
        ([bp(185, 100, 0)], bp(185, 100, 4), "bp_high"),
        ([bp(185, 100, 0)], bp(185, 100, 4, 59), "bp_high"),
        ([bp(185, 100, 0)], bp(185, 100, 5), "bp_high_repeated"),
        ([bp(185, 100, 0)], bp(181, 100, 15), "bp_high_repeated"),  # no upper bound on the gap
        # One component each is enough (≥ 180 systolic, then ≥ 110 diastolic).
        ([bp(150, 112, 0)], bp(185, 100, 5), "bp_high_repeated"),
        # The boundary values themselves: 180/110 then 180/110.
        ([bp(180, 110, 0)], bp(180, 110, 5), "bp_high_repeated"),
        # Earlier 179/109 is below the limit: the first high reading is the current one.
        ([bp(179, 109, 0)], bp(185, 100, 5), "bp_high"),
        # A reading below the limit in between breaks the run.
        ([bp(185, 100, 0), bp(170, 100, 3)], bp(185, 100, 6), "bp_high"),
        # ... and the run restarts after it: high at 3 and 8 → 5 min apart.
        ([bp(185, 100, 0), bp(170, 100, 2), bp(185, 100, 3)], bp(185, 100, 8), "bp_high_repeated"),
        # Three high readings 0, 3, 5: the run spans 5 min.
        ([bp(185, 100, 0), bp(190, 100, 3)], bp(185, 100, 5), "bp_high_repeated"),
        # A reading without a BP (SpO2 only) neither breaks nor extends the run.
        (
            [bp(185, 100, 0), VitalsReading(at(3), spo2_percent=97)],
            bp(185, 100, 5),
            "bp_high_repeated",
        ),
        ([VitalsReading(at(0), spo2_percent=97)], bp(185, 100, 5), "bp_high"),
        # Readings at or after the current one are ignored.
        ([bp(185, 100, 10)], bp(185, 100, 5), "bp_high"),
        ([bp(185, 100, 5)], bp(185, 100, 5), "bp_high"),
        # A below and a high reading at the same instant: the high one starts the run.
        ([bp(170, 100, 0), bp(185, 100, 0)], bp(185, 100, 5), "bp_high_repeated"),
        # ≥ 200/120 once is its own rule, whatever came before.
        ([], bp(200, 100, 0), "bp_very_high"),
        ([bp(185, 100, 0)], bp(205, 100, 5), "bp_very_high"),
    ],
)
def test_two_readings_five_minutes_apart(previous, current, expected):
    assert codes(vitals_alerts(current, previous)) == [expected]


def test_the_previous_readings_order_does_not_matter():
    previous = [bp(185, 100, 3), bp(170, 100, 2), bp(185, 100, 0)]
    assert codes(vitals_alerts(bp(185, 100, 7), previous)) == ["bp_high"]  # run from 3: 4 min
    assert codes(vitals_alerts(bp(185, 100, 8), previous)) == ["bp_high_repeated"]


@pytest.mark.parametrize(
    ("previous", "current", "expected"),
    [
        ([hr(125, 0)], hr(125, 4), "hr_high"),
        ([hr(125, 0)], hr(125, 4, 59), "hr_high"),
        ([hr(125, 0)], hr(125, 5), "hr_high_sustained"),
        ([hr(121, 0)], hr(121, 5), "hr_high_sustained"),
        ([hr(120, 0)], hr(125, 5), "hr_high"),  # 120 is not above 120
        ([hr(125, 0), hr(118, 3)], hr(125, 6), "hr_high"),  # came down in between
        # Continuous pulse oximetry, one HR a minute above 120 from 0 to 5.
        ([hr(122, m) for m in range(5)], hr(124, 5), "hr_high_sustained"),
        ([hr(122, m) for m in range(1, 5)], hr(124, 5), "hr_high"),  # from 1 to 5: 4 min
        # A BP-only reading does not break an HR run.
        ([hr(125, 0), bp(150, 90, 2)], hr(125, 5), "hr_high_sustained"),
    ],
)
def test_heart_rate_sustained_five_minutes(previous, current, expected):
    assert codes(vitals_alerts(current, previous)) == [expected]


# --------------------------------------------------------------------------- pre-dose


@pytest.mark.parametrize(
    ("systolic", "diastolic", "needs", "reason_codes"),
    [
        (140, 90, False, []),
        (141, 90, True, ["pre_dose_systolic_high"]),
        (140, 91, True, ["pre_dose_diastolic_high"]),
        (141, 91, True, ["pre_dose_systolic_high", "pre_dose_diastolic_high"]),
        (120, 80, False, []),
    ],
)
def test_pre_dose_bp_needs_prescriber_confirmation_above_140_90(
    systolic, diastolic, needs, reason_codes
):
    result = pre_dose_check(bp(systolic, diastolic))
    assert result.needs_prescriber_confirmation is needs
    assert [reason.code for reason in result.reasons] == reason_codes


def test_pre_dose_check_needs_a_blood_pressure():
    with pytest.raises(ValueError, match="blood pressure"):
        pre_dose_check(VitalsReading(T0, heart_rate_bpm=70))
    with pytest.raises(ImplausibleReadingError):
        pre_dose_check(bp(140, 150))


# --------------------------------------------------------------------------- fasting

START = clock(10)


@pytest.mark.parametrize(
    ("route", "food_at", "liquid_at", "problem_codes"),
    [
        # IV/IM: no solid food 4 h, clear liquids until 2 h [E12].
        ("iv", clock(6), clock(8), []),  # exactly 4 h and 2 h
        ("iv", clock(6, 1), clock(8), ["food_too_recent"]),  # 3 h 59 min
        ("iv", clock(6), clock(8, 1), ["liquid_too_recent"]),  # 1 h 59 min
        ("iv", clock(6, 1), clock(8, 1), ["food_too_recent", "liquid_too_recent"]),
        ("iv", None, clock(8), ["food_not_recorded"]),
        ("iv", clock(6), None, ["liquid_not_recorded"]),
        ("im", clock(6), clock(8), []),
        ("im", clock(6, 1), clock(8), ["food_too_recent"]),
        # Esketamine: no food 2 h, no liquids 30 min [C3].
        ("esketamine", clock(8), clock(9, 30), []),  # exactly 2 h and 30 min
        ("esketamine", clock(8, 1), clock(9, 30), ["food_too_recent"]),
        ("esketamine", clock(8), clock(9, 31), ["liquid_too_recent"]),  # 29 min
        ("esketamine", clock(6, 1), clock(9), []),  # 4-h rule does not apply
    ],
)
def test_fasting(route, food_at, liquid_at, problem_codes):
    result = fasting_check(route, START, food_at, liquid_at)
    assert [problem.code for problem in result.problems] == problem_codes
    assert result.ok is (not problem_codes)


def test_fasting_messages_give_the_gap_and_the_limit():
    (problem,) = fasting_check("iv", START, clock(6, 1), clock(8)).problems
    assert problem.message == (
        "Last food 3 h 59 min before the appointment; clinic policy is none within 4 h [E12]."
    )
    (problem,) = fasting_check("esketamine", START, clock(8), clock(9, 31)).problems
    assert problem.message == (
        "Last liquid 29 min before the appointment; clinic policy is none within 30 min [C3]."
    )


def test_a_clinic_may_choose_a_longer_fast():
    policy = SessionPolicy(fasting_solids_hours=6)
    assert fasting_check("iv", START, clock(4), clock(8), policy).ok  # 6 h
    assert not fasting_check("iv", START, clock(6), clock(8), policy).ok  # 4 h


def test_fasting_refuses_a_route_without_a_session_rule():
    with pytest.raises(ValueError, match="route"):
        fasting_check("sublingual", START, clock(6), clock(8))


# --------------------------------------------------------------------------- observation, discharge


@pytest.mark.parametrize(
    ("route", "completed", "expected"),
    [
        ("esketamine", clock(10, 10), clock(12, 10)),  # 120 min after the last device [C9]
        ("iv", clock(10, 40), clock(11, 10)),  # 30 min after the infusion ends [E11]
        ("im", clock(10), clock(11)),  # 60 min after the injection (policy)
    ],
)
def test_minimum_observation_end(route, completed, expected):
    assert minimum_observation_end(route, completed) == expected


@pytest.mark.parametrize(
    ("route", "aldrete", "completed", "escort", "now", "blocking"),
    [
        # Esketamine dosed at 10:00: refused at 90 min, allowed at 120 min [C9], Aldrete ≥ 9 [E8].
        ("esketamine", 9, clock(10), True, clock(11, 30), ["observation_not_complete"]),
        ("esketamine", 9, clock(10), True, clock(11, 59), ["observation_not_complete"]),
        ("esketamine", 9, clock(10), True, clock(12), []),
        ("esketamine", 10, clock(10), True, clock(12), []),
        ("esketamine", 8, clock(10), True, clock(12), ["aldrete_below_minimum"]),
        ("esketamine", None, clock(10), True, clock(12), ["aldrete_not_scored"]),
        ("esketamine", 9, clock(10), False, clock(12), ["escort_missing"]),
        (
            "esketamine",
            8,
            clock(10),
            False,
            clock(11, 30),
            ["observation_not_complete", "aldrete_below_minimum", "escort_missing"],
        ),
        # IV infusion 10:00–10:40: observation counts from the end, 30 min [E11].
        ("iv", 9, clock(10, 40), True, clock(10, 30), ["observation_not_complete"]),
        ("iv", 9, clock(10, 40), True, clock(11, 9), ["observation_not_complete"]),
        ("iv", 9, clock(10, 40), True, clock(11, 10), []),
        # IM injected at 10:00: 60 min (clinic policy).
        ("im", 9, clock(10), True, clock(10, 59), ["observation_not_complete"]),
        ("im", 9, clock(10), True, clock(11), []),
    ],
)
def test_discharge(route, aldrete, completed, escort, now, blocking):
    result = discharge_check(route, aldrete, completed, escort, now)
    assert [reason.code for reason in result.blocking_reasons] == blocking
    assert result.allowed is (not blocking)


def test_discharge_result_says_when_observation_ends():
    result = discharge_check("esketamine", 9, clock(10), True, clock(11, 30))
    assert result.observation_ends_at == clock(12)
    assert result.blocking_reasons[0].message == (
        "Observation is not complete: 30 min to go (clinic policy: 2 h after dosing is complete)."
    )


def test_discharge_without_escort_when_the_clinic_does_not_require_one():
    policy = SessionPolicy(escort_required=False)
    assert discharge_check("iv", 9, clock(10), False, clock(11), policy).allowed


@pytest.mark.parametrize("total", [11, -1, True, 9.5])
def test_discharge_refuses_an_impossible_aldrete_total(total):
    with pytest.raises(ValueError):
        discharge_check("iv", total, clock(10), True, clock(11))


# --------------------------------------------------------------------------- esketamine devices


def test_next_device_five_minutes_after_the_previous():
    assert esketamine_next_device_allowed_at(at(0)) == at(5)


@pytest.mark.parametrize(
    ("given", "now", "allowed", "next_at"),
    [
        ([], at(0), True, None),
        ([at(0)], at(4, 59), False, at(5)),
        ([at(0)], at(5), True, at(5)),
        ([at(0), at(5)], at(9, 59), False, at(10)),
        ([at(5), at(0)], at(10), True, at(10)),  # order of input does not matter
    ],
)
def test_device_wait(given, now, allowed, next_at):
    result = esketamine_device_check(given, now)
    assert (result.allowed, result.next_allowed_at, result.problems) == (allowed, next_at, ())


def test_devices_recorded_too_close_are_reported():
    result = esketamine_device_check([at(0), at(4, 59), at(10)], at(20))
    assert result.allowed
    assert [(problem.code, problem.message) for problem in result.problems] == [
        (
            "device_given_too_soon",
            "Device 2 was given 4 min 59 s after device 1; the label requires 5 min [C2].",
        )
    ]


def test_a_stricter_device_wait():
    policy = SessionPolicy(esketamine_minutes_between_devices=7)
    assert not esketamine_device_check([at(0)], at(6), policy).allowed
    assert esketamine_device_check([at(0)], at(7), policy).allowed


# --------------------------------------------------------------------------- vitals schedule


@pytest.mark.parametrize(
    ("route", "phase", "started", "completed", "last", "expected"),
    [
        # Before the dose: due now until a reading is taken; then none until dosing starts.
        ("iv", "pre_dose", None, None, None, clock(9, 50)),
        ("iv", "pre_dose", None, None, clock(9, 45), None),
        ("esketamine", "pre_dose", None, None, None, clock(9, 50)),
        # IV infusion 10:00, planned end 10:40: every 10 min from the infusion start [E6].
        ("iv", "dosing", clock(10), clock(10, 40), clock(9, 55), clock(10, 10)),  # pre-dose only
        ("iv", "dosing", clock(10), clock(10, 40), None, clock(10, 10)),
        ("iv", "dosing", clock(10), clock(10, 40), clock(10, 10), clock(10, 20)),
        ("iv", "dosing", clock(10), clock(10, 40), clock(10, 12), clock(10, 22)),
        ("iv", "dosing", clock(10), clock(10, 40), clock(10, 30), clock(10, 40)),
        ("iv", "dosing", clock(10), clock(10, 40), clock(10, 35), clock(10, 40)),  # at end
        ("iv", "dosing", clock(10), clock(10, 40), clock(10, 40), clock(10, 50)),  # running late
        ("iv", "dosing", clock(10), None, clock(10, 35), clock(10, 45)),
        # IV recovery, infusion ended 10:40: at end, then every 15 min until discharge [E6].
        ("iv", "recovery", clock(10), clock(10, 40), clock(10, 30), clock(10, 40)),
        ("iv", "recovery", clock(10), clock(10, 40), clock(10, 40), clock(10, 55)),
        ("iv", "recovery", clock(10), clock(10, 40), clock(10, 55), clock(11, 10)),
        ("iv", "discharged", clock(10), clock(10, 40), clock(11, 10), None),
        # Esketamine: devices 10:00–10:10; ~40 min after the last device, then before
        # discharge at 12:10 (120 min) [C2], [C16].
        ("esketamine", "dosing", clock(10), None, clock(9, 55), None),
        ("esketamine", "recovery", clock(10), clock(10, 10), clock(9, 55), clock(10, 50)),
        ("esketamine", "recovery", clock(10), clock(10, 10), clock(10, 48), clock(10, 50)),
        ("esketamine", "recovery", clock(10), clock(10, 10), clock(10, 50), clock(12, 10)),
        ("esketamine", "recovery", clock(10), clock(10, 10), clock(11, 30), clock(12, 10)),
        ("esketamine", "recovery", clock(10), clock(10, 10), clock(12, 10), None),
        # IM injected 10:00: at the injection, then every 15 min (UNCONFIRMED default).
        ("im", "recovery", clock(10), clock(10), clock(9, 55), clock(10)),
        ("im", "recovery", clock(10), clock(10), clock(10), clock(10, 15)),
        ("im", "dosing", clock(10), None, clock(10, 2), clock(10, 17)),
    ],
)
def test_next_vitals_due(route, phase, started, completed, last, expected):
    now = clock(9, 50)
    assert next_vitals_due(route, phase, started, completed, last, now) == expected


@pytest.mark.parametrize(
    ("route", "phase", "started", "completed"),
    [
        ("iv", "waiting", None, None),  # unknown phase
        ("iv", "dosing", None, None),  # an infusion needs its start
        ("iv", "recovery", clock(10), None),  # recovery needs the end
        ("esketamine", "recovery", clock(10), None),
        ("sublingual", "pre_dose", None, None),
    ],
)
def test_next_vitals_due_refuses_incomplete_input(route, phase, started, completed):
    with pytest.raises(ValueError):
        next_vitals_due(route, phase, started, completed, None, clock(10))


def test_next_vitals_due_refuses_naive_times():
    naive = dt.datetime(2027, 1, 4, 10, 0)  # noqa: DTZ001 (the case under test)
    with pytest.raises(ValueError, match="aware"):
        next_vitals_due("iv", "dosing", naive, None, None, clock(10))


# --------------------------------------------------------------------------- REMS monitoring form

# clinical-reference.md §3.6 "PMF fields" [C16], in its order.
EXPECTED_REMS_KEYS = [
    "patient_id",
    "setting_id",
    "session_date",
    "dose",
    "lot_number",
    "concomitant_medications",
    "total_monitoring_minutes",
    "vitals_acceptable_pre_dose",
    "vitals_acceptable_at_completion",
    "bp_pre_dose",
    "bp_about_40_min",
    "bp_pre_discharge",
    "sedation_occurred",
    "dissociation_occurred",
    "respiratory_depression_occurred",
    "serious_adverse_events",
    "ready_to_leave",
]


def test_rems_fields_follow_the_reference():
    assert [item.key for item in REMS_MONITORING_FIELDS] == EXPECTED_REMS_KEYS
    choices = {item.key: item.choices for item in REMS_MONITORING_FIELDS}
    assert choices["dose"] == ("56 mg", "84 mg", "other")
    assert choices["concomitant_medications"] == (
        "benzodiazepines",
        "non-benzodiazepine sedative-hypnotics",
        "psychostimulants",
        "MAOIs",
        "opioids",
    )


def _complete_form() -> dict[str, object]:
    return {
        "patient_id": "P-1",
        "setting_id": "S-1",
        "session_date": dt.date(2027, 1, 4),
        "dose": "56 mg",
        "lot_number": "L123",
        "concomitant_medications": [],
        "total_monitoring_minutes": 125,
        "vitals_acceptable_pre_dose": True,
        "vitals_acceptable_at_completion": True,
        "bp_pre_dose": "128/80",
        "bp_about_40_min": "142/88",
        "bp_pre_discharge": "130/82",
        "sedation_occurred": False,
        "dissociation_occurred": True,
        "respiratory_depression_occurred": False,
        "serious_adverse_events": "none",
        "ready_to_leave": True,
    }


def test_rems_form_missing():
    assert rems_form_missing({}) == EXPECTED_REMS_KEYS
    assert rems_form_missing(_complete_form()) == []
    form = _complete_form() | {"lot_number": "  ", "sedation_occurred": None}
    del form["bp_pre_discharge"]
    assert rems_form_missing(form) == ["lot_number", "bp_pre_discharge", "sedation_occurred"]


@pytest.mark.parametrize(
    ("today", "overdue"),
    [
        (dt.date(2027, 1, 4), False),
        (dt.date(2027, 1, 11), False),  # the 7th day: still within 7 days [C15]
        (dt.date(2027, 1, 12), True),
    ],
)
def test_rems_form_due_within_seven_days(today, overdue):
    assert rems_form_due(dt.date(2027, 1, 4)) == dt.date(2027, 1, 11)
    assert rems_form_overdue(dt.date(2027, 1, 4), today) is overdue


def test_rems_form_due_takes_a_date_not_a_datetime():
    with pytest.raises(ValueError):
        rems_form_due(T0)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- properties

SEVERITY_RANK = {None: 0, "alert": 1, "critical": 2}
RECOMMENDATION_RANK = {None: 0, "continue": 0, "pause": 1, "stop": 2}


def _burden(alerts) -> tuple[int, int, int]:
    return (
        len(alerts),
        max((SEVERITY_RANK[a.severity] for a in alerts), default=0),
        max((RECOMMENDATION_RANK[a.recommendation] for a in alerts), default=0),
    )


def _not_better(worse, better) -> bool:
    return all(w >= b for w, b in zip(_burden(worse), _burden(better), strict=True))


bp_pairs = st.integers(50, 300).flatmap(lambda s: st.tuples(st.just(s), st.integers(20, s - 1)))
previous_readings = st.lists(
    st.tuples(st.integers(1, 30), bp_pairs, st.integers(20, 250)).map(
        lambda t: VitalsReading(
            T0 - dt.timedelta(minutes=t[0]),
            systolic_mmhg=t[1][0],
            diastolic_mmhg=min(t[1][1], 200),
            heart_rate_bpm=t[2],
        )
    ),
    max_size=6,
)


@given(
    pair=bp_pairs,
    heart=st.integers(20, 250),
    spo2=st.integers(50, 100),
    previous=previous_readings,
    worse_by=st.integers(0, 120),
)
def test_a_higher_bp_or_heart_rate_never_gives_fewer_alerts(pair, heart, spo2, previous, worse_by):
    systolic, diastolic = pair[0], min(pair[1], 200)
    base = VitalsReading(T0, systolic_mmhg=systolic, diastolic_mmhg=diastolic, heart_rate_bpm=heart)
    worse_systolic = dataclasses.replace(base, systolic_mmhg=min(300, systolic + worse_by))
    worse_diastolic = dataclasses.replace(
        base, diastolic_mmhg=min(systolic - 1, 200, diastolic + worse_by)
    )
    worse_heart = dataclasses.replace(base, heart_rate_bpm=min(250, heart + worse_by))
    before = vitals_alerts(base, previous)
    for worse in (worse_systolic, worse_diastolic, worse_heart):
        assert _not_better(vitals_alerts(worse, previous), before)


@given(spo2=st.integers(50, 100), worse_by=st.integers(0, 50))
def test_a_lower_spo2_never_gives_fewer_alerts(spo2, worse_by):
    before = vitals_alerts(VitalsReading(T0, spo2_percent=spo2))
    after = vitals_alerts(VitalsReading(T0, spo2_percent=max(50, spo2 - worse_by)))
    assert _not_better(after, before)


@given(rate=st.integers(4, 60), change=st.integers(0, 56))
def test_a_respiratory_rate_further_out_never_gives_fewer_alerts(rate, change):
    policy = DEFAULT_POLICY
    before = vitals_alerts(VitalsReading(T0, respiratory_rate_per_min=rate))
    if rate <= policy.respiratory_rate_alert_above_per_min:
        lower = VitalsReading(T0, respiratory_rate_per_min=max(4, rate - change))
        assert _not_better(vitals_alerts(lower), before)
    if rate >= policy.respiratory_rate_alert_below_per_min:
        higher = VitalsReading(T0, respiratory_rate_per_min=min(60, rate + change))
        assert _not_better(vitals_alerts(higher), before)


@given(previous=previous_readings, pair=bp_pairs, heart=st.integers(20, 250))
def test_alerts_are_known_codes_one_per_vital(previous, pair, heart):
    reading = VitalsReading(
        T0, systolic_mmhg=pair[0], diastolic_mmhg=min(pair[1], 200), heart_rate_bpm=heart
    )
    found = codes(vitals_alerts(reading, previous))
    assert set(found) <= set(ALERT_CODES)
    assert len([c for c in found if c.startswith("bp_")]) <= 1
    assert len([c for c in found if c.startswith("hr_")]) <= 1


@given(
    offsets=st.lists(st.integers(0, 3600), min_size=1, max_size=3),
    now_offset=st.integers(0, 4000),
)
def test_a_device_is_allowed_exactly_when_five_minutes_have_passed(offsets, now_offset):
    given_times = [T0 + dt.timedelta(seconds=s) for s in offsets]
    now = T0 + dt.timedelta(seconds=now_offset)
    result = esketamine_device_check(given_times, now)
    assert result.allowed is (now - max(given_times) >= dt.timedelta(minutes=5))


# --------------------------------------------------------------------------- purity


def test_rules_import_no_django():
    code = (
        "import sys, clinic.treatment_sessions.rules; "
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))"
    )
    result = subprocess.run(  # noqa: S603 (our own interpreter, a fixed command)
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_public_api_is_exported():
    for name in rules.__all__:
        assert hasattr(rules, name), name


# --------------------------------------------------------------------------- IV: what could run in
# The case: 0.5 mg/kg × 88.4 kg = 44.2 mg over 40 minutes is 1.105 mg a minute; stopped
# after 2 minutes, 2.21 mg could have run in (2.3 mg rounded up to the tenth).


def _pump(*events):
    return [
        rules.InfusionEvent(kind, START + dt.timedelta(minutes=m), rate) for kind, m, rate in events
    ]


@pytest.mark.parametrize(
    ("planned_mg", "events", "until_min", "minutes", "max_mg"),
    [
        (Decimal("44.2"), [("start", 0, None)], 2, 2, Decimal("2.3")),
        (Decimal("44.2"), [("start", 0, None)], 40, 40, Decimal("44.2")),
        # 40 mg over 40 min (1 mg/min), paused 10–15, stopped at 45: 40 minutes ran.
        (
            Decimal("40"),
            [("start", 0, None), ("pause", 10, None), ("resume", 15, None), ("stop", 45, None)],
            50,
            40,
            Decimal("40.0"),
        ),
        # Still paused: the pause runs to `until`, nothing more runs in.
        (Decimal("40"), [("start", 0, None), ("pause", 10, None)], 30, 10, Decimal("10.0")),
        # Pump at 60 mL/h, then 120 mL/h from minute 10: twice the mg a minute from then on.
        (
            Decimal("40"),
            [("start", 0, Decimal("60")), ("rate", 10, Decimal("120"))],
            25,
            25,
            Decimal("40.0"),
        ),
        # A rate change without a starting rate cannot be scaled: the planned rate stands.
        (
            Decimal("40"),
            [("start", 0, None), ("rate", 10, Decimal("120"))],
            25,
            25,
            Decimal("25.0"),
        ),
    ],
)
def test_infusion_deliverable(planned_mg, events, until_min, minutes, max_mg):
    found = rules.infusion_deliverable(
        planned_mg=planned_mg,
        planned_minutes=40,
        events=_pump(*events),
        until=START + dt.timedelta(minutes=until_min),
    )
    assert (found.running_minutes, found.max_mg) == (minutes, max_mg)


def test_running_time_is_rounded_up_to_the_whole_minute():
    # 20 min 30 s at 1 mg/min: 21 minutes may have run, so 21 mg.
    found = rules.infusion_deliverable(
        planned_mg=Decimal("40"),
        planned_minutes=40,
        events=_pump(("start", 0, None)),
        until=START + dt.timedelta(minutes=20, seconds=30),
    )
    assert (found.running_minutes, found.max_mg) == (21, Decimal("21.0"))


def test_an_infusion_needs_a_planned_dose_and_minutes():
    with pytest.raises(ValueError):
        rules.infusion_deliverable(
            planned_mg=Decimal("40"), planned_minutes=0, events=(), until=START
        )
