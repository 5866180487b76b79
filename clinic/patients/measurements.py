"""Body measurements: pure arithmetic, no Django."""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal


def bmi_kg_m2(weight_kg: Decimal | None, height_cm: Decimal | None) -> Decimal | None:
    """Body-mass index (kg/m²), rounded half up to one decimal; None without both values."""
    if weight_kg is None or height_cm is None or height_cm <= 0:
        return None
    height_m = Decimal(height_cm) / Decimal(100)
    return (Decimal(weight_kg) / (height_m * height_m)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def age_years(date_of_birth: datetime.date, on: datetime.date) -> int:
    """Completed years of age on a date (a 29 February birthday turns over on 1 March)."""
    before_birthday = (on.month, on.day) < (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - before_birthday


def mrn_check_digit(number: int) -> int:
    """Luhn check digit, so a mistyped MRN is caught at the front desk."""
    digits = [int(d) for d in str(number)]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def mrn_for(sequence: int) -> str:
    """Seven-digit serial plus a Luhn check digit: 1 → '00000018'."""
    return f"{sequence:07d}{mrn_check_digit(sequence)}"


def mrn_is_valid(mrn: str) -> bool:
    return len(mrn) == 8 and mrn.isdigit() and mrn_check_digit(int(mrn[:7])) == int(mrn[7])
