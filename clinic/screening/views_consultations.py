"""The front desk's queue of consultation requests: parse, call a selector or service, render.

Everything here needs `consultation.manage`; registering a patient from a request also needs
`patient.create`. The forms live here because only these pages use them.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from clinic.accounts.permissions import Capability
from clinic.core.access import require, staff_required
from clinic.core.exceptions import DomainError
from clinic.core.forms import BirthDateField, DateInput, TextField, apply_domain_error
from clinic.patients.choices import Sex
from clinic.screening import selectors, services
from clinic.screening.choices import ConsultationStatus


class ConsultationFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Show",
        choices=selectors.STATUS_FILTERS,
        required=False,
    )
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class ConsultationStatusForm(forms.Form):
    status = forms.ChoiceField(label="Status", choices=ConsultationStatus.choices)
    note = TextField(
        label="Note (optional)",
        required=False,
        max_length=services.NOTE_MAX_LENGTH,
        help_text="e.g. “Left a voicemail”. Notes are added to the request with your name.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ConsultationConvertForm(forms.Form):
    """What patient registration needs, pre-filled from the request; the front desk adds
    what the request lacks (date of birth, sex)."""

    legal_given_name = TextField(label="Legal first name", max_length=100)
    legal_family_name = TextField(label="Legal last name", max_length=100)
    date_of_birth = BirthDateField(
        widget=DateInput(), error_messages={"invalid": "Enter the date as YYYY-MM-DD."}
    )
    sex = forms.ChoiceField(choices=[("", "Choose…"), *Sex.choices])
    email = TextField(label="E-mail", required=False, max_length=254, widget=forms.EmailInput())
    phone_mobile = TextField(
        label="Mobile phone",
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
    confirm_new_patient = forms.BooleanField(
        label="I have checked the patients listed above: this is a different person.",
        required=False,
    )

    PATIENT_FIELDS = [
        "legal_given_name",
        "legal_family_name",
        "date_of_birth",
        "sex",
        "email",
        "phone_mobile",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("autocomplete", "off")

    def patient_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.PATIENT_FIELDS}


def _initial_patient_data(consultation) -> dict:
    return {
        "legal_given_name": consultation.given_name,
        "legal_family_name": consultation.family_name,
        "date_of_birth": consultation.date_of_birth,
        "email": consultation.email,
        "phone_mobile": consultation.phone,
    }


@staff_required
def consultation_list(request):
    require(request.user, Capability.CONSULTATION_MANAGE)
    form = ConsultationFilterForm(request.GET)
    status, page_number = selectors.STATUS_FILTER_OPEN, 1
    if form.is_valid():
        status = form.cleaned_data["status"] or selectors.STATUS_FILTER_OPEN
        page_number = form.cleaned_data["page"] or 1
    page = selectors.consultation_request_page(
        actor=request.user, status=status, page_number=page_number
    )
    counts = selectors.consultation_status_counts(actor=request.user)
    context = {
        "form": form,
        "page": page,
        "status": status,
        "status_label": dict(selectors.STATUS_FILTERS)[status],
        "filters": [(value, label, counts[value]) for value, label in selectors.STATUS_FILTERS],
    }
    template = "screening/consultation_list.html"
    if request.htmx:
        template += "#results"
    return render(request, template, context)


@staff_required
@require_http_methods(["GET", "POST"])
def consultation_detail(request, consultation_uuid):
    """The request, and a form to change its status or add a note."""
    require(request.user, Capability.CONSULTATION_MANAGE)
    consultation = selectors.consultation_request_get(
        actor=request.user, consultation_uuid=consultation_uuid
    )
    form = ConsultationStatusForm(
        request.POST if request.method == "POST" else None,
        initial={"status": consultation.status},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.consultation_request_set_status(
                actor=request.user,
                consultation=consultation,
                status=form.cleaned_data["status"],
                note=form.cleaned_data["note"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, "Consultation request updated.")
            return redirect("screening:consultation_detail", consultation_uuid=consultation.uuid)
    context = {
        "consultation": consultation,
        "form": form,
        "can_register": request.user.can(Capability.PATIENT_CREATE),
    }
    return render(request, "screening/consultation_detail.html", context)


@staff_required
@require_http_methods(["GET", "POST"])
def consultation_convert(request, consultation_uuid):
    """Register the person as a patient: warn about likely duplicates first, and let the
    front desk open an existing patient instead."""
    require(request.user, Capability.CONSULTATION_MANAGE)
    require(request.user, Capability.PATIENT_CREATE)
    consultation = selectors.consultation_request_get(
        actor=request.user, consultation_uuid=consultation_uuid, purpose="convert to patient"
    )
    if consultation.patient_id is not None:
        messages.info(request, "This request is already linked to a patient.")
        return redirect("screening:consultation_detail", consultation_uuid=consultation.uuid)
    form = ConsultationConvertForm(
        request.POST if request.method == "POST" else None,
        initial=_initial_patient_data(consultation),
    )
    if request.method == "POST" and form.is_valid():
        data = form.patient_data()
        try:
            patient = services.consultation_request_convert(
                actor=request.user,
                consultation=consultation,
                data=data,
                allow_possible_duplicate=form.cleaned_data["confirm_new_patient"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(
                request,
                f"Registered {patient.full_name}, MRN {patient.mrn}, from the consultation "
                "request.",
            )
            return redirect("patients:patient_chart", patient_uuid=patient.uuid)
    # The check runs on what is about to be registered (the front desk may have added a
    # date of birth, or corrected a name), falling back to the request's own values.
    typed = form.cleaned_data if form.is_bound and hasattr(form, "cleaned_data") else {}
    candidates = selectors.consultation_duplicate_candidates(
        actor=request.user,
        consultation=consultation,
        given_name=typed.get("legal_given_name"),
        family_name=typed.get("legal_family_name"),
        date_of_birth=typed.get("date_of_birth"),
        email=typed.get("email"),
        phone=typed.get("phone_mobile"),
    )
    context = {"consultation": consultation, "form": form, "candidates": candidates}
    return render(request, "screening/consultation_convert.html", context)


@staff_required
@require_POST
def consultation_link(request, consultation_uuid):
    """Link the request to an existing patient and open that patient's chart."""
    require(request.user, Capability.CONSULTATION_MANAGE)
    consultation = selectors.consultation_request_get(
        actor=request.user, consultation_uuid=consultation_uuid, purpose="link to patient"
    )
    try:
        patient = services.consultation_request_link_patient(
            actor=request.user,
            consultation=consultation,
            patient_uuid=request.POST.get("patient_uuid", ""),
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("screening:consultation_detail", consultation_uuid=consultation.uuid)
    messages.success(request, f"Consultation request linked to {patient.full_name}.")
    return redirect("patients:patient_chart", patient_uuid=patient.uuid)
