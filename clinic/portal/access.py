"""Who may use the portal: a signed-in patient principal linked to an active patient record.

The portal is interface only (architecture: `portal/`): it reads and writes through the domain
apps' selectors and services, always for `request.patient`, the signed-in patient's own record.
There is no way to name another patient: no view takes a patient id.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseForbidden

from clinic.patients.models import Patient


def portal_patient(user) -> Patient | None:
    """The active patient record a patient principal signs in for, or None."""
    if not getattr(user, "is_authenticated", False) or not user.is_patient_principal:
        return None
    if not user.is_active:
        return None
    return Patient.objects.filter(user=user, is_active=True).first()


def patient_required(view):
    """Signed-in patients only, with `request.patient` set to their own record. Staff are
    refused (they have the staff pages); anonymous visitors are sent to sign in."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        patient = portal_patient(user)
        if patient is None:
            return HttpResponseForbidden("This page is for patients of the clinic.")
        request.patient = patient
        return view(request, *args, **kwargs)

    return wrapped
