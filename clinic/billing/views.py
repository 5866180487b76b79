"""The problem list's pages: add a diagnosis (with the intake's suggestions and a search of
the code set), choose the primary one, resolve one, mark one entered in error. The list itself
is a section of the chart (clinic/billing/chart.py). Thin: the services decide."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.accounts.permissions import Capability
from clinic.billing import icd10, selectors, services
from clinic.billing.forms import DiagnosisForm, EnteredInErrorForm, ResolveForm
from clinic.billing.services.diagnoses import NOT_A_PRESCRIBER
from clinic.core.access import require, staff_required
from clinic.core.exceptions import DomainError
from clinic.core.forms import apply_domain_error, refusal_text
from clinic.patients.selectors import patient_get, require_clinical_act
from clinic.screening.choices import Indication
from clinic.screening.selectors import latest_indication

SEARCH_MIN_CHARACTERS = 2


def _patient_for_change(request, patient_uuid):
    patient = patient_get(actor=request.user, patient_uuid=patient_uuid, purpose="problem list")
    require_clinical_act(
        actor=request.user,
        patient=patient,
        capability=Capability.DIAGNOSIS_RECORD,
        message=NOT_A_PRESCRIBER,
    )
    return patient


def _to_chart(patient):
    return redirect(reverse("patients:patient_chart", args=[patient.uuid]) + "#diagnoses")


@staff_required
@require_http_methods(["GET", "POST"])
def diagnosis_add(request, patient_uuid):
    patient = _patient_for_change(request, patient_uuid)
    indication = latest_indication(patient)
    picked = request.POST.get("pick", "") if request.method == "POST" else ""
    if picked:
        # A suggestion or a search result was chosen: fill the code in, save nothing yet.
        data = request.POST.copy()
        data["icd10_code"] = picked
        form = DiagnosisForm(initial={k: v for k, v in data.items() if k != "csrfmiddlewaretoken"})
    else:
        form = DiagnosisForm(request.POST or None)
    if request.method == "POST" and not picked and form.is_valid():
        try:
            diagnosis = services.diagnosis_record(
                actor=request.user,
                patient=patient,
                code=form.cleaned_data["icd10_code"],
                onset_date=form.cleaned_data["onset_date"],
                primary=form.cleaned_data["primary"],
                note=form.cleaned_data["note"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, f"{diagnosis.icd10_code} added to the problem list.")
            return _to_chart(patient)
    code_text = form["icd10_code"].value() or ""
    chosen = None
    if code_text:
        try:
            chosen = icd10.billable_code(code_text)
        except icd10.CodeError:
            chosen = None
    # One read of the list answers both: which codes are current, and is one primary.
    current = [
        d for d in selectors.diagnosis_list(actor=request.user, patient=patient) if d.is_current
    ]
    current_codes = {d.icd10_code for d in current}
    return render(
        request,
        "billing/diagnosis_form.html",
        {
            "patient": patient,
            "form": form,
            "chosen": chosen,
            "indication_label": Indication(indication).label
            if indication in Indication.values
            else "",
            "suggestions": [
                s for s in icd10.suggestions(indication) if s.code not in current_codes
            ],
            "has_primary": any(d.is_primary for d in current),
        },
    )


@staff_required
@require_GET
def icd10_search(request):
    """Code-set search for the add form (htmx). No patient is named: nothing to audit."""
    require(request.user, Capability.DIAGNOSIS_RECORD)
    text = request.GET.get("q", "")[:80]
    results = icd10.search(text) if len(text.strip()) >= SEARCH_MIN_CHARACTERS else []
    return render(
        request,
        "billing/_icd10_results.html",
        {"results": results, "searched": len(text.strip()) >= SEARCH_MIN_CHARACTERS},
    )


def _diagnosis_for_change(request, patient_uuid, diagnosis_uuid):
    patient = _patient_for_change(request, patient_uuid)
    return patient, selectors.diagnosis_get(
        actor=request.user, patient=patient, diagnosis_uuid=diagnosis_uuid
    )


@staff_required
@require_POST
def diagnosis_make_primary(request, patient_uuid, diagnosis_uuid):
    patient, diagnosis = _diagnosis_for_change(request, patient_uuid, diagnosis_uuid)
    try:
        services.diagnosis_make_primary(actor=request.user, diagnosis=diagnosis)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{diagnosis.icd10_code} is now the primary diagnosis.")
    return _to_chart(patient)


@staff_required
@require_POST
def diagnosis_resolve(request, patient_uuid, diagnosis_uuid):
    patient, diagnosis = _diagnosis_for_change(request, patient_uuid, diagnosis_uuid)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, f"{diagnosis.icd10_code} not resolved: {errors[0]}")
        return _to_chart(patient)
    try:
        services.diagnosis_resolve(
            actor=request.user, diagnosis=diagnosis, resolved_on=form.cleaned_data["resolved_on"]
        )
    except DomainError as error:
        messages.error(request, f"{diagnosis.icd10_code} not resolved: {refusal_text(error)}")
    else:
        messages.success(request, f"{diagnosis.icd10_code} resolved; it stays on the list.")
    return _to_chart(patient)


@staff_required
@require_POST
def diagnosis_entered_in_error(request, patient_uuid, diagnosis_uuid):
    patient, diagnosis = _diagnosis_for_change(request, patient_uuid, diagnosis_uuid)
    form = EnteredInErrorForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the entry is wrong before marking it.")
        return _to_chart(patient)
    try:
        services.diagnosis_mark_entered_in_error(
            actor=request.user, diagnosis=diagnosis, reason=form.cleaned_data["reason"]
        )
    except DomainError as error:
        messages.error(request, refusal_text(error))
    else:
        messages.success(request, "Marked as entered in error; the entry stays in the record.")
    return _to_chart(patient)
