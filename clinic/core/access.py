"""Access helpers shared by every app. The role matrix itself lives in accounts.permissions."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse, HttpResponseForbidden

from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import PermissionDenied


def require(actor, capability: str) -> None:
    """Refuse an actor whose role lacks `capability`. Call it before looking anything up, so a
    refusal tells nothing about what exists. The refusal is audited once the request is
    answered (audit_refusals), not here: here it may sit in a transaction that the refusal
    rolls back."""
    if actor is None or not actor.is_authenticated or not actor.can(capability):
        raise PermissionDenied(capability=capability)


def audit_refusals(request, refusals: list) -> None:
    """Audit each refusal of a request as a denial, once, after the request is answered (so
    after any transaction a refusal rolled back); RequestContextMiddleware calls it."""
    for error in refusals:
        if isinstance(error, PermissionDenied) and not error.audited:
            audit_refusal(request, error)


def audit_refusal(request, error: PermissionDenied) -> None:
    actor = getattr(request, "auth", None) or getattr(request, "user", None)
    match = request.resolver_match
    route = match.route if match else request.path
    patient_key = match.kwargs.get("patient_uuid", "") if match else ""
    reason = f"role lacks {error.capability}" if error.capability else error.message
    audit_record(
        actor=actor,
        action=AuditAction.DENIED,
        object_type="patient" if patient_key else "request",
        object_id=patient_key,
        summary=f"Refused {request.method} {route}: {reason}",
    )
    error.audited = True


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
