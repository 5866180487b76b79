"""Break-the-glass pages: a clinician outside the care team states why they must open a chart
in an emergency; the clinic administrator reviews every such access. Glue only: the work is in
patients/emergency_access.py."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from clinic.accounts.permissions import Capability
from clinic.core.access import require, staff_required
from clinic.core.exceptions import DomainError
from clinic.core.forms import apply_domain_error
from clinic.patients import emergency_access
from clinic.patients.forms import EmergencyAccessForm, EmergencyAccessReviewForm


def offer(request, patient_uuid, *, form=None, status=200):
    """The break-the-glass form. Shown in place of a refused chart too, with the refusal's
    status: it says nothing of whether the patient exists."""
    return render(
        request,
        "patients/emergency_access_form.html",
        {
            "patient_uuid": patient_uuid,
            "form": form or EmergencyAccessForm(),
            "valid_hours": settings.EMERGENCY_ACCESS_VALID_HOURS,
            "min_length": settings.EMERGENCY_ACCESS_REASON_MIN_LENGTH,
        },
        status=status,
    )


@staff_required
@require_http_methods(["GET", "POST"])
def emergency_access_request(request, patient_uuid):
    require(request.user, Capability.PATIENT_EMERGENCY_ACCESS)
    if request.method == "GET":
        return offer(request, patient_uuid)
    form = EmergencyAccessForm(request.POST)
    if form.is_valid():
        try:
            emergency_access.emergency_access_grant(
                actor=request.user, patient_uuid=patient_uuid, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            if error.status == 404:
                raise
            apply_domain_error(form, error)
        else:
            messages.warning(
                request,
                "Emergency access granted. Every read is audited, the care team has been told "
                "and the clinic administrator will review it.",
            )
            return redirect("patients:patient_chart", patient_uuid=patient_uuid)
    return offer(request, patient_uuid, form=form, status=422)


@staff_required
def emergency_access_list(request):
    page = emergency_access.emergency_access_page(
        actor=request.user, page_number=request.GET.get("page", 1)
    )
    return render(
        request,
        "patients/emergency_access_list.html",
        {"page": page, "review_form": EmergencyAccessReviewForm()},
    )


@staff_required
@require_POST
def emergency_access_review(request, access_uuid):
    require(request.user, Capability.EMERGENCY_ACCESS_REVIEW)
    form = EmergencyAccessReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Keep the note to one short paragraph.")
    else:
        try:
            emergency_access.emergency_access_review(
                actor=request.user, access_uuid=access_uuid, note=form.cleaned_data["note"]
            )
        except DomainError as error:
            if error.status == 404:
                raise
            messages.error(request, error.message)
        else:
            messages.success(request, "Marked reviewed.")
    return redirect("patients:emergency_access_list")
