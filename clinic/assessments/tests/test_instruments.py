"""The instruments (clinic/assessments/instruments), against calculators.md §1.

Expected values are worked by hand from the published rules cited in clinical-reference.md
(§7.1 PHQ-9 [G1]/[G5], §7.2 GAD-7 [G6], §7.3 PCL-5 [G9], §7.4 C-SSRS [G13], §7.5 MADRS [G15],
§7.6 CADSS [G16], §7.7 QIDS-SR16 [G17], §5.4 modified Aldrete [E8]), never by running the code.
No database: these are pure functions.

Long because: one golden table per instrument (nine of them, each against its published
scoring rules) and the properties they share; a case reads next to its instrument's others.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic.assessments.instruments import (
    ALL_CODES,
    REGISTRY,
    AnswerError,
    ScoringPolicy,
    get_instrument,
)
from clinic.assessments.instruments.base import DEFAULT_POLICY
from clinic.assessments.suicidality import suicidality_triggers

REPO_ROOT = Path(__file__).resolve().parents[3]
N = None  # an unanswered item


def score(code, answers, policy=DEFAULT_POLICY):
    return get_instrument(code).score(answers, policy).as_dict()


def expect(code, answers, *, total, severity, flags=(), missing=(), subscales=None, policy=None):
    result = score(code, answers, policy or DEFAULT_POLICY)
    assert result == {
        "instrument": code,
        "complete": not missing,
        "missing_items": list(missing),
        "total": total,
        "severity": severity,
        "flags": list(flags),
        "subscales": subscales or {},
    }


def item_error(code, answers, policy=DEFAULT_POLICY) -> AnswerError:
    with pytest.raises(AnswerError) as caught:
        get_instrument(code).score(answers, policy)
    return caught.value


# --------------------------------------------------------------------------- registry


def test_registry_holds_exactly_the_contract_codes():
    assert set(ALL_CODES) == {
        "phq9",
        "gad7",
        "pcl5",
        "qids-sr16",
        "madrs",
        "cadss",
        "cssrs-screen",
        "moaas",
        "modified-aldrete",
    }
    assert len(ALL_CODES) == 9
    for code in ALL_CODES:
        assert get_instrument(code) is REGISTRY[code]
        assert REGISTRY[code].code == code


@pytest.mark.parametrize("code", ["PHQ9", "phq-9", "", "ybocs", "qids_sr16"])
def test_an_unknown_code_raises_key_error(code):
    with pytest.raises(KeyError):
        get_instrument(code)


RATERS = {
    "phq9": ("self", True),
    "gad7": ("self", True),
    "pcl5": ("self", True),
    "qids-sr16": ("self", True),
    "cssrs-screen": ("self", True),
    "madrs": ("clinician", False),
    "cadss": ("clinician", False),
    "moaas": ("clinician", False),
    "modified-aldrete": ("clinician", False),
}


@pytest.mark.parametrize(("code", "expected"), RATERS.items())
def test_rater_and_patient_facing(code, expected):
    instrument = get_instrument(code)
    assert (instrument.rater, instrument.patient_facing) == expected


# code -> (items, values of each item, total range, severity slugs)
SHAPES = {
    "phq9": (
        10, range(4), (0, 27), ["none_minimal", "mild", "moderate", "moderately_severe", "severe"]
    ),
    "gad7": (8, range(4), (0, 21), ["minimal", "mild", "moderate", "severe"]),
    "pcl5": (20, range(5), (0, 80), []),
    "qids-sr16": (16, range(4), (0, 27), ["none", "mild", "moderate", "severe", "very_severe"]),
    "madrs": (10, range(7), (0, 60), ["normal", "mild", "moderate", "severe"]),
    "cadss": (23, range(5), (0, 92), []),
    "cssrs-screen": (7, range(2), None, []),
    "moaas": (1, range(6), (0, 5), []),
    "modified-aldrete": (5, range(3), (0, 10), []),
}  # fmt: skip


@pytest.mark.parametrize(("code", "shape"), SHAPES.items())
def test_items_ranges_and_bands_match_the_contract(code, shape):
    count, values, total_range, slugs = shape
    instrument = get_instrument(code)
    assert [i.number for i in instrument.items] == list(range(1, count + 1))
    for item in instrument.items:
        assert item.values == frozenset(values), item.number
        assert item.text and item.short_label
        assert len({o.label for o in item.options}) == len(item.options)
    assert instrument.total_range == total_range
    assert [b.slug for b in instrument.bands] == slugs
    if instrument.bands:  # the bands tile the total range without gaps or overlaps
        assert instrument.bands[0].low == total_range[0]
        assert instrument.bands[-1].high == total_range[1]
        for lower, upper in zip(instrument.bands, instrument.bands[1:], strict=False):
            assert upper.low == lower.high + 1
    assert instrument.version and instrument.licence and instrument.source.startswith("[")


def test_only_the_difficulty_items_are_unscored_and_optional():
    for code, number in (("phq9", 10), ("gad7", 8)):
        for item in get_instrument(code).items:
            optional = item.number == number
            assert item.scored is not optional
            assert item.required is not optional
    for code in set(ALL_CODES) - {"phq9", "gad7"}:
        assert all(i.scored and i.required for i in get_instrument(code).items), code


def test_suicidality_items():
    assert dict(get_instrument("phq9").suicidality_items) == {9: 1}
    assert dict(get_instrument("qids-sr16").suicidality_items) == {12: 1}
    assert dict(get_instrument("cssrs-screen").suicidality_items) == {1: 1, 2: 1}
    assert dict(get_instrument("madrs").suicidality_items) == {}


def test_published_wording_spot_checks():
    phq9 = get_instrument("phq9")
    assert phq9.stem == (
        "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
    )
    assert phq9.items[8].text == (
        "Thoughts that you would be better off dead or of hurting yourself in some way"
    )
    assert [o.label for o in phq9.items[0].options] == [
        "Not at all",
        "Several days",
        "More than half the days",
        "Nearly every day",
    ]
    assert [o.label for o in phq9.items[9].options] == [
        "Not difficult at all",
        "Somewhat difficult",
        "Very difficult",
        "Extremely difficult",
    ]
    gad7 = get_instrument("gad7")
    assert gad7.items[6].text == "Feeling afraid, as if something awful might happen"
    pcl5 = get_instrument("pcl5")
    assert pcl5.stem == "In the past month, how much were you bothered by:"
    assert [o.label for o in pcl5.items[0].options] == [
        "Not at all",
        "A little bit",
        "Moderately",
        "Quite a bit",
        "Extremely",
    ]
    assert pcl5.items[19].text == "Trouble falling or staying asleep?"
    qids = get_instrument("qids-sr16")
    assert qids.items[11].options[0].label == "I do not think of suicide or death."
    # Every QIDS-SR16 item has its own four full-sentence answers.
    answer_sets = [tuple(o.label for o in item.options) for item in qids.items]
    assert all(len(answers) == 4 for answers in answer_sets)
    assert len(set(answer_sets)) == 16
    cssrs = get_instrument("cssrs-screen")
    assert cssrs.items[1].text == "Have you actually had any thoughts of killing yourself?"
    assert [o.label for o in cssrs.items[0].options] == ["No", "Yes"]


# --------------------------------------------------------------------------- PHQ-9


def test_phq9_us_core_example():
    # HL7 US Core PHQ-9 panel example [G4]: 2+2+2+2+1+1+2+0+0 = 12, moderate (10–14).
    expect("phq9", [2, 2, 2, 2, 1, 1, 2, 0, 0], total=12, severity="moderate")


PHQ9_BOUNDARIES = [
    ([0, 0, 0, 0, 0, 0, 0, 0, 0], 0, "none_minimal"),
    ([1, 1, 1, 1, 0, 0, 0, 0, 0], 4, "none_minimal"),
    ([1, 1, 1, 1, 1, 0, 0, 0, 0], 5, "mild"),
    ([2, 2, 2, 1, 1, 1, 0, 0, 0], 9, "mild"),
    ([2, 2, 2, 2, 1, 1, 0, 0, 0], 10, "moderate"),
    ([2, 2, 2, 2, 2, 2, 2, 0, 0], 14, "moderate"),
    ([3, 2, 2, 2, 2, 2, 2, 0, 0], 15, "moderately_severe"),
    ([3, 3, 3, 3, 3, 2, 2, 0, 0], 19, "moderately_severe"),
    ([3, 3, 3, 3, 3, 3, 2, 0, 0], 20, "severe"),
    ([3, 3, 3, 3, 3, 3, 3, 3, 0], 24, "severe"),
]


@pytest.mark.parametrize(("answers", "total", "severity"), PHQ9_BOUNDARIES)
def test_phq9_band_boundaries(answers, total, severity):
    expect("phq9", answers, total=total, severity=severity)


def test_phq9_maximum_flags_item_9():
    expect("phq9", [3] * 9, total=27, severity="severe", flags=["suicidal_ideation"])


@pytest.mark.parametrize(
    ("item9", "flags"), [(0, []), (1, ["suicidal_ideation"]), (3, ["suicidal_ideation"])]
)
def test_phq9_item_9_flags_at_one_or_more_whatever_the_total(item9, flags):
    expect("phq9", [0] * 8 + [item9], total=item9, severity="none_minimal", flags=flags)


def test_phq9_incomplete_item_3():
    expect("phq9", [1, 1, N, 1, 1, 1, 1, 1, 0], total=None, severity=None, missing=[3])


def test_phq9_incomplete_form_still_flags_item_9():
    expect(
        "phq9",
        [N, 0, 0, 0, 0, 0, 0, 0, 2],
        total=None,
        severity=None,
        missing=[1],
        flags=["suicidal_ideation"],
    )


def test_phq9_all_unanswered():
    expect("phq9", [N] * 9, total=None, severity=None, missing=range(1, 10))


def test_phq9_item_10_is_never_summed():
    # Items 1–9 sum to 1×7 + 2 + 0 = 9 (mild); item 10 = 3 changes nothing.
    expect("phq9", [1, 1, 1, 1, 1, 1, 1, 2, 0, 3], total=9, severity="mild")
    # An unanswered item 10 does not make the form incomplete, nor is it "missing".
    expect("phq9", [1, 1, 1, 1, 1, 1, 1, 2, 0, N], total=9, severity="mild")


@pytest.mark.parametrize("count", [0, 8, 11])
def test_phq9_wrong_count(count):
    error = item_error("phq9", [0] * count)
    assert error.item is None
    assert "9 or 10" in error.message


@pytest.mark.parametrize(
    ("answers", "item"),
    [
        ([0, 0, 0, 4, 0, 0, 0, 0, 0], 4),
        ([-1, 0, 0, 0, 0, 0, 0, 0, 0], 1),
        ([0, 0, 0, 0, 0, 0, 0, 0, 0, 4], 10),
        ([0, 0, 0, 0, 0, 0, 0, 0, True], 9),
        ([0, 0, 0, 0, 0, "2", 0, 0, 0], 6),
        ([0, 0, 1.0, 0, 0, 0, 0, 0, 0], 3),
        ([0, [1], 0, 0, 0, 0, 0, 0, 0], 2),
    ],
)
def test_phq9_value_out_of_range_names_the_item(answers, item):
    error = item_error("phq9", answers)
    assert error.item == item
    assert f"Item {item} " in error.message


# --------------------------------------------------------------------------- GAD-7

GAD7_BOUNDARIES = [
    ([0, 0, 0, 0, 0, 0, 0], 0, "minimal"),
    ([1, 1, 1, 1, 0, 0, 0], 4, "minimal"),
    ([1, 1, 1, 1, 1, 0, 0], 5, "mild"),
    ([2, 2, 2, 1, 1, 1, 0], 9, "mild"),
    ([2, 2, 2, 1, 1, 1, 1], 10, "moderate"),
    ([2, 2, 2, 2, 2, 2, 2], 14, "moderate"),
    ([3, 2, 2, 2, 2, 2, 2], 15, "severe"),
    ([3, 3, 3, 3, 3, 3, 3], 21, "severe"),
]


@pytest.mark.parametrize(("answers", "total", "severity"), GAD7_BOUNDARIES)
def test_gad7_band_boundaries(answers, total, severity):
    expect("gad7", answers, total=total, severity=severity)


def test_gad7_item_8_is_never_summed_and_optional():
    expect("gad7", [1] * 7 + [3], total=7, severity="mild")
    expect("gad7", [1] * 7 + [N], total=7, severity="mild")


def test_gad7_incomplete():
    expect("gad7", [3, 3, 3, N, 3, N, 3], total=None, severity=None, missing=[4, 6])


@pytest.mark.parametrize("count", [6, 9])
def test_gad7_wrong_count(count):
    assert item_error("gad7", [0] * count).item is None


def test_gad7_out_of_range():
    assert item_error("gad7", [0, 0, 0, 0, 0, 0, 0, 5]).item == 8


# --------------------------------------------------------------------------- PCL-5


def pcl5(b, c, d, e):
    assert (len(b), len(c), len(d), len(e)) == (5, 2, 7, 6)
    return [*b, *c, *d, *e]


def test_pcl5_cluster_sums_and_both_flags():
    answers = pcl5([1, 2, 3, 4, 0], [2, 1], [0, 1, 2, 3, 4, 0, 1], [4, 3, 2, 1, 0, 0])
    # B 10, C 3, D 11, E 10, total 34 ≥ 33. Endorsed (≥ 2): B items 2, 3, 4; C item 6;
    # D items 10, 11, 12; E items 15, 16, 17 → the DSM-5 rule is met.
    expect(
        "pcl5",
        answers,
        total=34,
        severity=None,
        flags=["probable_ptsd", "dsm5_criteria_met"],
        subscales={"B": 10, "C": 3, "D": 11, "E": 10},
    )


def test_pcl5_cut_off_32_33():
    # C has nothing endorsed, so only the total decides. 20 + 2 + 7 + 3 = 32.
    below = pcl5([4, 4, 4, 4, 4], [1, 1], [1] * 7, [1, 1, 1, 0, 0, 0])
    expect("pcl5", below, total=32, severity=None, subscales={"B": 20, "C": 2, "D": 7, "E": 3})
    at = pcl5([4, 4, 4, 4, 4], [1, 1], [1] * 7, [1, 1, 1, 1, 0, 0])  # E 4 → 33
    expect(
        "pcl5",
        at,
        total=33,
        severity=None,
        flags=["probable_ptsd"],
        subscales={"B": 20, "C": 2, "D": 7, "E": 4},
    )


def test_pcl5_cut_off_comes_from_the_policy():
    policy = ScoringPolicy(pcl5_probable_ptsd_total=31)
    thirty = pcl5([4, 4, 4, 4, 4], [1, 1], [1] * 7, [1, 0, 0, 0, 0, 0])  # 20+2+7+1 = 30
    thirty_one = pcl5([4, 4, 4, 4, 4], [1, 1], [1] * 7, [1, 1, 0, 0, 0, 0])  # 31
    assert score("pcl5", thirty, policy)["flags"] == []
    assert score("pcl5", thirty_one, policy)["flags"] == ["probable_ptsd"]
    assert score("pcl5", thirty_one)["flags"] == []  # default cut-off 33


MINIMAL_DSM5 = pcl5([2, 0, 0, 0, 0], [2, 0], [2, 2, 0, 0, 0, 0, 0], [2, 2, 0, 0, 0, 0])


def test_pcl5_dsm5_rule_met_at_its_minimum():
    # 1 B, 1 C, 2 D, 2 E items rated 2: total 12, far below the cut-off.
    expect(
        "pcl5",
        MINIMAL_DSM5,
        total=12,
        severity=None,
        flags=["dsm5_criteria_met"],
        subscales={"B": 2, "C": 2, "D": 4, "E": 4},
    )


@pytest.mark.parametrize(
    ("position", "value"),
    [
        (0, 1),  # B: the only endorsed intrusion item drops to 1
        (5, 1),  # C: the only endorsed avoidance item drops to 1
        (8, 1),  # D: only one D item left at ≥ 2
        (15, 1),  # E: only one E item left at ≥ 2
    ],
)
def test_pcl5_dsm5_rule_fails_when_one_cluster_falls_short(position, value):
    answers = list(MINIMAL_DSM5)
    answers[position] = value
    assert score("pcl5", answers)["flags"] == []


def test_pcl5_ratings_of_1_are_never_endorsed():
    expect(
        "pcl5",
        [1] * 20,
        total=20,
        severity=None,
        subscales={"B": 5, "C": 2, "D": 7, "E": 6},
    )


def test_pcl5_maximum():
    expect(
        "pcl5",
        [4] * 20,
        total=80,
        severity=None,
        flags=["probable_ptsd", "dsm5_criteria_met"],
        subscales={"B": 20, "C": 8, "D": 28, "E": 24},
    )


def test_pcl5_incomplete_keeps_complete_clusters_and_flags():
    answers = list(MINIMAL_DSM5)
    answers[19] = None  # E incomplete; its endorsed items 15 and 16 still count
    expect(
        "pcl5",
        answers,
        total=None,
        severity=None,
        missing=[20],
        flags=["dsm5_criteria_met"],
        subscales={"B": 2, "C": 2, "D": 4},
    )


def test_pcl5_incomplete_form_whose_answers_already_reach_the_cut_off():
    # 19 answered items of 4 = 76 ≥ 33: the total can only be higher.
    expect(
        "pcl5",
        [N] + [4] * 19,
        total=None,
        severity=None,
        missing=[1],
        flags=["probable_ptsd", "dsm5_criteria_met"],
        subscales={"C": 8, "D": 28, "E": 24},
    )


def test_pcl5_wrong_count_and_range():
    assert item_error("pcl5", [0] * 19).item is None
    assert item_error("pcl5", [0] * 21).item is None
    assert item_error("pcl5", [0] * 11 + [5] + [0] * 8).item == 12


# --------------------------------------------------------------------------- QIDS-SR16


def test_qids_domain_maximum_worked_example():
    answers = [1, 3, 0, 2, 2, 0, 1, 3, 0, 1, 2, 0, 1, 2, 1, 2]
    # sleep max(1,3,0,2)=3; sad 2; appetite/weight max(0,1,3,0)=3; concentration 1;
    # self-view 2; suicidal ideation 0; interest 1; energy 2; psychomotor max(1,2)=2.
    # 3+2+3+1+2+0+1+2+2 = 16 → severe. (A plain sum of the 16 items would be 21.)
    expect("qids-sr16", answers, total=16, severity="severe")


def test_qids_a_domain_counts_once_however_many_items_are_high():
    # All four sleep items 2 → sleep domain 2; all four appetite/weight items 3 → 3.
    answers = [2, 2, 2, 2, 0, 3, 3, 3, 3, 0, 0, 0, 0, 0, 0, 0]
    expect("qids-sr16", answers, total=5, severity="none")


def qids(domains):
    """Answers with each domain's value on its first item (sleep 1, appetite 6, psychomotor 15)."""
    sleep, sad, appetite, concentration, self_view, suicidal, interest, energy, motor = domains
    return [
        sleep, 0, 0, 0, sad, appetite, 0, 0, 0, concentration, self_view, suicidal, interest,
        energy, motor, 0,
    ]  # fmt: skip


QIDS_BOUNDARIES = [
    ([0, 0, 0, 0, 0, 0, 0, 0, 0], 0, "none"),
    ([3, 2, 0, 0, 0, 0, 0, 0, 0], 5, "none"),
    ([3, 3, 0, 0, 0, 0, 0, 0, 0], 6, "mild"),
    ([3, 3, 3, 1, 0, 0, 0, 0, 0], 10, "mild"),
    ([3, 3, 3, 2, 0, 0, 0, 0, 0], 11, "moderate"),
    ([3, 3, 3, 3, 3, 0, 0, 0, 0], 15, "moderate"),
    ([3, 3, 3, 3, 3, 0, 1, 0, 0], 16, "severe"),
    ([3, 3, 3, 3, 3, 0, 3, 2, 0], 20, "severe"),
    ([3, 3, 3, 3, 3, 0, 3, 3, 0], 21, "very_severe"),
    ([3, 3, 3, 3, 3, 0, 3, 3, 3], 24, "very_severe"),
]


@pytest.mark.parametrize(("domains", "total", "severity"), QIDS_BOUNDARIES)
def test_qids_band_boundaries(domains, total, severity):
    expect("qids-sr16", qids(domains), total=total, severity=severity)


def test_qids_maximum_and_item_12():
    expect("qids-sr16", [3] * 16, total=27, severity="very_severe", flags=["suicidal_ideation"])
    expect(
        "qids-sr16",
        qids([0, 0, 0, 0, 0, 1, 0, 0, 0]),
        total=1,
        severity="none",
        flags=["suicidal_ideation"],
    )


def test_qids_incomplete_form_still_flags_item_12():
    answers = [1] * 16
    answers[2] = None
    answers[15] = None
    expect(
        "qids-sr16",
        answers,
        total=None,
        severity=None,
        missing=[3, 16],
        flags=["suicidal_ideation"],
    )


def test_qids_wrong_count_and_range():
    assert item_error("qids-sr16", [0] * 15).item is None
    assert item_error("qids-sr16", [0] * 17).item is None
    assert item_error("qids-sr16", [0] * 15 + [4]).item == 16


# --------------------------------------------------------------------------- MADRS

MADRS_BOUNDARIES = [
    ([0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 0, "normal"),
    ([6, 0, 0, 0, 0, 0, 0, 0, 0, 0], 6, "normal"),
    ([6, 1, 0, 0, 0, 0, 0, 0, 0, 0], 7, "mild"),
    ([6, 6, 6, 1, 0, 0, 0, 0, 0, 0], 19, "mild"),
    ([6, 6, 6, 2, 0, 0, 0, 0, 0, 0], 20, "moderate"),
    ([6, 6, 6, 6, 6, 4, 0, 0, 0, 0], 34, "moderate"),
    ([6, 6, 6, 6, 6, 5, 0, 0, 0, 0], 35, "severe"),
    ([6, 6, 6, 6, 6, 6, 6, 6, 6, 1], 55, "severe"),
]


@pytest.mark.parametrize(("answers", "total", "severity"), MADRS_BOUNDARIES)
def test_madrs_band_boundaries(answers, total, severity):
    expect("madrs", answers, total=total, severity=severity)


def test_madrs_item_10_at_2_or_more_flags_suicidal_thoughts():
    expect("madrs", [0] * 9 + [1], total=1, severity="normal")
    expect("madrs", [0] * 9 + [2], total=2, severity="normal", flags=["suicidal_thoughts"])
    expect("madrs", [6] * 10, total=60, severity="severe", flags=["suicidal_thoughts"])


def test_madrs_incomplete_still_flags():
    expect(
        "madrs",
        [N, 2, 2, 2, 2, 2, 2, 2, 2, 3],
        total=None,
        severity=None,
        missing=[1],
        flags=["suicidal_thoughts"],
    )


def test_madrs_wrong_count_and_range():
    assert item_error("madrs", [0] * 9).item is None
    assert item_error("madrs", [0, 0, 7, 0, 0, 0, 0, 0, 0, 0]).item == 3


# --------------------------------------------------------------------------- CADSS


def test_cadss_totals_without_bands():
    expect("cadss", [0] * 23, total=0, severity=None)
    expect("cadss", [1] * 23, total=23, severity=None)
    expect("cadss", [4] * 23, total=92, severity=None)
    expect("cadss", [4] * 22 + [N], total=None, severity=None, missing=[23])


def test_cadss_wrong_count_and_range():
    assert item_error("cadss", [0] * 22).item is None
    assert item_error("cadss", [0] * 4 + [5] + [0] * 18).item == 5


# --------------------------------------------------------------------------- C-SSRS screener
# Q1, Q2, Q3, Q4, Q5, Q6, Q6-recent; 0 = no, 1 = yes.


@pytest.mark.parametrize(
    ("answers", "risk", "flags"),
    [
        ([0, 0, N, N, N, 0, N], "none", []),
        ([1, 0, N, N, N, 0, N], "low", ["suicidal_ideation"]),
        ([0, 1, 0, 0, 0, 0, N], "low", ["suicidal_ideation"]),
        ([1, 1, 0, 0, 0, 0, N], "low", ["suicidal_ideation"]),
        ([1, 1, 1, 0, 0, 0, N], "moderate", ["suicidal_ideation"]),
        ([0, 0, N, N, N, 1, 0], "moderate", []),  # behaviour more than 3 months ago
        ([1, 0, N, N, N, 1, 0], "moderate", ["suicidal_ideation"]),
        ([1, 1, 1, 1, 0, 0, N], "high", ["suicidal_ideation", "immediate_safety_evaluation"]),
        ([0, 1, 0, 0, 1, 0, N], "high", ["suicidal_ideation", "immediate_safety_evaluation"]),
        ([0, 0, N, N, N, 1, 1], "high", ["immediate_safety_evaluation"]),  # within 3 months
        ([1, 1, 1, 0, 0, 1, 1], "high", ["suicidal_ideation", "immediate_safety_evaluation"]),
        ([1, 1, 1, 1, 1, 1, 1], "high", ["suicidal_ideation", "immediate_safety_evaluation"]),
    ],
)
def test_cssrs_risk_levels(answers, risk, flags):
    expect("cssrs-screen", answers, total=None, severity=risk, flags=flags)


@pytest.mark.parametrize(
    ("answers", "missing", "flags"),
    [
        ([N, 0, N, N, N, 0, N], [1], []),
        ([0, N, N, N, N, 0, N], [2], []),  # with Q2 unknown, Q3–Q5 are not listed as missing
        ([0, 0, N, N, N, N, N], [6], []),
        ([0, 1, 0, N, 0, 0, N], [4], ["suicidal_ideation"]),  # Q2 yes: Q3–Q5 are required
        ([0, 1, N, N, N, 0, N], [3, 4, 5], ["suicidal_ideation"]),
        ([0, 0, N, N, N, 1, N], [7], []),  # Q6 yes: Q6-recent is required
        ([N, N, N, N, N, N, N], [1, 2, 6], []),
    ],
)
def test_cssrs_missing_is_not_skipped(answers, missing, flags):
    expect("cssrs-screen", answers, total=None, severity=None, missing=missing, flags=flags)


def test_cssrs_incomplete_form_still_flags_what_was_answered():
    expect(
        "cssrs-screen",
        [N, 1, N, 1, N, 0, N],
        total=None,
        severity=None,
        missing=[1, 3, 5],
        flags=["suicidal_ideation", "immediate_safety_evaluation"],
    )
    expect(
        "cssrs-screen",
        [0, 0, N, N, N, N, 1],  # Q6 unanswered, but Q6-recent yes
        total=None,
        severity=None,
        missing=[6],
        flags=["immediate_safety_evaluation"],
    )


@pytest.mark.parametrize(
    ("answers", "item"),
    [
        ([0, 0, 1, N, N, 0, N], 3),
        ([0, 0, N, 0, N, 0, N], 4),  # even a "no" to a skipped question is refused
        ([1, 0, N, N, 0, 0, N], 5),
        ([0, 0, N, N, N, 0, 0], 7),
        ([0, 0, N, N, N, 0, 1], 7),
    ],
)
def test_cssrs_answer_to_a_skipped_question_is_refused(answers, item):
    error = item_error("cssrs-screen", answers)
    assert error.item == item
    assert f"Item {item} " in error.message


def test_cssrs_wrong_count_and_range():
    assert item_error("cssrs-screen", [0, 0, N, N, N, 0]).item is None
    assert item_error("cssrs-screen", [0, 0, N, N, N, 0, N, N]).item is None
    assert item_error("cssrs-screen", [2, 0, N, N, N, 0, N]).item == 1


# --------------------------------------------------------------------------- MOAA/S


@pytest.mark.parametrize(
    ("level", "flags"), [(0, ["loss_of_consciousness"]), (1, []), (4, []), (5, [])]
)
def test_moaas(level, flags):
    expect("moaas", [level], total=level, severity=None, flags=flags)


def test_moaas_unanswered_wrong_count_and_range():
    expect("moaas", [N], total=None, severity=None, missing=[1])
    assert item_error("moaas", []).item is None
    assert item_error("moaas", [5, 5]).item is None
    assert item_error("moaas", [6]).item == 1
    assert item_error("moaas", [-1]).item == 1


# --------------------------------------------------------------------------- modified Aldrete


def test_aldrete_default_discharge_score_9():
    expect(
        "modified-aldrete",
        [2, 2, 2, 2, 1],
        total=9,
        severity=None,
        flags=["discharge_criteria_met"],
    )
    expect("modified-aldrete", [2, 2, 2, 1, 1], total=8, severity=None)
    expect("modified-aldrete", [0, 0, 0, 0, 0], total=0, severity=None)


def test_aldrete_discharge_score_comes_from_the_policy():
    policy = ScoringPolicy(aldrete_discharge_total=10)
    expect("modified-aldrete", [2, 2, 2, 2, 1], total=9, severity=None, policy=policy)
    expect(
        "modified-aldrete",
        [2, 2, 2, 2, 2],
        total=10,
        severity=None,
        flags=["discharge_criteria_met"],
        policy=policy,
    )
    policy8 = ScoringPolicy(aldrete_discharge_total=8)
    expect(
        "modified-aldrete",
        [2, 2, 2, 1, 1],
        total=8,
        severity=None,
        flags=["discharge_criteria_met"],
        policy=policy8,
    )


def test_aldrete_incomplete_never_meets_discharge_criteria():
    expect("modified-aldrete", [2, 2, 2, 2, N], total=None, severity=None, missing=[5])


def test_aldrete_wrong_count_and_range():
    assert item_error("modified-aldrete", [2, 2, 2, 2]).item is None
    assert item_error("modified-aldrete", [2, 2, 3, 2, 2]).item == 3


# --------------------------------------------------------------------------- properties


def complete_answers(code):
    """A strategy of complete, valid answer lists for the instrument."""
    instrument = get_instrument(code)
    if code == "cssrs-screen":
        yes_no = st.sampled_from([0, 1])

        def build(q1, q2, q345, q6, recent):
            return [q1, q2, *(q345 if q2 else [N, N, N]), q6, recent if q6 else N]

        return st.builds(
            build, yes_no, yes_no, st.lists(yes_no, min_size=3, max_size=3), yes_no, yes_no
        )
    required = [st.sampled_from(sorted(i.values)) for i in instrument.items if i.required]
    optional = [
        st.one_of(st.none(), st.sampled_from(sorted(i.values)))
        for i in instrument.items
        if not i.required
    ]
    return st.tuples(*required, *optional).map(list)


@pytest.mark.parametrize("code", ALL_CODES)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_complete_answers_score_within_range_and_bands(code, data):
    instrument = get_instrument(code)
    answers = data.draw(complete_answers(code))
    result = instrument.score(answers)
    assert result.complete and result.missing_items == ()
    if code == "cssrs-screen":
        assert result.total is None
        assert result.severity in {"none", "low", "moderate", "high"}
        return
    low, high = instrument.total_range
    assert low <= result.total <= high
    slugs = {b.slug for b in instrument.bands}
    if slugs:
        assert result.severity in slugs
    else:
        assert result.severity is None


@pytest.mark.parametrize("code", ALL_CODES)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_answering_more_items_never_removes_a_flag(code, data):
    instrument = get_instrument(code)
    full = data.draw(complete_answers(code))
    # Two nested sets of blanked positions: `more` ⊇ `fewer`.
    fewer = data.draw(st.lists(st.booleans(), min_size=len(full), max_size=len(full)))
    extra = data.draw(st.lists(st.booleans(), min_size=len(full), max_size=len(full)))
    more = [a or b for a, b in zip(fewer, extra, strict=True)]
    blank = lambda mask: [N if m else a for a, m in zip(full, mask, strict=True)]  # noqa: E731
    flags_more = set(instrument.score(blank(more)).flags)
    flags_fewer = set(instrument.score(blank(fewer)).flags)
    flags_full = set(instrument.score(full).flags)
    assert flags_more <= flags_fewer <= flags_full


@pytest.mark.parametrize("code", ALL_CODES)
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_an_unanswered_required_item_makes_the_form_incomplete(code, data):
    instrument = get_instrument(code)
    full = data.draw(complete_answers(code))
    always_required = [
        n for n, item in enumerate(instrument.items, start=1) if item.required and item.scored
    ]
    if code == "cssrs-screen":
        always_required = [1, 2, 6]
    number = data.draw(st.sampled_from(always_required))
    answers = list(full)
    answers[number - 1] = None
    result = instrument.score(answers)
    assert not result.complete
    assert number in result.missing_items
    assert result.total is None and result.severity is None


@pytest.mark.parametrize("code", ["phq9", "qids-sr16", "cssrs-screen"])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_the_suicidal_ideation_flag_and_the_alert_agree(code, data):
    """One definition (`Instrument.suicidality_positives`): the scorer's flag and the alert's
    trigger read the same items at the same thresholds, on complete and partly blank forms.
    The C-SSRS alert also counts Q3–Q6, so there the flag implies the alert."""
    instrument = get_instrument(code)
    full = data.draw(complete_answers(code))
    mask = data.draw(st.lists(st.booleans(), min_size=len(full), max_size=len(full)))
    answers = [N if m else a for a, m in zip(full, mask, strict=True)]
    result = instrument.score(answers)
    flagged = "suicidal_ideation" in result.flags
    alerted = any(
        t.kind == "suicidal_ideation" for t in suicidality_triggers(instrument, answers, result)
    )
    assert flagged == bool(instrument.suicidality_positives(answers))
    if code == "cssrs-screen":
        assert alerted or not flagged
    else:
        assert flagged == alerted


# --------------------------------------------------------------------------- purity


def test_the_instruments_package_imports_no_django():
    code = (
        "import sys; import clinic.assessments.instruments as m; "
        "assert m.ALL_CODES; "
        "bad = sorted(k for k in sys.modules if k == 'django' or k.startswith('django.')); "
        "assert not bad, bad"
    )
    # A fixed command line: this interpreter and a literal program.
    subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=True, timeout=60)  # noqa: S603


def test_no_module_in_the_package_mentions_django():
    package = REPO_ROOT / "clinic" / "assessments" / "instruments"
    for path in package.glob("*.py"):
        source = path.read_text()
        assert "import django" not in source and "from django" not in source, path.name
