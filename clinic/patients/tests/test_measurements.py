"""Pure arithmetic: expected values worked by hand from the definitions."""

import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.patients.measurements import (
    age_years,
    bmi_kg_m2,
    mrn_check_digit,
    mrn_for,
    mrn_is_valid,
)


@pytest.mark.parametrize(
    ("weight", "height", "expected"),
    [
        # calculators.md §3 example: 80 kg, 170 cm → BMI 27.7
        ("80", "170", "27.7"),
        # 70 / 1.75² = 22.857… → 22.9
        ("70", "175", "22.9"),
        # 100 / 2.00² = 25.0 exactly
        ("100", "200", "25.0"),
        # 45 / 1.50² = 20.0
        ("45", "150", "20.0"),
    ],
)
def test_bmi_from_weight_and_height(weight, height, expected):
    assert bmi_kg_m2(Decimal(weight), Decimal(height)) == Decimal(expected)


def test_bmi_needs_both_values():
    assert bmi_kg_m2(None, Decimal(170)) is None
    assert bmi_kg_m2(Decimal(80), None) is None


@pytest.mark.parametrize(
    ("born", "on", "expected"),
    [
        ("1980-06-15", "2026-06-14", 45),
        ("1980-06-15", "2026-06-15", 46),
        ("2008-11-21", "2026-11-21", 18),
        ("2008-11-22", "2026-11-21", 17),
        # A leap-day birthday turns over on 1 March in common years.
        ("2000-02-29", "2026-02-28", 25),
        ("2000-02-29", "2026-03-01", 26),
    ],
)
def test_age_in_completed_years(born, on, expected):
    assert age_years(datetime.date.fromisoformat(born), datetime.date.fromisoformat(on)) == expected


def test_luhn_check_digit_matches_the_published_example():
    # The textbook Luhn example: 7992739871 has check digit 3.
    assert mrn_check_digit(7992739871) == 3


def test_mrn_is_seven_digits_and_a_check_digit():
    assert mrn_for(1) == "00000018"
    assert mrn_is_valid("00000018")
    assert not mrn_is_valid("00000017")  # one digit mistyped
    assert not mrn_is_valid("0000018")  # too short


@given(
    st.integers(min_value=1, max_value=9_999_999),
    st.integers(min_value=0, max_value=7),
    st.integers(1, 9),
)
def test_any_single_digit_typo_is_caught(sequence, position, shift):
    mrn = mrn_for(sequence)
    typo = mrn[:position] + str((int(mrn[position]) + shift) % 10) + mrn[position + 1 :]
    assert mrn_is_valid(mrn)
    assert not mrn_is_valid(typo)
