"""Requests for a copy of a patient's record: log one from the chart, see the clinic's open
requests by due date, and close each as fulfilled or withdrawn. Glue only: the work is in
services_records.py and selectors_records.py. The file itself is downloaded from the chart by
those who may read the whole record (clinic/dashboard/views_records.py)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.accounts.permissions import Capability
from clinic.core.access import require, staff_required
from clinic.core.exceptions import Conflict, DomainError
from clinic.core.forms import TextField, apply_domain_error, refusal_text
from clinic.patients import selectors, selectors_records, services_records
from clinic.patients.forms import (
    RecordsRequestForm,
    RecordsRequestFulfilForm,
    RecordsRequestWithdrawForm,
)
from clinic.patients.records_policy import records_request_policy
from clinic.patients.selectors import can_view_clinical


class RecordsRequestExtendForm(forms.Form):
    reason = TextField(
        label="The reasons for the delay, as written to the requester",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


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


def _detail(
    request, patient, records_request, *, fulfil=None, withdraw=None, extend=None, status=200
):
    policy = records_request_policy()
    return render(
        request,
        "patients/records_request_detail.html",
        {
            "patient": patient,
            "records_request": records_request,
            "fulfil_form": fulfil
            or RecordsRequestFulfilForm(initial={"fulfilled_on": timezone.localdate()}),
            "withdraw_form": withdraw or RecordsRequestWithdrawForm(),
            "extend_form": extend or RecordsRequestExtendForm(),
            # 45 CFR 164.524(b)(2)(ii): once, and only within the first time limit (the
            # service refuses otherwise; the page offers it only then).
            "can_extend": records_request.first_due_on is None
            and timezone.localdate() <= records_request.due_on,
            "extension_days": policy.extension_days,
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


@staff_required
@require_POST
def records_request_extend(request, patient_uuid, request_uuid):
    """The one extension (45 CFR 164.524(b)(2)(ii)), with the reasons written to the requester."""
    require(request.user, Capability.RECORDS_REQUEST_MANAGE)
    patient = selectors.patient_get(
        actor=request.user, patient_uuid=patient_uuid, purpose="extend a records request"
    )
    records_request = selectors_records.records_request_get(
        actor=request.user, patient=patient, request_uuid=request_uuid
    )
    form = RecordsRequestExtendForm(request.POST)
    if form.is_valid():
        try:
            extended = services_records.records_request_extend(
                actor=request.user, request=records_request, **form.cleaned_data
            )
        except Conflict as error:
            messages.error(request, refusal_text(error))
        except DomainError as error:
            apply_domain_error(form, error)
            return _detail(request, patient, records_request, extend=form, status=422)
        else:
            messages.success(
                request,
                f"Extended: now due by {extended.due_on:%m/%d/%Y}. Give the requester this date "
                "and the reasons in writing, if not done yet.",
            )
        return redirect(
            "patients:records_request_detail",
            patient_uuid=patient.uuid,
            request_uuid=records_request.uuid,
        )
    return _detail(request, patient, records_request, extend=form, status=422)
