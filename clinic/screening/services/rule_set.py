"""The clinic's screening rule set: a clinic admin's change to its policy values is a new
version over the default rules (label rules never change)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.forms.formsets import DEFAULT_MAX_NUM

from clinic.accounts.models import User
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import InvalidInput
from clinic.core.policy import date_policy, plausible_range
from clinic.screening.models import RuleSetVersion
from clinic.screening.rules import THRESHOLDS, PolicyError, rule_set_from_policy


def threshold_bounds() -> dict[str, tuple[int, int]]:
    """The values each threshold may take: ones an intake can actually hold. An age within the
    clinic's oldest plausible age, a blood pressure within its entry range (both clinic/core/
    policy.py), a count of failed trials within the rows an intake's table accepts (Django's
    formset limit). A threshold beyond them could never be met: it would switch its rule off
    without saying so (someone saved "older adults from 99999999999999999999999 years")."""
    oldest = date_policy().oldest_patient_age_years
    systolic, diastolic = plausible_range("systolic_mmhg"), plausible_range("diastolic_mmhg")
    by_unit = {
        "years": (1, oldest),
        "trials": (1, DEFAULT_MAX_NUM),
    }
    bounds = {}
    for name, spec in THRESHOLDS.items():
        if name.endswith("_systolic_mmhg"):
            bounds[name] = (int(systolic.low), int(systolic.high))
        elif name.endswith("_diastolic_mmhg"):
            bounds[name] = (int(diastolic.low), int(diastolic.high))
        else:
            bounds[name] = by_unit[spec.unit]
    return bounds


def threshold_problems(thresholds: Mapping[str, object]) -> list[str]:
    """Why each given threshold is out of its bounds, in words (empty when none is)."""
    bounds = threshold_bounds()
    problems = []
    for name, value in thresholds.items():
        if name not in bounds or isinstance(value, bool) or not isinstance(value, int):
            continue  # the rule set's own check names these
        low, high = bounds[name]
        if not low <= value <= high:
            spec = THRESHOLDS[name]
            problems.append(f"{spec.description}: enter a number from {low} to {high} {spec.unit}.")
    return problems


@transaction.atomic
def rule_set_policy_update(*, actor: User, policy: dict[str, Any], note: str) -> RuleSetVersion:
    """A clinic admin changes policy values: a new version; label rules cannot change."""
    require(actor, "screening.edit_rules")
    latest = RuleSetVersion.objects.select_for_update().order_by("-version").first()
    next_version = (latest.version if latest else 1) + 1
    try:
        rule_set_from_policy(next_version, policy)
    except PolicyError as error:
        raise InvalidInput({"policy": [str(error)]}) from error
    thresholds = policy.get("thresholds") if isinstance(policy, dict) else None
    if isinstance(thresholds, dict) and (problems := threshold_problems(thresholds)):
        raise InvalidInput({"policy": problems})
    created = RuleSetVersion.objects.create(
        version=next_version, policy=policy, note=note[:300], created_by=actor
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="rule_set",
        object_id=str(next_version),
        summary=f"Screening rule set v{next_version}: {note}"[:300],
        changes={"policy": {"before": latest.policy if latest else {}, "after": policy}},
    )
    return created
