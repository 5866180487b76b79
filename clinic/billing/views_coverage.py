"""Insurance pages: a patient's coverages with their eligibility checks (the front desk and
billing keep them), and the payers and plans the clinic bills. Thin: the services decide."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.accounts.permissions import Capability
from clinic.billing import selectors
from clinic.billing.forms import (
    CoverageForm,
    CriterionForm,
    EligibilityForm,
    EndCoverageForm,
    EnteredInErrorForm,
    PayerEditForm,
    PayerForm,
    PlanForm,
    cents,
)
from clinic.billing.models import CardSide
from clinic.billing.selectors_prior_auth import payer_criteria
from clinic.billing.services import card_images
from clinic.billing.services import coverage as services
from clinic.core.access import require, staff_required
from clinic.core.exceptions import DomainError
from clinic.core.forms import apply_domain_error, refusal_text
from clinic.patients.selectors import patient_get


def _coverage_url(patient) -> str:
    return reverse("billing:coverage", args=[patient.uuid])


@staff_required
@require_http_methods(["GET", "POST"])
def coverage(request, patient_uuid):
    """The patient's coverages and checks; the add form posts here."""
    require(request.user, Capability.COVERAGE_VIEW)
    patient = patient_get(actor=request.user, patient_uuid=patient_uuid, purpose="coverage")
    can_manage = request.user.can(Capability.COVERAGE_MANAGE)
    plans = selectors.plans_to_choose() if can_manage else []
    form = CoverageForm(request.POST or None, plans=plans)
    if request.method == "POST":
        require(request.user, Capability.COVERAGE_MANAGE)
        if form.is_valid():
            data = form.cleaned_data
            try:
                added = services.coverage_add(
                    actor=request.user,
                    patient=patient,
                    entry=services.CoverageEntry(
                        plan=data["plan"],
                        priority=data["priority"],
                        member_id=data["member_id"],
                        group_number=data["group_number"],
                        subscriber_relationship=data["subscriber_relationship"],
                        subscriber_name=data["subscriber_name"],
                        subscriber_date_of_birth=data["subscriber_date_of_birth"],
                        starts_on=data["starts_on"],
                        ends_on=data["ends_on"],
                    ),
                )
            except DomainError as error:
                apply_domain_error(form, error)
            else:
                messages.success(request, f"Coverage added: {added}. Check its eligibility next.")
                return redirect(_coverage_url(patient))
    coverages = selectors.coverage_list(actor=request.user, patient=patient)
    for item in coverages:
        # One form per coverage, with ids of its own (several sit on the page).
        item.eligibility_form = EligibilityForm(auto_id=f"id_{item.uuid.hex[:8]}_%s")
    return render(
        request,
        "billing/coverage.html",
        {
            "patient": patient,
            "coverages": coverages,
            "form": form,
            "can_manage": can_manage,
            "has_plans": bool(plans),
            "can_manage_payers": request.user.can(Capability.PAYER_MANAGE),
        },
    )


def _coverage_for_change(request, patient_uuid, coverage_uuid):
    require(request.user, Capability.COVERAGE_MANAGE)
    patient = patient_get(actor=request.user, patient_uuid=patient_uuid, purpose="coverage")
    return patient, selectors.coverage_get(
        actor=request.user, patient=patient, coverage_uuid=coverage_uuid
    )


def _say_refusal(request, error: DomainError, what: str) -> None:
    messages.error(request, f"{what}: {refusal_text(error)}")


@staff_required
@require_POST
def coverage_end(request, patient_uuid, coverage_uuid):
    patient, found = _coverage_for_change(request, patient_uuid, coverage_uuid)
    form = EndCoverageForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Not ended: {form.errors['ends_on'][0]}")
        return redirect(_coverage_url(patient))
    try:
        services.coverage_end(
            actor=request.user, coverage=found, ends_on=form.cleaned_data["ends_on"]
        )
    except DomainError as error:
        _say_refusal(request, error, "Not ended")
    else:
        messages.success(request, f"Coverage ended: {found}. It stays on the list.")
    return redirect(_coverage_url(patient))


@staff_required
@require_POST
def coverage_entered_in_error(request, patient_uuid, coverage_uuid):
    patient, found = _coverage_for_change(request, patient_uuid, coverage_uuid)
    form = EnteredInErrorForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the entry is wrong before marking it.")
        return redirect(_coverage_url(patient))
    try:
        services.coverage_mark_entered_in_error(
            actor=request.user, coverage=found, reason=form.cleaned_data["reason"]
        )
    except DomainError as error:
        _say_refusal(request, error, "Not marked")
    else:
        messages.success(request, "Marked as entered in error; the entry stays in the record.")
    return redirect(_coverage_url(patient))


@staff_required
@require_POST
def eligibility_check(request, patient_uuid, coverage_uuid):
    patient, found = _coverage_for_change(request, patient_uuid, coverage_uuid)
    form = EligibilityForm(request.POST)
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        label = form.fields[field].label if field in form.fields else field
        messages.error(request, f"Check not recorded: {label}: {errors[0]}")
        return redirect(_coverage_url(patient))
    data = form.cleaned_data
    try:
        check = services.eligibility_check_record(
            actor=request.user,
            coverage=found,
            answer=services.EligibilityAnswer(
                method=data["method"],
                result=data["result"],
                copay_cents=cents(data["copay"]),
                coinsurance_percent=data["coinsurance_percent"],
                deductible_cents=cents(data["deductible"]),
                deductible_remaining_cents=cents(data["deductible_remaining"]),
                reference_number=data["reference_number"],
                note=data["note"],
            ),
        )
    except DomainError as error:
        _say_refusal(request, error, "Check not recorded")
    else:
        messages.success(
            request, f"Eligibility recorded for {found}: {check.get_result_display().lower()}."
        )
    return redirect(_coverage_url(patient))


# --------------------------------------------------------------------------- payers


@staff_required
@require_http_methods(["GET", "POST"])
def payer_list(request):
    require(request.user, Capability.PAYER_MANAGE)
    form = PayerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            payer = services.payer_create(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, f"Payer added: {payer.name}. Add its plans below.")
            return redirect(reverse("billing:payer_list") + f"#payer-{payer.uuid}")
    return render(
        request,
        "billing/payer_list.html",
        {
            "payers": selectors.payer_list(actor=request.user),
            "form": form,
            "plan_form": PlanForm(),
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def payer_edit(request, payer_uuid):
    payer = selectors.payer_get(actor=request.user, payer_uuid=payer_uuid)
    initial = {
        "name": payer.name,
        "payer_id": payer.payer_id,
        "kind": payer.kind,
        "session_coding": payer.session_coding,
        "is_active": payer.is_active,
    }
    form = PayerEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.payer_update(actor=request.user, payer=payer, **form.cleaned_data)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, "Payer saved.")
            return redirect(reverse("billing:payer_list") + f"#payer-{payer.uuid}")
    return render(
        request,
        "billing/payer_edit.html",
        {
            "payer": payer,
            "form": form,
            "criteria": payer_criteria(actor=request.user, payer=payer),
            "criterion_form": CriterionForm(),
        },
    )


@staff_required
@require_POST
def plan_add(request, payer_uuid):
    payer = selectors.payer_get(actor=request.user, payer_uuid=payer_uuid)
    form = PlanForm(request.POST)
    if form.is_valid():
        try:
            plan = services.plan_create(
                actor=request.user, payer=payer, name=form.cleaned_data["plan_name"]
            )
        except DomainError as error:
            _say_refusal(request, error, "Plan not added")
        else:
            messages.success(request, f"Plan added: {plan}.")
    else:
        messages.error(request, f"Plan not added: {form.errors['plan_name'][0]}")
    return redirect(reverse("billing:payer_list") + f"#payer-{payer.uuid}")


@staff_required
@require_POST
def plan_switch(request, plan_uuid):
    plan = selectors.plan_get(actor=request.user, plan_uuid=plan_uuid)
    active = request.POST.get("active") == "1"
    services.plan_set_active(actor=request.user, plan=plan, active=active)
    state = "billed" if active else "switched off"
    messages.success(request, f"{plan.payer.name} — {plan.name}: {state}.")
    return redirect(reverse("billing:payer_list") + f"#payer-{plan.payer.uuid}")


class CardImageForm(forms.Form):
    side = forms.ChoiceField(choices=CardSide.choices, widget=forms.RadioSelect, initial="front")
    photo = forms.FileField(label="Photo of the card")


@staff_required
@require_POST
def card_image_add(request, patient_uuid, coverage_uuid):
    patient, coverage = _coverage_for_change(request, patient_uuid, coverage_uuid)
    form = CardImageForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Not added: choose the side and the photo of the card.")
        return redirect(_coverage_url(patient) + f"#coverage-{coverage.uuid}")
    try:
        card_images.card_image_add(
            actor=request.user,
            coverage=coverage,
            side=form.cleaned_data["side"],
            data=form.cleaned_data["photo"].read(),
        )
    except DomainError as error:
        messages.error(request, f"Not added: {refusal_text(error)}")
    else:
        messages.success(request, f"Photo of the card's {form.cleaned_data['side']} added.")
    return redirect(_coverage_url(patient) + f"#coverage-{coverage.uuid}")


@staff_required
@require_GET
def card_image(request, patient_uuid, coverage_uuid, image_uuid):
    require(request.user, Capability.COVERAGE_VIEW)
    patient = patient_get(actor=request.user, patient_uuid=patient_uuid, purpose="coverage")
    image = selectors.card_image_get(
        actor=request.user, patient=patient, coverage_uuid=coverage_uuid, image_uuid=image_uuid
    )
    response = HttpResponse(bytes(image.jpeg), content_type="image/jpeg")
    response["Cache-Control"] = "no-store"
    response["Content-Disposition"] = f'inline; filename="card-{image.side}.jpg"'
    return response


@staff_required
@require_POST
def card_image_entered_in_error(request, patient_uuid, coverage_uuid, image_uuid):
    require(request.user, Capability.COVERAGE_MANAGE)
    patient = patient_get(actor=request.user, patient_uuid=patient_uuid, purpose="coverage")
    image = selectors.card_image_for_change(
        actor=request.user, patient=patient, coverage_uuid=coverage_uuid, image_uuid=image_uuid
    )
    form = EnteredInErrorForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Not changed: say why the photo is wrong.")
    else:
        card_images.card_image_mark_entered_in_error(
            actor=request.user, image=image, reason=form.cleaned_data["reason"]
        )
        messages.success(request, "Photo marked entered in error; it is no longer shown.")
    return redirect(_coverage_url(patient) + f"#coverage-{coverage_uuid}")
