from __future__ import annotations

from django.conf import settings
from ninja.security import HttpBearer, SessionAuth

from clinic.accounts.services import api_token_authenticate, patient_api_token_authenticate
from clinic.patients.models import Patient


class StaffSessionAuth(SessionAuth):
    """The signed-in browser session (CSRF-checked by Ninja), staff only, second factor honoured."""

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if not user or not user.is_clinic_staff:
            return None
        if settings.REQUIRE_STAFF_2FA and not user.is_verified():
            return None
        return user


class StaffBearerAuth(HttpBearer):
    """`Authorization: Bearer kc_…` with a personal token (the "API tokens" page or
    `manage.py createapitoken`). `api_token_authenticate` refuses an expired or revoked token,
    one whose owner is no longer active staff, and, with REQUIRE_STAFF_2FA on, one whose owner
    has no confirmed second factor: a token is never a way round the second factor."""

    def authenticate(self, request, token):
        user = api_token_authenticate(token)
        if user is None:
            return None
        request.user = user
        return user


class PatientBearerAuth(HttpBearer):
    """`Authorization: Bearer kc_…` with a patient's own token (the portal's "Your API tokens"
    page), for the operations under /api/v1/me only. A staff token is refused here, and a
    patient token is refused by StaffBearerAuth: each opens only its own audience's doors.

    The principal is the patient's portal user (`request.auth`, the actor of every audited
    read and write, as on the portal) and `request.patient` their active record: a token whose
    account has no active record answers as no token at all."""

    def authenticate(self, request, token):
        user = patient_api_token_authenticate(token)
        if user is None:
            return None
        patient = Patient.objects.filter(user=user, is_active=True).first()
        if patient is None:
            return None
        request.user = user
        request.patient = patient
        return user
