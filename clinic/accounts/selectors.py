"""Reads of accounts, checked against the actor."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from django.db.models import QuerySet

from clinic.accounts.choices import CLINICAL_ROLES, TokenAudience
from clinic.accounts.models import ApiToken, User
from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import NotFound, PermissionDenied

# The token pages never need the digest; leaving it out keeps it off every page and log.
_TOKEN_FIELDS = (
    *("id", "user", "name", "prefix", "created_at", "last_used_at", "expires_at"),
    "revoked_at",
)


def api_tokens_own(*, actor: User) -> QuerySet[ApiToken]:
    """The actor's own tokens, newest first (every staff member sees their own)."""
    if not actor.is_clinic_staff:
        raise PermissionDenied("API tokens are for clinic staff.")
    return ApiToken.objects.filter(user=actor).only(*_TOKEN_FIELDS).order_by("-created_at")


def api_tokens_all(*, actor: User) -> QuerySet[ApiToken]:
    """Every staff member's tokens, for the clinic administrator (patients' own tokens are
    theirs to see on the portal)."""
    require(actor, Capability.API_TOKEN_REVOKE_ANY)
    return (
        ApiToken.objects.filter(audience=TokenAudience.STAFF)
        .select_related("user")
        .only(
            *_TOKEN_FIELDS,
            "user__username",
            "user__first_name",
            "user__last_name",
            "user__credentials",
            "user__role",
            "user__is_active",
        )
        .order_by("revoked_at", "user__username", "-created_at")
    )


def api_token_for_revoke(*, actor: User, prefix: str) -> ApiToken:
    """A token the actor may revoke: their own, or anyone's for a clinic administrator. Any
    other looks as if it did not exist."""
    tokens = ApiToken.objects.only(*_TOKEN_FIELDS).filter(prefix=prefix)
    if not actor.can(Capability.API_TOKEN_REVOKE_ANY):
        if not actor.is_clinic_staff:
            raise PermissionDenied("API tokens are for clinic staff.")
        tokens = tokens.filter(user=actor)
    token = tokens.first()
    if token is None:
        raise NotFound("No such API token.")
    return token


def patient_api_tokens_own(*, actor: User) -> QuerySet[ApiToken]:
    """The signed-in patient's own tokens, newest first (the portal's account page)."""
    if not actor.is_patient_principal:
        raise PermissionDenied("This list is for patients.")
    return (
        ApiToken.objects.filter(user=actor, audience=TokenAudience.PATIENT)
        .only(*_TOKEN_FIELDS)
        .order_by("-created_at")
    )


def patient_api_token_for_revoke(*, actor: User, prefix: str) -> ApiToken:
    """One of the patient's own tokens; anyone else's looks as if it did not exist."""
    token = patient_api_tokens_own(actor=actor).filter(prefix=prefix).first()
    if token is None:
        raise NotFound("No such API token.")
    return token


def practitioner_get(*, actor: User, practitioner_uuid: str) -> User:
    """A clinician (prescriber, nurse or therapist, current or former) by UUID, for any staff
    member: who treated a patient is part of every record they may read (FHIR Practitioner).
    Audited; anyone else by that UUID is not found."""
    if not actor.is_clinic_staff:
        raise PermissionDenied("For clinic staff.")
    try:
        key = uuid.UUID(str(practitioner_uuid))
    except ValueError as error:
        raise NotFound("No such practitioner.") from error
    found = User.objects.filter(uuid=key, role__in=list(CLINICAL_ROLES)).first()
    if found is None:
        raise NotFound("No such practitioner.")
    audit_record(
        actor=actor,
        action=AuditAction.VIEW,
        object_type="practitioner",
        object_id=found.uuid,
        summary="FHIR Practitioner read",
    )
    return found


def practitioners_get(
    *, actor: User, practitioner_uuids: Collection[str], purpose: str
) -> list[User]:
    """The clinicians among these UUIDs, on the terms of `practitioner_get`, in one query and
    one audit event (a FHIR search's `_include`): anything else is left out."""
    if not actor.is_clinic_staff:
        raise PermissionDenied("For clinic staff.")
    keys = set()
    for text in practitioner_uuids:
        try:
            keys.add(uuid.UUID(str(text)))
        except ValueError:
            continue
    if not keys:
        return []
    found = list(User.objects.filter(uuid__in=keys, role__in=list(CLINICAL_ROLES)).order_by("id"))
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="practitioner",
        summary=f"{len(found)} practitioners ({purpose})"[:300],
    )
    return found
