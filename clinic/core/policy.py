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
