"""Clinic-policy values used across apps, with their sources.

Defaults come from docs/clinical/policy-defaults.md. A clinic overrides any of them
through the CLINIC_POLICY setting (a dict keyed like DEFAULTS); a later version moves
them into versioned, admin-editable records.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class PlausibleRange:
    """Values outside the range are entry errors, not clinical limits."""

    low: Decimal
    high: Decimal
    unit: str
    label: str

    def contains(self, value: Decimal | float | int) -> bool:
        return self.low <= Decimal(str(value)) <= self.high

    def message(self) -> str:
        return f"{self.label} must be between {self.low} and {self.high} {self.unit}."


# policy-defaults.md, "Vital signs": plausibility ranges for entry.
DEFAULT_PLAUSIBLE_RANGES: dict[str, PlausibleRange] = {
    "weight_kg": PlausibleRange(Decimal(25), Decimal(350), "kg", "Weight"),
    "height_cm": PlausibleRange(Decimal(120), Decimal(230), "cm", "Height"),
    "systolic_mmhg": PlausibleRange(Decimal(50), Decimal(300), "mmHg", "Systolic pressure"),
    "diastolic_mmhg": PlausibleRange(Decimal(20), Decimal(200), "mmHg", "Diastolic pressure"),
    "heart_rate_bpm": PlausibleRange(Decimal(20), Decimal(250), "bpm", "Heart rate"),
    "spo2_percent": PlausibleRange(Decimal(50), Decimal(100), "%", "SpO2"),
    "respiratory_rate_per_min": PlausibleRange(Decimal(4), Decimal(60), "/min", "Respiratory rate"),
    "temperature_c": PlausibleRange(Decimal(30), Decimal(43), "°C", "Temperature"),
}


def plausible_range(name: str) -> PlausibleRange:
    override = getattr(settings, "CLINIC_POLICY", {}).get("plausible_ranges", {}).get(name)
    default = DEFAULT_PLAUSIBLE_RANGES[name]
    if override:
        low, high = override
        return PlausibleRange(Decimal(str(low)), Decimal(str(high)), default.unit, default.label)
    return default


def policy_with_overrides(section: str, default, convert=None):
    """`default` (a frozen policy dataclass) with the clinic's `CLINIC_POLICY[section]` applied.

    `convert(name, value)` turns a settings value into the field's type. An unknown key or a bad
    value is a configuration error naming it, never silently replaced by the default."""
    overrides = (getattr(settings, "CLINIC_POLICY", None) or {}).get(section) or {}
    if not overrides:
        return default
    if not isinstance(overrides, dict):
        raise ImproperlyConfigured(f"CLINIC_POLICY[{section!r}] must be a dict of setting: value.")
    known = {field.name for field in dataclasses.fields(default)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ImproperlyConfigured(
            f"CLINIC_POLICY[{section!r}] has unknown settings: {', '.join(unknown)}. "
            f"Known: {', '.join(sorted(known))}."
        )
    values = {name: convert(name, value) if convert else value for name, value in overrides.items()}
    try:
        return dataclasses.replace(default, **values)
    except (TypeError, ValueError) as error:
        raise ImproperlyConfigured(f"CLINIC_POLICY[{section!r}] is not valid: {error}") from error


# --------------------------------------------------------------------------- plausible dates


@dataclass(frozen=True)
class DatePolicy:
    """How far from today an entered date may be: plausibility bounds that catch entry errors
    (a mistyped year), not clinical limits. No published source: operational values a clinic
    sets in `CLINIC_POLICY["dates"]` (docs/configuration.md). The floor for any clinical event
    is clinic.core.parsing.EARLIEST_EVENT_AT; a patient's own records also start at birth."""

    # A date of birth further back than this is a typing error, not a patient.
    oldest_patient_age_years: int = 125
    # An appointment, a staff shift, a schedule calculation or a list filter: within about ten
    # years from today (a year typed as 9999 or 20226 is caught; a clinic may set it tighter).
    booking_days_ahead: int = 3650
    # A controlled-substance lot's expiry date: within ten years from today.
    expiry_days_ahead: int = 3650

    def __post_init__(self):
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{item.name} must be a whole number, 1 or more.")


DEFAULT_DATES = DatePolicy()


def date_policy() -> DatePolicy:
    """The bounds in force: the defaults above with `CLINIC_POLICY["dates"]` applied."""
    return policy_with_overrides("dates", DEFAULT_DATES)
