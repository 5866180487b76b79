from __future__ import annotations

from base64 import b32encode

import segno
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.accounts.forms import LoginForm, SecondFactorForm
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction


class LoginView(auth_views.LoginView):
    """One sign-in for everyone, worded for whom it is for: staff here, patients on
    /accounts/login/patient/ (the public site's "Patient sign-in") and whenever the page a
    visitor was sent from is in the portal. Each lands on their own home after sign-in (the
    dashboard sends patients to the portal), whichever page they used."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True
    audience = "staff"

    def get_audience(self) -> str:
        if self.audience == "patient":
            return "patient"
        next_url = self.request.POST.get("next") or self.request.GET.get("next") or ""
        return "patient" if next_url.startswith(reverse("portal:home")) else "staff"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "audience": self.get_audience()}


class PatientLoginView(LoginView):
    audience = "patient"


class LogoutView(auth_views.LogoutView):
    """A patient who signs out is back at the patient sign-in; staff at the staff sign-in."""

    def post(self, request, *args, **kwargs):
        self.was_patient = bool(getattr(request.user, "is_patient_principal", False))
        return super().post(request, *args, **kwargs)

    def get_default_redirect_url(self):
        if getattr(self, "was_patient", False):
            return reverse("accounts:patient_login")
        return super().get_default_redirect_url()


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = "/"


def _next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or "/"
    if url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}):
        return candidate
    return "/"


def _check_code(device: TOTPDevice, form: SecondFactorForm) -> bool:
    """Verify a code, honouring django-otp's back-off after wrong codes; errors go on the form."""
    allowed, _ = device.verify_is_allowed()
    if not allowed:
        form.add_error(
            "otp_token",
            "Too many wrong codes in a row. Wait a few seconds for a fresh code, then retry.",
        )
        return False
    if device.verify_token(form.cleaned_data["otp_token"]):
        return True
    form.add_error("otp_token", "That code did not match. Check your phone's clock and retry.")
    return False


def _second_factor_passed(request, device: TOTPDevice, summary: str):
    otp_login(request, device)
    audit_record(
        actor=request.user,
        action=AuditAction.SECOND_FACTOR,
        object_type="user",
        object_id=request.user.uuid,
        summary=summary,
    )
    return redirect(_next_url(request))


@login_required
@require_http_methods(["GET", "POST"])
def second_factor_setup(request):
    """Enrol an authenticator app: show the secret as a QR code, confirm with a first code."""
    if TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
        return redirect("accounts:second_factor_verify")
    device, _ = TOTPDevice.objects.get_or_create(
        user=request.user, confirmed=False, defaults={"name": "Authenticator app"}
    )
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _check_code(device, form):
        with transaction.atomic():
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            return _second_factor_passed(request, device, "Authenticator app enrolled")
    qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=4, dark="#0b2545")
    secret = b32encode(device.bin_key).decode()
    return render(
        request,
        "accounts/second_factor_setup.html",
        {"form": form, "qr_svg": qr_svg, "secret": secret},
    )


@login_required
@require_http_methods(["GET", "POST"])
def second_factor_verify(request):
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    if device is None:
        return redirect("accounts:second_factor_setup")
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _check_code(device, form):
        return _second_factor_passed(request, device, "Second factor verified")
    return render(request, "accounts/second_factor_verify.html", {"form": form})
