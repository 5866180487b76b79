"""The dose calculator (clinic/protocols/dosing.py), table-driven against hand-worked values.

Sources: calculators.md §4 (the contract and its example), policy-defaults.md "Dosing" (IV
0.5 mg/kg over 40 min, allowed 0.1–1.0 [A1], [A2]; IM 0.5, allowed 0.25–1.0 [B1]; Devine IBW
male 50 kg / female 45.5 kg + 2.3 kg per inch over 60 in; adjusted = IBW + 0.4 × (actual − IBW);
esketamine 28/56/84 mg = 1/2/3 devices, 5 min between devices [C2], observation 120 min [C9],
[C10]) and clinical-reference.md §3.1 (28 mg per device as 2 sprays, one per nostril [C1], [C2]).
Every expected value below is worked by hand in its comment; rounding is one decimal, half up.
"""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.protocols import dosing
from clinic.protocols.dosing import (
    DEFAULT_POLICY,
    DosingError,
    DosingPolicy,
    adjusted_body_weight_kg,
    calculate_dose,
    esketamine_dose,
    ideal_body_weight_kg,
    im_dose,
    iv_dose,
    round_half_up,
)

REPO = Path(__file__).resolve().parents[3]
D = Decimal


# --------------------------------------------------------------------------- contract examples


def test_contract_iv_example_without_concentration():
    # 80 kg × 0.5 mg/kg = 40.0 mg; 40.0 mg × 60 ÷ 40 min = 60.0 mg/h. No volume fields.
    assert iv_dose(80).as_dict() == {
        "route": "iv",
        "weight_basis": "actual",
        "weight_used_kg": 80.0,
        "dose_mg": 40.0,
        "infusion_minutes": 40,
        "rate_mg_per_h": 60.0,
    }


def test_contract_iv_example_with_concentration():
    # 40.0 mg ÷ 10 mg/mL = 4.0 mL; 4.0 mL × 60 ÷ 40 min = 6.0 mL/h.
    assert iv_dose(80, concentration_mg_per_ml=10).as_dict() == {
        "route": "iv",
        "weight_basis": "actual",
        "weight_used_kg": 80.0,
        "dose_mg": 40.0,
        "infusion_minutes": 40,
        "rate_mg_per_h": 60.0,
        "volume_ml": 4.0,
        "rate_ml_per_h": 6.0,
    }


def test_contract_esketamine_example():
    # 84 mg ÷ 28 mg per device = 3 devices; 3 × 2 sprays = 6; (3 − 1) × 5 min = 10 min.
    assert esketamine_dose(84).as_dict() == {
        "route": "esketamine",
        "dose_mg": 84,
        "devices": 3,
        "sprays": 6,
        "minutes_between_devices": 5,
        "administration_minutes": 10,
        "observation_minutes": 120,
    }


def test_im_response_keys():
    # 80 kg × 0.5 mg/kg = 40.0 mg; 40.0 mg ÷ 50 mg/mL = 0.8 mL.
    assert im_dose(80).as_dict() == {
        "route": "im",
        "weight_basis": "actual",
        "weight_used_kg": 80.0,
        "dose_mg": 40.0,
    }
    assert im_dose(80, concentration_mg_per_ml=50).as_dict() == {
        "route": "im",
        "weight_basis": "actual",
        "weight_used_kg": 80.0,
        "dose_mg": 40.0,
        "volume_ml": 0.8,
    }


def test_the_result_carries_the_figures_a_plan_stores():
    result = iv_dose(80, dose_mg_per_kg=0.75, concentration_mg_per_ml=10)
    assert result.dose_mg_per_kg == D("0.75")
    assert result.actual_weight_kg == D("80")
    assert result.concentration_mg_per_ml == D("10")
    # 80 × 0.75 = 60.0 mg; 60.0 × 60 ÷ 40 = 90.0 mg/h; 60.0 ÷ 10 = 6.0 mL; 6.0 × 1.5 = 9.0 mL/h.
    assert (result.dose_mg, result.rate_mg_per_h, result.volume_ml, result.rate_ml_per_h) == (
        D("60.0"),
        D("90.0"),
        D("6.0"),
        D("9.0"),
    )


# --------------------------------------------------------------------------- IBW and adjusted
# 170 cm ÷ 2.54 cm/in = 66.929 in; 66.929 − 60 = 6.929 in over 60; × 2.3 kg = 15.937 kg.
# Male IBW 50 + 15.937 = 65.937 kg → 65.9; female 45.5 + 15.937 = 61.437 kg → 61.4.
# Adjusted at 80 kg: male 65.937 + 0.4 × (80 − 65.937) = 65.937 + 5.625 = 71.562 → 71.6;
#                    female 61.437 + 0.4 × (80 − 61.437) = 61.437 + 7.425 = 68.862 → 68.9.


@pytest.mark.parametrize(("sex", "expected"), [("male", D("65.937")), ("female", D("61.437"))])
def test_devine_ideal_body_weight_at_170_cm(sex, expected):
    ideal = ideal_body_weight_kg(170, sex)
    assert abs(ideal - expected) < D("0.001")


@pytest.mark.parametrize(
    ("sex", "ideal", "expected"),
    [("male", D("65.937"), D("71.562")), ("female", D("61.437"), D("68.862"))],
)
def test_adjusted_body_weight_at_80_kg(sex, ideal, expected):
    assert abs(adjusted_body_weight_kg(D(80), ideal) - expected) < D("0.001")
    exact_ideal = ideal_body_weight_kg(170, sex)
    assert abs(adjusted_body_weight_kg(D(80), exact_ideal) - expected) < D("0.001")


@pytest.mark.parametrize(
    ("basis", "sex", "expected"),
    [
        # 65.9 kg × 0.5 = 32.95 → 33.0 mg; 33.0 × 60 ÷ 40 = 49.5 mg/h.
        ("ideal", "male", {"weight_used_kg": 65.9, "dose_mg": 33.0, "rate_mg_per_h": 49.5}),
        # 61.4 × 0.5 = 30.7 mg; 30.7 × 1.5 = 46.05 → 46.1 mg/h (half up).
        ("ideal", "female", {"weight_used_kg": 61.4, "dose_mg": 30.7, "rate_mg_per_h": 46.1}),
        # 71.6 × 0.5 = 35.8 mg; 35.8 × 1.5 = 53.7 mg/h.
        ("adjusted", "male", {"weight_used_kg": 71.6, "dose_mg": 35.8, "rate_mg_per_h": 53.7}),
        # 68.9 × 0.5 = 34.45 → 34.5 mg; 34.5 × 1.5 = 51.75 → 51.8 mg/h.
        ("adjusted", "female", {"weight_used_kg": 68.9, "dose_mg": 34.5, "rate_mg_per_h": 51.8}),
    ],
)
def test_iv_dose_on_ideal_and_adjusted_weight(basis, sex, expected):
    body = iv_dose(80, weight_basis=basis, height_cm=170, sex=sex).as_dict()
    assert body["weight_basis"] == basis
    assert {key: body[key] for key in expected} == expected


def test_im_dose_on_adjusted_weight():
    # 71.6 kg (above) × 0.25 mg/kg = 17.9 mg; 17.9 ÷ 50 mg/mL = 0.358 → 0.4 mL.
    body = im_dose(
        80,
        dose_mg_per_kg=0.25,
        weight_basis="adjusted",
        height_cm=170,
        sex="male",
        concentration_mg_per_ml=50,
    ).as_dict()
    assert body == {
        "route": "im",
        "weight_basis": "adjusted",
        "weight_used_kg": 71.6,
        "dose_mg": 17.9,
        "volume_ml": 0.4,
    }


def test_exactly_60_inches_is_the_base_weight():
    # 152.4 cm = 60 in exactly: 0 in over 60 → male 50 kg, female 45.5 kg (no extrapolation).
    assert ideal_body_weight_kg(D("152.4"), "male") == D("50")
    assert ideal_body_weight_kg(D("152.4"), "female") == D("45.5")
    # 60 kg actual, ideal female 45.5 × 0.5 = 22.75 → 22.8 mg.
    assert iv_dose(60, weight_basis="ideal", height_cm=152.4, sex="female").dose_mg == D("22.8")


@pytest.mark.parametrize("height_cm", [152.3, 150, 120])
@pytest.mark.parametrize("basis", ["ideal", "adjusted"])
def test_heights_below_60_inches_are_refused_not_extrapolated(height_cm, basis):
    with pytest.raises(DosingError) as raised:
        iv_dose(60, weight_basis=basis, height_cm=height_cm, sex="female")
    assert raised.value.field == "height_cm"
    assert "60" in raised.value.message and "152.4 cm" in raised.value.message


def test_a_short_patient_on_actual_weight_is_dosed():
    # Height is not needed on the actual basis: 45 kg × 0.5 = 22.5 mg.
    assert iv_dose(45, height_cm=140, sex="female").dose_mg == D("22.5")


@pytest.mark.parametrize(
    "basis",
    [
        # 170 cm male, 60 kg: ideal 65.9 kg > 60; adjusted 65.937 + 0.4 × (60 − 65.937)
        # = 63.562 → 63.6 kg > 60. Either would raise the dose above the actual-weight dose.
        "ideal",
        "adjusted",
    ],
)
def test_an_ideal_or_adjusted_weight_above_the_actual_weight_is_refused(basis):
    with pytest.raises(DosingError) as raised:
        iv_dose(60, weight_basis=basis, height_cm=170, sex="male")
    assert raised.value.field == "weight_basis"
    assert "above the actual weight" in raised.value.message


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ({"weight_basis": "ideal", "sex": "male"}, "height_cm"),
        ({"weight_basis": "adjusted", "height_cm": 170}, "sex"),
        ({"weight_basis": "ideal", "height_cm": 170, "sex": "other"}, "sex"),
        ({"weight_basis": "ideal", "height_cm": 170, "sex": "unknown"}, "sex"),
        ({"weight_basis": "ideal", "height_cm": 170, "sex": "M"}, "sex"),
        ({"weight_basis": "lean"}, "weight_basis"),
        ({"weight_basis": "ideal", "height_cm": 0, "sex": "male"}, "height_cm"),
    ],
)
def test_ideal_and_adjusted_need_height_and_sex(inputs, field):
    with pytest.raises(DosingError) as raised:
        iv_dose(80, **inputs)
    assert raised.value.field == field


def test_sex_other_is_fine_on_the_actual_basis():
    assert iv_dose(80, sex="other", height_cm=170).weight_basis == "actual"


# --------------------------------------------------------------------------- rounding


@pytest.mark.parametrize(
    ("weight_kg", "per_kg", "expected_mg"),
    [
        (65.7, 0.5, D("32.9")),  # 65.7 × 0.5 = 32.85 → 32.9 (banker's rounding would give 32.8)
        (70.5, 0.3, D("21.2")),  # 70.5 × 0.3 = 21.15 → 21.2 (float round() gives 21.1)
        (80.04, 0.5, D("40.0")),  # weight shown 80.0 kg; 80.0 × 0.5 = 40.0
        (80.05, 0.5, D("40.1")),  # 80.05 → 80.1 kg (half up); 80.1 × 0.5 = 40.05 → 40.1
    ],
)
def test_half_up_rounding_of_the_dose(weight_kg, per_kg, expected_mg):
    assert iv_dose(weight_kg, dose_mg_per_kg=per_kg).dose_mg == expected_mg


def test_half_up_rounding_of_volume_and_rates():
    # 45 kg × 0.5 = 22.5 mg; 22.5 × 60 ÷ 40 = 33.75 → 33.8 mg/h;
    # 22.5 ÷ 10 = 2.25 → 2.3 mL (half-even would give 2.2); 2.3 × 60 ÷ 40 = 3.45 → 3.5 mL/h.
    assert iv_dose(45, concentration_mg_per_ml=10).as_dict() == {
        "route": "iv",
        "weight_basis": "actual",
        "weight_used_kg": 45.0,
        "dose_mg": 22.5,
        "infusion_minutes": 40,
        "rate_mg_per_h": 33.8,
        "volume_ml": 2.3,
        "rate_ml_per_h": 3.5,
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.05", "0.1"), ("0.15", "0.2"), ("0.25", "0.3"), ("2.449", "2.4"), ("-0.05", "-0.1")],
)
def test_round_half_up(value, expected):
    assert round_half_up(D(value)) == D(expected)


def test_infusion_minutes_change_the_rates():
    # 80 × 0.5 = 40.0 mg over 60 min → 40.0 mg/h; 4.0 mL over 60 min → 4.0 mL/h.
    body = iv_dose(80, infusion_minutes=60, concentration_mg_per_ml=10).as_dict()
    assert (body["rate_mg_per_h"], body["rate_ml_per_h"], body["infusion_minutes"]) == (
        40.0,
        4.0,
        60,
    )
    # Over 100 min: 40.0 × 60 ÷ 100 = 24.0 mg/h; over 2 min: 40.0 × 30 = 1200.0 mg/h.
    assert iv_dose(80, infusion_minutes=100).rate_mg_per_h == D("24.0")
    assert iv_dose(80, infusion_minutes=2).rate_mg_per_h == D("1200.0")


# --------------------------------------------------------------------------- policy limits


@pytest.mark.parametrize(
    ("per_kg", "expected_mg"),
    [(0.1, D("8.0")), (D("0.1"), D("8.0")), (1.0, D("80.0")), (1, D("80.0"))],  # 80 kg × mg/kg
)
def test_iv_range_limits_are_accepted(per_kg, expected_mg):
    assert iv_dose(80, dose_mg_per_kg=per_kg).dose_mg == expected_mg


@pytest.mark.parametrize("per_kg", [0.09, 1.01, 0.099, 2])
def test_iv_outside_the_range_is_refused_naming_the_limit(per_kg):
    with pytest.raises(DosingError) as raised:
        iv_dose(80, dose_mg_per_kg=per_kg)
    assert raised.value.field == "dose_mg_per_kg"
    assert "between 0.1 and 1.0 mg/kg" in raised.value.message
    assert "clinic policy" in raised.value.message


@pytest.mark.parametrize(
    ("per_kg", "expected_mg"), [(0.25, D("20.0")), (0.5, D("40.0")), (1.0, D("80.0"))]
)
def test_im_range_limits_are_accepted(per_kg, expected_mg):
    assert im_dose(80, dose_mg_per_kg=per_kg).dose_mg == expected_mg


@pytest.mark.parametrize("per_kg", [0.09, 0.24, 1.01])
def test_im_outside_the_range_is_refused_naming_the_limit(per_kg):
    with pytest.raises(DosingError) as raised:
        im_dose(80, dose_mg_per_kg=per_kg)
    assert raised.value.field == "dose_mg_per_kg"
    assert "between 0.25 and 1.0 mg/kg" in raised.value.message


@pytest.mark.parametrize("minutes", [1, 101, 0, -40, True, 40.0])
def test_infusion_minutes_outside_the_policy_range_are_refused(minutes):
    with pytest.raises(DosingError) as raised:
        iv_dose(80, infusion_minutes=minutes)
    assert raised.value.field == "infusion_minutes"


@pytest.mark.parametrize("weight", [0, -80, float("nan"), float("inf"), True, "80", None])
def test_a_weight_must_be_a_positive_number(weight):
    with pytest.raises(DosingError) as raised:
        iv_dose(weight)
    assert raised.value.field == "weight_kg"


@pytest.mark.parametrize("concentration", [0, -10, float("nan"), "10"])
def test_a_concentration_must_be_a_positive_number(concentration):
    with pytest.raises(DosingError) as raised:
        iv_dose(80, concentration_mg_per_ml=concentration)
    assert raised.value.field == "concentration_mg_per_ml"


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ({"weight_kg": 80, "concentration_mg_per_ml": 1e-30}, "concentration_mg_per_ml"),
        ({"weight_kg": 1e30}, "weight_kg"),
        ({"weight_kg": 80, "weight_basis": "ideal", "sex": "male", "height_cm": 1e30}, "height_cm"),
    ],
)
def test_figures_too_large_to_hold_are_a_dosing_error(inputs, field):
    with pytest.raises(DosingError) as raised:
        iv_dose(**inputs)
    assert raised.value.field == field


def test_a_clinic_policy_changes_the_range_and_defaults():
    policy = DosingPolicy(iv_max_mg_per_kg=D("0.75"), iv_infusion_minutes=60)
    # Default dose 0.5 over the clinic's 60 min: 40.0 mg, 40.0 mg/h.
    assert iv_dose(80, policy=policy).as_dict()["rate_mg_per_h"] == 40.0
    with pytest.raises(DosingError) as raised:
        iv_dose(80, dose_mg_per_kg=0.8, policy=policy)
    assert "between 0.1 and 0.75 mg/kg" in raised.value.message


# --------------------------------------------------------------------------- high-BMI policy


HIGH_BMI = DosingPolicy(high_bmi_weight_basis="adjusted")


def test_off_by_default():
    # 120 kg at 200 cm is BMI 30.0, but the default policy doses on actual weight [A4].
    assert iv_dose(120, height_cm=200, sex="male").weight_basis == "actual"


@pytest.mark.parametrize(
    ("weight", "height", "basis", "used_kg"),
    [
        # BMI 80 ÷ 1.7² = 80 ÷ 2.89 = 27.7 < 30 → actual 80.0 kg.
        (80, 170, "actual", 80.0),
        # BMI 120 ÷ 2.0² = 30.0 ≥ 30 → adjusted. 200 cm ÷ 2.54 = 78.740 in; 18.740 in × 2.3
        # = 43.102; IBW 93.102; 93.102 + 0.4 × (120 − 93.102) = 93.102 + 10.759 = 103.861 → 103.9.
        (120, 200, "adjusted", 103.9),
        # BMI 100 ÷ 2.89 = 34.6 → adjusted: 65.937 + 0.4 × 34.063 = 79.562 → 79.6.
        (100, 170, "adjusted", 79.6),
    ],
)
def test_a_clinic_may_dose_on_adjusted_weight_from_bmi_30(weight, height, basis, used_kg):
    body = iv_dose(weight, height_cm=height, sex="male", policy=HIGH_BMI).as_dict()
    assert (body["weight_basis"], body["weight_used_kg"]) == (basis, used_kg)


def test_bmi_30_dose():
    # 103.9 kg × 0.5 = 51.95 → 52.0 mg.
    assert iv_dose(120, height_cm=200, sex="male", policy=HIGH_BMI).dose_mg == D("52.0")


def test_the_high_bmi_rule_needs_a_height_unless_a_basis_is_named():
    with pytest.raises(DosingError) as raised:
        iv_dose(120, policy=HIGH_BMI)
    assert raised.value.field == "height_cm"
    assert "BMI ≥ 30" in raised.value.message
    named = iv_dose(120, weight_basis="actual", policy=HIGH_BMI)
    assert (named.weight_basis, named.dose_mg) == ("actual", D("60.0"))


# --------------------------------------------------------------------------- esketamine


@pytest.mark.parametrize(
    ("dose_mg", "devices", "sprays", "minutes"),
    [
        (28, 1, 2, 0),  # 28 ÷ 28 = 1 device, 2 sprays, (1 − 1) × 5 = 0 min
        (56, 2, 4, 5),  # 2 devices, 4 sprays, (2 − 1) × 5 = 5 min
        (84, 3, 6, 10),  # 3 devices, 6 sprays, (3 − 1) × 5 = 10 min
    ],
)
def test_esketamine_devices_sprays_and_minutes(dose_mg, devices, sprays, minutes):
    result = esketamine_dose(dose_mg)
    assert (result.devices, result.sprays, result.administration_minutes) == (
        devices,
        sprays,
        minutes,
    )
    assert result.minutes_between_devices == 5
    assert result.observation_minutes == 120


@pytest.mark.parametrize("dose_mg", [42, 0, 14, 112, 56.0, True, "56", None])
def test_esketamine_doses_other_than_the_labels_are_refused(dose_mg):
    with pytest.raises(DosingError) as raised:
        esketamine_dose(dose_mg)
    assert raised.value.field == "dose_mg"
    assert "28, 56, 84" in raised.value.message


def test_a_clinic_may_restrict_esketamine_doses_and_lengthen_observation():
    policy = DosingPolicy(esketamine_doses_mg=(56, 84), esketamine_observation_minutes=150)
    assert esketamine_dose(56, policy).observation_minutes == 150
    with pytest.raises(DosingError):
        esketamine_dose(28, policy)


@pytest.mark.parametrize(
    "changes",
    [
        {"esketamine_observation_minutes": 119},  # below the label's ≥ 2 h [C9], [C10]
        {"esketamine_minutes_between_devices": 4},  # below the label's 5 min [C2]
        {"esketamine_doses_mg": (42,)},
        {"esketamine_doses_mg": (84, 56)},
        {"esketamine_doses_mg": ()},
        {"iv_dose_mg_per_kg": D("1.5")},  # default outside its range
        {"im_min_mg_per_kg": D("0.6")},
        {"iv_min_infusion_minutes": 50},
        {"iv_max_mg_per_kg": 1.0},  # a float, not a Decimal
        {"default_weight_basis": "lean"},
        {"high_bmi_weight_basis": "actual"},
        {"adjusted_weight_factor": D("1.5")},
        {"frequency_warning_after_weeks": 0},
        {"ibw_kg_per_inch": D("NaN")},
    ],
)
def test_an_inconsistent_or_laxer_than_label_policy_is_refused(changes):
    with pytest.raises(ValueError):
        DosingPolicy(**changes)


# --------------------------------------------------------------------------- dispatcher


def test_calculate_dose_by_route():
    assert calculate_dose("iv", weight_kg=80).as_dict()["rate_mg_per_h"] == 60.0
    assert calculate_dose("im", weight_kg=80, dose_mg_per_kg=None).dose_mg == D("40.0")
    assert calculate_dose("esketamine", dose_mg=56).devices == 2


@pytest.mark.parametrize(
    ("route", "inputs", "field"),
    [
        ("sublingual", {"weight_kg": 80}, "route"),
        ("iv", {}, "weight_kg"),
        ("im", {"dose_mg_per_kg": 0.5}, "weight_kg"),
        ("esketamine", {}, "dose_mg"),
        ("iv", {"weight_kg": 80, "dose_mg": 40}, "dose_mg"),
        ("im", {"weight_kg": 80, "infusion_minutes": 40}, "infusion_minutes"),
        ("esketamine", {"dose_mg": 56, "weight_kg": 80}, "weight_kg"),
        ("esketamine", {"dose_mg": 56, "concentration_mg_per_ml": 10}, "concentration_mg_per_ml"),
        ("iv", {"weight_kg": 80, "dose_mg_per_kilo": 1}, "dose_mg_per_kilo"),
    ],
)
def test_calculate_dose_refuses_what_does_not_apply(route, inputs, field):
    with pytest.raises(DosingError) as raised:
        calculate_dose(route, **inputs)
    assert raised.value.field == field


# --------------------------------------------------------------------------- properties


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    weight=st.decimals(min_value=25, max_value=350, places=1),
    per_kg=st.decimals(min_value=D("0.1"), max_value=D("1.0"), places=2),
    minutes=st.integers(min_value=2, max_value=100),
    concentration=st.sampled_from([D(10), D(50), D(100)]),
)
def test_the_shown_figures_always_check_by_hand(weight, per_kg, minutes, concentration):
    result = iv_dose(
        weight,
        dose_mg_per_kg=per_kg,
        infusion_minutes=minutes,
        concentration_mg_per_ml=concentration,
    )
    assert result.weight_used_kg == weight
    assert result.dose_mg == round_half_up(weight * per_kg)
    assert result.rate_mg_per_h == round_half_up(result.dose_mg * 60 / minutes)
    assert result.volume_ml == round_half_up(result.dose_mg / concentration)
    assert result.rate_ml_per_h == round_half_up(result.volume_ml * 60 / minutes)
    # Never more than the policy maximum on the actual weight (plus the half-up 0.05).
    assert result.dose_mg <= weight * DEFAULT_POLICY.iv_max_mg_per_kg + D("0.05")


number = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.decimals(allow_nan=True, allow_infinity=True),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    route=st.sampled_from(["iv", "im", "esketamine"]),
    weight_kg=number,
    dose_mg_per_kg=number,
    height_cm=number,
    concentration=number,
    basis=st.sampled_from([None, "actual", "ideal", "adjusted"]),
    sex=st.sampled_from([None, "male", "female", "other"]),
    minutes=st.one_of(st.none(), st.integers(-5, 500)),
    dose_mg=st.one_of(st.none(), st.integers(-100, 200)),
)
def test_any_input_gives_a_dose_or_a_dosing_error(
    route, weight_kg, dose_mg_per_kg, height_cm, concentration, basis, sex, minutes, dose_mg
):
    inputs = {
        "weight_kg": weight_kg,
        "dose_mg_per_kg": dose_mg_per_kg,
        "height_cm": height_cm,
        "concentration_mg_per_ml": concentration,
        "weight_basis": basis,
        "sex": sex,
        "infusion_minutes": minutes,
        "dose_mg": dose_mg,
    }
    for name in list(inputs):
        if name not in dosing.ROUTE_FIELDS[route]:
            inputs[name] = None
    try:
        result = calculate_dose(route, **inputs)
    except DosingError as error:
        assert error.field in dosing.REQUEST_FIELDS
    else:
        assert result.as_dict()["route"] == route


# --------------------------------------------------------------------------- vocabularies, purity


def test_vocabularies_match_the_django_choices_and_the_intake():
    from clinic.protocols.choices import WeightBasis
    from clinic.screening.rules import SEXES

    assert tuple(WeightBasis.values) == dosing.WEIGHT_BASES
    assert dosing.SEXES == SEXES


def test_dosing_imports_no_django():
    code = (
        "import sys, clinic.protocols.dosing; "
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))"
    )
    result = subprocess.run(  # noqa: S603 (our own interpreter, a fixed command)
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
