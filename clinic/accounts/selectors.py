"""Reads of accounts, checked against the actor."""

from __future__ import annotations

from django.db.models import QuerySet

from clinic.accounts.models import ApiToken, User
from clinic.accounts.permissions import Capability
from clinic.core.access import require
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
    """Every staff member's tokens, for the clinic administrator."""
    require(actor, Capability.API_TOKEN_REVOKE_ANY)
    return (
        ApiToken.objects.select_related("user")
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
