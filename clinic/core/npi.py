"""The National Provider Identifier's check digit: pure, no Django.

An NPI is 10 digits, the last a check digit computed with the Luhn formula over the first nine
prefixed by 80840 (the health-industry prefix of the card-issuer identifier); doubling those
prefix digits the Luhn way always adds 24 to the sum. Source: CMS, "Requirements for National
Provider Identifier (NPI) and NPI Enumeration — Check Digit", whose worked example is
123456789 → check digit 3 (NPI 1234567893).
"""

from __future__ import annotations

NPI_LENGTH = 10
PREFIX_80840_SUM = 24


def npi_check_digit(first_nine: str) -> int:
    if len(first_nine) != NPI_LENGTH - 1 or not first_nine.isdigit():
        raise ValueError("Nine digits are expected.")
    total = PREFIX_80840_SUM
    # From the right, every other digit (starting with the rightmost of the nine) is doubled.
    for position, character in enumerate(reversed(first_nine)):
        digit = int(character)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def npi_problem(value: str) -> str:
    """Why `value` is not an NPI, in words ("" when it is one)."""
    if len(value) != NPI_LENGTH or not value.isdigit():
        return "An NPI is 10 digits."
    if npi_check_digit(value[:-1]) != int(value[-1]):
        return "This NPI's check digit is wrong: check each digit against NPPES."
    return ""
