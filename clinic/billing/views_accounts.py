"""A patient's account page (charges, payments, balance; recording a payment at the desk), a
charge's superbill PDF and the patient's statement PDF. Thin: selectors read, services
decide."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.accounts.permissions import Capability
from clinic.billing.forms import EnteredInErrorForm, PackageSaleForm, PaymentForm, cents
from clinic.billing.models import Charge
from clinic.billing.selectors_accounts import account_get, package_purchase_get, payment_get
from clinic.billing.services import packages
from clinic.billing.services import payments as services
from clinic.billing.statement_pdf import statement_pdf_build
from clinic.billing.superbill_pdf import superbill_pdf_build
from clinic.core.access import require, staff_required
from clinic.core.exceptions import DomainError, NotFound
from clinic.core.forms import apply_domain_error, refusal_text
from clinic.patients.selectors import patient_get


def _account_url(patient) -> str:
    return reverse("billing:account", args=[patient.uuid])


@staff_required
@require_http_methods(["GET", "POST"])
def account(request, patient_uuid):
    require(request.user, Capability.ACCOUNT_VIEW)
    patient = patient_get(actor=request.user, patient_uuid=patient_uuid, purpose="account")
    found = account_get(actor=request.user, patient=patient)
    charges = [row.charge for row in found.charges]
    selling = request.POST.get("form") == "package"
    form = PaymentForm(None if selling else (request.POST or None), charges=charges)
    sale_form = PackageSaleForm(request.POST if selling else None, prefix="sale")
    if selling:
        require(request.user, Capability.PAYMENT_RECORD)
        if sale_form.is_valid():
            data = sale_form.cleaned_data
            try:
                purchase = packages.package_sell(
                    actor=request.user,
                    patient=patient,
                    offer=data["offer"],
                    purchased_on=data["purchased_on"],
                    note=data["note"],
                )
            except DomainError as error:
                apply_domain_error(sale_form, error)
            else:
                messages.success(
                    request,
                    f"{purchase.name} sold. Record the payment for it below; each "
                    f"{purchase.route} session is then charged from it.",
                )
                return redirect(_account_url(patient) + "#packages")
    elif request.method == "POST":
        require(request.user, Capability.PAYMENT_RECORD)
        if form.is_valid():
            data = form.cleaned_data
            try:
                payment = services.payment_record(
                    actor=request.user,
                    patient=patient,
                    entry=services.PaymentEntry(
                        source=data["source"],
                        method=data["method"],
                        amount_cents=cents(data["amount"]) or 0,
                        received_on=data["received_on"],
                        reference=data["reference"],
                        note=data["note"],
                        charge=data["charge"],
                    ),
                )
            except DomainError as error:
                apply_domain_error(form, error)
            else:
                messages.success(
                    request,
                    f"{payment.get_source_display()} payment of ${payment.amount_cents / 100:,.2f} "
                    "recorded.",
                )
                return redirect(_account_url(patient))
    return render(
        request,
        "billing/account.html",
        {
            "patient": patient,
            "account": found,
            "form": form,
            "sale_form": sale_form,
            "can_record": request.user.can(Capability.PAYMENT_RECORD),
            "error_form": EnteredInErrorForm(),
        },
        status=422 if form.errors or sale_form.errors else 200,
    )


@staff_required
@require_POST
def package_entered_in_error(request, patient_uuid, purchase_uuid):
    patient = patient_get(actor=request.user, patient_uuid=patient_uuid, purpose="account")
    purchase = package_purchase_get(
        actor=request.user, patient=patient, purchase_uuid=purchase_uuid
    )
    form = EnteredInErrorForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Not changed: say why the sale is wrong.")
        return redirect(_account_url(patient) + "#packages")
    try:
        packages.package_mark_entered_in_error(
            actor=request.user, purchase=purchase, reason=form.cleaned_data["reason"]
        )
    except DomainError as error:
        messages.error(request, f"Not changed: {refusal_text(error)}")
    else:
        messages.success(request, f"{purchase.name} marked entered in error.")
    return redirect(_account_url(patient) + "#packages")


@staff_required
@require_POST
def payment_entered_in_error(request, patient_uuid, payment_uuid):
    patient = patient_get(actor=request.user, patient_uuid=patient_uuid, purpose="account")
    payment = payment_get(actor=request.user, patient=patient, payment_uuid=payment_uuid)
    form = EnteredInErrorForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Not changed: say why the entry is wrong.")
        return redirect(_account_url(patient))
    try:
        services.payment_mark_entered_in_error(
            actor=request.user, payment=payment, reason=form.cleaned_data["reason"]
        )
    except DomainError as error:
        messages.error(request, f"Not changed: {refusal_text(error)}")
    else:
        messages.success(request, "Payment marked entered in error.")
    return redirect(_account_url(patient))


@staff_required
@require_GET
def superbill(request, patient_uuid, charge_uuid):
    require(request.user, Capability.ACCOUNT_VIEW)
    patient = patient_get(actor=request.user, patient_uuid=patient_uuid, purpose="superbill")
    charge = (
        Charge.objects.filter(patient=patient, uuid=charge_uuid, coding_problem="")
        .select_related("patient", "rendering_provider", "location")
        .first()
    )
    if charge is None:
        raise NotFound("No such coded charge on this patient's account.")
    content = superbill_pdf_build(actor=request.user, charge=charge)
    response = HttpResponse(content, content_type="application/pdf")
    name = f"superbill-{patient.mrn}-{charge.date_of_service:%Y%m%d}.pdf"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@staff_required
@require_GET
def statement(request, patient_uuid):
    require(request.user, Capability.ACCOUNT_VIEW)
    patient = patient_get(actor=request.user, patient_uuid=patient_uuid, purpose="statement")
    found = account_get(actor=request.user, patient=patient)
    today = timezone.localdate()
    content = statement_pdf_build(
        actor=request.user, patient=patient, account=found, statement_date=today
    )
    response = HttpResponse(content, content_type="application/pdf")
    name = f"statement-{patient.mrn}-{today:%Y%m%d}.pdf"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
