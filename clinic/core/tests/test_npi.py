"""The NPI check digit, from CMS's "NPI check digit" requirements: the Luhn formula over the
nine digits prefixed by 80840 (constant 24). CMS's worked example: 123456789 → 3."""

from __future__ import annotations

import pytest

from clinic.core.npi import npi_check_digit, npi_problem


def test_the_cms_worked_example():
    assert npi_check_digit("123456789") == 3
    assert npi_problem("1234567893") == ""


@pytest.mark.parametrize("wrong_last", ["0", "1", "2", "4", "5", "6", "7", "8", "9"])
def test_any_other_check_digit_is_refused(wrong_last):
    assert npi_problem("123456789" + wrong_last) == (
        "This NPI's check digit is wrong: check each digit against NPPES."
    )


@pytest.mark.parametrize("value", ["", "123456789", "12345678931", "12345678 3", "123456789X"])
def test_an_npi_is_ten_digits(value):
    assert npi_problem(value) == "An NPI is 10 digits."


def test_a_swap_of_two_neighbouring_digits_is_caught():
    # Luhn catches adjacent transpositions (except 09/90): 2134567893 is not valid.
    assert npi_problem("2134567893") != ""
