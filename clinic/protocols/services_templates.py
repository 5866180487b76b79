"""The clinic's own protocol templates: a new template, or the next version of one. A version is
never edited (a plan stays pinned to the version it was built from)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, InvalidInput
from clinic.core.records import required_text
from clinic.protocols.models import ProtocolTemplate
from clinic.protocols.policy import dosing_policy
from clinic.protocols.schedules import BUILT_IN, ScheduleError, validate_definition


@transaction.atomic
def template_create(
    *, actor: User, code: str, name: str, definition: dict[str, Any]
) -> ProtocolTemplate:
    """A clinic template, or a new version of one: validated against the dosing policy."""
    require(actor, Capability.PROTOCOL_MANAGE_TEMPLATES)
    if code in BUILT_IN:
        raise InvalidInput({"code": ["Built-in protocols cannot be redefined; choose a new code."]})
    try:
        parsed = validate_definition(definition, dosing_policy())
    except ScheduleError as error:
        # The editor's JSON keys are what the administrator typed: name the one at fault.
        raise InvalidInput({error.field or "schedule": [str(error)]}) from error
    if not parsed.route:
        raise InvalidInput({"definition": ["A template names its route."]})
    latest = (
        ProtocolTemplate.objects.select_for_update().filter(code=code).aggregate(v=Max("version"))
    )
    try:
        # The lock above holds the existing versions; a brand-new code has none to lock, so two
        # first versions at once meet the (code, version) constraint: the second is told.
        with transaction.atomic():
            template = ProtocolTemplate.objects.create(
                code=code,
                version=(latest["v"] or 0) + 1,
                name=required_text("name", name, "Give the template a name."),
                route=parsed.route,
                definition=parsed.as_dict(),
                created_by=actor,
            )
    except IntegrityError as error:
        raise Conflict(
            f"Someone added a version of {code} at the same moment: read the protocol again, "
            "then add yours as its next version.",
            code="template_version_taken",
        ) from error
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="protocol_template",
        object_id=f"{code} v{template.version}",
        summary=f"Protocol template {code} v{template.version} ({template.route})",
    )
    return template
