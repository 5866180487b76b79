"""The clinic's dosing policy: DosingPolicy defaults with the CLINIC_POLICY overrides.

A clinic overrides any field of `clinic.protocols.dosing.DosingPolicy` under
`CLINIC_POLICY["dosing"]`, keyed by field name, for example::

    CLINIC_POLICY = {"dosing": {"iv_max_mg_per_kg": 0.75, "high_bmi_weight_basis": "adjusted"}}

mg/kg, kg, inch, kg/m² and factor values are numbers (read as Decimal through their text, so
0.1 stays 0.1); minute and count values are whole numbers; `esketamine_doses_mg` is a list of
the label's doses (28, 56, 84 [C2]); the weight bases are strings ("actual", "ideal",
"adjusted"; `high_bmi_weight_basis` may be null). An unknown key, a bad value or a value laxer
than the esketamine label is a configuration error (ImproperlyConfigured), never silently
replaced by a default.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from clinic.core.policy import policy_with_overrides
from clinic.protocols.dosing import DEFAULT_POLICY, DosingPolicy


def dosing_policy() -> DosingPolicy:
    """The policy in force: defaults from policy-defaults.md, with the clinic's overrides."""
    return policy_with_overrides("dosing", DEFAULT_POLICY, _convert)


def _convert(name: str, value: Any) -> Any:
    default = getattr(DEFAULT_POLICY, name)
    problem = f"CLINIC_POLICY['dosing'][{name!r}] is not valid: {value!r}"
    if isinstance(default, Decimal):
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            raise ImproperlyConfigured(f"{problem} (a number is expected).")
        try:
            return Decimal(str(value))
        except InvalidOperation as error:
            raise ImproperlyConfigured(f"{problem} (a number is expected).") from error
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ImproperlyConfigured(f"{problem} (a whole number is expected).")
        return value
    if isinstance(default, tuple):
        if not isinstance(value, list | tuple):
            raise ImproperlyConfigured(f"{problem} (a list is expected).")
        return tuple(value)
    return value
