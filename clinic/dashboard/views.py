"""Each role's home page: the work that role starts its day with."""

from __future__ import annotations

from django.shortcuts import redirect, render
from django.utils import timezone

from clinic.accounts.choices import Role
from clinic.accounts.permissions import Capability
from clinic.assessments.selectors import alert_inbox, due_list
from clinic.core.access import staff_required
from clinic.dashboard import selectors
from clinic.home_program.selectors import home_bp_alert_open_list
from clinic.patients.forms import PatientSearchForm
from clinic.patients.selectors import my_patients
from clinic.public_site.views import public_home
from clinic.screening.consultations import consultation_status_counts


def home(request):
    if not request.user.is_authenticated:
        return public_home(request)
    if request.user.is_patient_principal:
        return redirect("portal:home")
    return _staff_home(request)


@staff_required
def _staff_home(request):
    user = request.user
    context = {"search_form": PatientSearchForm(), "role": user.role}
    if user.role == Role.CLINIC_ADMIN:
        context.update(selectors.admin_overview(actor=user))
        context["alerts"] = alert_inbox(actor=user)
        template = "dashboard/home_admin.html"
    elif user.is_clinical:
        context["patients"] = my_patients(actor=user)
        context["alerts"] = alert_inbox(actor=user)
        context["due"] = due_list(actor=user, now=timezone.now())
        if user.can(Capability.HOME_PROGRAM_REVIEW):
            context["home_bp_alerts"] = home_bp_alert_open_list(actor=user)
            context["home_program_review"] = True
        template = "dashboard/home_clinician.html"
    else:
        context["can_create"] = user.can(Capability.PATIENT_CREATE)
        if user.role == Role.FRONT_DESK:
            context["recent"] = selectors.recently_registered(actor=user)
            context["consultations"] = consultation_status_counts(actor=user)
        template = "dashboard/home_desk.html"
    return render(request, template, context)
