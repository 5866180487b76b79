"""Access helpers shared by every app. The role matrix itself lives in accounts.permissions."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse, HttpResponseForbidden

from clinic.core.exceptions import PermissionDenied


def require(actor, capability: str) -> None:
    if actor is None or not actor.is_authenticated or not actor.can(capability):
        raise PermissionDenied()


def staff_required(view):
    """Signed-in, active clinic staff only; patients (portal principals) are refused."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            if getattr(request, "htmx", False):
                # An htmx request (a background refresh after the idle sign-out) takes the
                # whole page to the sign-in form, not just the fragment it asked for.
                response = HttpResponse(status=204)
                response["HX-Redirect"] = redirect_to_login(request.get_full_path()).url
                return response
            return redirect_to_login(request.get_full_path())
        if not user.is_clinic_staff:
            return HttpResponseForbidden("This page is for clinic staff.")
        return view(request, *args, **kwargs)

    return wrapped
