"""API token pages: each staff member sees, creates and revokes their own tokens; the clinic
administrator sees everyone's and revokes any. A new token is shown once, in the response to
the form that created it, and never again (only its digest is stored)."""

from __future__ import annotations

from typing import cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from clinic.accounts import selectors, services
from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.core.access import staff_required
from clinic.core.exceptions import InvalidInput, PermissionDenied
from clinic.core.forms import TextField


def _me(request: HttpRequest) -> User:
    # staff_required has let only signed-in, active staff this far.
    return cast(User, request.user)


class TokenCreateForm(forms.Form):
    name = TextField(
        label="What the token is for",
        max_length=100,
        help_text="For example the script or integration that will use it.",
    )


def _own_page(request: HttpRequest, form: TokenCreateForm, **extra) -> HttpResponse:
    context = {
        "form": form,
        "tokens": list(selectors.api_tokens_own(actor=_me(request))),
        "expiry_days": settings.API_TOKEN_EXPIRY_DAYS,
        "can_see_all": _me(request).can(Capability.API_TOKEN_REVOKE_ANY),
        **extra,
    }
    return render(request, "accounts/tokens.html", context)


@staff_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    """Your own tokens, and the form that creates one."""
    form = TokenCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token, plain = services.api_token_create(
                actor=_me(request), user=_me(request), name=form.cleaned_data["name"]
            )
        except InvalidInput as error:
            for field, problems in error.errors.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        except PermissionDenied as error:
            # SecondFactorRequired among them: the page says what to do, not a bare 403.
            form.add_error(None, error.message)
        else:
            return _own_page(request, TokenCreateForm(), new_token=token, new_plain=plain)
    return _own_page(request, form)


@staff_required
@require_http_methods(["GET"])
def token_all(request: HttpRequest) -> HttpResponse:
    """Every staff member's tokens, for the clinic administrator."""
    tokens = list(selectors.api_tokens_all(actor=_me(request)))
    return render(request, "accounts/tokens_all.html", {"tokens": tokens})


@staff_required
@require_POST
def token_revoke(request: HttpRequest, prefix: str) -> HttpResponse:
    me = _me(request)
    token = selectors.api_token_for_revoke(actor=me, prefix=prefix)
    if services.api_token_revoke(actor=me, token=token):
        messages.success(request, f"API token {token.prefix}… revoked; it no longer works.")
    else:
        messages.info(request, f"API token {token.prefix}… was already revoked.")
    # Back to the page the button was on: the administrator's list or one's own.
    if request.POST.get("from") == "all" and me.can(Capability.API_TOKEN_REVOKE_ANY):
        return redirect(reverse("accounts:token_all"))
    return redirect(reverse("accounts:token_list"))
