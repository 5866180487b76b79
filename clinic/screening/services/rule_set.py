"""The clinic's screening rule set: a clinic admin's change to its policy values is a new
version over the default rules (label rules never change)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from clinic.accounts.models import User
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import InvalidInput
from clinic.screening.models import RuleSetVersion
from clinic.screening.rules import PolicyError, rule_set_from_policy


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
