from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinic.accounts.choices import STAFF_ROLES, Role
from clinic.accounts.exceptions import UnknownRole
from clinic.accounts.models import ApiToken, User
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, InvalidInput

TOKEN_PREFIX = "kc"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def staff_create(
    *,
    # None when the clinic's first staff are created from the command line.
    actor: User | None,
    username: str,
    role: str,
    password: str | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    credentials: str = "",
    check_password_strength: bool = True,
) -> User:
    if role not in STAFF_ROLES:
        allowed = ", ".join(sorted(r.value for r in STAFF_ROLES))
        raise UnknownRole(f"Unknown staff role {role!r}; choose one of: {allowed}.", field="role")
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(f"A user named {username!r} already exists.", field="username")
    user = User(
        username=username,
        role=Role(role),
        email=email,
        first_name=first_name,
        last_name=last_name,
        credentials=credentials,
    )
    if password:
        if check_password_strength:
            try:
                validate_password(password, user)
            except ValidationError as error:
                raise InvalidInput({"password": list(error.messages)}) from error
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="user",
        object_id=user.uuid,
        summary=f"Staff account {username} created with role {role}",
        changes={"role": role, "username": username},
    )
    return user


@transaction.atomic
def api_token_create(*, actor: User | None, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Returns the stored token and the plain token, which is never stored or shown again."""
    prefix = secrets.token_hex(4)
    plain = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user, name=name, prefix=prefix, digest_sha256=token_digest(plain)
    )
    audit_record(
        actor=actor,
        action=AuditAction.TOKEN,
        object_type="api_token",
        object_id=prefix,
        summary=f"API token {prefix} created for {user.username}",
    )
    return token, plain


@transaction.atomic
def api_token_revoke(*, actor: User, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    audit_record(
        actor=actor,
        action=AuditAction.TOKEN,
        object_type="api_token",
        object_id=token.prefix,
        summary=f"API token {token.prefix} revoked",
    )


def api_token_authenticate(plain: str) -> User | None:
    """The active staff user a token belongs to, or None. Records when it was last used."""
    if not plain or not plain.startswith(f"{TOKEN_PREFIX}_"):
        return None
    token = (
        ApiToken.objects.usable().select_related("user").filter(digest_sha256=token_digest(plain))
    ).first()
    if token is None or not token.user.is_clinic_staff:
        return None
    now = timezone.now()
    # Write at most once a minute per token: last use is for housekeeping, not auditing.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def staff_lock(*, staff_id: int) -> User | None:
    """Lock a staff member's row to serialise work counted per person (a nurse's concurrent
    chairs have no database constraint; their row lock is the guard)."""
    return User.objects.select_for_update().filter(pk=staff_id).first()
