from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.accounts.choices import STAFF_ROLES, Role, TokenAudience
from clinic.accounts.exceptions import SecondFactorRequired, UnknownRole
from clinic.accounts.models import ApiToken, User
from clinic.accounts.permissions import Capability
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, InvalidInput, PermissionDenied
from clinic.core.parsing import clean_text
from clinic.locations.models import Location, default_location
from clinic.locations.selectors import location_current
from clinic.locations.services import location_add_staff_member

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
    works_at: Sequence[Location] | None = None,
    npi: str = "",
) -> User:
    """A staff account, working at `works_at` (by default the creator's current location, or
    the default location; an empty list: nowhere yet, as in a clinic of one location, where
    everyone works without a membership)."""
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
        npi=npi,
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
    if works_at is None:
        current = location_current(actor) if actor is not None else None
        works_at = [current or default_location()]
    for location in works_at:
        location_add_staff_member(location=location, user=user)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="user",
        object_id=user.uuid,
        summary=f"Staff account {username} created with role {role}",
        changes={
            "role": role,
            "username": username,
            "works_at": sorted(location.code for location in works_at),
        },
    )
    return user


def has_second_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


@transaction.atomic
def api_token_create(*, actor: User | None, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Returns the stored token and the plain token, which is never stored or shown again.

    `actor` is the token's owner (the token page) or None (`manage.py createapitoken`, run by
    whoever runs the server): no one mints a token that acts as someone else."""
    if actor is not None and actor.pk != user.pk:
        raise PermissionDenied("An API token can only be created by the person it acts for.")
    if not user.is_clinic_staff:
        raise PermissionDenied("Only active clinic staff can hold an API token.")
    if settings.REQUIRE_STAFF_2FA and not has_second_factor(user):
        raise SecondFactorRequired()
    return _token_issue(actor=actor, user=user, name=name, audience=TokenAudience.STAFF)


@transaction.atomic
def patient_api_token_create(*, actor: User, name: str = "") -> tuple[ApiToken, str]:
    """A patient's own token (the portal's account page), for their operations under
    /api/v1/me and nothing else. Stored, expiring and audited as a staff token is. A patient
    with an authenticator app has passed it to reach the page (the portal's sign-in rule)."""
    if not actor.is_active or not actor.is_patient_principal:
        raise PermissionDenied("Only a patient can hold a patient API token.")
    return _token_issue(actor=actor, user=actor, name=name, audience=TokenAudience.PATIENT)


def _token_issue(
    *, actor: User | None, user: User, name: str, audience: TokenAudience
) -> tuple[ApiToken, str]:
    name = clean_text("name", name, max_length=100)
    prefix = secrets.token_hex(4)
    plain = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    expires_at = timezone.now() + timedelta(days=settings.API_TOKEN_EXPIRY_DAYS)
    token = ApiToken.objects.create(
        user=user,
        audience=audience,
        name=name,
        prefix=prefix,
        digest_sha256=token_digest(plain),
        expires_at=expires_at,
    )
    audit_record(
        actor=actor,
        action=AuditAction.TOKEN,
        object_type="api_token",
        object_id=prefix,
        summary=f"API token {prefix} created for {user.username}"
        + (" (patient: own operations only)" if audience == TokenAudience.PATIENT else ""),
        changes={
            "owner": user.username,
            "name": token.name,
            "audience": audience.value,
            "expires_at": expires_at.isoformat(),
        },
    )
    return token, plain


@transaction.atomic
def api_token_revoke(*, actor: User | None, token: ApiToken) -> bool:
    """Revoke one token: by its owner, a clinic administrator, or None (`manage.py
    revokeapitoken`). False when it was already revoked (nothing changes, nothing audited)."""
    if (
        actor is not None
        and actor.pk != token.user_id
        and not actor.can(Capability.API_TOKEN_REVOKE_ANY)
    ):
        raise PermissionDenied("Only the token's owner or a clinic administrator may revoke it.")
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if not revoked:
        return False
    owner = User.objects.only("username").get(pk=token.user_id).username
    audit_record(
        actor=actor,
        action=AuditAction.TOKEN,
        object_type="api_token",
        object_id=token.prefix,
        summary=f"API token {token.prefix} of {owner} revoked",
        changes={"owner": owner, "name": token.name},
    )
    return True


def api_tokens_revoke_all(*, actor: User | None, user: User) -> int:
    """Revoke every token of `user` that is not revoked yet; how many were. Each is audited."""
    with transaction.atomic():
        tokens = list(ApiToken.objects.filter(user=user, revoked_at__isnull=True))
        return sum(api_token_revoke(actor=actor, token=token) for token in tokens)


def _token_touch(token: ApiToken) -> None:
    now = timezone.now()
    # Write at most once a minute per token: last use is for housekeeping, not auditing.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)


def _usable_token(plain: str, audience: TokenAudience) -> QuerySet[ApiToken] | None:
    if not plain or not plain.startswith(f"{TOKEN_PREFIX}_"):
        return None
    return (
        ApiToken.objects.usable()
        .select_related("user")
        .filter(digest_sha256=token_digest(plain), audience=audience)
    )


def api_token_authenticate(plain: str) -> User | None:
    """The active staff user a usable staff token belongs to, or None (a patient's token is
    never one). With REQUIRE_STAFF_2FA on, the owner must still have a confirmed second factor
    (one reset since refuses the token). Records when it was last used."""
    tokens = _usable_token(plain, TokenAudience.STAFF)
    if tokens is None:
        return None
    token = tokens.annotate(
        owner_has_second_factor=Exists(
            TOTPDevice.objects.filter(user=OuterRef("user"), confirmed=True)
        )
    ).first()
    if token is None or not token.user.is_clinic_staff:
        return None
    if settings.REQUIRE_STAFF_2FA and not token.owner_has_second_factor:
        return None
    _token_touch(token)
    return token.user


def patient_api_token_authenticate(plain: str) -> User | None:
    """The active patient principal a usable patient token belongs to, or None (a staff token
    is never one). Which patient record that is, is the caller's to find. Records last use."""
    tokens = _usable_token(plain, TokenAudience.PATIENT)
    token = tokens.first() if tokens is not None else None
    if token is None or not token.user.is_active or not token.user.is_patient_principal:
        return None
    _token_touch(token)
    return token.user


def staff_lock(*, staff_id: int) -> User | None:
    """Lock a staff member's row to serialise work counted per person (a nurse's concurrent
    chairs have no database constraint; their row lock is the guard)."""
    return User.objects.select_for_update().filter(pk=staff_id).first()
