"""The clinic's dosing policy (DosingPolicy defaults with the CLINIC_POLICY["dosing"] overrides)
and the plausibility bounds of a plan's dates (PlanDatePolicy, CLINIC_POLICY["plan_dates"]).

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

import datetime
from dataclasses import dataclass
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


# --------------------------------------------------------------------------- plan dates


@dataclass(frozen=True)
class PlanDatePolicy:
    """How far from today the dates a prescriber enters on a plan may be: plausibility bounds
    that catch entry errors (a start in 2020, a typo of the year), not clinical limits. No
    published source: operational values a clinic sets in `CLINIC_POLICY["plan_dates"]`
    (docs/configuration.md)."""

    # A plan starts today or later: a past start would plan sessions that can no longer be held.
    start_days_back: int = 0
    # ... and within about six months, so that a mistyped year is caught; the first maintenance
    # session of a plan may fall at most this many days after the later of today and the plan's
    # last planned session.
    start_days_ahead: int = 180

    def __post_init__(self):
        for name in ("start_days_back", "start_days_ahead"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a whole number of days, 0 or more.")

    def earliest_start(self, today: datetime.date) -> datetime.date:
        return today - datetime.timedelta(days=self.start_days_back)

    def latest_start(self, today: datetime.date) -> datetime.date:
        return today + datetime.timedelta(days=self.start_days_ahead)

    def start_problem(self, start_date: datetime.date, today: datetime.date) -> str:
        """Why a plan may not start on `start_date`, in words ("" when it may)."""
        if start_date < self.earliest_start(today):
            if self.start_days_back == 0:
                return "A plan cannot start in the past."
            return (
                f"A plan starts on {self.earliest_start(today):%m/%d/%Y} at the earliest "
                f"({self.start_days_back} days back, clinic policy)."
            )
        if start_date > self.latest_start(today):
            return (
                f"A plan starts on {self.latest_start(today):%m/%d/%Y} at the latest "
                f"({self.start_days_ahead} days from today, clinic policy): check the year."
            )
        return ""


DEFAULT_PLAN_DATES = PlanDatePolicy()


def plan_date_policy() -> PlanDatePolicy:
    """The bounds in force: the defaults above with `CLINIC_POLICY["plan_dates"]` applied."""
    return policy_with_overrides("plan_dates", DEFAULT_PLAN_DATES, _whole_days)


def _whole_days(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ImproperlyConfigured(
            f"CLINIC_POLICY['plan_dates'][{name!r}] is not valid: {value!r} "
            "(a whole number of days, 0 or more, is expected)."
        )
    return value
