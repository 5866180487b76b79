"""Outcome metrics (clinic/outcomes/metrics.py): expected values worked by hand.

Definitions: docs/clinical/policy-defaults.md "Measurement-based care" and
clinical-reference.md §8.1: response = reduction ≥ 50 % of the baseline total [H1], [H4];
remission PHQ-9 < 5 [H4], GAD-7 < 5, QIDS-SR16 ≤ 5 [G17], MADRS ≤ 10 (≤ 12 in esketamine
trials [H1], [A11]), none for PCL-5; rapid response = response at the first assessment
20–28 h after the first session [H2]; loss of response = after response, the criterion unmet
on two consecutive assessments ≥ 5 days apart (modelled on SUSTAIN-1 [H1]).
percent_change = change ÷ baseline × 100, one decimal, half away from zero.
"""

from __future__ import annotations

import datetime
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.outcomes.metrics import (
    DEFAULT_POLICY,
    INSTRUMENT_MAX_TOTAL,
    INSTRUMENTS,
    InvalidBaseline,
    InvalidScore,
    OutcomePolicy,
    RemissionThreshold,
    UnknownInstrument,
    classify_change,
    course_status,
)

REPO = Path(__file__).resolve().parents[3]

# --------------------------------------------------------------------------- classify_change


@pytest.mark.parametrize(
    ("instrument", "baseline", "current", "change", "percent", "response", "remission"),
    [
        # calculators.md §2 example: 11/20 = 55 % reduction; 9 is not < 5.
        ("phq9", 20, 9, -11, "-55.0", True, False),
        # Exactly 50 % is a response (≥ 50 %).
        ("phq9", 20, 10, -10, "-50.0", True, False),
        # 13/27 = 48.148… %; 14/27 = 51.851… %.
        ("phq9", 27, 14, -13, "-48.1", False, False),
        ("phq9", 27, 13, -14, "-51.9", True, False),
        # 49.x %: 29/59 = 49.152… % (MADRS); 39/79 = 49.367… % (PCL-5).
        ("madrs", 59, 30, -29, "-49.2", False, False),
        ("pcl5", 79, 40, -39, "-49.4", False, None),
        # PHQ-9 remission < 5 [H4]: 4 yes, 5 no.
        ("phq9", 20, 4, -16, "-80.0", True, True),
        ("phq9", 20, 5, -15, "-75.0", True, False),
        # QIDS-SR16 remission ≤ 5 [G17]: 5 yes, 6 no.
        ("qids-sr16", 20, 5, -15, "-75.0", True, True),
        ("qids-sr16", 20, 6, -14, "-70.0", True, False),
        # MADRS remission ≤ 10 (clinic default): 10 yes, 11 and 12 no. 20/30 = 66.66… %.
        ("madrs", 30, 10, -20, "-66.7", True, True),
        ("madrs", 30, 11, -19, "-63.3", True, False),
        ("madrs", 30, 12, -18, "-60.0", True, False),
        # GAD-7 remission < 5: 4 yes, 5 no. 11/15 = 73.33… %, 10/15 = 66.66… %.
        ("gad7", 15, 4, -11, "-73.3", True, True),
        ("gad7", 15, 5, -10, "-66.7", True, False),
        # PCL-5: response only; remission null.
        ("pcl5", 60, 20, -40, "-66.7", True, None),
        # A rise: positive change, no response.
        ("phq9", 10, 15, 5, "50.0", False, False),
        ("madrs", 60, 60, 0, "0.0", False, False),
        ("phq9", 12, 12, 0, "0.0", False, False),
        # Half away from zero: 1/16 = 6.25 % → 6.3 both ways; 1/80 = 1.25 % → 1.3.
        ("phq9", 16, 15, -1, "-6.3", False, False),
        ("phq9", 16, 17, 1, "6.3", False, False),
        ("pcl5", 80, 79, -1, "-1.3", False, None),
        # The smallest baseline and the ends of the ranges.
        ("phq9", 1, 0, -1, "-100.0", True, True),
        ("gad7", 21, 0, -21, "-100.0", True, True),
        ("qids-sr16", 27, 27, 0, "0.0", False, False),
        ("pcl5", 1, 80, 79, "7900.0", False, None),
    ],
)
def test_classify_change(instrument, baseline, current, change, percent, response, remission):
    result = classify_change(instrument, baseline, current)
    assert result.change == change
    assert str(result.percent_change) == percent
    assert result.response is response
    assert result.remission is remission


def test_madrs_remission_follows_the_clinic_policy():
    # Esketamine trials used MADRS ≤ 12 [H1], [A11].
    esketamine = OutcomePolicy(madrs_remission=RemissionThreshold("<=", 12))
    assert classify_change("madrs", 30, 12, esketamine).remission is True
    assert classify_change("madrs", 30, 13, esketamine).remission is False
    assert classify_change("madrs", 30, 12).remission is False


def test_default_policy_carries_the_documented_values():
    assert DEFAULT_POLICY.response_reduction_percent == Decimal(50)
    assert DEFAULT_POLICY.remission_threshold("phq9") == RemissionThreshold("<", 5)
    assert DEFAULT_POLICY.remission_threshold("gad7") == RemissionThreshold("<", 5)
    assert DEFAULT_POLICY.remission_threshold("qids-sr16") == RemissionThreshold("<=", 5)
    assert DEFAULT_POLICY.remission_threshold("madrs") == RemissionThreshold("<=", 10)
    assert DEFAULT_POLICY.remission_threshold("pcl5") is None
    assert DEFAULT_POLICY.rapid_response_window_start_hours == 20
    assert DEFAULT_POLICY.rapid_response_window_end_hours == 28
    assert DEFAULT_POLICY.loss_of_response_assessments == 2
    assert DEFAULT_POLICY.loss_of_response_min_days_apart == 5
    assert INSTRUMENT_MAX_TOTAL == {
        "phq9": 27,
        "gad7": 21,
        "qids-sr16": 27,
        "madrs": 60,
        "pcl5": 80,
    }


@pytest.mark.parametrize(
    ("instrument", "baseline", "current", "error", "field"),
    [
        ("phq9", 0, 0, InvalidBaseline, "baseline"),
        ("phq9", 0, 5, InvalidBaseline, "baseline"),
        ("phq9", -1, 5, InvalidScore, "baseline"),
        ("phq9", 10, -1, InvalidScore, "current"),
        ("phq9", 28, 5, InvalidScore, "baseline"),
        ("phq9", 10, 28, InvalidScore, "current"),
        ("gad7", 22, 5, InvalidScore, "baseline"),
        ("qids-sr16", 10, 28, InvalidScore, "current"),
        ("madrs", 61, 5, InvalidScore, "baseline"),
        ("pcl5", 40, 81, InvalidScore, "current"),
        ("phq9", 20, 9.5, InvalidScore, "current"),
        ("phq9", 20.0, 9, InvalidScore, "baseline"),
        ("phq9", True, 0, InvalidScore, "baseline"),
        ("phq9", "20", 9, InvalidScore, "baseline"),
        ("phq9", 20, None, InvalidScore, "current"),
        ("hamd17", 20, 9, UnknownInstrument, "instrument"),
        ("PHQ9", 20, 9, UnknownInstrument, "instrument"),
        ("", 20, 9, UnknownInstrument, "instrument"),
    ],
)
def test_classify_change_rejects_bad_input(instrument, baseline, current, error, field):
    assert issubclass(error, ValueError)
    with pytest.raises(error) as raised:
        classify_change(instrument, baseline, current)
    assert raised.value.field == field
    assert field in raised.value.message


@pytest.mark.parametrize(
    "kwargs",
    [
        {"response_reduction_percent": 0},
        {"response_reduction_percent": 101},
        {"rapid_response_window_start_hours": 28, "rapid_response_window_end_hours": 20},
        {"loss_of_response_assessments": 0},
        {"loss_of_response_min_days_apart": -1},
        {"loss_of_response_min_days_apart": 4.5},
        {"madrs_remission": ("<=", 12)},
    ],
)
def test_policy_rejects_impossible_values(kwargs):
    with pytest.raises(ValueError):
        OutcomePolicy(**kwargs)


@pytest.mark.parametrize(("comparison", "value"), [("=", 5), ("<", -1), ("<=", 5.5)])
def test_remission_threshold_rejects_impossible_values(comparison, value):
    with pytest.raises(ValueError):
        RemissionThreshold(comparison, value)


@st.composite
def instrument_scores(draw):
    instrument = draw(st.sampled_from(INSTRUMENTS))
    maximum = INSTRUMENT_MAX_TOTAL[instrument]
    baseline = draw(st.integers(min_value=1, max_value=maximum))
    current = draw(st.integers(min_value=0, max_value=maximum))
    return instrument, baseline, current


def _sign(value) -> int:
    return (value > 0) - (value < 0)


@given(instrument_scores())
def test_properties_of_classify_change(scores):
    instrument, baseline, current = scores
    result = classify_change(instrument, baseline, current)
    assert result.change == current - baseline
    assert _sign(result.percent_change) == _sign(result.change)
    exact = Decimal(result.change) * 100 / Decimal(baseline)
    assert abs(result.percent_change - exact) <= Decimal("0.05")
    # With the default 50 %: response exactly when current ≤ baseline / 2.
    assert result.response is (2 * current <= baseline)
    if instrument == "pcl5":
        assert result.remission is None
    else:
        assert result.remission is DEFAULT_POLICY.remission_threshold(instrument).met(current)


# --------------------------------------------------------------------------- course_status

FIRST_SESSION = datetime.datetime(2027, 1, 4, 9, 0, tzinfo=datetime.UTC)


def at(days=0, hours=0, minutes=0) -> datetime.datetime:
    return FIRST_SESSION + datetime.timedelta(days=days, hours=hours, minutes=minutes)


BEFORE = at(hours=-1)  # the pre-session assessment


def test_no_points_means_no_baseline():
    status = course_status("phq9", [], FIRST_SESSION)
    assert status.baseline is None
    assert status.latest is None
    assert status.change is None
    assert status.percent_change is None
    assert status.response_now is None
    assert status.remission_now is None
    assert status.rapid_response is None
    assert status.ever_responded is None
    assert status.loss_of_response is None
    assert status.summary == "No baseline yet."
    assert course_status("phq9", []).summary == "No baseline yet."


def test_points_only_after_the_first_session_give_no_baseline():
    status = course_status("phq9", [(at(days=1), 10), (at(days=7), 4)], FIRST_SESSION)
    assert status.baseline is None
    assert status.latest is None
    assert status.summary == "No baseline yet."


def test_a_baseline_alone():
    status = course_status("phq9", [(BEFORE, 20)], FIRST_SESSION)
    assert (status.baseline, status.baseline_at) == (20, BEFORE)
    assert status.latest is None
    assert status.change is None
    assert status.response_now is None
    assert status.remission_now is None
    assert status.rapid_response is None
    assert status.ever_responded is False
    assert status.loss_of_response is False
    assert status.summary == "PHQ-9 baseline 20; no assessment since."


@pytest.mark.parametrize(
    ("points", "first_session_at", "baseline", "baseline_at"),
    [
        # The last score at or before the first session, not the screening score.
        ([(at(days=-3), 22), (BEFORE, 20), (at(days=7), 10)], FIRST_SESSION, 20, BEFORE),
        # A score taken at the very moment of the first session counts as before it.
        ([(at(days=-3), 22), (FIRST_SESSION, 19), (at(days=7), 9)], FIRST_SESSION, 19, at()),
        # Two scores at the same moment: the later one as given.
        ([(BEFORE, 21), (BEFORE, 19), (at(days=7), 9)], FIRST_SESSION, 19, BEFORE),
        # No session time: the first score.
        ([(at(days=-3), 22), (BEFORE, 20), (at(days=7), 10)], None, 22, at(days=-3)),
        # Order of input does not matter (stable sort by time).
        ([(at(days=7), 10), (BEFORE, 20), (at(days=-3), 22)], FIRST_SESSION, 20, BEFORE),
    ],
)
def test_baseline_selection(points, first_session_at, baseline, baseline_at):
    status = course_status("phq9", points, first_session_at)
    assert status.baseline == baseline
    assert status.baseline_at == baseline_at


def test_change_is_measured_from_the_baseline_to_the_latest():
    # 20 → 10 at day 7: −10, −50.0 %, a response, not remission (10 ≥ 5).
    status = course_status("phq9", [(at(days=-3), 22), (BEFORE, 20), (at(days=7), 10)], at())
    assert (status.latest, status.latest_at) == (10, at(days=7))
    assert status.change == -10
    assert status.percent_change == Decimal("-50.0")
    assert status.response_now is True
    assert status.remission_now is False
    # Without a session time the baseline is 22: 12/22 = 54.54… % → −54.5.
    status = course_status("phq9", [(at(days=-3), 22), (BEFORE, 20), (at(days=7), 10)])
    assert status.change == -12
    assert status.percent_change == Decimal("-54.5")


@pytest.mark.parametrize(
    ("follow_ups", "rapid"),
    [
        # 24 h: 8 from 18 is a 10/18 = 55.6 % reduction → rapid response.
        ([(at(hours=24), 8)], True),
        # The window's ends are included: 9 from 18 is exactly 50 %.
        ([(at(hours=20), 9)], True),
        ([(at(hours=28), 9)], True),
        # 24 h but 12 from 18 is 33 %: no rapid response.
        ([(at(hours=24), 12)], False),
        # Only the first assessment in the window counts.
        ([(at(hours=21), 12), (at(hours=27), 8)], False),
        ([(at(hours=21), 8), (at(hours=27), 12)], True),
        # An earlier response (4 h) does not stand in for the window.
        ([(at(hours=4), 8), (at(hours=24), 12)], False),
        # Nothing inside 20–28 h: unknown.
        ([(at(hours=19, minutes=59), 8)], None),
        ([(at(hours=28, minutes=1), 8)], None),
        ([(at(days=7), 8)], None),
    ],
)
def test_rapid_response(follow_ups, rapid):
    status = course_status("phq9", [(BEFORE, 18), *follow_ups], FIRST_SESSION)
    assert status.rapid_response is rapid


def test_rapid_response_needs_the_first_session_time():
    status = course_status("phq9", [(BEFORE, 18), (at(hours=24), 8)])
    assert status.rapid_response is None


@pytest.mark.parametrize(
    ("follow_ups", "loss", "loss_at"),
    [
        # Response at day 7 (8 from 20 = 60 %), then 14 (30 %) and 15 (25 %) 5 days apart.
        ([(at(days=7), 8), (at(days=14), 14), (at(days=19), 15)], True, at(days=19)),
        # The same two non-responding assessments only 4 days apart.
        ([(at(days=7), 8), (at(days=14), 14), (at(days=18), 15)], False, None),
        # One minute short of 5 days.
        (
            [(at(days=7), 8), (at(days=14), 14), (at(days=18, hours=23, minutes=59), 15)],
            False,
            None,
        ),
        # One non-responding assessment.
        ([(at(days=7), 8), (at(days=14), 14)], False, None),
        # Non-responding assessments before the first response do not count.
        ([(at(days=2), 18), (at(days=9), 17), (at(days=16), 8)], False, None),
        # A response in between: no two consecutive non-responding assessments.
        (
            [(at(days=7), 8), (at(days=14), 14), (at(days=16), 9), (at(days=21), 14)],
            False,
            None,
        ),
        # Too close (2 days), then 5 days after the second: the later pair is consecutive.
        (
            [(at(days=7), 8), (at(days=14), 14), (at(days=16), 14), (at(days=21), 15)],
            True,
            at(days=21),
        ),
        # Never responded: no loss of response.
        ([(at(days=7), 14), (at(days=14), 15), (at(days=21), 16)], False, None),
    ],
)
def test_loss_of_response(follow_ups, loss, loss_at):
    status = course_status("phq9", [(BEFORE, 20), *follow_ups], FIRST_SESSION)
    assert status.loss_of_response is loss
    assert status.loss_of_response_at == loss_at


@pytest.mark.parametrize(
    ("instrument", "points", "summary"),
    [
        # The example of the brief: 8/12 = 66.7 % → 67 %.
        ("phq9", [(BEFORE, 12), (at(days=7), 4)], "PHQ-9 12 → 4 (−67%): response and remission."),
        # 3/7 = 42.9 % reduction, and 4 < 5.
        ("phq9", [(BEFORE, 7), (at(days=7), 4)], "PHQ-9 7 → 4 (−43%): remission without response."),
        ("phq9", [(BEFORE, 10), (at(days=7), 15)], "PHQ-9 10 → 15 (+50%): no response."),
        ("phq9", [(BEFORE, 10), (at(days=7), 10)], "PHQ-9 10 → 10 (0%): no response."),
        # 5/11 = 45.45… %: the sentence rounds the exact value (45), not 45.5.
        ("phq9", [(BEFORE, 11), (at(days=7), 6)], "PHQ-9 11 → 6 (−45%): no response."),
        ("pcl5", [(BEFORE, 60), (at(days=7), 20)], "PCL-5 60 → 20 (−67%): response."),
        # 15/20 = 75 %; 5 ≤ 5.
        (
            "qids-sr16",
            [(BEFORE, 20), (at(days=7), 5)],
            "QIDS-SR16 20 → 5 (−75%): response and remission.",
        ),
        # 10/30 = 33 %; 20 > 10.
        ("madrs", [(BEFORE, 30), (at(days=7), 20)], "MADRS 30 → 20 (−33%): no response."),
        ("gad7", [(BEFORE, 15), (at(days=7), 7)], "GAD-7 15 → 7 (−53%): response."),
        # Rapid: 10/18 = 55.6 % at 24 h.
        (
            "phq9",
            [(BEFORE, 18), (at(hours=24), 8)],
            "PHQ-9 18 → 8 (−56%): response; rapid response after the first session.",
        ),
        # Responded at day 7, 25 % now (no loss: one non-responding assessment).
        (
            "phq9",
            [(BEFORE, 20), (at(days=7), 8), (at(days=14), 15)],
            "PHQ-9 20 → 15 (−25%): no response; responded earlier.",
        ),
        (
            "phq9",
            [(BEFORE, 20), (at(days=7), 8), (at(days=14), 14), (at(days=19), 15)],
            "PHQ-9 20 → 15 (−25%): no response; loss of response after an earlier response.",
        ),
        # Regained: 14/20 = 70 % at day 26, 6 ≥ 5.
        (
            "phq9",
            [(BEFORE, 20), (at(days=7), 8), (at(days=14), 14), (at(days=19), 15), (at(days=26), 6)],
            "PHQ-9 20 → 6 (−70%): response; regained after an earlier loss of response.",
        ),
        (
            "phq9",
            [(BEFORE, 0), (at(days=7), 3)],
            "PHQ-9 0 → 3: response cannot be judged from a baseline of 0.",
        ),
    ],
)
def test_summary(instrument, points, summary):
    assert course_status(instrument, points, FIRST_SESSION).summary == summary


def test_a_baseline_of_zero_leaves_response_undefined():
    status = course_status("phq9", [(BEFORE, 0), (at(days=7), 3)], FIRST_SESSION)
    assert status.change == 3
    assert status.percent_change is None
    assert status.response_now is None
    assert status.ever_responded is None
    assert status.loss_of_response is None
    assert status.rapid_response is None
    assert status.remission_now is True  # 3 < 5: remission depends on the total alone


def test_course_status_rejects_scores_outside_the_range():
    with pytest.raises(InvalidScore) as raised:
        course_status("gad7", [(BEFORE, 15), (at(days=7), 22)], FIRST_SESSION)
    assert raised.value.field == "points[1]"
    with pytest.raises(UnknownInstrument):
        course_status("hamd17", [], FIRST_SESSION)


# --------------------------------------------------------------------------- purity


def test_metrics_imports_no_django():
    code = (
        "import sys, clinic.outcomes.metrics; "
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))"
    )
    result = subprocess.run(  # noqa: S603 (our own interpreter, a fixed command)
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
