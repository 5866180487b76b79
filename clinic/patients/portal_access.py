"""The patient's way into the portal: invitations, activation and password reset.

Staff invite a patient (an expiring, single-use activation link, e-mailed); the patient opens
the link, chooses a password and gets an account of role `patient` linked to their record
(`Patient.user`). A forgotten password is reset with a link built by Django's
`PasswordResetTokenGenerator`, which stops working once the password changes.

E-mail goes through the outbox (`clinic.notifications`, addressed by `to_email`), as
questionnaire reminders do.

Links carry no patient information: the activation token is random (only its SHA-256 digest is
stored), and the reset link names the account by its UUID, never a database id (ADR 0003).
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from clinic.accounts.choices import Role
from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.clinic_phone import call_the_clinic
from clinic.core.exceptions import Conflict, InvalidInput, NotFound, PermissionDenied
from clinic.notifications.models import Notification
from clinic.notifications.services import notification_queue
from clinic.patients.models import Patient, PortalInvitation

TOKEN_BYTES = 32
# The field of the activation and reset forms that a refused password is reported on.
PASSWORD_FIELD = "new_password1"


class InvitationNotUsable(NotFound):
    """Unknown, expired, used or revoked: the patient is told the same for all four."""

    code = "invitation_not_usable"

    def __init__(self, message: str = "This invitation link cannot be used.", **kwargs):
        super().__init__(message, **kwargs)


def invitation_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def first_name(patient: Patient) -> str:
    """The only personal detail an e-mail carries: the name the patient likes to be called."""
    return (patient.preferred_name or patient.legal_given_name).strip()


def _fmt(moment: datetime.datetime) -> str:
    return f"{timezone.localtime(moment):%m/%d/%Y at %H:%M}"


def _require_reachable(actor, patient: Patient) -> None:
    """PORTAL_INVITE, and the patient within the actor's reach (else the same 404 as absent)."""
    if actor is None or not actor.is_authenticated or not actor.can(Capability.PORTAL_INVITE):
        raise PermissionDenied()
    if not Patient.objects.visible_to(actor).filter(pk=patient.pk).exists():
        raise NotFound("No such patient, or the patient is not on your care team.")


def _queue_email(*, patient: Patient, to_email: str, subject: str, body: str) -> Notification:
    """One outbox row to the patient's address, delivered by the worker after the commit."""
    return notification_queue(to_email=to_email, patient_id=patient.pk, subject=subject, body=body)


# --- Invitations (staff) -------------------------------------------------------------------


@transaction.atomic
def portal_invitation_create(*, actor, patient: Patient) -> tuple[PortalInvitation, str]:
    """Invite the patient to the portal: revoke earlier unused invitations, store a new one and
    e-mail its link. Returns the invitation and the plain token (never stored)."""
    _require_reachable(actor, patient)
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    if patient.user_id is not None:
        raise Conflict(
            "This patient already has a portal account. Send a password reset instead.",
            code="portal_account_exists",
        )
    if not patient.is_active:
        raise Conflict("This patient's record is inactive; the portal is for current patients.")
    if not patient.email.strip():
        raise InvalidInput(
            {
                "email": [
                    "This patient has no e-mail address on file, so an invitation cannot be "
                    "sent. Add one to the demographics first."
                ]
            },
            message="No e-mail address on file.",
        )
    now = timezone.now()
    revoked = (
        PortalInvitation.objects.filter(patient=patient)
        .usable(now)
        .update(revoked_at=now, revoked_by=actor, updated_at=now)
    )
    token = secrets.token_urlsafe(TOKEN_BYTES)
    invitation = PortalInvitation.objects.create(
        patient=patient,
        email=patient.email.strip(),
        token_digest=invitation_token_digest(token),
        expires_at=now + datetime.timedelta(hours=settings.PORTAL_INVITATION_VALID_HOURS),
        created_by=actor,
    )
    url = settings.SITE_URL + reverse("portal:activate_link", args=[token])
    _queue_email(
        patient=patient,
        to_email=invitation.email,
        subject=f"{settings.CLINIC_NAME}: your invitation to the patient portal",
        body=(
            f"Hello {first_name(patient)},\n\n"
            f"{settings.CLINIC_NAME} has invited you to its patient portal, where you can see "
            "your appointments and how to prepare for them, answer questionnaires and keep a "
            "journal.\n\n"
            f"To choose your password and open your account, follow this link:\n\n{url}\n\n"
            f"The link works once and expires on {_fmt(invitation.expires_at)}. If it has "
            f"expired, {call_the_clinic()} for a new invitation.\n\n"
            "If you did not expect this e-mail, you can ignore it.\n"
        ),
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="portal_invitation",
        object_id=invitation.uuid,
        patient=patient,
        summary="Portal invitation e-mailed"
        + (f"; {revoked} earlier invitation(s) revoked" if revoked else ""),
        changes={"expires_at": invitation.expires_at},
    )
    return invitation, token


@transaction.atomic
def portal_invitation_revoke(*, actor, invitation: PortalInvitation) -> PortalInvitation:
    _require_reachable(actor, invitation.patient)
    invitation = PortalInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.state != "pending":
        raise Conflict(
            f"This invitation is already {invitation.state}; there is nothing to revoke."
        )
    invitation.revoked_at = timezone.now()
    invitation.revoked_by = actor
    invitation.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="portal_invitation",
        object_id=invitation.uuid,
        patient=invitation.patient,
        summary="Portal invitation revoked",
    )
    return invitation


def portal_invitation_get(*, patient: Patient, invitation_uuid) -> PortalInvitation:
    """One of this (already access-checked) patient's invitations."""
    invitation = (
        PortalInvitation.objects.select_related("patient")
        .filter(patient=patient, uuid=invitation_uuid)
        .first()
    )
    if invitation is None:
        raise NotFound()
    return invitation


@dataclass(frozen=True)
class PortalStatus:
    """What the chart shows about the patient's portal access."""

    account: User | None
    pending: PortalInvitation | None
    latest: PortalInvitation | None
    has_email: bool

    @property
    def state(self) -> str:
        if self.account is not None:
            return "active" if self.account.is_active else "disabled"
        if self.pending is not None:
            return "invited"
        return "none"


def portal_status(*, patient: Patient) -> PortalStatus:
    latest = PortalInvitation.objects.filter(patient=patient).first()
    pending = latest if latest is not None and latest.is_usable() else None
    return PortalStatus(
        account=patient.user,
        pending=pending,
        latest=latest,
        has_email=bool(patient.email.strip()),
    )


def chart_section_context(*, actor, patient: Patient, clinical: bool):
    """The "Patient portal" chart section, for those who may invite (the chart view has
    already checked that the patient is within the actor's reach and audited the view)."""
    if not actor.can(Capability.PORTAL_INVITE):
        return None
    return {
        "patient": patient,
        "status": portal_status(patient=patient),
        "valid_hours": settings.PORTAL_INVITATION_VALID_HOURS,
    }


# --- Activation (the patient, from the e-mailed link) ----------------------------------------


def portal_invitation_pending(*, token_digest: str) -> PortalInvitation | None:
    """The usable invitation with this digest, or None: unknown, expired, used and revoked
    all give None, and so does a patient who has an account or an inactive record."""
    if not token_digest:
        return None
    invitation = (
        PortalInvitation.objects.usable()
        .select_related("patient")
        .filter(token_digest=token_digest)
        .first()
    )
    if invitation is None or invitation.patient.user_id is not None:
        return None
    if not invitation.patient.is_active:
        return None
    return invitation


def portal_username(*, email: str, invitation_uuid: uuid.UUID) -> str:
    """The patient's e-mail address lower-cased or, when that is taken, a name made from the
    invitation's random id (the same on the activation page and in the account it creates)."""
    candidate = email.strip().lower()
    if candidate and not User.objects.filter(username__iexact=candidate).exists():
        return candidate
    for length in range(8, 33, 4):
        generated = f"patient-{invitation_uuid.hex[:length]}"
        if not User.objects.filter(username__iexact=generated).exists():
            return generated
    return f"patient-{secrets.token_hex(16)}"


def portal_account_draft(*, invitation: PortalInvitation) -> User:
    """The account activation will create (unsaved): its username, and the details Django's
    password validators compare a new password with."""
    patient = invitation.patient
    return User(
        username=portal_username(email=invitation.email, invitation_uuid=invitation.uuid),
        role=Role.PATIENT,
        email=invitation.email.strip().lower(),
        first_name=patient.preferred_name or patient.legal_given_name,
        last_name=patient.legal_family_name,
    )


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise InvalidInput({PASSWORD_FIELD: list(error.messages)}) from error


@transaction.atomic
def portal_account_activate(*, token_digest: str, password: str) -> User:
    """Create the patient's account from a usable invitation and link it to their record.
    The patient row, then the invitation row, are locked (the order the invitation service
    locks them in): two activations of one link, or of two links for one patient, give one
    account."""
    found = (
        PortalInvitation.objects.filter(token_digest=token_digest).values("patient_id").first()
        if token_digest
        else None
    )
    if found is None:
        raise InvitationNotUsable()
    patient = Patient.objects.select_for_update().get(pk=found["patient_id"])
    invitation = PortalInvitation.objects.select_for_update().get(token_digest=token_digest)
    if not invitation.is_usable() or patient.user_id is not None or not patient.is_active:
        raise InvitationNotUsable()
    invitation.patient = patient
    user = portal_account_draft(invitation=invitation)
    _check_password(password, user)
    user.set_password(password)
    user.save()
    patient.user = user
    patient.save(update_fields=["user", "updated_at"])
    invitation.used_at = timezone.now()
    invitation.user = user
    invitation.save(update_fields=["used_at", "user", "updated_at"])
    audit_record(
        actor=user,
        action=AuditAction.CREATE,
        object_type="user",
        object_id=user.uuid,
        patient=patient,
        summary="Portal account activated from an invitation",
        changes={"invitation": invitation.uuid, "username": user.username},
    )
    return user


# --- Password reset (patients only) ---------------------------------------------------------


def _patient_principals(email: str):
    address = email.strip()
    if not address:
        return User.objects.none()
    return (
        User.objects.filter(role=Role.PATIENT, is_active=True, patient_record__is_active=True)
        .filter(Q(email__iexact=address) | Q(patient_record__email__iexact=address))
        .select_related("patient_record")
    )


def password_reset_uid(user: User) -> str:
    return urlsafe_base64_encode(force_bytes(user.uuid.bytes))


def _reset_email(*, user: User, to_email: str) -> None:
    patient = user.patient_record
    url = settings.SITE_URL + reverse(
        "portal:password_reset_link",
        args=[password_reset_uid(user), default_token_generator.make_token(user)],
    )
    days = settings.PASSWORD_RESET_TIMEOUT // 86400
    hours = settings.PASSWORD_RESET_TIMEOUT // 3600
    valid_for = f"{days} day{'s' if days != 1 else ''}" if days else f"{hours} hours"
    _queue_email(
        patient=patient,
        to_email=to_email,
        subject=f"{settings.CLINIC_NAME}: reset your patient portal password",
        body=(
            f"Hello {first_name(patient)},\n\n"
            "Someone (we hope you) asked to reset the password of your patient portal "
            f"account at {settings.CLINIC_NAME}. To choose a new password, follow this "
            f"link:\n\n{url}\n\n"
            f"The link works once and for {valid_for}. Your username is: {user.username}\n\n"
            "If you did not ask for this, ignore this e-mail: your password stays as it is.\n"
        ),
    )


@transaction.atomic
def portal_password_reset_request(*, email: str) -> int:
    """E-mail a reset link to each active patient account with this address (the account's
    or the patient record's). Staff accounts and unknown addresses are ignored silently: the
    caller answers everyone the same way. Returns how many were queued (not for display)."""
    queued = 0
    for user in _patient_principals(email):
        _reset_email(user=user, to_email=email.strip())
        audit_record(
            actor=None,
            action=AuditAction.UPDATE,
            object_type="user",
            object_id=user.uuid,
            patient=user.patient_record,
            summary="Portal password reset link e-mailed (requested on the portal)",
        )
        queued += 1
    return queued


@transaction.atomic
def portal_password_reset_send(*, actor, patient: Patient) -> None:
    """Staff send the patient a reset link (offered instead of a second invitation)."""
    _require_reachable(actor, patient)
    patient = Patient.objects.select_related("user").get(pk=patient.pk)
    user = patient.user
    if user is None or not user.is_active or not user.is_patient_principal:
        raise Conflict("This patient has no active portal account. Send an invitation instead.")
    address = (user.email or patient.email).strip()
    if not address:
        raise Conflict("There is no e-mail address to send the link to.")
    _reset_email(user=user, to_email=address)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="user",
        object_id=user.uuid,
        patient=patient,
        summary="Portal password reset link e-mailed by staff",
    )


def password_reset_user(*, uidb64: str, token: str) -> User | None:
    """The patient account a reset link is for, if the link is still good; else None."""
    try:
        key = uuid.UUID(bytes=urlsafe_base64_decode(uidb64))
    except (TypeError, ValueError):
        return None
    user = (
        User.objects.filter(
            uuid=key, role=Role.PATIENT, is_active=True, patient_record__is_active=True
        )
        .select_related("patient_record")
        .first()
    )
    if user is None or not default_token_generator.check_token(user, token):
        return None
    return user


def _password_set(user: User, password: str, summary: str) -> User:
    if not user.is_patient_principal:
        raise PermissionDenied()
    _check_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(
        actor=user,
        action=AuditAction.UPDATE,
        object_type="user",
        object_id=user.uuid,
        patient=getattr(user, "patient_record", None),
        summary=summary,
    )
    return user


@transaction.atomic
def portal_password_reset_complete(*, user: User, password: str) -> User:
    """Set the new password (which also ends the link: the token depends on the old hash)."""
    return _password_set(user, password, "Portal password reset with an e-mailed link")


@transaction.atomic
def portal_password_change(*, user: User, password: str) -> User:
    """The patient changes their password on their account page (the old one already checked
    by the form). Other signed-in sessions of the account end: their hash no longer matches."""
    return _password_set(user, password, "Portal password changed")


# --- Second factor (optional for patients) -------------------------------------------------


def portal_second_factor_device(*, user: User, confirmed: bool):
    """The patient's authenticator app (TOTP device), confirmed or being set up, or None."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).first()


def portal_second_factor_start(*, user: User):
    """The unconfirmed device the set-up page shows as a QR code (made once, then reused)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device, _ = TOTPDevice.objects.get_or_create(
        user=user, confirmed=False, defaults={"name": "Authenticator app"}
    )
    return device


@transaction.atomic
def portal_second_factor_confirm(*, user: User, device) -> None:
    """The first code matched: from now on, signing in asks for a code."""
    if not user.is_patient_principal or device.user_id != user.pk:
        raise PermissionDenied()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit_record(
        actor=user,
        action=AuditAction.SECOND_FACTOR,
        object_type="user",
        object_id=user.uuid,
        patient=getattr(user, "patient_record", None),
        summary="Portal: authenticator app enrolled",
    )


@transaction.atomic
def portal_second_factor_remove(*, user: User) -> int:
    """Remove the patient's authenticator apps (the password was confirmed by the caller)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if not user.is_patient_principal:
        raise PermissionDenied()
    removed, _ = TOTPDevice.objects.filter(user=user).delete()
    audit_record(
        actor=user,
        action=AuditAction.SECOND_FACTOR,
        object_type="user",
        object_id=user.uuid,
        patient=getattr(user, "patient_record", None),
        summary="Portal: authenticator app removed",
    )
    return removed
