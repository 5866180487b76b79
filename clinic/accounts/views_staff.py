"""Staff management pages for the clinic administrator, and the invitation link's page where
an invited person chooses a password. Glue only: the work is in accounts/staff.py."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.forms import SetPasswordForm
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from clinic.accounts import staff as staff_services
from clinic.accounts.forms import StaffDetailsForm, StaffInviteForm
from clinic.accounts.permissions import Capability
from clinic.core.access import require, staff_required
from clinic.core.exceptions import DomainError
from clinic.core.forms import apply_domain_error
from clinic.locations.selectors import location_current, staff_workplaces

# The invitation link's account and token move from the address into the session at once, so
# the token leaves the address bar (and any later Referer) before the page is shown.
SESSION_INVITATION_KEY = "_staff_invitation"


@staff_required
def staff_list(request):
    page = staff_services.staff_list(actor=request.user, page_number=request.GET.get("page", 1))
    workplaces = staff_workplaces(
        actor=request.user, user_ids=[row.user.pk for row in page.object_list]
    )
    rows = [(row, workplaces.of(row.user)) for row in page.object_list]
    return render(
        request,
        "accounts/staff_list.html",
        {"rows": rows, "page": page, "in_network": workplaces.in_network},
    )


@staff_required
@require_http_methods(["GET", "POST"])
def staff_invite(request):
    require(request.user, Capability.STAFF_MANAGE)
    form = StaffInviteForm(request.POST or None, current_location=location_current(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            invited = staff_services.staff_invite(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, f"Invitation e-mailed to {invited.email}.")
            return redirect("accounts:staff_detail", staff_uuid=invited.uuid)
    return render(
        request,
        "accounts/staff_invite.html",
        {"form": form, "require_2fa": settings.REQUIRE_STAFF_2FA},
    )


@staff_required
@require_http_methods(["GET", "POST"])
def staff_detail(request, staff_uuid):
    member = staff_services.staff_get(actor=request.user, staff_uuid=staff_uuid)
    initial = {
        name: getattr(member, name)
        for name in ("first_name", "last_name", "email", "role", "credentials", "npi")
    }
    form = StaffDetailsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            staff_services.staff_update(actor=request.user, staff=member, **form.cleaned_data)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, "Saved.")
            return redirect("accounts:staff_detail", staff_uuid=member.uuid)
    context = {
        "member": member,
        "form": form,
        "is_self": member.pk == request.user.pk,
        "second_factor_enrolled": staff_services.second_factor_enrolled(member),
        "failed_sign_ins": staff_services.sign_in_lock_failures(member),
        "invitation_pending": member.is_active and not member.has_usable_password(),
    }
    workplaces = staff_workplaces(actor=request.user, user_ids=[member.pk])
    context["in_network"] = workplaces.in_network
    context["works_at"] = workplaces.of(member)
    return render(request, "accounts/staff_detail.html", context)


def _staff_action(request, staff_uuid, action, done: str):
    member = staff_services.staff_get(actor=request.user, staff_uuid=staff_uuid)
    try:
        action(actor=request.user, staff=member)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect("accounts:staff_detail", staff_uuid=member.uuid)


@staff_required
@require_POST
def staff_deactivate(request, staff_uuid):
    return _staff_action(
        request,
        staff_uuid,
        staff_services.staff_deactivate,
        "Deactivated: their sessions have ended and their API tokens are revoked.",
    )


@staff_required
@require_POST
def staff_reactivate(request, staff_uuid):
    return _staff_action(
        request, staff_uuid, staff_services.staff_reactivate, "Reactivated: they may sign in."
    )


@staff_required
@require_POST
def staff_second_factor_reset(request, staff_uuid):
    return _staff_action(
        request,
        staff_uuid,
        staff_services.staff_second_factor_reset,
        "Second factor reset: they set up a new authenticator app at their next sign-in.",
    )


@staff_required
@require_POST
def staff_invitation_resend(request, staff_uuid):
    return _staff_action(
        request, staff_uuid, staff_services.staff_invitation_resend, "Invitation e-mailed again."
    )


# --- The invited person's side (not signed in) ------------------------------------------------


@never_cache
def staff_invitation_link(request, uidb64, token):
    request.session[SESSION_INVITATION_KEY] = {"uidb64": uidb64, "token": token}
    return redirect("accounts:staff_invitation_accept")


@never_cache
@require_http_methods(["GET", "POST"])
def staff_invitation_accept(request):
    link = request.session.get(SESSION_INVITATION_KEY) or {}
    user = staff_services.staff_invitation_user(
        uidb64=str(link.get("uidb64", "")), token=str(link.get("token", ""))
    )
    if user is None:
        request.session.pop(SESSION_INVITATION_KEY, None)
        return render(request, "accounts/staff_invitation_invalid.html", status=404)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            staff_services.staff_invitation_accept(
                user=user, password=form.cleaned_data["new_password1"]
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            request.session.pop(SESSION_INVITATION_KEY, None)
            messages.success(
                request,
                "Your password is set. Sign in with it"
                + (
                    "; you will then set up an authenticator app."
                    if settings.REQUIRE_STAFF_2FA
                    else "."
                ),
            )
            return redirect("accounts:login")
    return render(
        request, "accounts/staff_invitation_accept.html", {"form": form, "username": user.username}
    )


@staff_required
@require_POST
def staff_sign_in_unlock(request, staff_uuid):
    return _staff_action(
        request,
        staff_uuid,
        staff_services.staff_sign_in_unlock,
        "Sign-in lock cleared: they may sign in now.",
    )
