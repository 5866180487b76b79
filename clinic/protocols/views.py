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
from clinic.patients.selectors import can_act_clinically, patient_get, require_clinical_view
from clinic.protocols import services
from clinic.protocols.forms import (
    FinishForm,
    MaintenanceForm,
    PlanForm,
    TemplateForm,
    TitrationForm,
)
from clinic.protocols.models import ProtocolTemplate, TreatmentPlan
from clinic.protocols.schedules import BUILT_IN, validate_definition
from clinic.screening.eligibility import planning_clearance


def _templates():
    services.builtin_templates_ensure()
    latest = {}
    for template in (
        ProtocolTemplate.objects.filter(is_active=True)
        .exclude(route="")
        .order_by("code", "-version")
    ):
        latest.setdefault(template.code, template)
    return list(latest.values())


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
    )
    preview = None
    if request.method == "POST" and form.is_valid():
        values = {
            "dose_mg_per_kg": form.cleaned_data["dose_mg_per_kg"],
            "weight_basis": form.cleaned_data["weight_basis"] or None,
            "esketamine_dose_mg": form.cleaned_data["esketamine_dose_mg"],
        }
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
            for field, problems in error.errors.items():
                target = field if field in form.fields else f"option_{field}"
                for problem in problems:
                    form.add_error(target if target in form.fields else None, problem)
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
            "schedule": preview[0] if preview else None,
            "rows": preview[1] if preview else None,
            "body": preview[2] if preview else None,
        },
    )


def _plan(request, patient_uuid, plan_uuid):
    patient = patient_get(actor=request.user, patient_uuid=patient_uuid, purpose="treatment plan")
    require_clinical_view(actor=request.user, patient=patient, purpose="treatment plan")
    plan = (
        TreatmentPlan.objects.filter(patient=patient, uuid=plan_uuid)
        .select_related("template", "prescribed_by", "eligibility_decision")
        .first()
    )
    if plan is None:
        raise NotFound()
    return patient, plan


def _booking_url(plan) -> str:
    try:
        return reverse("scheduling:plan_book", args=[plan.uuid])
    except NoReverseMatch:
        return ""


@staff_required
def plan_detail(request, patient_uuid, plan_uuid):
    patient, plan = _plan(request, patient_uuid, plan_uuid)
    sessions = list(plan.sessions.all())
    last = sessions[-1] if sessions else None
    return render(
        request,
        "protocols/plan_detail.html",
        {
            "patient": patient,
            "plan": plan,
            "sessions": sessions,
            "can_prescribe": _may_prescribe(request.user, patient),
            "titration_form": TitrationForm(),
            "maintenance_form": MaintenanceForm(),
            "finish_form": FinishForm(),
            "booking_url": _booking_url(plan),
            "last_session": last,
        },
    )


@staff_required
@require_POST
def plan_action(request, patient_uuid, plan_uuid, action):
    patient, plan = _plan(request, patient_uuid, plan_uuid)
    actor = request.user
    forms_ = {
        "titrate": TitrationForm,
        "maintenance": MaintenanceForm,
        "complete": FinishForm,
        "discontinue": FinishForm,
    }
    try:
        if action == "activate":
            services.plan_activate(actor=actor, plan=plan)
            messages.success(request, "Plan signed and active.")
        elif action in forms_:
            form = forms_[action](request.POST)
            if not form.is_valid():
                raise InvalidInput({k: list(v) for k, v in form.errors.items()})
            data = form.cleaned_data
            if action == "titrate":
                services.plan_titrate(actor=actor, plan=plan, **data)
                messages.success(request, "Dose changed for the later sessions.")
            elif action == "maintenance":
                services.plan_set_maintenance(actor=actor, plan=plan, **data)
                messages.success(request, "Maintenance sessions added.")
            else:
                services.plan_finish(
                    actor=actor,
                    plan=plan,
                    discontinued=action == "discontinue",
                    reason=data["reason"],
                )
                messages.success(request, f"Plan {action}d.")
        else:
            raise NotFound()
    except (InvalidInput, Conflict) as error:
        details = (
            "; ".join(f"{k.replace('_', ' ')}: {' '.join(v)}" for k, v in error.errors.items())
            if isinstance(error, InvalidInput)
            else error.message
        )
        messages.error(request, f"Not saved — {details}")
    return redirect("protocols:plan_detail", patient_uuid=patient.uuid, plan_uuid=plan.uuid)


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
                services.template_create(actor=user, **form.cleaned_data)
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
