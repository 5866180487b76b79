"""Each role's home page: the work that role starts its day with."""

from __future__ import annotations

from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from clinic.accounts.choices import Role
from clinic.accounts.permissions import Capability
from clinic.assessments.selectors import due_list
from clinic.billing.selectors_charges import billing_queue
from clinic.core.access import require, staff_required
from clinic.core.page_loads import page_load_for, page_load_start
from clinic.core.pages import bounded
from clinic.dashboard import selectors
from clinic.dashboard.inbasket import inbasket_get, waiting_get
from clinic.patients.forms import PatientSearchForm
from clinic.patients.selectors import my_patients
from clinic.patients.selectors_records import records_request_counts
from clinic.public_site.views import public_home
from clinic.scheduling.selectors import in_clinic_session_bounds
from clinic.screening.selectors import consultation_status_counts


def home(request):
    if not request.user.is_authenticated:
        return public_home(request)
    if request.user.is_patient_principal:
        return redirect("portal:home")
    return _staff_home(request)


@staff_required
def _staff_home(request):
    user = request.user
    context = {
        "search_form": PatientSearchForm(),
        "role": user.role,
        # Requests for a copy of a record, by due date: for whoever handles them (None else).
        "records_requests": records_request_counts(actor=user),
    }
    if user.role == Role.CLINIC_ADMIN:
        context.update(selectors.admin_overview(actor=user))
        context["page_load"] = page_load_start(actor=user)
        context["basket"] = inbasket_get(actor=user, page_load=context["page_load"])
        context["back"] = "home"
        template = "dashboard/home_admin.html"
    elif user.is_clinical:
        context["patients"] = my_patients(actor=user)
        context["page_load"] = page_load_start(actor=user)
        context["basket"] = inbasket_get(actor=user, page_load=context["page_load"])
        context["back"] = "home"
        # Bounded on the page. The schedule behind it is still worked out for every patient
        # on the care team, from one query of dates (clinic/assessments/selectors.py
        # _due_by_patient_id); patient rows are read only for those who owe something.
        context["due"] = bounded(
            due_list(actor=user, now=timezone.now(), session_bounds=in_clinic_session_bounds)
        )
        context["home_program_review"] = user.can(Capability.HOME_PROGRAM_REVIEW)
        template = "dashboard/home_clinician.html"
    else:
        context["can_create"] = user.can(Capability.PATIENT_CREATE)
        if user.can(Capability.CHARGE_VIEW):
            context["queue"] = billing_queue(actor=user)
        if user.role == Role.FRONT_DESK:
            context["recent"] = selectors.recently_registered(actor=user)
            context["consultations"] = consultation_status_counts(actor=user)
        template = "dashboard/home_desk.html"
    return render(request, template, context)


@staff_required
@require_GET
def inbasket(request):
    """Everything waiting on the user; htmx polls the same URL and gets the list only."""
    require(request.user, Capability.PATIENT_VIEW_CLINICAL)
    page_load = page_load_for(request)
    context = {
        "basket": inbasket_get(actor=request.user, page_load=page_load),
        "page_load": page_load,
        "back": "inbasket",
    }
    template = "dashboard/inbasket.html"
    if request.htmx:
        template = "dashboard/_inbasket.html"
    return render(request, template, context)


@staff_required
@require_GET
def inbasket_count(request):
    """The top bar's count of what waits on the user (numbers only: no patient information,
    so no audit event). Polled by every page."""
    waiting = waiting_get(actor=request.user)
    response = render(request, "dashboard/_inbasket_badge.html", {"waiting": waiting})
    if request.GET.get("seen", waiting.digest) != waiting.digest:
        # Something new waits, or something was answered: an in-basket list on the page
        # reloads itself (see _inbasket.html).
        response["HX-Trigger"] = "inbasket-changed"
    return response
