from __future__ import annotations

from django.conf import settings
from ninja.security import HttpBearer, SessionAuth

from clinic.accounts.services import api_token_authenticate


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
