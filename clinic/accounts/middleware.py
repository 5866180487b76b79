from __future__ import annotations

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

_OPEN_PREFIXES = ("/static/", "/api/", "/accounts/login/", "/accounts/logout/", "/accounts/2fa/")


class StaffSecondFactorMiddleware:
    """With REQUIRE_STAFF_2FA on, staff must pass a TOTP check before any page.

    A staff member without a device is sent to enrol one; with a device, to verify.
    The API applies the same rule in its session authentication.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            settings.REQUIRE_STAFF_2FA
            and user.is_authenticated
            and user.is_clinic_staff
            and not user.is_verified()
            and not request.path.startswith(_OPEN_PREFIXES)
        ):
            from django_otp.plugins.otp_totp.models import TOTPDevice

            has_device = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
            target = (
                "accounts:second_factor_verify" if has_device else "accounts:second_factor_setup"
            )
            return redirect(f"{reverse(target)}")
        return self.get_response(request)
