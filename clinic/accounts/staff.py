"""Staff management by the clinic administrator: the staff list, invitations, roles and
credentials, deactivation and reactivation, resetting a second factor.

Every change is audited with what it was before and after. Deactivating someone ends their
signed-in sessions and revokes their API tokens at once. The clinic always keeps an active
clinic administrator, and an administrator never deactivates or demotes themselves.

An invitation creates the account without a usable password and e-mails a link to choose one.
The link is Django's password-reset token (its own salt): it works once (the token depends on
the password hash, which setting a password changes) and for PASSWORD_RESET_TIMEOUT. The token
is never logged or stored; with REQUIRE_STAFF_2FA on, the first sign-in asks for an
authenticator app (accounts/middleware.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.paginator import Page
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.accounts.choices import STAFF_ROLES, Role
from clinic.accounts.exceptions import UnknownRole
from clinic.accounts.models import ApiToken, User
from clinic.accounts.outbox import staff_email_queue
from clinic.accounts.permissions import Capability
from clinic.accounts.services import staff_create
from clinic.core.access import require
from clinic.core.audit import audit_record, diff, snapshot
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, InvalidInput, NotFound
from clinic.core.npi import npi_problem
from clinic.core.pages import page_of
from clinic.locations.models import Location

# What an audited change of a staff account shows before and after.
AUDITED_FIELDS = ["role", "credentials", "npi", "first_name", "last_name", "email", "is_active"]


class StaffInvitationTokenGenerator(PasswordResetTokenGenerator):
    """Django's reset token with a salt of its own: an invitation link is not a reset link."""

    key_salt = "clinic.accounts.staff.StaffInvitationTokenGenerator"


invitation_tokens = StaffInvitationTokenGenerator()


@dataclass(frozen=True)
class StaffRow:
    user: User
    second_factor_enrolled: bool


def staff_list(*, actor: User, page_number: Any = 1) -> Page:
    """One page (PAGE_SIZE) of the staff accounts, active or not, each as a StaffRow with
    whether a second factor is enrolled."""
    require(actor, Capability.STAFF_MANAGE)
    enrolled = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    page = page_of(
        User.objects.filter(role__in=[r.value for r in STAFF_ROLES])
        .annotate(second_factor=Exists(enrolled))
        .order_by("-is_active", "last_name", "first_name", "username", "id"),
        page_number,
    )
    page.object_list = [
        StaffRow(user=u, second_factor_enrolled=u.second_factor) for u in page.object_list
    ]
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="user",
        summary=f"Staff list page {page.number}: {len(page.object_list)} of {page.paginator.count}",
    )
    return page


def staff_get(*, actor: User, staff_uuid: uuid.UUID | str) -> User:
    require(actor, Capability.STAFF_MANAGE)
    try:
        key = uuid.UUID(str(staff_uuid))
    except ValueError as error:
        raise NotFound("No such staff member.") from error
    user = User.objects.filter(uuid=key, role__in=[r.value for r in STAFF_ROLES]).first()
    if user is None:
        raise NotFound("No such staff member.")
    return user


def second_factor_enrolled(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def _uid(user: User) -> str:
    return urlsafe_base64_encode(force_bytes(user.uuid.bytes))


def _valid_for() -> str:
    days = settings.PASSWORD_RESET_TIMEOUT // 86400
    hours = settings.PASSWORD_RESET_TIMEOUT // 3600
    return f"{days} day{'s' if days != 1 else ''}" if days else f"{hours} hours"


def _invitation_email(user: User) -> None:
    url = settings.SITE_URL + reverse(
        "accounts:staff_invitation_link", args=[_uid(user), invitation_tokens.make_token(user)]
    )
    second_factor = (
        "After choosing a password you will be asked to set up an authenticator app "
        "(a second factor) on your phone.\n\n"
        if settings.REQUIRE_STAFF_2FA
        else ""
    )
    staff_email_queue(
        recipient=user,
        subject=f"{settings.CLINIC_NAME}: your KetaCare staff account",
        body=(
            f"Hello {user.first_name or user.username},\n\n"
            f"An account has been created for you at {settings.CLINIC_NAME}. To choose your "
            f"password, follow this link:\n\n{url}\n\n"
            f"The link works once and for {_valid_for()}. Your username is: {user.username}\n\n"
            f"{second_factor}"
            "If you did not expect this e-mail, tell the clinic administrator.\n"
        ),
    )


@transaction.atomic
def staff_invite(
    *,
    actor: User,
    username: str,
    email: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
    credentials: str = "",
    works_at: Sequence[Location] | None = None,
    npi: str = "",
) -> User:
    """A new staff account without a password, and an e-mail with a link to choose one."""
    require(actor, Capability.STAFF_MANAGE)
    npi = _npi_checked(npi)
    if not email.strip():
        raise InvalidInput({"email": ["An invitation needs an e-mail address."]})
    user = staff_create(
        actor=actor,
        username=username,
        role=role,
        email=email.strip(),
        first_name=first_name,
        last_name=last_name,
        credentials=credentials,
        works_at=works_at,
        npi=npi,
    )
    _invitation_email(user)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="user",
        object_id=user.uuid,
        summary=f"Staff invitation e-mailed to {user.username}",
    )
    return user


@transaction.atomic
def staff_invitation_resend(*, actor: User, staff: User) -> None:
    """A fresh link for someone who has not chosen a password yet (earlier links still work
    until one is used, as the token depends on the password, which is still unset)."""
    require(actor, Capability.STAFF_MANAGE)
    if staff.has_usable_password():
        raise Conflict("This person has already chosen a password.")
    if not staff.is_active:
        raise Conflict("Reactivate the account before inviting again.")
    if not staff.email:
        raise Conflict("There is no e-mail address to send the invitation to.")
    _invitation_email(staff)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="user",
        object_id=staff.uuid,
        summary=f"Staff invitation e-mailed again to {staff.username}",
    )


def staff_invitation_user(*, uidb64: str, token: str) -> User | None:
    """The active staff account an invitation link is for, while the link is good."""
    try:
        key = uuid.UUID(bytes=urlsafe_base64_decode(uidb64))
    except (TypeError, ValueError):
        return None
    user = User.objects.filter(
        uuid=key, is_active=True, role__in=[r.value for r in STAFF_ROLES]
    ).first()
    if user is None or not invitation_tokens.check_token(user, token):
        return None
    return user


@transaction.atomic
def staff_invitation_accept(*, user: User, password: str) -> User:
    """Set the invited person's password; the link stops working (its token covered the old
    password hash)."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    if not locked.is_clinic_staff:
        raise NotFound("This invitation link cannot be used.")
    try:
        validate_password(password, locked)
    except ValidationError as error:
        raise InvalidInput({"new_password1": list(error.messages)}) from error
    locked.set_password(password)
    locked.save(update_fields=["password"])
    audit_record(
        actor=locked,
        action=AuditAction.UPDATE,
        object_type="user",
        object_id=locked.uuid,
        summary="Staff invitation accepted: password chosen",
    )
    return locked


def _locked_staff(staff: User) -> tuple[User, list[int]]:
    """The staff member's row, locked, and the active clinic administrators' ids. The
    administrators' rows are locked first, always in id order, so two administrators demoting
    or deactivating each other at once queue up (no deadlock) and the second sees the first's
    change."""
    admins = list(
        User.objects.select_for_update()
        .filter(role=Role.CLINIC_ADMIN, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return User.objects.select_for_update().get(pk=staff.pk), admins


def _keeps_an_admin(staff: User, admins: list[int]) -> None:
    """Refuse a change that would leave the clinic without an active clinic administrator."""
    if staff.pk in admins and len(admins) == 1:
        raise Conflict("The clinic must keep at least one active clinic administrator.")


def _sessions_end(user: User) -> int:
    """Delete every signed-in session of this person. Returns how many. The database holds
    every session; each is deleted through the session engine, so a cached copy (the
    "cached_db" engine with REDIS_URL, on any app server) goes too."""
    key = str(user.pk)
    ended = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get("_auth_user_id") == key
    ]
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for session_key in ended:
        store(session_key=session_key).delete()
    return len(ended)


def _audit_change(*, actor: User, staff: User, before: dict, summary: str) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="user",
        object_id=staff.uuid,
        summary=summary,
        changes=diff(before, snapshot(staff, AUDITED_FIELDS)),
    )


def _npi_checked(npi: str) -> str:
    npi = (npi or "").strip().replace(" ", "")
    if npi and (problem := npi_problem(npi)):
        raise InvalidInput({"npi": [problem]})
    return npi


@transaction.atomic
def staff_update(
    *,
    actor: User,
    staff: User,
    role: str,
    credentials: str,
    first_name: str,
    last_name: str,
    email: str,
    npi: str | None = None,
) -> User:
    """Change a staff member's role, credentials, NPI (None: unchanged), name or e-mail."""
    require(actor, Capability.STAFF_MANAGE)
    checked_npi = None if npi is None else _npi_checked(npi)
    if role not in STAFF_ROLES:
        raise UnknownRole("Choose one of the staff roles.", field="role")
    locked, admins = _locked_staff(staff)
    before = snapshot(locked, AUDITED_FIELDS)
    if role != locked.role:
        if locked.pk == actor.pk:
            raise Conflict("You cannot change your own role.", field="role")
        _keeps_an_admin(locked, admins)
    locked.role = Role(role)
    locked.credentials = credentials
    locked.first_name = first_name
    locked.last_name = last_name
    locked.email = email
    if checked_npi is not None:
        locked.npi = checked_npi
    locked.save(update_fields=["role", "credentials", "npi", "first_name", "last_name", "email"])
    if before != snapshot(locked, AUDITED_FIELDS):
        _audit_change(
            actor=actor, staff=locked, before=before, summary=f"Staff {locked.username} changed"
        )
    return locked


@dataclass(frozen=True)
class Deactivation:
    staff: User
    sessions_ended: int
    tokens_revoked: int


@transaction.atomic
def staff_deactivate(*, actor: User, staff: User) -> Deactivation:
    """Sign-in stops at once: the account is inactive, its sessions are deleted and its API
    tokens revoked. The account stays (records name it); reactivation brings it back."""
    require(actor, Capability.STAFF_MANAGE)
    if staff.pk == actor.pk:
        raise Conflict("You cannot deactivate your own account.")
    locked, admins = _locked_staff(staff)
    if not locked.is_active:
        raise Conflict("This account is already inactive.")
    _keeps_an_admin(locked, admins)
    before = snapshot(locked, AUDITED_FIELDS)
    locked.is_active = False
    locked.save(update_fields=["is_active"])
    sessions = _sessions_end(locked)
    tokens = ApiToken.objects.filter(user=locked, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    _audit_change(
        actor=actor,
        staff=locked,
        before=before,
        summary=(
            f"Staff {locked.username} deactivated: {sessions} session(s) ended, "
            f"{tokens} API token(s) revoked"
        ),
    )
    return Deactivation(staff=locked, sessions_ended=sessions, tokens_revoked=tokens)


@transaction.atomic
def staff_reactivate(*, actor: User, staff: User) -> User:
    """The account may sign in again (revoked tokens stay revoked: new ones are made anew)."""
    require(actor, Capability.STAFF_MANAGE)
    locked, _ = _locked_staff(staff)
    if locked.is_active:
        raise Conflict("This account is already active.")
    before = snapshot(locked, AUDITED_FIELDS)
    locked.is_active = True
    locked.save(update_fields=["is_active"])
    _audit_change(
        actor=actor, staff=locked, before=before, summary=f"Staff {locked.username} reactivated"
    )
    return locked


@transaction.atomic
def staff_second_factor_reset(*, actor: User, staff: User) -> int:
    """Remove every second-factor device (a lost phone): the person enrols a new authenticator
    app at their next sign-in. Their sessions end too, so that next sign-in is now. Returns
    how many devices were removed."""
    require(actor, Capability.STAFF_MANAGE)
    locked, _ = _locked_staff(staff)
    devices = list(devices_for_user(locked, confirmed=None))
    for device in devices:
        device.delete()
    sessions = _sessions_end(locked)
    audit_record(
        actor=actor,
        action=AuditAction.SECOND_FACTOR,
        object_type="user",
        object_id=locked.uuid,
        summary=(
            f"Second factor of {locked.username} reset: {len(devices)} device(s) removed, "
            f"{sessions} session(s) ended"
        ),
        changes={"second_factor_enrolled": {"before": bool(devices), "after": False}},
    )
    return len(devices)


def sign_in_lock_failures(staff: User) -> int:
    """Failed sign-ins now counting towards a lockout of this username, from every address
    (clinic/accounts/lockout.py): 0 when nothing holds them back."""
    return sum(
        AccessAttempt.objects.filter(username=staff.username).values_list(
            "failures_since_start", flat=True
        )
    )


@transaction.atomic
def staff_sign_in_unlock(*, actor: User, staff: User) -> int:
    """Clear the failed sign-ins recorded for this username (every address), so a person
    locked out (by their own typing or by someone guessing at their account) may sign in at
    once. Returns how many failures were cleared."""
    require(actor, Capability.STAFF_MANAGE)
    locked, _ = _locked_staff(staff)
    attempts = AccessAttempt.objects.filter(username=locked.username)
    failures = sum(attempts.values_list("failures_since_start", flat=True))
    attempts.delete()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="user",
        object_id=locked.uuid,
        summary=f"Sign-in lock of {locked.username} cleared ({failures} failed sign-in(s))",
        changes={"failed_sign_ins": {"before": failures, "after": 0}},
    )
    return failures
