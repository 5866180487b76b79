"""The clinic's screening rule set: versioned policy values over the default rules."""

from __future__ import annotations

from django.db import transaction

from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import InvalidInput
from clinic.screening.models import RuleSetVersion
from clinic.screening.rules import PolicyError, RuleSet, rule_set_from_policy


def current_rule_set_version() -> RuleSetVersion:
    latest = RuleSetVersion.objects.order_by("-version").first()
    if latest is None:
        # Version 1 (the defaults) is created by a data migration; recreate it if a test or a
        # database flush removed it.
        latest, _ = RuleSetVersion.objects.get_or_create(
            version=1, defaults={"policy": {}, "note": "Default rule set (screening-rules.md)"}
        )
    return latest


def rule_set_for(version: RuleSetVersion) -> RuleSet:
    return rule_set_from_policy(version.version, version.policy)


def current_rule_set() -> RuleSet:
    return rule_set_for(current_rule_set_version())


@transaction.atomic
def rule_set_policy_update(*, actor, policy: dict, note: str) -> RuleSetVersion:
    """A clinic admin changes policy values: a new version; label rules cannot change."""
    require(actor, "screening.edit_rules")
    latest = RuleSetVersion.objects.select_for_update().order_by("-version").first()
    next_version = (latest.version if latest else 1) + 1
    try:
        rule_set_from_policy(next_version, policy)
    except PolicyError as error:
        raise InvalidInput({"policy": [str(error)]}) from error
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
