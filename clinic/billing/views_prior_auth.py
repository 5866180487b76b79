"""Prior-authorization pages: a patient's requests (and a new one, prefilled), one request with
its packet, its payer's checklist, its status actions and history, the packet as a PDF, and
the payer's checklist on the payer's page. Thin: selectors read, services decide."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.accounts.permissions import Capability
from clinic.billing import prior_auth, selectors
from clinic.billing import selectors_prior_auth as pa_selectors
from clinic.billing.forms import ApprovalForm, CriterionForm, PayerNoteForm, PriorAuthForm
from clinic.billing.models import PayerCriterion, PriorAuthStatus
from clinic.billing.packet_pdf import packet_pdf_build
from clinic.billing.services import prior_auth as services
from clinic.core.access import require, staff_required
from clinic.core.exceptions import DomainError, PermissionDenied
from clinic.core.forms import apply_domain_error, refusal_text
from clinic.patients.selectors import patient_get


def _url(authorization) -> str:
    return reverse("billing:prior_auth", args=[authorization.uuid])


@staff_required
@require_http_methods(["GET", "POST"])
def prior_auth_list(request, patient_uuid):
    patient = patient_get(
        actor=request.user, patient_uuid=patient_uuid, purpose="prior authorizations"
    )
    if not pa_selectors.can_view(actor=request.user, patient=patient):
        raise PermissionDenied(capability=Capability.PRIOR_AUTH_VIEW)
    may_manage = services.may_manage(request.user, patient)
    coverages = selectors.current_coverages(patient=patient)
    form = PriorAuthForm(request.POST or None, coverages=coverages)
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied(capability=Capability.PRIOR_AUTH_MANAGE)
        if form.is_valid():
            try:
                authorization = services.prior_auth_create(
                    actor=request.user, patient=patient, **form.cleaned_data
                )
            except DomainError as error:
                apply_domain_error(form, error)
            else:
                messages.success(request, "Request drafted from the record: check the list.")
                return redirect(_url(authorization))
    return render(
        request,
        "billing/prior_auth_list.html",
        {
            "patient": patient,
            "rows": pa_selectors.prior_auth_list(actor=request.user, patient=patient),
            "form": form,
            "may_manage": may_manage,
            "coverages": coverages,
        },
        status=422 if form.errors else 200,
    )


def _detail(request, authorization, *, approval_form=None, note_form=None, status=200):
    criteria = pa_selectors.criteria_for(authorization)
    checklist = prior_auth.checklist(authorization, criteria)
    return render(
        request,
        "billing/prior_auth.html",
        {
            "pa": authorization,
            "patient": authorization.patient,
            "packet": authorization.packet,
            "checklist": checklist,
            "missing": [row for row in checklist if not row.documented],
            "usage": pa_selectors.usage(authorization),
            "changes": list(authorization.changes.select_related("changed_by")),
            "may_manage": services.may_manage(request.user, authorization.patient),
            "next": services.NEXT[PriorAuthStatus(authorization.status)],
            "approval_form": approval_form or ApprovalForm(),
            "note_form": note_form or PayerNoteForm(prefix="payer"),
            "route_name": services.ROUTES.get(authorization.route, authorization.route),
        },
        status=status,
    )


@staff_required
@require_GET
def prior_auth_detail(request, authorization_uuid):
    authorization = pa_selectors.prior_auth_get(
        actor=request.user, authorization_uuid=authorization_uuid
    )
    return _detail(request, authorization)


@staff_required
@require_POST
def prior_auth_action(request, authorization_uuid, action):
    authorization = pa_selectors.prior_auth_get(
        actor=request.user, authorization_uuid=authorization_uuid
    )
    user = request.user
    if not services.may_manage(user, authorization.patient):
        raise PermissionDenied(capability=Capability.PRIOR_AUTH_MANAGE)
    try:
        if action == "refresh":
            services.prior_auth_refresh(actor=user, authorization=authorization)
            messages.success(request, "Read again from the record.")
        elif action == "check":
            criterion = get_object_or_404(PayerCriterion, uuid=request.POST.get("criterion"))
            services.prior_auth_check_by_hand(
                actor=user,
                authorization=authorization,
                criterion=criterion,
                checked=request.POST.get("checked") == "1",
            )
            messages.success(request, "Checklist saved.")
        elif action == "submit":
            services.prior_auth_submit(
                actor=user, authorization=authorization, note=request.POST.get("note", "")
            )
            messages.success(request, "Recorded as submitted to the payer.")
        elif action in ("deny", "appeal"):
            form = PayerNoteForm(request.POST, prefix="payer")
            if not form.is_valid():
                return _detail(request, authorization, note_form=form, status=422)
            service = services.prior_auth_deny if action == "deny" else services.prior_auth_appeal
            service(actor=user, authorization=authorization, note=form.cleaned_data["note"])
            messages.success(
                request, "Denial recorded." if action == "deny" else "Appeal recorded."
            )
        elif action == "approve":
            form = ApprovalForm(request.POST)
            if not form.is_valid():
                return _detail(request, authorization, approval_form=form, status=422)
            data = form.cleaned_data
            try:
                services.prior_auth_approve(
                    actor=user,
                    authorization=authorization,
                    approval=services.Approval(
                        data["authorization_number"],
                        data["approved_sessions"],
                        data["starts_on"],
                        data["ends_on"],
                    ),
                    note=data["note"],
                )
            except DomainError as error:
                apply_domain_error(form, error)
                return _detail(request, authorization, approval_form=form, status=422)
            messages.success(request, "Approval recorded.")
        else:
            return HttpResponse(status=404)
    except DomainError as error:
        messages.error(request, f"Not recorded: {refusal_text(error)}")
    return redirect(_url(authorization))


@staff_required
@require_GET
def prior_auth_packet(request, authorization_uuid):
    authorization = pa_selectors.prior_auth_get(
        actor=request.user, authorization_uuid=authorization_uuid
    )
    checklist = prior_auth.checklist(authorization, pa_selectors.criteria_for(authorization))
    content = packet_pdf_build(actor=request.user, authorization=authorization, checklist=checklist)
    response = HttpResponse(content, content_type="application/pdf")
    name = f"prior-authorization-{authorization.patient.mrn}-{str(authorization.uuid)[:8]}.pdf"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- payer checklist


@staff_required
@require_POST
def criterion_add(request, payer_uuid):
    payer = selectors.payer_get(actor=request.user, payer_uuid=payer_uuid)
    form = CriterionForm(request.POST)
    if form.is_valid():
        try:
            services.criterion_add(actor=request.user, payer=payer, **form.cleaned_data)
        except DomainError as error:
            messages.error(request, f"Criterion not added: {refusal_text(error)}")
        else:
            messages.success(request, "Criterion added to the checklist.")
    else:
        first = next(iter(form.errors.values()))[0]
        messages.error(request, f"Criterion not added: {first}")
    return redirect(reverse("billing:payer_edit", args=[payer.uuid]) + "#checklist")


@staff_required
@require_POST
def criterion_switch(request, criterion_uuid):
    require(request.user, Capability.PAYER_MANAGE)
    criterion = get_object_or_404(PayerCriterion, uuid=criterion_uuid)
    services.criterion_set_active(
        actor=request.user, criterion=criterion, active=request.POST.get("active") == "1"
    )
    messages.success(request, "Checklist saved.")
    return redirect(reverse("billing:payer_edit", args=[criterion.payer.uuid]) + "#checklist")
