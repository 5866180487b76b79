from __future__ import annotations

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

# The API and FHIR take a bearer token, which is refused without a confirmed second factor.
_OPEN_PREFIXES = (
    "/static/",
    "/api/",
    "/fhir/",
    "/accounts/login/",
    "/accounts/logout/",
    "/accounts/2fa/",
)

# Whether the signed-in patient has a confirmed authenticator app, remembered in the session
# as [user uuid, bool] so that patients without one cost no query after their first request.
PATIENT_SECOND_FACTOR_SESSION_KEY = "_portal_second_factor"


def _has_confirmed_device(user) -> bool:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def remember_patient_second_factor(request, has_device: bool) -> None:
    """Called when a patient adds or removes their authenticator app in this session."""
    request.session[PATIENT_SECOND_FACTOR_SESSION_KEY] = [str(request.user.uuid), has_device]


def _patient_needs_code(request) -> bool:
    user = request.user
    remembered = request.session.get(PATIENT_SECOND_FACTOR_SESSION_KEY)
    if (
        isinstance(remembered, list)
        and len(remembered) == 2
        and remembered[0] == str(user.uuid)
        and remembered[1] is False
    ):
        return False
    # Not known yet for this session, or known to have a device: check (a device removed in
    # another browser must not leave this one asking for a code it can no longer give).
    has_device = _has_confirmed_device(user)
    remember_patient_second_factor(request, has_device)
    return has_device and not user.is_verified()


class StaffSecondFactorMiddleware:
    """With REQUIRE_STAFF_2FA on, staff must pass a TOTP check before any page.

    A staff member without a device is sent to enrol one; with a device, to verify.
    The API applies the same rule in its session authentication.

    Patients choose for themselves (the portal's account page): a patient with a confirmed
    authenticator app is sent to verify at sign-in, whatever REQUIRE_STAFF_2FA says; a patient
    without one is not asked.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if not user.is_authenticated or request.path.startswith(_OPEN_PREFIXES):
            return self.get_response(request)
        if settings.REQUIRE_STAFF_2FA and user.is_clinic_staff and not user.is_verified():
            has_device = _has_confirmed_device(user)
            target = (
                "accounts:second_factor_verify" if has_device else "accounts:second_factor_setup"
            )
            return redirect(f"{reverse(target)}")
        if (
            user.is_patient_principal
            and user.is_active
            and not user.is_verified()
            and _patient_needs_code(request)
        ):
            return redirect(reverse("accounts:second_factor_verify"))
        return self.get_response(request)
