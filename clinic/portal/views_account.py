"""The patient's account: activation from the invitation e-mail, password reset, password
change, the optional second factor (an authenticator app) and the patient's own API tokens.

Tokens arrive in a URL once and leave it at once (ADR 0003): the link's view puts them in the
server-side session and redirects to a page whose address carries nothing. Every failure of a
link (unknown, expired, used, revoked) gives the same page, so a link reveals nothing about
who was invited.
"""

from __future__ import annotations

import hashlib
from base64 import b32encode

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.contrib.auth.password_validation import password_validators_help_texts
from django.core.cache import cache
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login

from clinic.accounts import selectors as account_selectors
from clinic.accounts import services as account_services
from clinic.accounts.forms import SecondFactorForm
from clinic.accounts.middleware import remember_patient_second_factor
from clinic.accounts.views import _check_code
from clinic.core.exceptions import DomainError
from clinic.core.forms import TextField, apply_domain_error, apply_text_policy
from clinic.core.middleware import client_ip
from clinic.patients import portal_access
from clinic.portal.access import patient_required

SESSION_ACTIVATION_KEY = "portal_activation"
SESSION_RESET_KEY = "portal_password_reset"
# Activation signs the new account in with Django's own backend (django-axes, listed first,
# only counts failures and is not a backend that can sign anyone in).
_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _plain_help(form: forms.Form) -> None:
    """Django's password help is an HTML list; the field template shows a plain hint."""
    form.fields["new_password1"].help_text = " ".join(password_validators_help_texts())
    form.fields["new_password2"].help_text = "Type the same password again."


class NewPasswordForm(SetPasswordForm):
    """Choose a password, twice, checked by Django's validators against the account."""

    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.fields["new_password1"].label = "Choose a password"
        self.fields["new_password2"].label = "Type it again"
        _plain_help(self)


class PatientPasswordChangeForm(PasswordChangeForm):
    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.fields["old_password"].label = "Current password"
        self.fields["old_password"].widget.attrs.pop("autofocus", None)
        _plain_help(self)


class PasswordResetRequestForm(forms.Form):
    email = apply_text_policy(
        forms.EmailField(
            label="Your e-mail address",
            max_length=254,
            widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        )
    )


class ConfirmPasswordForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your current password.")
        return password


# --- Activation ------------------------------------------------------------------------------


@never_cache
@require_GET
def activate_link(request, token):
    """Swap the token in the URL for the session at once, whatever it is worth: the page the
    patient lands on (and the browser's history) never shows it."""
    request.session[SESSION_ACTIVATION_KEY] = portal_access.invitation_token_digest(token)
    return redirect("portal:activate")


def _link_closed(request):
    request.session.pop(SESSION_ACTIVATION_KEY, None)
    return render(request, "portal/activate_invalid.html", status=404)


@never_cache
@require_http_methods(["GET", "POST"])
def activate(request):
    digest = request.session.get(SESSION_ACTIVATION_KEY, "")
    invitation = portal_access.portal_invitation_pending(token_digest=digest)
    if invitation is None:
        return _link_closed(request)
    if request.user.is_authenticated:
        # Someone is signed in on this browser (perhaps staff, or another patient): activating
        # would sign them out under their feet. They sign out and open the link again.
        return render(request, "portal/activate_signed_in.html")
    draft = portal_access.portal_account_draft(invitation=invitation)
    form = NewPasswordForm(draft, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = portal_access.portal_account_activate(
                token_digest=digest, password=form.cleaned_data["new_password1"]
            )
        except portal_access.InvitationNotUsable:
            return _link_closed(request)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            request.session.pop(SESSION_ACTIVATION_KEY, None)
            login(request, user, backend=_BACKEND)
            remember_patient_second_factor(request, False)
            messages.success(
                request,
                f"Welcome, {user.first_name}. Your account is ready. Next time, sign in with "
                f"the username {user.username} and the password you chose.",
            )
            return redirect("portal:home")
    return render(
        request,
        "portal/activate.html",
        {"form": form, "username": draft.username, "first_name": draft.first_name},
    )


# --- Password reset ----------------------------------------------------------------------------


def _rate_keys(request, email: str = "") -> list[str]:
    # Hashed with the secret key: the cache holds no address in the clear.
    def key(kind: str, value: str) -> str:
        digest = hashlib.sha256(f"{settings.SECRET_KEY}:{value}".encode()).hexdigest()[:32]
        return f"portal:password_reset:{kind}:{digest}"

    keys = [key("client", client_ip(request) or "unknown")]
    if email:
        keys.append(key("email", email.strip().lower()))
    return keys


def _over_rate_limit(keys: list[str]) -> bool:
    limit = settings.PORTAL_PASSWORD_RESET_RATE_LIMIT_COUNT
    return any(cache.get(k, 0) >= limit for k in keys)


def _count_request(keys: list[str]) -> None:
    """Fixed window per key, as on the public consultation form."""
    timeout = settings.PORTAL_PASSWORD_RESET_RATE_LIMIT_WINDOW_MIN * 60
    for k in keys:
        cache.add(k, 0, timeout=timeout)
        try:
            cache.incr(k)
        except ValueError:  # lapsed between add and incr
            cache.set(k, 1, timeout=timeout)


def _rate_limited(request):
    return render(
        request,
        "portal/password_reset_rate_limited.html",
        {"window_min": settings.PORTAL_PASSWORD_RESET_RATE_LIMIT_WINDOW_MIN},
        status=429,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def password_reset(request):
    """Ask for the address; answer everyone the same way (whether or not it has an account)."""
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST":
        if _over_rate_limit(_rate_keys(request)):
            return _rate_limited(request)
        if form.is_valid():
            email = form.cleaned_data["email"]
            keys = _rate_keys(request, email)
            if _over_rate_limit(keys):
                return _rate_limited(request)
            _count_request(keys)
            portal_access.portal_password_reset_request(email=email)
            return redirect("portal:password_reset_sent")
    return render(request, "portal/password_reset.html", {"form": form})


@never_cache
@require_GET
def password_reset_sent(request):
    return render(
        request,
        "portal/password_reset_sent.html",
        {"valid_days": settings.PASSWORD_RESET_TIMEOUT // 86400},
    )


@never_cache
@require_GET
def password_reset_link(request, uidb64, token):
    """Swap the link's account and token for the session at once, as Django's own reset view
    does, so the token leaves the address bar before the page is shown."""
    request.session[SESSION_RESET_KEY] = {"uidb64": uidb64, "token": token}
    return redirect("portal:password_reset_confirm")


@never_cache
@require_http_methods(["GET", "POST"])
def password_reset_confirm(request):
    link = request.session.get(SESSION_RESET_KEY) or {}
    user = portal_access.password_reset_user(
        uidb64=str(link.get("uidb64", "")), token=str(link.get("token", ""))
    )
    if user is None:
        request.session.pop(SESSION_RESET_KEY, None)
        return render(request, "portal/password_reset_invalid.html", status=404)
    form = NewPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            portal_access.portal_password_reset_complete(
                user=user, password=form.cleaned_data["new_password1"]
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            request.session.pop(SESSION_RESET_KEY, None)
            return render(
                request, "portal/password_reset_complete.html", {"username": user.username}
            )
    return render(request, "portal/password_reset_confirm.html", {"form": form})


# --- Account page (signed-in patients) -------------------------------------------------------


@patient_required
@require_http_methods(["GET", "POST"])
def account(request):
    user = request.user
    form = PatientPasswordChangeForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            portal_access.portal_password_change(
                user=user, password=form.cleaned_data["new_password1"]
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            update_session_auth_hash(request, user)
            messages.success(request, "Your password has been changed.")
            return redirect("portal:account")
    has_device = portal_access.portal_second_factor_device(user=user, confirmed=True) is not None
    return render(
        request,
        "portal/account.html",
        {"form": form, "has_second_factor": has_device, "username": user.username},
    )


@patient_required
@require_http_methods(["GET", "POST"])
def second_factor(request):
    """Set up an authenticator app (QR code drawn on the server, confirmed with a first code),
    or, with one set up, remove it after confirming the password."""
    user = request.user
    confirmed = portal_access.portal_second_factor_device(user=user, confirmed=True)
    if confirmed is not None:
        form = ConfirmPasswordForm(user, request.POST or None)
        if request.method == "POST" and form.is_valid():
            portal_access.portal_second_factor_remove(user=user)
            remember_patient_second_factor(request, False)
            messages.success(
                request, "Two-step sign-in is off. You sign in with your password alone."
            )
            return redirect("portal:account")
        return render(request, "portal/account_second_factor_remove.html", {"form": form})
    device = portal_access.portal_second_factor_start(user=user)
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _check_code(device, form):
        portal_access.portal_second_factor_confirm(user=user, device=device)
        otp_login(request, device)
        remember_patient_second_factor(request, True)
        messages.success(
            request, "Two-step sign-in is on. Each time you sign in, we will ask for a code."
        )
        return redirect("portal:account")
    return render(
        request,
        "portal/account_second_factor.html",
        {
            "form": form,
            "qr_svg": segno.make(device.config_url, error="m").svg_inline(scale=4, dark="#0b2545"),
            "secret": b32encode(device.bin_key).decode(),
        },
    )


# --- The patient's own API tokens ------------------------------------------------------------


class PatientTokenForm(forms.Form):
    name = TextField(
        label="What the token is for",
        max_length=100,
        help_text="For example the name of the app that will use it.",
        error_messages={"required": "Give the token a name, so you know it again."},
    )


def _tokens_page(request, form: PatientTokenForm, **extra):
    context = {
        "form": form,
        "tokens": list(account_selectors.patient_api_tokens_own(actor=request.user)),
        "expiry_days": settings.API_TOKEN_EXPIRY_DAYS,
        **extra,
    }
    return render(request, "portal/account_tokens.html", context)


@never_cache
@patient_required
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    """Create, see and revoke the patient's own tokens. A new token is shown once, in the
    answer to the form that made it (only its digest is kept). A patient with two-step sign-in
    reaches this page only after giving their code (the middleware's rule)."""
    form = PatientTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token, plain = account_services.patient_api_token_create(
                actor=request.user, name=form.cleaned_data["name"]
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            return _tokens_page(request, PatientTokenForm(), new_token=token, new_plain=plain)
    return _tokens_page(request, form)


@patient_required
@require_POST
def api_token_revoke(request, prefix):
    token = account_selectors.patient_api_token_for_revoke(actor=request.user, prefix=prefix)
    if account_services.api_token_revoke(actor=request.user, token=token):
        messages.success(request, f"Token {token.prefix}… is revoked. It no longer works.")
    else:
        messages.info(request, f"Token {token.prefix}… was already revoked.")
    return redirect("portal:api_tokens")
