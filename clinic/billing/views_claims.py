"""Claim pages: make a claim from a charge, one claim (its CMS-1500 boxes, the problems that
stop it, its history and the next steps), export the ready claims as an 837P file, and the
file as it was sent. Thin: selectors read, services decide."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from clinic.accounts.permissions import Capability
from clinic.billing import selectors_charges, selectors_claims
from clinic.billing.models import ClaimStatus
from clinic.billing.services import claim_corrections
from clinic.billing.services import claims as services
from clinic.core.access import require, staff_required
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import DomainError
from clinic.core.forms import refusal_text


def _url(claim) -> str:
    return reverse("billing:claim", args=[claim.uuid])


@staff_required
@require_POST
def claim_create(request, charge_uuid):
    charge = selectors_charges.charge_get(actor=request.user, charge_uuid=charge_uuid)
    try:
        claim = services.claim_create(actor=request.user, charge=charge)
    except DomainError as error:
        messages.error(request, f"No claim made: {refusal_text(error)}")
        return redirect(reverse("billing:charge", args=[charge.uuid]))
    if claim.problems:
        messages.warning(request, "Claim drafted: correct what is listed before it can go.")
    else:
        messages.success(request, "Claim ready to export.")
    return redirect(_url(claim))


@staff_required
@require_POST
def claims_create_batch(request):
    found = selectors_claims.oldest_unclaimed_charges(actor=request.user)
    result = services.claims_create(actor=request.user, charges=found)
    text = f"{result.ready} claim{'s' if result.ready != 1 else ''} ready to export"
    if result.drafts:
        text += f"; {result.drafts} drafted with something to correct (listed below)"
    if result.not_made:
        text += f"; {result.not_made} had been claimed meanwhile"
    messages.success(request, text + ".")
    return redirect(reverse("billing:queue") + "#claims")


@staff_required
@require_GET
def claim(request, claim_uuid):
    found = selectors_claims.claim_get(actor=request.user, claim_uuid=claim_uuid)
    stored = found.data
    return render(
        request,
        "billing/claim.html",
        {
            "claim": found,
            "data": stored,
            "diagnoses": list(enumerate(stored.get("diagnosis_codes", []), start=1)),
            "changes": list(found.changes.select_related("changed_by")),
            "next": sorted(services.NEXT.get(found.status, set())),
            "status_names": dict(ClaimStatus.choices),
            "can_manage": request.user.can(Capability.CHARGE_MANAGE),
            "can_correct": claim_corrections.can_correct(found),
            "corrections": list(found.corrections.order_by("created_at")),
        },
    )


@staff_required
@require_POST
def claim_correct(request, claim_uuid):
    require(request.user, Capability.CHARGE_MANAGE)
    found = selectors_claims.claim_get(actor=request.user, claim_uuid=claim_uuid)
    try:
        correction = claim_corrections.claim_correct(
            actor=request.user,
            claim=found,
            kind=request.POST.get("kind", ""),
            reason=request.POST.get("reason", ""),
        )
    except DomainError as error:
        messages.error(request, f"No correction made: {refusal_text(error)}")
        return redirect(_url(found))
    kind = "Replacement" if correction.frequency_code == "7" else "Void"
    if correction.problems:
        messages.warning(request, f"{kind} claim drafted: correct what is listed before it goes.")
    else:
        messages.success(request, f"{kind} claim ready: it goes in the next 837P file.")
    return redirect(_url(correction))


@staff_required
@require_POST
def claim_check(request, claim_uuid):
    found = selectors_claims.claim_get(actor=request.user, claim_uuid=claim_uuid)
    try:
        checked = services.claim_check(actor=request.user, claim=found)
    except DomainError as error:
        messages.error(request, f"Not checked: {refusal_text(error)}")
    else:
        if checked.problems:
            messages.warning(request, f"{len(checked.problems)} thing(s) to correct.")
        else:
            messages.success(request, "Claim ready to export.")
    return redirect(_url(found))


@staff_required
@require_POST
def claim_record(request, claim_uuid):
    found = selectors_claims.claim_get(actor=request.user, claim_uuid=claim_uuid)
    try:
        services.claim_record(
            actor=request.user,
            claim=found,
            to_status=request.POST.get("to_status", ""),
            note=request.POST.get("note", ""),
            payer_claim_number=request.POST.get("payer_claim_number", ""),
        )
    except (DomainError, ValueError) as error:
        text = refusal_text(error) if isinstance(error, DomainError) else "Choose a next step."
        messages.error(request, f"Not recorded: {text}")
    else:
        messages.success(request, "Recorded.")
    return redirect(_url(found))


@staff_required
@require_POST
def claims_export(request):
    claims = selectors_claims.ready_claims(actor=request.user)
    try:
        batch = services.claims_export(actor=request.user, claims=claims)
    except DomainError as error:
        messages.error(request, f"Nothing exported: {refusal_text(error)}")
        return redirect("billing:queue")
    messages.success(
        request,
        f"837P file {batch.control_number} written with {batch.claim_count} claim(s): "
        "download it for the clearinghouse.",
    )
    return redirect(reverse("billing:queue") + f"?file={batch.uuid}#claims")


@staff_required
@require_GET
def batch_download(request, batch_uuid):
    batch = selectors_claims.batch_get(actor=request.user, batch_uuid=batch_uuid)
    require(request.user, Capability.CHARGE_VIEW)
    audit_record(
        actor=request.user,
        action=AuditAction.EXPORT,
        object_type="claim_batch",
        object_id=batch.uuid,
        summary=f"837P file {batch.control_number} downloaded",
    )
    response = HttpResponse(batch.content, content_type="text/plain; charset=us-ascii")
    response["Content-Disposition"] = f'attachment; filename="837p-{batch.control_number}.txt"'
    response["Cache-Control"] = "no-store"
    return response
