"""The clinic's outcome policy: OutcomePolicy defaults with the CLINIC_POLICY overrides.

A clinic overrides any field of `clinic.outcomes.metrics.OutcomePolicy` under
`CLINIC_POLICY["outcomes"]`, keyed by field name, for example::

    CLINIC_POLICY = {"outcomes": {"madrs_remission": ["<=", 12]}}  # esketamine trials [H1]

Remission thresholds are written as [comparison, value] with comparison "<" or "<=", or
None for no remission threshold. An unknown key or a bad value stops start-up of the
feature with ImproperlyConfigured rather than silently falling back to a default.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ImproperlyConfigured

from clinic.core.policy import policy_with_overrides
from clinic.outcomes.metrics import DEFAULT_POLICY, OutcomePolicy, RemissionThreshold


def outcome_policy() -> OutcomePolicy:
    """The policy in force: defaults from policy-defaults.md, with the clinic's overrides."""
    return policy_with_overrides("outcomes", DEFAULT_POLICY, _convert)


def _convert(name: str, value):
    try:
        if name.endswith("_remission"):
            if value is None or isinstance(value, RemissionThreshold):
                return value
            comparison, number = value
            return RemissionThreshold(comparison, number)
        if name == "response_reduction_percent":
            return Decimal(str(value))
    except (TypeError, ValueError, InvalidOperation) as error:
        raise ImproperlyConfigured(
            f"CLINIC_POLICY['outcomes']['{name}'] is not valid: {value!r} ({error})."
        ) from error
    return value
