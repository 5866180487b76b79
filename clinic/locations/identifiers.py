"""Checks on the identifiers a location carries. Pure: no Django.

- NPI: ten digits, the last a Luhn check digit computed over the prefix 80840 and the first
  nine digits (CMS, "Requirements for National Provider Identifier (NPI) and NPI Enumerator",
  check-digit appendix; ISO/IEC 7812).
- DEA registration number: the form DEA issues, two letters then seven digits (the first the
  registrant type, the second an initial or 9). The check digit is not verified
  here: no primary source for it is on file (docs/clinical/README.md), so only the form is.
- Place of service: the CMS POS codes a ketamine clinic bills from (docs/clinical/billing.md
  §1.5 [P28]); 02 and 10 are telehealth and never a treatment location.
"""

from __future__ import annotations

import re

NPI_PREFIX = "80840"
DEA_NUMBER = re.compile(r"^[A-Z][A-Z9][0-9]{7}$")
POSTAL_CODE = re.compile(r"^[0-9]{5}(-[0-9]{4})?$")
STATE_CODE = re.compile(r"^[A-Z]{2}$")

# POS codes a treatment location may carry ([P28]); telehealth codes are not locations.
TREATMENT_PLACES_OF_SERVICE: dict[str, str] = {
    "11": "Office",
    "19": "Off-campus outpatient hospital",
    "22": "On-campus outpatient hospital",
    "49": "Independent clinic",
    "53": "Community mental health center",
}


def luhn_check_digit(digits: str) -> int:
    """The digit that makes `digits` + it pass the Luhn test."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:  # doubled: every second digit from the right of the payload
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def npi_problem(npi: str) -> str | None:
    if not re.fullmatch(r"[0-9]{10}", npi or ""):
        return "An NPI is ten digits."
    if luhn_check_digit(NPI_PREFIX + npi[:9]) != int(npi[9]):
        return "This NPI's check digit is wrong; check it against the NPPES record."
    return None


def dea_number_problem(number: str) -> str | None:
    if not DEA_NUMBER.match(number or ""):
        return "A DEA registration number is two letters followed by seven digits."
    return None
