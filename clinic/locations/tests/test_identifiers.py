"""The identifiers a location carries, against their published definitions."""

from __future__ import annotations

import pytest

from clinic.locations.identifiers import dea_number_problem, luhn_check_digit, npi_problem


@pytest.mark.parametrize(
    ("npi", "valid"),
    [
        # CMS's worked example of the NPI check digit: 123456789 with prefix 80840 → 3.
        ("1234567893", True),
        ("1234567890", False),
        ("123456789", False),
        ("12345678931", False),
        ("12345A7893", False),
    ],
)
def test_npi_check_digit_follows_the_cms_luhn_rule(npi, valid):
    assert (npi_problem(npi) is None) is valid


def test_luhn_check_digit_of_the_cms_example_payload():
    assert luhn_check_digit("80840123456789") == 3


@pytest.mark.parametrize(
    ("number", "valid"),
    [("BK1234563", True), ("M91234567", True), ("B1234567", False), ("1K1234563", False)],
)
def test_dea_registration_number_has_two_letters_and_seven_digits(number, valid):
    assert (dea_number_problem(number) is None) is valid
