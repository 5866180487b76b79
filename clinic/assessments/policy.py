"""The clinic's scoring policy, read from Django settings (outside the pure instruments package).

`settings.CLINIC_POLICY["scoring"]` may set `pcl5_probable_ptsd_total` and
`aldrete_discharge_total`; anything not set keeps the ScoringPolicy default
(policy-defaults.md; calculators.md §1).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from clinic.assessments.instruments.base import ScoringPolicy
from clinic.assessments.schedule import SchedulePolicy

_KEYS = frozenset(f.name for f in fields(ScoringPolicy))


def scoring_policy() -> ScoringPolicy:
    """The ScoringPolicy for this clinic: settings over defaults."""
    clinic_policy = getattr(settings, "CLINIC_POLICY", None) or {}
    scoring = clinic_policy.get("scoring") or {}
    chosen = {key: value for key, value in scoring.items() if key in _KEYS}
    for key, value in chosen.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise ImproperlyConfigured(
                f"CLINIC_POLICY['scoring'][{key!r}] must be a whole number; got {value!r}."
            )
    return ScoringPolicy(**chosen)


def schedule_policy() -> SchedulePolicy:
    """The assessment schedule: `settings.CLINIC_POLICY["schedule"]` over the defaults
    (instrument lists as lists of codes, numbers as whole numbers)."""
    clinic_policy = getattr(settings, "CLINIC_POLICY", None) or {}
    chosen = dict(clinic_policy.get("schedule") or {})
    unknown = set(chosen) - {f.name for f in fields(SchedulePolicy)}
    if unknown:
        raise ImproperlyConfigured(
            f"CLINIC_POLICY['schedule'] has unknown keys: {sorted(unknown)}."
        )
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in chosen.items()}
    return SchedulePolicy(**values)
