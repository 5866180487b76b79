"""The screening rules engine (clinic/screening/rules.py), table-driven from screening-rules.md.

Every expectation below is read off docs/clinical/screening-rules.md by hand — its table of
codes, triggers, levels, routes and sources, the verdict rule and the treatment-resistance
definition — and calculators.md §3 (the contract example, absent home answers count as no).
None is taken from running the code under test.

Verdict shorthand: four letters for iv, im, esketamine, sublingual — E eligible,
P eligible_with_precautions, I ineligible, N incomplete (calculators.md §3, "Unanswered is not
'no'": an answer the rule set needs is missing).

Long because: it is the table of golden cases for one pure engine, one case per row of
screening-rules.md and per reading stated in rules.py; split, the table would no longer read
against the source row by row.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic.patients.choices import Sex
from clinic.screening import rules
from clinic.screening.choices import Condition, Indication, MedicationClass, Route, TrialOutcome
from clinic.screening.rules import (
    DEFAULT_RULE_SET,
    ContradictionError,
    Finding,
    ImpossibleValueError,
    IntakeFacts,
    PolicyError,
    RuleSet,
    TrialFacts,
    VocabularyError,
    describe_rules,
    route_verdicts,
    rule_set_from_policy,
)

REPO = Path(__file__).resolve().parents[3]

ALL = ("iv", "im", "esketamine", "sublingual")
IN_CLINIC = ("iv", "im", "esketamine")
SUBLINGUAL = ("sublingual",)
ESKETAMINE = ("esketamine",)

LETTER = {
    "E": "eligible",
    "P": "eligible_with_precautions",
    "I": "ineligible",
    "N": "incomplete",
}


def verdicts(letters: str) -> dict[str, str]:
    return {route: LETTER[letter] for route, letter in zip(ALL, letters, strict=True)}


# screening-rules.md, the table, row by row: code, level, routes, label, source keys.
TABLE = [
    ("age_under_18", "absolute", ALL, False, ("[C2]",)),
    ("age_65_or_over", "caution", IN_CLINIC, False, ("[C5]", "[H3]")),
    ("hypersensitivity", "absolute", ALL, True, ("[C11]", "[F1]")),
    ("aneurysmal_vascular_disease", "absolute", ALL, True, ("[C11]",)),
    ("arteriovenous_malformation", "absolute", ALL, True, ("[C11]",)),
    ("intracerebral_hemorrhage", "absolute", ALL, True, ("[C11]",)),
    ("uncontrolled_hypertension", "absolute", ALL, False, ("[F1]", "[E2]")),
    ("elevated_blood_pressure", "caution", ALL, False, ("[C2]",)),
    ("cardiac_disease", "relative", IN_CLINIC, False, ("[C9]", "[F2]")),
    ("cardiac_disease_unmonitored", "absolute", SUBLINGUAL, False, ("[B9]",)),
    ("active_psychosis", "absolute", ALL, False, ("[B9]", "[F4]")),
    ("psychosis_history", "relative", IN_CLINIC, False, ("[C9]", "[A5]")),
    ("psychosis_history_unmonitored", "absolute", SUBLINGUAL, False, ("[B9]",)),
    ("mania_history", "relative", ALL, False, ("[B9]",)),
    ("substance_use_disorder", "relative", IN_CLINIC, False, ("[C9]", "[A5]")),
    ("substance_use_disorder_unmonitored", "absolute", SUBLINGUAL, False, ("[B9]",)),
    ("pregnancy", "absolute", ALL, False, ("[C11]", "[B9]")),
    ("breastfeeding", "relative", ALL, False, ("[C11]",)),
    ("raised_intracranial_pressure", "relative", ALL, False, ("[C2]", "[F2]")),
    ("raised_intraocular_pressure", "relative", ALL, False, ("[F2]",)),
    ("hepatic_impairment_moderate", "caution", ALL, False, ("[C12]",)),
    ("hepatic_impairment_severe", "absolute", ESKETAMINE, True, ("[C12]",)),
    (
        "hepatic_impairment_severe_other",
        "relative",
        ("iv", "im", "sublingual"),
        False,
        ("[C12]", "[B2]"),
    ),
    ("hyperthyroidism_untreated", "relative", ALL, False, ("[E2]",)),
    ("bladder_symptoms", "relative", ALL, False, ("[F4]",)),
    ("suicide_risk_high", "absolute", SUBLINGUAL, False, ("[B9]", "[G13]")),
    ("suicide_risk_high_clinic", "caution", IN_CLINIC, False, ("[G13]", "[C6]")),
    ("benzodiazepine", "caution", ALL, False, ("[C14]", "[A7]", "[A8]")),
    ("cns_depressant", "caution", ALL, False, ("[C14]",)),
    ("blood_pressure_raising_drug", "caution", ALL, False, ("[C14]",)),
    ("lamotrigine", "caution", ALL, False, ("[A7]",)),
    ("esketamine_off_label", "absolute", ESKETAMINE, True, ("[C2]", "[C6]")),
    ("not_treatment_resistant", "caution", ALL, False, ("[C2]",)),
    ("esketamine_not_trd", "absolute", ESKETAMINE, True, ("[C2]",)),
    ("no_treatment_monitor", "absolute", SUBLINGUAL, False, ("[B9]",)),
    ("no_home_bp_monitor", "absolute", SUBLINGUAL, False, ("[B9]",)),
]
ROW = {code: (level, routes, label, keys) for code, level, routes, label, keys in TABLE}

# The rules marked *label* in screening-rules.md.
LABEL_CODES = {
    "hypersensitivity",
    "aneurysmal_vascular_disease",
    "arteriovenous_malformation",
    "intracerebral_hemorrhage",
    "hepatic_impairment_severe",
    "esketamine_off_label",
    "esketamine_not_trd",
}


def failed_trial(drug: str = "sertraline", outcome: str = "no_response") -> TrialFacts:
    return TrialFacts(drug=drug, adequate=True, outcome=outcome, current_episode=True)


# An intake no rule fires on: an adult with treatment-resistant depression (two failed adequate
# trials in the current episode), normal blood pressure, a home monitor and a home BP monitor.
CLEAN = IntakeFacts(
    age_years=40,
    sex="female",
    pregnant=False,
    breastfeeding=False,
    weight_kg=Decimal("70"),
    height_cm=Decimal("170"),
    systolic_mmhg=120,
    diastolic_mmhg=80,
    heart_rate_bpm=70,
    indication="treatment_resistant_depression",
    conditions=(),
    medication_classes=(),
    antidepressant_trials=(failed_trial("sertraline"), failed_trial("venlafaxine")),
    cssrs_risk="none",
    home_treatment_monitor=True,
    home_bp_monitor=True,
)


def facts(**changes) -> IntakeFacts:
    return dataclasses.replace(CLEAN, **changes)


def codes(evaluation) -> tuple[str, ...]:
    return tuple(finding.code for finding in evaluation.findings)


def evaluate(**changes):
    return DEFAULT_RULE_SET.evaluate(facts(**changes))


# --------------------------------------------------------------------------- the table


def test_the_rule_set_is_the_table():
    described = describe_rules(DEFAULT_RULE_SET)
    assert [(d.code, d.level, d.routes, d.label) for d in described] == [
        (code, level, routes, label) for code, level, routes, label, _keys in TABLE
    ]
    assert {d.code for d in described if d.label} == LABEL_CODES
    for description in described:
        for key in ROW[description.code][3]:
            assert key in description.source, description
        assert description.trigger


def test_a_clean_intake_has_no_findings():
    evaluation = DEFAULT_RULE_SET.evaluate(CLEAN)
    assert evaluation.findings == ()
    assert evaluation.routes == verdicts("EEEE")
    assert evaluation.treatment_resistant is True
    assert evaluation.failed_adequate_trials == 2
    assert evaluation.rule_set_version == 1
    assert evaluation.missing == ()


TRD_ONE_FAILED = {
    "indication": "treatment_resistant_depression",
    "antidepressant_trials": (failed_trial(),),
}

# code → the intake change that triggers it, every finding expected (table order), verdicts.
TRIGGERS = [
    ("age_under_18", {"age_years": 17}, ("age_under_18",), "IIII"),
    ("age_under_18", {"age_years": 0}, ("age_under_18",), "IIII"),
    ("age_65_or_over", {"age_years": 65}, ("age_65_or_over",), "PPPE"),
    ("age_65_or_over", {"age_years": 90}, ("age_65_or_over",), "PPPE"),
    ("hypersensitivity", {"conditions": ("hypersensitivity",)}, ("hypersensitivity",), "IIII"),
    (
        "aneurysmal_vascular_disease",
        {"conditions": ("aneurysmal_vascular_disease",)},
        ("aneurysmal_vascular_disease",),
        "IIII",
    ),
    (
        "arteriovenous_malformation",
        {"conditions": ("arteriovenous_malformation",)},
        ("arteriovenous_malformation",),
        "IIII",
    ),
    (
        "intracerebral_hemorrhage",
        {"conditions": ("intracerebral_hemorrhage",)},
        ("intracerebral_hemorrhage",),
        "IIII",
    ),
    (
        "uncontrolled_hypertension",
        {"conditions": ("uncontrolled_hypertension",)},
        ("uncontrolled_hypertension",),
        "IIII",
    ),
    # Screening BP ≥ 180/100: systolic ≥ 180 or diastolic ≥ 100.
    (
        "uncontrolled_hypertension",
        {"systolic_mmhg": 180, "diastolic_mmhg": 100},
        ("uncontrolled_hypertension",),
        "IIII",
    ),
    (
        "uncontrolled_hypertension",
        {"systolic_mmhg": 180, "diastolic_mmhg": 80},
        ("uncontrolled_hypertension",),
        "IIII",
    ),
    (
        "uncontrolled_hypertension",
        {"systolic_mmhg": 150, "diastolic_mmhg": 100},
        ("uncontrolled_hypertension",),
        "IIII",
    ),
    (
        "uncontrolled_hypertension",
        {"systolic_mmhg": 185, "diastolic_mmhg": None},
        ("uncontrolled_hypertension",),
        "IIII",
    ),
    # The condition recorded and a reading between the bands: both findings.
    (
        "uncontrolled_hypertension",
        {"conditions": ("uncontrolled_hypertension",), "systolic_mmhg": 150, "diastolic_mmhg": 95},
        ("uncontrolled_hypertension", "elevated_blood_pressure"),
        "IIII",
    ),
    # Screening BP > 140/90 and below 180/100.
    (
        "elevated_blood_pressure",
        {"systolic_mmhg": 141, "diastolic_mmhg": 90},
        ("elevated_blood_pressure",),
        "PPPP",
    ),
    (
        "elevated_blood_pressure",
        {"systolic_mmhg": 140, "diastolic_mmhg": 91},
        ("elevated_blood_pressure",),
        "PPPP",
    ),
    (
        "elevated_blood_pressure",
        {"systolic_mmhg": 179, "diastolic_mmhg": 99},
        ("elevated_blood_pressure",),
        "PPPP",
    ),
    # One component alone still fires the rule it crosses, but a reading without both numbers
    # is not a blood pressure: the routes it leaves open are incomplete.
    (
        "elevated_blood_pressure",
        {"systolic_mmhg": None, "diastolic_mmhg": 95},
        ("elevated_blood_pressure",),
        "NNNN",
    ),
    (
        "cardiac_disease",
        {"conditions": ("cardiac_disease",)},
        ("cardiac_disease", "cardiac_disease_unmonitored"),
        "PPPI",
    ),
    (
        "cardiac_disease_unmonitored",
        {"conditions": ("cardiac_disease",)},
        ("cardiac_disease", "cardiac_disease_unmonitored"),
        "PPPI",
    ),
    ("active_psychosis", {"conditions": ("active_psychosis",)}, ("active_psychosis",), "IIII"),
    (
        "psychosis_history",
        {"conditions": ("psychosis_history",)},
        ("psychosis_history", "psychosis_history_unmonitored"),
        "PPPI",
    ),
    (
        "psychosis_history_unmonitored",
        {"conditions": ("psychosis_history",)},
        ("psychosis_history", "psychosis_history_unmonitored"),
        "PPPI",
    ),
    ("mania_history", {"conditions": ("mania_history",)}, ("mania_history",), "PPPP"),
    # Bipolar depression is bipolar disorder; it is not an esketamine indication.
    (
        "mania_history",
        {"indication": "bipolar_depression"},
        ("mania_history", "esketamine_off_label"),
        "PPIP",
    ),
    (
        "substance_use_disorder",
        {"conditions": ("substance_use_disorder",)},
        ("substance_use_disorder", "substance_use_disorder_unmonitored"),
        "PPPI",
    ),
    (
        "substance_use_disorder_unmonitored",
        {"conditions": ("substance_use_disorder",)},
        ("substance_use_disorder", "substance_use_disorder_unmonitored"),
        "PPPI",
    ),
    ("pregnancy", {"pregnant": True}, ("pregnancy",), "IIII"),
    ("breastfeeding", {"breastfeeding": True}, ("breastfeeding",), "PPPP"),
    (
        "raised_intracranial_pressure",
        {"conditions": ("raised_intracranial_pressure",)},
        ("raised_intracranial_pressure",),
        "PPPP",
    ),
    (
        "raised_intraocular_pressure",
        {"conditions": ("raised_intraocular_pressure",)},
        ("raised_intraocular_pressure",),
        "PPPP",
    ),
    (
        "hepatic_impairment_moderate",
        {"conditions": ("hepatic_impairment_moderate",)},
        ("hepatic_impairment_moderate",),
        "PPPP",
    ),
    (
        "hepatic_impairment_severe",
        {"conditions": ("hepatic_impairment_severe",)},
        ("hepatic_impairment_severe", "hepatic_impairment_severe_other"),
        "PPIP",
    ),
    (
        "hepatic_impairment_severe_other",
        {"conditions": ("hepatic_impairment_severe",)},
        ("hepatic_impairment_severe", "hepatic_impairment_severe_other"),
        "PPIP",
    ),
    (
        "hyperthyroidism_untreated",
        {"conditions": ("hyperthyroidism_untreated",)},
        ("hyperthyroidism_untreated",),
        "PPPP",
    ),
    ("bladder_symptoms", {"conditions": ("bladder_symptoms",)}, ("bladder_symptoms",), "PPPP"),
    (
        "suicide_risk_high",
        {"cssrs_risk": "high"},
        ("suicide_risk_high", "suicide_risk_high_clinic"),
        "PPPI",
    ),
    (
        "suicide_risk_high_clinic",
        {"cssrs_risk": "high"},
        ("suicide_risk_high", "suicide_risk_high_clinic"),
        "PPPI",
    ),
    ("benzodiazepine", {"medication_classes": ("benzodiazepine",)}, ("benzodiazepine",), "PPPP"),
    ("cns_depressant", {"medication_classes": ("opioid",)}, ("cns_depressant",), "PPPP"),
    ("cns_depressant", {"medication_classes": ("sedative_hypnotic",)}, ("cns_depressant",), "PPPP"),
    ("cns_depressant", {"medication_classes": ("cns_depressant",)}, ("cns_depressant",), "PPPP"),
    (
        "cns_depressant",
        {"medication_classes": ("opioid", "sedative_hypnotic", "cns_depressant")},
        ("cns_depressant",),
        "PPPP",
    ),
    (
        "blood_pressure_raising_drug",
        {"medication_classes": ("maoi",)},
        ("blood_pressure_raising_drug",),
        "PPPP",
    ),
    (
        "blood_pressure_raising_drug",
        {"medication_classes": ("psychostimulant",)},
        ("blood_pressure_raising_drug",),
        "PPPP",
    ),
    ("lamotrigine", {"medication_classes": ("lamotrigine",)}, ("lamotrigine",), "PPPP"),
    ("esketamine_off_label", {"indication": "ptsd"}, ("esketamine_off_label",), "EEIE"),
    ("esketamine_off_label", {"indication": "chronic_pain"}, ("esketamine_off_label",), "EEIE"),
    # No indication recorded: an on-label indication is not established (and the indication is
    # a missing answer, so the other routes are incomplete).
    ("esketamine_off_label", {"indication": None}, ("esketamine_off_label",), "NNIN"),
    # Major depression is a depression; with two failed trials it is treatment-resistant.
    ("esketamine_off_label", {"indication": "major_depression"}, ("esketamine_off_label",), "EEIE"),
    (
        "not_treatment_resistant",
        {"indication": "major_depression", "antidepressant_trials": ()},
        ("esketamine_off_label", "not_treatment_resistant"),
        "PPIP",
    ),
    (
        "not_treatment_resistant",
        {"indication": "bipolar_depression", "antidepressant_trials": (failed_trial(),)},
        ("mania_history", "esketamine_off_label", "not_treatment_resistant"),
        "PPIP",
    ),
    # Depression with acute suicidal ideation: a depression, and a labelled esketamine
    # indication that needs no failed trials [C6] — esketamine stays open.
    (
        "not_treatment_resistant",
        {"indication": "depression_with_suicidal_ideation", "antidepressant_trials": ()},
        ("not_treatment_resistant",),
        "PPPP",
    ),
    (
        "not_treatment_resistant",
        TRD_ONE_FAILED,
        ("not_treatment_resistant", "esketamine_not_trd"),
        "PPIP",
    ),
    (
        "esketamine_not_trd",
        {"indication": "treatment_resistant_depression", "antidepressant_trials": ()},
        ("not_treatment_resistant", "esketamine_not_trd"),
        "PPIP",
    ),
    ("no_treatment_monitor", {"home_treatment_monitor": False}, ("no_treatment_monitor",), "EEEI"),
    ("no_home_bp_monitor", {"home_bp_monitor": False}, ("no_home_bp_monitor",), "EEEI"),
]


def test_every_rule_has_a_triggering_case():
    assert {code for code, *_ in TRIGGERS} == set(ROW)


@pytest.mark.parametrize(("code", "changes", "expected", "letters"), TRIGGERS)
def test_a_rule_fires(code, changes, expected, letters):
    evaluation = evaluate(**changes)
    assert codes(evaluation) == expected
    finding = next(f for f in evaluation.findings if f.code == code)
    level, routes, label, keys = ROW[code]
    assert finding.level == level
    assert finding.routes == routes
    for key in keys:
        assert key in finding.source
    assert finding.source.startswith("Esketamine label") == label
    assert finding.message.strip()
    assert evaluation.routes == verdicts(letters)


# code → an intake change just short of its trigger.
NEAR_MISSES = [
    ("age_under_18", {"age_years": 18}),
    ("age_65_or_over", {"age_years": 64}),
    ("age_under_18", {"age_years": None}),
    ("age_65_or_over", {"age_years": None}),
    ("uncontrolled_hypertension", {"systolic_mmhg": 179, "diastolic_mmhg": 99}),
    ("uncontrolled_hypertension", {"systolic_mmhg": None, "diastolic_mmhg": None}),
    ("elevated_blood_pressure", {"systolic_mmhg": 140, "diastolic_mmhg": 90}),
    ("elevated_blood_pressure", {"systolic_mmhg": 180, "diastolic_mmhg": 99}),
    ("elevated_blood_pressure", {"systolic_mmhg": 150, "diastolic_mmhg": 100}),
    ("elevated_blood_pressure", {"systolic_mmhg": 200, "diastolic_mmhg": 120}),
    ("pregnancy", {"pregnant": None}),
    ("breastfeeding", {"breastfeeding": None}),
    ("suicide_risk_high", {"cssrs_risk": "moderate"}),
    ("suicide_risk_high_clinic", {"cssrs_risk": "moderate"}),
    ("suicide_risk_high", {"cssrs_risk": None}),
    ("benzodiazepine", {"medication_classes": ("other",)}),
    ("cns_depressant", {"medication_classes": ("benzodiazepine", "lamotrigine", "other")}),
    ("blood_pressure_raising_drug", {"medication_classes": ("opioid", "other")}),
    ("esketamine_off_label", {"indication": "treatment_resistant_depression"}),
    ("esketamine_off_label", {"indication": "depression_with_suicidal_ideation"}),
    # Two failed adequate trials: treatment-resistant.
    ("not_treatment_resistant", {"indication": "major_depression"}),
    ("esketamine_not_trd", {"indication": "treatment_resistant_depression"}),
    # Not a depression: no treatment-resistance rule.
    ("not_treatment_resistant", {"indication": "ptsd", "antidepressant_trials": ()}),
    ("not_treatment_resistant", {"indication": None, "antidepressant_trials": ()}),
    ("esketamine_not_trd", {"indication": "major_depression", "antidepressant_trials": ()}),
    (
        "esketamine_not_trd",
        {"indication": "depression_with_suicidal_ideation", "antidepressant_trials": ()},
    ),
    ("mania_history", {"indication": "major_depression"}),
    ("no_treatment_monitor", {"home_treatment_monitor": True, "home_bp_monitor": False}),
    ("no_home_bp_monitor", {"home_treatment_monitor": False, "home_bp_monitor": True}),
]


@pytest.mark.parametrize(("code", "changes"), NEAR_MISSES)
def test_a_rule_does_not_fire_just_short_of_its_trigger(code, changes):
    assert code not in codes(evaluate(**changes))


CONDITION_RULES = {
    "hypersensitivity": {"hypersensitivity"},
    "aneurysmal_vascular_disease": {"aneurysmal_vascular_disease"},
    "arteriovenous_malformation": {"arteriovenous_malformation"},
    "intracerebral_hemorrhage": {"intracerebral_hemorrhage"},
    "uncontrolled_hypertension": {"uncontrolled_hypertension"},
    "cardiac_disease": {"cardiac_disease", "cardiac_disease_unmonitored"},
    "active_psychosis": {"active_psychosis"},
    "psychosis_history": {"psychosis_history", "psychosis_history_unmonitored"},
    "mania_history": {"mania_history"},
    "substance_use_disorder": {"substance_use_disorder", "substance_use_disorder_unmonitored"},
    "raised_intracranial_pressure": {"raised_intracranial_pressure"},
    "raised_intraocular_pressure": {"raised_intraocular_pressure"},
    "hepatic_impairment_moderate": {"hepatic_impairment_moderate"},
    "hepatic_impairment_severe": {"hepatic_impairment_severe", "hepatic_impairment_severe_other"},
    "hyperthyroidism_untreated": {"hyperthyroidism_untreated"},
    "bladder_symptoms": {"bladder_symptoms"},
}


@pytest.mark.parametrize("condition", sorted(CONDITION_RULES))
def test_a_condition_fires_its_rules_and_no_other_condition_does(condition):
    assert set(codes(evaluate(conditions=(condition,)))) == CONDITION_RULES[condition]
    others = tuple(c for c in rules.CONDITIONS if c != condition)
    assert not CONDITION_RULES[condition] & set(codes(evaluate(conditions=others)))


def test_the_esketamine_routes_per_indication():
    # Label indications: TRD [C2] (needs two failed trials) and MDD with acute suicidal
    # ideation [C6]. Everything else is off-label for esketamine.
    for indication in rules.INDICATIONS:
        for trials in ((), (failed_trial(),), CLEAN.antidepressant_trials):
            evaluation = evaluate(indication=indication, antidepressant_trials=trials)
            open_ = indication == "depression_with_suicidal_ideation" or (
                indication == "treatment_resistant_depression" and len(trials) >= 2
            )
            assert (evaluation.routes["esketamine"] != "ineligible") is open_, (indication, trials)


# --------------------------------------------------------------------------- the contract


def test_the_contract_example():
    # calculators.md §3: TRD with one failed adequate trial, past psychosis, a
    # benzodiazepine, BP 132/84, C-SSRS low, both home answers yes.
    example = IntakeFacts(
        age_years=42,
        sex="female",
        pregnant=False,
        breastfeeding=False,
        weight_kg=Decimal(80),
        height_cm=Decimal(170),
        systolic_mmhg=132,
        diastolic_mmhg=84,
        heart_rate_bpm=72,
        indication="treatment_resistant_depression",
        conditions=("psychosis_history",),
        medication_classes=("benzodiazepine",),
        antidepressant_trials=(TrialFacts("sertraline", True, "no_response", True),),
        cssrs_risk="low",
        home_treatment_monitor=True,
        home_bp_monitor=True,
    )
    body = DEFAULT_RULE_SET.evaluate(example).as_dict()
    assert set(body) == {
        "findings",
        "treatment_resistant",
        "failed_adequate_trials",
        "bmi",
        "routes",
        "missing",
    }
    assert body["missing"] == []  # every input of the example is given
    assert [(f["code"], f["level"], f["routes"]) for f in body["findings"]] == [
        ("psychosis_history", "relative", ["iv", "im", "esketamine"]),
        ("psychosis_history_unmonitored", "absolute", ["sublingual"]),
        ("benzodiazepine", "caution", ["iv", "im", "esketamine", "sublingual"]),
        ("not_treatment_resistant", "caution", ["iv", "im", "esketamine", "sublingual"]),
        ("esketamine_not_trd", "absolute", ["esketamine"]),
    ]
    for finding in body["findings"]:
        assert set(finding) == {"code", "level", "routes", "message", "source"}
    assert body["treatment_resistant"] is False
    assert body["failed_adequate_trials"] == 1
    assert body["bmi"] == 27.7  # 80 / 1.70² = 27.68
    assert body["routes"] == {
        "iv": "eligible_with_precautions",
        "im": "eligible_with_precautions",
        "esketamine": "ineligible",
        "sublingual": "ineligible",
    }


def test_absent_home_answers_count_as_no():
    # The clean intake with the home answers left out (the home answers are not among the inputs
    # the contract counts as missing: absent counts as no).
    given = {
        f.name: getattr(CLEAN, f.name)
        for f in dataclasses.fields(CLEAN)
        if not f.name.startswith("home_")
    }
    evaluation = DEFAULT_RULE_SET.evaluate(IntakeFacts(**given))
    assert codes(evaluation) == ("no_treatment_monitor", "no_home_bp_monitor")
    assert evaluation.missing == ()
    assert evaluation.routes == verdicts("EEEI")


def test_lists_may_be_any_iterable():
    given = IntakeFacts(
        conditions=["cardiac_disease"],
        medication_classes=iter(["benzodiazepine"]),
        antidepressant_trials=(t for t in [failed_trial()]),
    )
    assert given.conditions == ("cardiac_disease",)
    assert given.medication_classes == ("benzodiazepine",)
    assert given.antidepressant_trials == (failed_trial(),)
    assert DEFAULT_RULE_SET.evaluate(given).failed_adequate_trials == 1


def test_no_trials_and_trials_not_given_are_the_same():
    # Trials are not among the contract's missing inputs: none recorded counts none failed.
    assert IntakeFacts(antidepressant_trials=None).antidepressant_trials == ()


def test_an_empty_intake():
    evaluation = DEFAULT_RULE_SET.evaluate(IntakeFacts())
    assert codes(evaluation) == (
        "esketamine_off_label",
        "no_treatment_monitor",
        "no_home_bp_monitor",
    )
    # Nothing answered: IV and IM would be eligible on no findings, but nothing is known.
    assert evaluation.routes == verdicts("NNII")
    assert evaluation.missing == (
        "age_years",
        "weight_kg",
        "blood_pressure",
        "heart_rate",
        "indication",
        "conditions",
        "medication_classes",
        "pregnant",
        "breastfeeding",
    )
    assert evaluation.bmi is None
    assert evaluation.failed_adequate_trials == 0
    assert evaluation.treatment_resistant is False


# --------------------------------------------------------------------------- unanswered is not "no"

# calculators.md §3, "Unanswered is not 'no'": the inputs in the contract's order.
CONTRACT_MISSING_ORDER = (
    "age_years",
    "weight_kg",
    "blood_pressure",
    "heart_rate",
    "indication",
    "conditions",
    "medication_classes",
    "pregnant",
    "breastfeeding",
)

# Each input left out of the clean intake (no findings, every route eligible), alone.
# (what is taken away, the one input the engine must report missing)
MISSING_ALONE = [
    ({"age_years": None}, "age_years"),
    ({"weight_kg": None}, "weight_kg"),
    ({"systolic_mmhg": None, "diastolic_mmhg": None}, "blood_pressure"),
    ({"systolic_mmhg": None}, "blood_pressure"),
    ({"diastolic_mmhg": None}, "blood_pressure"),
    ({"heart_rate_bpm": None}, "heart_rate"),
    ({"indication": None}, "indication"),
    ({"conditions": None}, "conditions"),
    ({"medication_classes": None}, "medication_classes"),
    ({"pregnant": None}, "pregnant"),
    ({"breastfeeding": None}, "breastfeeding"),
]


def test_every_contract_input_has_a_case_alone():
    assert {name for _changes, name in MISSING_ALONE} == set(CONTRACT_MISSING_ORDER)
    assert rules.MISSING_INPUTS == CONTRACT_MISSING_ORDER


@pytest.mark.parametrize(("changes", "name"), MISSING_ALONE)
def test_one_missing_input_makes_every_open_route_incomplete(changes, name):
    evaluation = evaluate(**changes)
    assert evaluation.missing == (name,)
    # Without an indication esketamine is closed by its label rule, and stays closed.
    expected = "NNIN" if name == "indication" else "NNNN"
    assert evaluation.routes == verdicts(expected)
    assert evaluation.as_dict()["missing"] == [name]


@pytest.mark.parametrize("sex", ["female", "other", "unknown", None])
def test_pregnancy_and_breastfeeding_are_asked_unless_the_sex_is_male(sex):
    evaluation = evaluate(sex=sex, pregnant=None, breastfeeding=None)
    assert evaluation.missing == ("pregnant", "breastfeeding")
    assert evaluation.routes == verdicts("NNNN")


def test_male_sex_removes_pregnancy_and_breastfeeding_from_the_missing():
    assert evaluate(sex="male", pregnant=None, breastfeeding=None).missing == ()
    assert evaluate(sex="male", pregnant=None, breastfeeding=None).routes == verdicts("EEEE")
    assert IntakeFacts(sex="male").missing() == (
        "age_years",
        "weight_kg",
        "blood_pressure",
        "heart_rate",
        "indication",
        "conditions",
        "medication_classes",
    )


def test_an_empty_list_is_an_answer_and_an_absent_one_is_missing():
    asked = evaluate(conditions=(), medication_classes=())
    assert asked.missing == () and asked.routes == verdicts("EEEE")
    not_asked = evaluate(conditions=None, medication_classes=None)
    assert not_asked.missing == ("conditions", "medication_classes")
    assert not_asked.routes == verdicts("NNNN")
    # A medicine no rule is about is still an answer.
    assert evaluate(medication_classes=("other",)).missing == ()


@pytest.mark.parametrize(
    ("changes", "expected_missing", "letters"),
    [
        # Under the adult age closes every route: missing answers cannot reopen any.
        ({"age_years": 17, "weight_kg": None}, ("weight_kg",), "IIII"),
        (
            {"age_years": 17, "conditions": None, "pregnant": None},
            ("conditions", "pregnant"),
            "IIII",
        ),
        # Closed routes stay closed; the rest are incomplete, with or without precautions.
        ({"home_bp_monitor": False, "heart_rate_bpm": None}, ("heart_rate",), "NNNI"),
        ({"conditions": ("psychosis_history",), "weight_kg": None}, ("weight_kg",), "NNNI"),
        (
            {"indication": "ptsd", "medication_classes": None},
            ("medication_classes",),
            "NNIN",
        ),
        # A known contraindication on a route is found even while answers are missing.
        (
            {"conditions": ("hypersensitivity",), "medication_classes": None},
            ("medication_classes",),
            "IIII",
        ),
    ],
)
def test_an_ineligible_route_stays_ineligible(changes, expected_missing, letters):
    evaluation = evaluate(**changes)
    assert evaluation.missing == expected_missing
    assert evaluation.routes == verdicts(letters)


def test_all_missing_in_the_contracts_order():
    evaluation = DEFAULT_RULE_SET.evaluate(IntakeFacts())
    assert evaluation.missing == CONTRACT_MISSING_ORDER
    assert evaluation.incomplete_routes() == ("iv", "im")


def test_missing_answers_in_words():
    words = rules.missing_in_words(CONTRACT_MISSING_ORDER)
    assert len(words) == 9 and all(w and "_" not in w for w in words)
    assert words[2].startswith("screening blood pressure")


def test_every_rule_has_a_title_in_words():
    for code in rules.RULE_CODES:
        title = rules.rule_title(code)
        assert title and "_" not in title and title != code, code
    finding = Finding("no_treatment_monitor", "absolute", SUBLINGUAL, "m", "s")
    assert finding.title == "No treatment monitor at home"
    assert "title" not in finding.as_dict()  # the API's finding keeps the contract's shape
    # A code from an older stored evaluation is still shown in words.
    assert rules.rule_title("retired_rule_code") == "Retired rule code"


# --------------------------------------------------------------------------- treatment resistance


@pytest.mark.parametrize(
    ("trials", "failed"),
    [
        ((), 0),
        ((failed_trial(),), 1),
        ((failed_trial(), failed_trial("escitalopram", "partial_response")), 2),
        ((failed_trial(), failed_trial(), failed_trial()), 3),
        # Not counted: a response, an intolerance, an inadequate trial, an earlier episode.
        ((failed_trial(), failed_trial("bupropion", "response")), 1),
        ((failed_trial(), failed_trial("bupropion", "intolerance")), 1),
        ((failed_trial(), TrialFacts("fluoxetine", False, "no_response", True)), 1),
        ((failed_trial(), TrialFacts("fluoxetine", True, "partial_response", False)), 1),
        ((TrialFacts("fluoxetine", False, "partial_response", False),), 0),
    ],
)
def test_failed_adequate_trials_in_the_current_episode(trials, failed):
    evaluation = evaluate(indication="major_depression", antidepressant_trials=trials)
    assert evaluation.failed_adequate_trials == failed
    assert evaluation.treatment_resistant is (failed >= 2)
    assert ("not_treatment_resistant" in codes(evaluation)) is (failed < 2)


# --------------------------------------------------------------------------- BMI


@pytest.mark.parametrize(
    ("weight", "height", "bmi"),
    [
        (Decimal(80), Decimal(170), Decimal("27.7")),
        (Decimal(49), Decimal(140), Decimal("25.0")),
        # 100.2 / 2.00² = 25.05 exactly: half up → 25.1.
        (Decimal("100.2"), Decimal(200), Decimal("25.1")),
        (80, 170, Decimal("27.7")),
        (80.0, 170.0, Decimal("27.7")),
        (Decimal(80), None, None),
        (None, Decimal(170), None),
    ],
)
def test_bmi(weight, height, bmi):
    evaluation = DEFAULT_RULE_SET.evaluate(IntakeFacts(weight_kg=weight, height_cm=height))
    assert evaluation.bmi == bmi
    assert evaluation.as_dict()["bmi"] == (float(bmi) if bmi is not None else None)


# --------------------------------------------------------------------------- policy


def test_a_new_threshold_changes_the_verdict():
    older = rule_set_from_policy(2, {"thresholds": {"older_adult_age_years": 60}})
    assert "age_65_or_over" not in codes(evaluate(age_years=62))
    assert codes(older.evaluate(facts(age_years=62))) == ("age_65_or_over",)

    stricter_bp = rule_set_from_policy(3, {"thresholds": {"uncontrolled_systolic_mmhg": 160}})
    reading = facts(systolic_mmhg=165, diastolic_mmhg=85)
    assert DEFAULT_RULE_SET.evaluate(reading).routes == verdicts("PPPP")
    evaluation = stricter_bp.evaluate(reading)
    assert codes(evaluation) == ("uncontrolled_hypertension",)
    assert evaluation.routes == verdicts("IIII")
    assert evaluation.rule_set_version == 3

    three_trials = rule_set_from_policy(
        4, {"thresholds": {"treatment_resistance_failed_trials": 3}}
    )
    evaluation = three_trials.evaluate(CLEAN)
    assert evaluation.treatment_resistant is False
    assert codes(evaluation) == ("not_treatment_resistant", "esketamine_not_trd")
    assert evaluation.routes == verdicts("PPIP")


def test_a_new_level_changes_the_verdict():
    rule_set = rule_set_from_policy(2, {"levels": {"benzodiazepine": "absolute"}})
    evaluation = rule_set.evaluate(facts(medication_classes=("benzodiazepine",)))
    assert [f.level for f in evaluation.findings] == ["absolute"]
    assert evaluation.routes == verdicts("IIII")
    relaxed = rule_set_from_policy(3, {"levels": {"cardiac_disease_unmonitored": "relative"}})
    assert relaxed.evaluate(facts(conditions=("cardiac_disease",))).routes == verdicts("PPPP")


def test_the_triggers_show_the_rule_sets_thresholds():
    rule_set = rule_set_from_policy(
        2, {"thresholds": {"adult_age_years": 21, "elevated_systolic_mmhg": 150}}
    )
    triggers = {d.code: d.trigger for d in describe_rules(rule_set)}
    assert triggers["age_under_18"] == "age < 21"
    assert "> 150/90" in triggers["elevated_blood_pressure"]
    default = {d.code: d.trigger for d in describe_rules(DEFAULT_RULE_SET)}
    assert default["age_under_18"] == "age < 18"
    assert default["age_65_or_over"] == "age ≥ 65"
    assert "≥ 180/100" in default["uncontrolled_hypertension"]
    assert "> 140/90" in default["elevated_blood_pressure"]
    assert "fewer than 2" in default["esketamine_not_trd"]


def test_the_default_thresholds_and_their_sources():
    assert dict(DEFAULT_RULE_SET.thresholds) == {
        "adult_age_years": 18,
        "older_adult_age_years": 65,
        "uncontrolled_systolic_mmhg": 180,
        "uncontrolled_diastolic_mmhg": 100,
        "elevated_systolic_mmhg": 140,
        "elevated_diastolic_mmhg": 90,
        "treatment_resistance_failed_trials": 2,
    }
    for threshold in rules.THRESHOLDS.values():
        assert "[" in threshold.source
    assert rule_set_from_policy(1, {}) == DEFAULT_RULE_SET
    assert rule_set_from_policy(1, {"thresholds": {}, "levels": {}}) == DEFAULT_RULE_SET


@pytest.mark.parametrize("code", sorted(LABEL_CODES))
def test_a_label_rule_cannot_change(code):
    other = "relative" if ROW[code][0] == "absolute" else "absolute"
    with pytest.raises(PolicyError) as raised:
        rule_set_from_policy(2, {"levels": {code: other}})
    assert raised.value.name == code
    assert code in str(raised.value)
    # Restating its own level is not a change.
    assert rule_set_from_policy(2, {"levels": {code: ROW[code][0]}}).levels[code] == ROW[code][0]


@pytest.mark.parametrize(
    ("policy", "name"),
    [
        ({"levels": {"no_such_rule": "caution"}}, "no_such_rule"),
        ({"levels": {"benzodiazepine": "severe"}}, "benzodiazepine"),
        ({"levels": {"benzodiazepine": None}}, "benzodiazepine"),
        ({"thresholds": {"adult_age": 18}}, "adult_age"),
        ({"thresholds": {"older_adult_age_years": "65"}}, "older_adult_age_years"),
        ({"thresholds": {"older_adult_age_years": 65.5}}, "older_adult_age_years"),
        ({"thresholds": {"older_adult_age_years": True}}, "older_adult_age_years"),
        ({"thresholds": {"elevated_systolic_mmhg": 0}}, "elevated_systolic_mmhg"),
        ({"thresholds": {"elevated_diastolic_mmhg": -5}}, "elevated_diastolic_mmhg"),
        # Label thresholds: adults [C2]; TRD = two failed trials [C2]. Stricter only.
        ({"thresholds": {"adult_age_years": 16}}, "adult_age_years"),
        (
            {"thresholds": {"treatment_resistance_failed_trials": 1}},
            "treatment_resistance_failed_trials",
        ),
        # Bands that would overlap.
        ({"thresholds": {"elevated_systolic_mmhg": 180}}, "elevated_systolic_mmhg"),
        ({"thresholds": {"uncontrolled_diastolic_mmhg": 90}}, "uncontrolled_diastolic_mmhg"),
        ({"thresholds": {"older_adult_age_years": 18}}, "older_adult_age_years"),
        ({"routes": {"benzodiazepine": ["iv"]}}, "routes"),
    ],
)
def test_a_bad_policy_is_refused_by_name(policy, name):
    with pytest.raises(PolicyError) as raised:
        rule_set_from_policy(2, policy)
    assert raised.value.name == name
    assert name in str(raised.value)


def test_stricter_label_thresholds_are_allowed():
    rule_set = rule_set_from_policy(
        2, {"thresholds": {"adult_age_years": 21, "treatment_resistance_failed_trials": 3}}
    )
    assert codes(rule_set.evaluate(facts(age_years=20))) == (
        "age_under_18",
        "not_treatment_resistant",
        "esketamine_not_trd",
    )


def test_a_rule_set_is_immutable():
    with pytest.raises(TypeError):
        DEFAULT_RULE_SET.thresholds["adult_age_years"] = 16  # type: ignore[index]
    with pytest.raises(TypeError):
        DEFAULT_RULE_SET.levels["hypersensitivity"] = "caution"  # type: ignore[index]
    with pytest.raises(PolicyError):
        RuleSet(version=0)


# --------------------------------------------------------------------------- bad facts


@pytest.mark.parametrize(
    ("changes", "error", "field", "loc"),
    [
        (
            {"conditions": ("cardiac_disease", "gout")},
            VocabularyError,
            "conditions",
            ("conditions", 1),
        ),
        (
            {"medication_classes": ("ssri",)},
            VocabularyError,
            "medication_classes",
            ("medication_classes", 0),
        ),
        ({"indication": "insomnia"}, VocabularyError, "indication", ("indication",)),
        ({"indication": "TRD"}, VocabularyError, "indication", ("indication",)),
        ({"cssrs_risk": "severe"}, VocabularyError, "cssrs_risk", ("cssrs_risk",)),
        ({"sex": "F"}, VocabularyError, "sex", ("sex",)),
        ({"sex": ""}, VocabularyError, "sex", ("sex",)),
        (
            {"antidepressant_trials": (failed_trial(), failed_trial("x", "remission"))},
            VocabularyError,
            "antidepressant_trials",
            ("antidepressant_trials", 1, "outcome"),
        ),
        ({"conditions": "cardiac_disease"}, VocabularyError, "conditions", ("conditions",)),
        ({"sex": "male", "pregnant": True}, ContradictionError, "pregnant", ("pregnant",)),
        (
            {"sex": "male", "breastfeeding": True},
            ContradictionError,
            "breastfeeding",
            ("breastfeeding",),
        ),
        (
            {"systolic_mmhg": 120, "diastolic_mmhg": 120},
            ContradictionError,
            "diastolic_mmhg",
            ("diastolic_mmhg",),
        ),
        (
            {"systolic_mmhg": 120, "diastolic_mmhg": 130},
            ContradictionError,
            "diastolic_mmhg",
            ("diastolic_mmhg",),
        ),
        (
            {"antidepressant_trials": (TrialFacts("", True, "no_response", True),)},
            ContradictionError,
            "antidepressant_trials",
            ("antidepressant_trials", 0, "drug"),
        ),
        (
            {"antidepressant_trials": (TrialFacts("  ", True, "no_response", True),)},
            ContradictionError,
            "antidepressant_trials",
            ("antidepressant_trials", 0, "drug"),
        ),
        ({"age_years": -1}, ImpossibleValueError, "age_years", ("age_years",)),
        ({"age_years": True}, ImpossibleValueError, "age_years", ("age_years",)),
        ({"weight_kg": Decimal(0)}, ImpossibleValueError, "weight_kg", ("weight_kg",)),
        ({"height_cm": Decimal("NaN")}, ImpossibleValueError, "height_cm", ("height_cm",)),
        ({"heart_rate_bpm": 0}, ImpossibleValueError, "heart_rate_bpm", ("heart_rate_bpm",)),
    ],
)
def test_bad_facts_are_refused(changes, error, field, loc):
    bad = facts(**changes)
    with pytest.raises(error) as raised:
        DEFAULT_RULE_SET.evaluate(bad)
    assert isinstance(raised.value, ValueError)
    assert raised.value.field == field
    assert raised.value.loc == loc
    assert raised.value.message
    with pytest.raises(error):
        bad.validate()


def test_answers_that_are_not_contradictions():
    # Sex other or unknown may be pregnant; a male may answer no.
    for sex in ("female", "other", "unknown"):
        assert "pregnancy" in codes(evaluate(sex=sex, pregnant=True))
    assert evaluate(sex="male", pregnant=False, breastfeeding=False).findings == ()
    assert evaluate(sex=None, pregnant=True).routes == verdicts("IIII")


@pytest.mark.parametrize(
    ("reading", "expected"),
    [
        # Each sentence names the component that crosses its own threshold, so every number in
        # it is true (150/100 is uncontrolled by its diastolic, not "at or above 180/100").
        ((150, 100), "Screening blood pressure 150/100 mmHg: diastolic 100 is at or above 100."),
        ((190, 95), "Screening blood pressure 190/95 mmHg: systolic 190 is at or above 180."),
        (
            (190, 120),
            "Screening blood pressure 190/120 mmHg: systolic 190 is at or above 180 and "
            "diastolic 120 is at or above 100.",
        ),
        ((150, 85), "Screening blood pressure 150/85 mmHg: systolic 150 is above 140."),
        ((135, 95), "Screening blood pressure 135/95 mmHg: diastolic 95 is above 90."),
    ],
)
def test_blood_pressure_messages_are_true_of_each_number(reading, expected):
    systolic, diastolic = reading
    evaluation = evaluate(systolic_mmhg=systolic, diastolic_mmhg=diastolic)
    message = evaluation.findings[0].message
    assert message.startswith(expected), message


def test_every_problem_is_listed():
    bad = IntakeFacts(
        sex="male", pregnant=True, conditions=("gout",), systolic_mmhg=90, diastolic_mmhg=95
    )
    assert [(type(p), p.field) for p in bad.problems()] == [
        (VocabularyError, "conditions"),
        (ContradictionError, "pregnant"),
        (ContradictionError, "diastolic_mmhg"),
    ]
    assert CLEAN.problems() == []


# --------------------------------------------------------------------------- vocabularies


def test_the_vocabularies_match_the_django_choices():
    assert tuple(Route.values) == rules.ROUTES
    assert tuple(Indication.values) == rules.INDICATIONS
    assert tuple(Condition.values) == rules.CONDITIONS
    assert tuple(MedicationClass.values) == rules.MEDICATION_CLASSES
    assert tuple(TrialOutcome.values) == rules.TRIAL_OUTCOMES
    assert tuple(Sex.values) == rules.SEXES
    # screening-rules.md "Indications" and calculators.md §3 vocabularies.
    assert set(rules.INDICATIONS) == {
        "treatment_resistant_depression",
        "depression_with_suicidal_ideation",
        "major_depression",
        "ptsd",
        "generalized_anxiety",
        "social_anxiety",
        "ocd",
        "bipolar_depression",
        "chronic_pain",
    }
    assert rules.CSSRS_RISKS == ("none", "low", "moderate", "high")


def test_rules_imports_no_django():
    code = (
        "import sys, clinic.screening.rules; "
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))"
    )
    result = subprocess.run(  # noqa: S603 (our own interpreter, a fixed command)
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# --------------------------------------------------------------------------- properties

SEVERITY = {"eligible": 0, "eligible_with_precautions": 1, "incomplete": 2, "ineligible": 3}

trials_strategy = st.builds(
    TrialFacts,
    drug=st.sampled_from(["sertraline", "bupropion", "venlafaxine"]),
    adequate=st.booleans(),
    outcome=st.sampled_from(rules.TRIAL_OUTCOMES),
    current_episode=st.booleans(),
)


@st.composite
def intake_facts(draw) -> IntakeFacts:
    sex = draw(st.none() | st.sampled_from(rules.SEXES))
    answer = st.none() | st.booleans()
    pregnant = draw(st.none() | st.just(False) if sex == "male" else answer)
    breastfeeding = draw(st.none() | st.just(False) if sex == "male" else answer)
    systolic = draw(st.none() | st.integers(50, 300))
    diastolic_max = 200 if systolic is None else min(200, systolic - 1)
    diastolic = draw(st.none() | st.integers(20, diastolic_max))
    return IntakeFacts(
        age_years=draw(st.none() | st.integers(0, 110)),
        sex=sex,
        pregnant=pregnant,
        breastfeeding=breastfeeding,
        weight_kg=draw(st.none() | st.decimals("25", "350", places=1)),
        height_cm=draw(st.none() | st.decimals("120", "230", places=1)),
        systolic_mmhg=systolic,
        diastolic_mmhg=diastolic,
        heart_rate_bpm=draw(st.none() | st.integers(20, 250)),
        indication=draw(st.none() | st.sampled_from(rules.INDICATIONS)),
        conditions=draw(
            st.none() | st.lists(st.sampled_from(rules.CONDITIONS), max_size=5).map(tuple)
        ),
        medication_classes=draw(
            st.none() | st.lists(st.sampled_from(rules.MEDICATION_CLASSES), max_size=4).map(tuple)
        ),
        antidepressant_trials=tuple(draw(st.lists(trials_strategy, max_size=4))),
        cssrs_risk=draw(st.none() | st.sampled_from(rules.CSSRS_RISKS)),
        home_treatment_monitor=draw(st.booleans()),
        home_bp_monitor=draw(st.booleans()),
    )


findings_strategy = st.builds(
    Finding,
    code=st.sampled_from([code for code, *_ in TABLE]),
    level=st.sampled_from(rules.LEVELS),
    routes=st.lists(st.sampled_from(ALL), min_size=1, max_size=4, unique=True).map(tuple),
    message=st.just("m"),
    source=st.just("s"),
)


@settings(max_examples=300, deadline=None)
@given(intake_facts())
def test_the_verdict_follows_the_findings(intake):
    evaluation = DEFAULT_RULE_SET.evaluate(intake)
    assert evaluation.missing == intake.missing()
    for route in ALL:
        on_route = [f for f in evaluation.findings if route in f.routes]
        absolute = any(f.level == "absolute" for f in on_route)
        assert (evaluation.routes[route] == "ineligible") is absolute
        # Unanswered is never "no": with anything missing no route is eligible.
        assert (evaluation.routes[route] == "incomplete") is (
            bool(evaluation.missing) and not absolute
        )
        assert (evaluation.routes[route] == "eligible") is (not on_route and not evaluation.missing)
    order = [rules.RULE_CODES.index(f.code) for f in evaluation.findings]
    assert order == sorted(set(order))
    for finding in evaluation.findings:
        assert finding.level == ROW[finding.code][0]
        assert finding.routes == ROW[finding.code][1]


@settings(max_examples=300, deadline=None)
@given(st.lists(findings_strategy, max_size=6), findings_strategy)
def test_adding_a_finding_never_improves_a_verdict(findings, extra):
    before = route_verdicts(findings)
    after = route_verdicts([*findings, extra])
    for route in ALL:
        assert SEVERITY[after[route]] >= SEVERITY[before[route]]
    for route in extra.routes:
        assert after[route] != "eligible"


@settings(max_examples=200, deadline=None)
@given(
    intake_facts(),
    st.lists(st.sampled_from(rules.CONDITIONS), min_size=1, max_size=3),
    st.lists(st.sampled_from(rules.MEDICATION_CLASSES), max_size=3),
)
def test_adding_a_condition_or_medication_never_improves_a_verdict(intake, conditions, classes):
    before = DEFAULT_RULE_SET.evaluate(intake)
    # More of a history that was asked (one not asked stays not asked).
    more = dataclasses.replace(
        intake,
        conditions=None if intake.conditions is None else (*intake.conditions, *conditions),
        medication_classes=None
        if intake.medication_classes is None
        else (*intake.medication_classes, *classes),
    )
    after = DEFAULT_RULE_SET.evaluate(more)
    assert set(codes(before)) <= set(codes(after))
    for route in ALL:
        assert SEVERITY[after.routes[route]] >= SEVERITY[before.routes[route]]
