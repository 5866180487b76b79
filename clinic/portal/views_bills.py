"""The patient's bills: what each session was charged, what they and their insurer paid, what
they owe, their statement, and each session's superbill to claim from their insurer out of
network. Their own account only (`request.patient`); every read audited."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from clinic.billing.models import Charge
from clinic.billing.selectors_accounts import own_account
from clinic.billing.statement_pdf import statement_pdf_build
from clinic.billing.superbill_pdf import superbill_pdf_build
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import NotFound
from clinic.portal.access import patient_required


@patient_required
@require_GET
def bills(request):
    account = own_account(patient=request.patient)
    audit_record(
        actor=request.user,
        action=AuditAction.VIEW,
        object_type="account",
        object_id=request.patient.uuid,
        patient=request.patient,
        summary="Patient viewed their bills in the portal",
    )
    return render(request, "portal/bills.html", {"account": account})


@patient_required
@require_GET
def superbill(request, charge_uuid):
    charge = (
        Charge.objects.filter(patient=request.patient, uuid=charge_uuid, coding_problem="")
        .select_related("patient", "rendering_provider", "location")
        .first()
    )
    if charge is None:
        raise NotFound("No such bill.")
    content = superbill_pdf_build(actor=request.user, charge=charge)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="superbill-{charge.date_of_service:%Y%m%d}.pdf"'
    )
    response["Cache-Control"] = "no-store"
    return response


@patient_required
@require_GET
def statement(request):
    today = timezone.localdate()
    content = statement_pdf_build(
        actor=request.user,
        patient=request.patient,
        account=own_account(patient=request.patient),
        statement_date=today,
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="statement-{today:%Y%m%d}.pdf"'
    response["Cache-Control"] = "no-store"
    return response
