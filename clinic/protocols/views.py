"""Treatment-plan pages: choose a protocol, preview and create a plan, then run it."""

from __future__ import annotations

import json

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods, require_POST

from clinic.accounts.permissions import Capability
from clinic.core.access import require, staff_required
from clinic.core.exceptions import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from clinic.core.forms import apply_domain_error
from clinic.core.notices import patient_notices
from clinic.patients.selectors import can_act_clinically, patient_get
from clinic.protocols import selectors, services, services_templates
from clinic.protocols.forms import (
    FinishForm,
    MaintenanceForm,
    PlanForm,
    TemplateForm,
    TitrationForm,
)
from clinic.protocols.schedules import BUILT_IN, validate_definition
from clinic.screening.selectors import planning_clearance


def _templates():
    services.builtin_templates_ensure()
    return selectors.template_list()


def _may_prescribe(actor, patient) -> bool:
    return can_act_clinically(actor=actor, patient=patient, capability=Capability.PLAN_PRESCRIBE)


@staff_required
@require_http_methods(["GET", "POST"])
def plan_new(request, patient_uuid):
    patient = patient_get(actor=request.user, patient_uuid=patient_uuid, purpose="treatment plan")
    if not _may_prescribe(request.user, patient):
        raise PermissionDenied("Only a prescriber on the care team makes a treatment plan.")
    templates = _templates()
    clearances = {t.code: planning_clearance(patient=patient, route=t.route) for t in templates}
    chosen_code = request.POST.get("template") or request.GET.get("template") or ""
    chosen = next((t for t in templates if t.code == chosen_code), None)
    if chosen is None:
        return render(
            request,
            "protocols/plan_choose.html",
            {"patient": patient, "rows": [(t, clearances[t.code]) for t in templates]},
        )
    definition = validate_definition(chosen.definition)
    form = PlanForm(
        request.POST or None,
        initial={"template": chosen.code},
        templates=[(chosen.code, f"{chosen.name} (v{chosen.version})")],
        option_specs=definition.options,
        route=chosen.route,
    )
    preview = None
    if request.method == "POST" and form.is_valid():
        values = form.plan_values()
        try:
            if request.POST.get("action") == "create":
                plan = services.plan_create(
                    actor=request.user,
                    patient=patient,
                    template=chosen,
                    start_date=form.cleaned_data["start_date"],
                    options=form.options(),
                    notes=form.cleaned_data["notes"],
                    **values,
                )
                messages.success(request, "Draft plan created. Check it, then sign it to activate.")
                return redirect(
                    "protocols:plan_detail", patient_uuid=patient.uuid, plan_uuid=plan.uuid
                )
            preview = services.plan_preview(
                patient=patient,
                template=chosen,
                start_date=form.cleaned_data["start_date"],
                options=form.options(),
                **values,
            )
        except InvalidInput as error:
            _show_errors(form, error)
        except Conflict as error:
            form.add_error(None, error.message)
    return render(
        request,
        "protocols/plan_form.html",
        {
            "patient": patient,
            "template": chosen,
            "clearance": clearances[chosen.code],
            "form": form,
            "schedule": preview.schedule if preview else None,
            "rows": preview.rows if preview else None,
            "body": preview.body if preview else None,
        },
    )


def _show_errors(form, error: InvalidInput) -> None:
    """A service's refusal next to the field it names (a template option's field is
    `option_<name>`), anything else above the form; the services word them for people."""
    for field, problems in error.errors.items():
        target = field if field in form.fields else f"option_{field}"
        for problem in problems:
            form.add_error(target if target in form.fields else None, problem)


def _plan(request, patient_uuid, plan_uuid):
    patient = patient_get(actor=request.user, patient_uuid=patient_uuid, purpose="treatment plan")
    plan = selectors.plan_get(actor=request.user, patient=patient, plan_uuid=plan_uuid)
    return patient, plan


def _booking_url(plan) -> str:
    try:
        return reverse("scheduling:plan_book", args=[plan.uuid])
    except NoReverseMatch:
        return ""


def _titration_form(plan, sessions, data=None):
    return TitrationForm(
        data,
        route=plan.route,
        last_session=sessions[-1].number if sessions else None,
    )


def _detail(request, patient, plan, **forms_) -> object:
    sessions = selectors.planned_session_list(plan=plan)
    last = sessions[-1] if sessions else None
    user = request.user
    return render(
        request,
        "protocols/plan_detail.html",
        {
            "patient": patient,
            "plan": plan,
            "sessions": sessions,
            "can_prescribe": _may_prescribe(user, patient),
            "titration_form": forms_.get("titrate") or _titration_form(plan, sessions),
            "maintenance_form": forms_.get("maintenance")
            or MaintenanceForm(last_planned=last.planned_date if last else None),
            "finish_form": forms_.get("finish") or FinishForm(),
            # Booking chairs and nurses is the front desk's (schedule.book, docs/permissions.md):
            # the link is shown only to those it would not refuse.
            "booking_url": _booking_url(plan) if user.can(Capability.SCHEDULE_BOOK) else "",
            "last_session": last,
            # The prior authorization's warnings (booked sessions outside it), from billing.
            "notices": patient_notices(actor=user, patient=patient),
        },
        status=422 if any(form.errors for form in forms_.values()) else 200,
    )


@staff_required
def plan_detail(request, patient_uuid, plan_uuid):
    patient, plan = _plan(request, patient_uuid, plan_uuid)
    return _detail(request, patient, plan)


@staff_required
@require_POST
def plan_action(request, patient_uuid, plan_uuid, action):
    """Sign, titrate, add maintenance, complete or discontinue. A refusal is shown next to the
    field it concerns, on the plan page itself, with what was typed kept."""
    patient, plan = _plan(request, patient_uuid, plan_uuid)
    actor = request.user
    if action == "activate":
        try:
            services.plan_activate(actor=actor, plan=plan)
        except Conflict as error:
            messages.error(request, f"Not signed: {error.message}")
        else:
            messages.success(request, "Plan signed and active.")
        return redirect("protocols:plan_detail", patient_uuid=patient.uuid, plan_uuid=plan.uuid)
    if action == "titrate":
        form, key = (
            _titration_form(plan, selectors.planned_session_list(plan=plan), request.POST),
            "titrate",
        )
    elif action == "maintenance":
        last = selectors.last_planned_session(plan=plan)
        form = MaintenanceForm(request.POST, last_planned=last.planned_date if last else None)
        key = "maintenance"
    elif action in ("complete", "discontinue"):
        form, key = FinishForm(request.POST), "finish"
    else:
        raise NotFound()
    if form.is_valid():
        data = form.cleaned_data
        try:
            if action == "titrate":
                services.plan_titrate(actor=actor, plan=plan, **data)
                done = "Dose changed for the later sessions."
            elif action == "maintenance":
                services.plan_set_maintenance(actor=actor, plan=plan, **data)
                done = "Maintenance sessions added."
            else:
                services.plan_finish(
                    actor=actor,
                    plan=plan,
                    discontinued=action == "discontinue",
                    reason=data["reason"],
                )
                done = f"Plan {action}d."
        except InvalidInput as error:
            _show_errors(form, error)
        except Conflict as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, done)
            return redirect("protocols:plan_detail", patient_uuid=patient.uuid, plan_uuid=plan.uuid)
    plan.refresh_from_db()
    return _detail(request, patient, plan, **{key: form})


@staff_required
@require_http_methods(["GET", "POST"])
def template_list(request):
    user = request.user
    if not (
        user.can(Capability.PATIENT_VIEW_CLINICAL) or user.can(Capability.PROTOCOL_MANAGE_TEMPLATES)
    ):
        raise PermissionDenied()
    form = TemplateForm(request.POST or None)
    if request.method == "POST":
        require(user, Capability.PROTOCOL_MANAGE_TEMPLATES)
        if form.is_valid():
            try:
                services_templates.template_create(actor=user, **form.cleaned_data)
            except DomainError as error:
                apply_domain_error(form, error)
            else:
                messages.success(request, "Template saved.")
                return redirect("protocols:template_list")
    templates = _templates()
    return render(
        request,
        "protocols/template_list.html",
        {
            "templates": templates,
            "form": form,
            "can_manage": user.can(Capability.PROTOCOL_MANAGE_TEMPLATES),
            "example": json.dumps(BUILT_IN["iv-induction-2x-weekly"].as_dict(), indent=2),
        },
    )
