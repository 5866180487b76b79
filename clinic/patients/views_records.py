"""Requests for a copy of a patient's record: log one from the chart, see the clinic's open
requests by due date, and close each as fulfilled or withdrawn. Glue only: the work is in
services_records.py and selectors_records.py. The file itself is downloaded from the chart by
those who may read the whole record (clinic/dashboard/views_records.py)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.accounts.permissions import Capability
from clinic.core.access import require, staff_required
from clinic.core.exceptions import Conflict, DomainError
from clinic.core.forms import apply_domain_error, refusal_text
from clinic.patients import selectors, selectors_records, services_records
from clinic.patients.forms import (
    RecordsRequestForm,
    RecordsRequestFulfilForm,
    RecordsRequestWithdrawForm,
)
from clinic.patients.records_policy import records_request_policy
from clinic.patients.selectors import can_view_clinical


@staff_required
@require_GET
def records_request_list(request):
    page = selectors_records.open_records_requests(
        actor=request.user, page_number=request.GET.get("page", 1)
    )
    return render(
        request,
        "patients/records_request_list.html",
        {"page": page, "policy": records_request_policy()},
    )


@staff_required
@require_http_methods(["GET", "POST"])
def records_request_new(request, patient_uuid):
    require(request.user, Capability.RECORDS_REQUEST_MANAGE)
    patient = selectors.patient_get(
        actor=request.user, patient_uuid=patient_uuid, purpose="log a records request"
    )
    form = RecordsRequestForm(
        request.POST or None, initial={"received_on": timezone.localdate(), "requester": "patient"}
    )
    if request.method == "POST" and form.is_valid():
        try:
            logged = services_records.records_request_log(
                actor=request.user, patient=patient, **form.cleaned_data
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, f"Request logged. It is due by {logged.due_on:%m/%d/%Y}.")
            return redirect(
                "patients:records_request_detail",
                patient_uuid=patient.uuid,
                request_uuid=logged.uuid,
            )
    return render(
        request,
        "patients/records_request_form.html",
        {"patient": patient, "form": form, "policy": records_request_policy()},
        status=422 if form.errors else 200,
    )


def _detail(request, patient, records_request, *, fulfil=None, withdraw=None, status=200):
    return render(
        request,
        "patients/records_request_detail.html",
        {
            "patient": patient,
            "records_request": records_request,
            "fulfil_form": fulfil
            or RecordsRequestFulfilForm(initial={"fulfilled_on": timezone.localdate()}),
            "withdraw_form": withdraw or RecordsRequestWithdrawForm(),
            # Producing the file reads the whole clinical record: the care team and the clinic
            # administrator, as the patient's own download allows.
            "can_produce": can_view_clinical(actor=request.user, patient=patient),
        },
        status=status,
    )


@staff_required
@require_GET
def records_request_detail(request, patient_uuid, request_uuid):
    require(request.user, Capability.RECORDS_REQUEST_MANAGE)
    patient = selectors.patient_get(
        actor=request.user, patient_uuid=patient_uuid, purpose="records request"
    )
    records_request = selectors_records.records_request_get(
        actor=request.user, patient=patient, request_uuid=request_uuid
    )
    return _detail(request, patient, records_request)


@staff_required
@require_POST
def records_request_close(request, patient_uuid, request_uuid, action):
    require(request.user, Capability.RECORDS_REQUEST_MANAGE)
    patient = selectors.patient_get(
        actor=request.user, patient_uuid=patient_uuid, purpose="close a records request"
    )
    records_request = selectors_records.records_request_get(
        actor=request.user, patient=patient, request_uuid=request_uuid
    )
    if action == "fulfil":
        form = RecordsRequestFulfilForm(request.POST)
        close = services_records.records_request_fulfil
    else:
        form = RecordsRequestWithdrawForm(request.POST)
        close = services_records.records_request_withdraw
    if form.is_valid():
        try:
            close(actor=request.user, request=records_request, **form.cleaned_data)
        except Conflict as error:
            messages.error(request, refusal_text(error))
            return redirect(
                "patients:records_request_detail",
                patient_uuid=patient.uuid,
                request_uuid=records_request.uuid,
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, "Request closed." if action == "fulfil" else "Withdrawn.")
            return redirect("patients:patient_chart", patient_uuid=patient.uuid)
    forms_by_action = {"fulfil": form} if action == "fulfil" else {"withdraw": form}
    return _detail(request, patient, records_request, status=422, **forms_by_action)
