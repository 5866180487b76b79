"""Staff actions on a patient's portal access (the "Patient portal" chart section): invite,
revoke an invitation, send a password reset. Each is a POST that returns to the chart."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from clinic.accounts.permissions import Capability
from clinic.core.access import require, staff_required
from clinic.core.exceptions import DomainError, InvalidInput
from clinic.patients import portal_access, selectors


def _back_to_chart(patient):
    return redirect(reverse("patients:patient_chart", args=[patient.uuid]) + "#portal")


def _refusal(error: DomainError) -> str:
    if isinstance(error, InvalidInput):
        return " ".join(message for messages_ in error.errors.values() for message in messages_)
    return error.message


def _patient(request, patient_uuid, purpose: str):
    require(request.user, Capability.PORTAL_INVITE)
    return selectors.patient_get(actor=request.user, patient_uuid=patient_uuid, purpose=purpose)


@staff_required
@require_POST
def portal_invitation_create(request, patient_uuid):
    patient = _patient(request, patient_uuid, "portal invitation")
    try:
        invitation, _token = portal_access.portal_invitation_create(
            actor=request.user, patient=patient
        )
    except DomainError as error:
        messages.error(request, _refusal(error))
    else:
        expires = timezone.localtime(invitation.expires_at)
        messages.success(
            request,
            f"Invitation e-mailed to {invitation.email}. "
            f"The link works once, until {expires:%m/%d/%Y %H:%M}.",
        )
    return _back_to_chart(patient)


@staff_required
@require_POST
def portal_invitation_revoke(request, patient_uuid, invitation_uuid):
    patient = _patient(request, patient_uuid, "portal invitation revoke")
    invitation = portal_access.portal_invitation_get(
        patient=patient, invitation_uuid=invitation_uuid
    )
    try:
        portal_access.portal_invitation_revoke(actor=request.user, invitation=invitation)
    except DomainError as error:
        messages.error(request, _refusal(error))
    else:
        messages.success(request, "Invitation revoked: its link no longer works.")
    return _back_to_chart(patient)


@staff_required
@require_POST
def portal_password_reset(request, patient_uuid):
    patient = _patient(request, patient_uuid, "portal password reset")
    try:
        portal_access.portal_password_reset_send(actor=request.user, patient=patient)
    except DomainError as error:
        messages.error(request, _refusal(error))
    else:
        messages.success(request, "A password reset link has been e-mailed to the patient.")
    return _back_to_chart(patient)
