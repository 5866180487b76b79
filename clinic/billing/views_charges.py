"""Charge pages: the billing queue (billing's home), one charge (its coded facts, lines, visit
codes and the lines each re-coding replaced), coding a signed session from the queue, and the
fee schedule. Thin: selectors read, services decide."""

from __future__ import annotations

import contextlib

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.accounts.permissions import Capability
from clinic.billing import selectors_charges as selectors
from clinic.billing import selectors_claims
from clinic.billing.forms import (
    EnteredInErrorForm,
    FeeForm,
    PackageOfferForm,
    RecodeForm,
    VisitCodeForm,
    cents,
)
from clinic.billing.services import charges as services
from clinic.billing.services import packages
from clinic.core.access import require, staff_required
from clinic.core.exceptions import DomainError, NotFound
from clinic.core.forms import apply_domain_error, refusal_text


def _charge_url(charge) -> str:
    return reverse("billing:charge", args=[charge.uuid])


@staff_required
@require_GET
def queue(request):
    queue = selectors.billing_queue(actor=request.user)
    if file_uuid := request.GET.get("file"):
        # The file just exported, offered for download (a bad id just shows no link).
        with contextlib.suppress(NotFound):
            queue.file = selectors_claims.batch_get(actor=request.user, batch_uuid=file_uuid)
    return render(request, "billing/queue.html", {"queue": queue})


@staff_required
@require_POST
def session_code(request, session_uuid):
    session = selectors.signed_session_to_code(actor=request.user, session_uuid=session_uuid)
    try:
        charge = services.charge_code_session(actor=request.user, session=session)
    except DomainError as error:
        messages.error(request, f"Not coded: {refusal_text(error)}")
        return redirect("billing:queue")
    if charge.coding_problem:
        messages.warning(request, f"Coded with a problem: {charge.coding_problem}")
    else:
        messages.success(request, "Session coded.")
    return redirect(_charge_url(charge))


@staff_required
@require_POST
def sessions_code_batch(request):
    sessions = selectors.oldest_uncharged_sessions(actor=request.user)
    result = services.charge_code_sessions(actor=request.user, sessions=sessions)
    text = f"{result.coded} session{'s' if result.coded != 1 else ''} coded"
    if result.with_problems:
        text += f"; {result.with_problems} could not be coded and wait below with the reason"
    if result.already_charged:
        text += f"; {result.already_charged} had been coded meanwhile"
    messages.success(request, text + ".")
    return redirect("billing:queue")


def _charge_page(request, charge, *, visit_form=None, recode_form=None, status=200):
    user = request.user
    lines = list(charge.lines.all())
    current = [line for line in lines if line.is_valid]
    context = {
        "charge": charge,
        "lines": current,
        "replaced": [line for line in lines if not line.is_valid],
        "visits": list(charge.visit_codes.all()),
        "total_cents": sum(line.amount_cents or 0 for line in current),
        "unpriced": [line for line in current if line.amount_cents is None],
        "can_manage": user.can(Capability.CHARGE_MANAGE),
        "can_add_visit": selectors.can_add_visit_codes(actor=user, patient=charge.patient),
        "visit_form": visit_form or VisitCodeForm(),
        "recode_form": recode_form or RecodeForm(),
        "error_form": EnteredInErrorForm(),
        "can_see_chart": user.can(Capability.PATIENT_VIEW_CLINICAL),
        "claims": selectors_claims.claims_of_charge(actor=user, charge=charge),
    }
    return render(request, "billing/charge.html", context, status=status)


@staff_required
@require_GET
def charge(request, charge_uuid):
    return _charge_page(request, selectors.charge_get(actor=request.user, charge_uuid=charge_uuid))


@staff_required
@require_POST
def charge_recode(request, charge_uuid):
    found = selectors.charge_get(actor=request.user, charge_uuid=charge_uuid)
    require(request.user, Capability.CHARGE_MANAGE)
    form = RecodeForm(request.POST)
    if form.is_valid():
        try:
            services.charge_recode(
                actor=request.user, charge=found, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, "Coded again from the signed session.")
            return redirect(_charge_url(found))
    return _charge_page(request, found, recode_form=form, status=422)


@staff_required
@require_POST
def visit_code_add(request, charge_uuid):
    found = selectors.charge_get(actor=request.user, charge_uuid=charge_uuid)
    require(request.user, Capability.VISIT_CODE_ADD)
    form = VisitCodeForm(request.POST)
    if form.is_valid():
        try:
            visit = services.visit_code_add(actor=request.user, charge=found, **form.cleaned_data)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, f"Visit code {visit.code} added; the charge is coded again.")
            return redirect(_charge_url(found))
    return _charge_page(request, found, visit_form=form, status=422)


@staff_required
@require_POST
def visit_code_entered_in_error(request, charge_uuid, visit_uuid):
    found = selectors.charge_get(actor=request.user, charge_uuid=charge_uuid)
    visit = selectors.visit_code_get(actor=request.user, charge=found, visit_uuid=visit_uuid)
    form = EnteredInErrorForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Not changed: say why the code is wrong.")
        return redirect(_charge_url(found))
    try:
        services.visit_code_mark_entered_in_error(
            actor=request.user, visit=visit, reason=form.cleaned_data["reason"]
        )
    except DomainError as error:
        messages.error(request, f"Not changed: {refusal_text(error)}")
    else:
        messages.success(
            request, f"{visit.code} marked entered in error; the charge is coded again."
        )
    return redirect(_charge_url(found))


@staff_required
@require_http_methods(["GET", "POST"])
def fee_schedule(request):
    require(request.user, Capability.FEE_SCHEDULE_MANAGE)
    adding_package = request.POST.get("form") == "package"
    form = FeeForm(None if adding_package else (request.POST or None))
    package_form = PackageOfferForm(request.POST if adding_package else None, prefix="package")
    if adding_package and package_form.is_valid():
        data = package_form.cleaned_data
        try:
            offer = packages.package_offer_add(
                actor=request.user,
                entry=packages.OfferEntry(
                    name=data["name"],
                    route=data["route"],
                    sessions=data["sessions"],
                    price_cents=cents(data["price"]) or 0,
                ),
            )
        except DomainError as error:
            apply_domain_error(package_form, error)
        else:
            messages.success(request, f"Package added: {offer.name}.")
            return redirect(reverse("billing:fee_schedule") + "#packages")
    if request.method == "POST" and not adding_package and form.is_valid():
        data = form.cleaned_data
        try:
            entry = services.fee_set(
                actor=request.user,
                code=data["code"],
                price_cents=cents(data["price"]) or 0,
                effective_on=data["effective_on"],
                note=data["note"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(
                request, f"{entry.code}: new price from {entry.effective_on:%m/%d/%Y}."
            )
            return redirect(reverse("billing:fee_schedule") + f"#fee-{entry.code}")
    return render(
        request,
        "billing/fee_schedule.html",
        {
            "rows": selectors.fee_schedule(actor=request.user),
            "form": form,
            "offers": selectors.package_offers(actor=request.user),
            "package_form": package_form,
            "error_form": EnteredInErrorForm(),
        },
        status=422 if form.errors or package_form.errors else 200,
    )


@staff_required
@require_POST
def package_offer_switch(request, offer_uuid):
    offer = selectors.package_offer_get(actor=request.user, offer_uuid=offer_uuid)
    active = request.POST.get("active") == "1"
    packages.package_offer_switch(actor=request.user, offer=offer, active=active)
    messages.success(request, f"{offer.name} {'is sold again' if active else 'is no longer sold'}.")
    return redirect(reverse("billing:fee_schedule") + "#packages")


@staff_required
@require_POST
def fee_entered_in_error(request, entry_uuid):
    entry = selectors.fee_entry_get(actor=request.user, entry_uuid=entry_uuid)
    form = EnteredInErrorForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Not changed: say why the price is wrong.")
    else:
        services.fee_mark_entered_in_error(
            actor=request.user, entry=entry, reason=form.cleaned_data["reason"]
        )
        messages.success(
            request,
            f"{entry.code} price from {entry.effective_on:%m/%d/%Y} marked entered in error.",
        )
    return redirect(reverse("billing:fee_schedule") + f"#fee-{entry.code}")
