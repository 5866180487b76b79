"""The session rules in force: rules.SessionPolicy defaults (policy-defaults.md), with the
clinic's overrides from CLINIC_POLICY["treatment_sessions"] and the clinic's plausibility ranges
(CLINIC_POLICY["plausible_ranges"], shared with every other vitals entry)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from clinic.core.policy import plausible_range, policy_with_overrides
from clinic.treatment_sessions.rules import DEFAULT_POLICY, SessionPolicy

SECTION = "treatment_sessions"
_PLAUSIBLE = {
    "plausible_systolic_mmhg": "systolic_mmhg",
    "plausible_diastolic_mmhg": "diastolic_mmhg",
    "plausible_heart_rate_bpm": "heart_rate_bpm",
    "plausible_spo2_percent": "spo2_percent",
    "plausible_respiratory_rate_per_min": "respiratory_rate_per_min",
    "plausible_temperature_c": "temperature_c",
}


def _convert(name: str, value: Any) -> Any:
    default = getattr(DEFAULT_POLICY, name)
    problem = f"CLINIC_POLICY[{SECTION!r}][{name!r}] is not valid: {value!r}"
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ImproperlyConfigured(f"{problem} (true or false is expected).")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ImproperlyConfigured(f"{problem} (a whole number is expected).")
        return value
    if name.startswith("plausible_"):
        raise ImproperlyConfigured(
            f"{problem}: set plausibility ranges in CLINIC_POLICY['plausible_ranges']."
        )
    return value


def session_policy() -> SessionPolicy:
    policy = policy_with_overrides(SECTION, DEFAULT_POLICY, _convert)
    ranges: dict[str, tuple] = {}
    for field, name in _PLAUSIBLE.items():
        allowed = plausible_range(name)
        low: Decimal | int = allowed.low
        high: Decimal | int = allowed.high
        if isinstance(getattr(DEFAULT_POLICY, field)[0], int):
            low, high = int(low), int(high)
        ranges[field] = (low, high)
    try:
        return dataclasses.replace(policy, **ranges)
    except ValueError as error:
        raise ImproperlyConfigured(
            f"CLINIC_POLICY['plausible_ranges'] is not valid: {error}"
        ) from error


def policy_as_json(policy: SessionPolicy) -> dict[str, Any]:
    """The values a session records at check-in."""
    out: dict[str, Any] = {}
    for field in dataclasses.fields(policy):
        value = getattr(policy, field.name)
        if isinstance(value, tuple):
            value = [str(v) if isinstance(v, Decimal) else v for v in value]
        out[field.name] = value
    return out


def policy_from_json(values: dict[str, Any]) -> SessionPolicy:
    """The policy a session ran under (unknown keys from older versions are ignored)."""
    known = {field.name: field for field in dataclasses.fields(SessionPolicy)}
    kwargs: dict[str, Any] = {}
    for name, value in values.items():
        if name not in known:
            continue
        if isinstance(value, list):
            value = tuple(Decimal(v) if isinstance(v, str) else v for v in value)
        kwargs[name] = value
    return SessionPolicy(**kwargs)


def rems_setting_id(location: Any = None) -> str:
    """The Spravato REMS healthcare-setting ID printed on the form: the location's own (each
    treatment location is its own REMS-certified setting), else the clinic's setting
    SPRAVATO_REMS_SETTING_ID (a location that has none recorded yet)."""
    from django.conf import settings

    own = getattr(location, "spravato_rems_setting_id", "") if location is not None else ""
    return own or getattr(settings, "SPRAVATO_REMS_SETTING_ID", "") or ""
