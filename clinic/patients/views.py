"""Patient pages: parse, call a selector or service, render."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from clinic.accounts.permissions import Capability
from clinic.core.access import require, staff_required
from clinic.core.exceptions import DomainError, NotFound, PermissionDenied
from clinic.core.forms import apply_domain_error
from clinic.patients import chart, emergency_access, selectors, services, views_emergency
from clinic.patients.duplicates import PossibleDuplicatePatient
from clinic.patients.forms import (
    CareTeamForm,
    EnteredInErrorForm,
    MeasurementForm,
    PatientForm,
    PatientRegisterForm,
    PatientSearchForm,
)
from clinic.patients.services import DEMOGRAPHIC_FIELDS


@staff_required
@require_http_methods(["GET", "POST"])
def patient_list(request):
    """GET lists every visible patient; a search is POSTed so its terms stay out of URLs."""
    form = PatientSearchForm(request.POST if request.method == "POST" else None)
    search, page_number = "", request.GET.get("page", 1)
    if request.method == "POST" and form.is_valid():
        search = form.cleaned_data["q"] or ""
        page_number = form.cleaned_data["page"] or 1
    page = selectors.patient_page(actor=request.user, search=search, page_number=page_number)
    context = {
        "form": form,
        "page": page,
        "search": search,
        "can_create": request.user.can(Capability.PATIENT_CREATE),
    }
    template = "patients/patient_list.html"
    if request.htmx:
        template += "#results"
    return render(request, template, context)


@staff_required
@require_http_methods(["GET", "POST"])
def patient_create(request):
    require(request.user, Capability.PATIENT_CREATE)
    form = PatientRegisterForm(request.POST or None)
    candidates = []
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in DEMOGRAPHIC_FIELDS}
        try:
            patient = services.patient_register(
                actor=request.user,
                data=data,
                confirm_new_patient=form.cleaned_data["confirm_new_patient"],
            )
        except PossibleDuplicatePatient as error:
            apply_domain_error(form, error)
            # Shown through the audited selector: the page lists who may already be this person.
            candidates = selectors.patient_duplicate_candidates(
                actor=request.user,
                given_name=data["legal_given_name"],
                family_name=data["legal_family_name"],
                date_of_birth=data["date_of_birth"],
                email=data["email"],
                phones=[data["phone_mobile"], data["phone_home"]],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, f"Registered {patient.full_name}, MRN {patient.mrn}.")
            return redirect("patients:patient_chart", patient_uuid=patient.uuid)
    return render(
        request,
        "patients/patient_form.html",
        {"form": form, "creating": True, "candidates": candidates},
    )


@staff_required
def patient_chart(request, patient_uuid):
    actor = request.user
    try:
        patient = selectors.patient_get(actor=actor, patient_uuid=patient_uuid)
    except NotFound:
        if not actor.can(Capability.PATIENT_EMERGENCY_ACCESS):
            raise
        # A clinician outside the care team may break the glass (the refusal is audited).
        return views_emergency.offer(request, patient_uuid, status=404)
    clinical = selectors.can_view_clinical(actor=actor, patient=patient)
    measurements = selectors.body_measurement_list(actor=actor, patient=patient) if clinical else []
    body = selectors.current_body(measurements=measurements)
    context = {
        "patient": patient,
        "care_team": list(patient.care_team_members.all()),
        "clinical": clinical,
        "body": body,
        "measurements": measurements,
        # Alerts from later stages of care (e.g. suicidality) come first: they matter most.
        "emergency_accesses": emergency_access.emergency_access_banner(
            actor=actor, patient=patient
        ),
        "alerts": chart.extra_alerts(actor=actor, patient=patient, clinical=clinical)
        + selectors.chart_alerts(patient=patient, body=body if clinical else None),
        "sections": chart.extra_sections(actor=actor, patient=patient, clinical=clinical),
        "can_edit": actor.can(Capability.PATIENT_EDIT_DEMOGRAPHICS),
        "can_edit_care_team": actor.can(Capability.PATIENT_EDIT_CARE_TEAM),
        "can_record_measurements": clinical and actor.can(Capability.PATIENT_RECORD_MEASUREMENTS),
        "measurement_form": MeasurementForm(),
    }
    return render(request, "patients/patient_chart.html", context)


@staff_required
@require_http_methods(["GET", "POST"])
def patient_edit(request, patient_uuid):
    require(request.user, Capability.PATIENT_EDIT_DEMOGRAPHICS)
    patient = selectors.patient_get(actor=request.user, patient_uuid=patient_uuid, purpose="edit")
    form = PatientForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            services.patient_update(actor=request.user, patient=patient, data=data)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, "Demographics saved.")
            return redirect("patients:patient_chart", patient_uuid=patient.uuid)
    return render(
        request, "patients/patient_form.html", {"form": form, "patient": patient, "creating": False}
    )


@staff_required
@require_http_methods(["GET", "POST"])
def care_team_edit(request, patient_uuid):
    require(request.user, Capability.PATIENT_EDIT_CARE_TEAM)
    patient = selectors.patient_get(
        actor=request.user, patient_uuid=patient_uuid, purpose="care team"
    )
    members = list(patient.care_team_members.all())

    def by_role(role):
        return [m.staff for m in members if m.team_role == role]

    initial = {
        "primary_prescriber": next(iter(by_role("primary_prescriber")), None),
        "prescribers": by_role("prescriber"),
        "nurses": by_role("nurse"),
        "therapists": by_role("therapist"),
    }
    form = CareTeamForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.care_team_set(
                actor=request.user,
                patient=patient,
                primary_prescriber=form.cleaned_data["primary_prescriber"],
                prescribers=list(form.cleaned_data["prescribers"]),
                nurses=list(form.cleaned_data["nurses"]),
                therapists=list(form.cleaned_data["therapists"]),
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, "Care team saved.")
            return redirect("patients:patient_chart", patient_uuid=patient.uuid)
    return render(request, "patients/care_team_form.html", {"form": form, "patient": patient})


@staff_required
@require_http_methods(["GET", "POST"])
def measurement_create(request, patient_uuid):
    patient = selectors.patient_get(
        actor=request.user, patient_uuid=patient_uuid, purpose="measurements"
    )
    if not selectors.can_act_clinically(
        actor=request.user, patient=patient, capability=Capability.PATIENT_RECORD_MEASUREMENTS
    ):
        raise PermissionDenied("Only the care team's prescribers and nurses record measurements.")
    form = MeasurementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.body_measurement_record(
                actor=request.user, patient=patient, **form.cleaned_data
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, "Measurement recorded.")
            return redirect("patients:patient_chart", patient_uuid=patient.uuid)
    return render(request, "patients/measurement_form.html", {"form": form, "patient": patient})


@staff_required
@require_POST
def measurement_entered_in_error(request, patient_uuid, measurement_uuid):
    patient = selectors.patient_get(
        actor=request.user, patient_uuid=patient_uuid, purpose="measurements"
    )
    selectors.require_clinical_act(
        actor=request.user,
        patient=patient,
        capability=Capability.PATIENT_RECORD_MEASUREMENTS,
        message="Only the care team's prescribers and nurses correct measurements.",
    )
    measurement = selectors.body_measurement_get(patient=patient, measurement_uuid=measurement_uuid)
    form = EnteredInErrorForm(request.POST)
    if form.is_valid():
        try:
            services.body_measurement_mark_entered_in_error(
                actor=request.user, measurement=measurement, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Marked as entered in error; the entry stays in the record.")
    else:
        messages.error(request, "Say why the entry is wrong before marking it.")
    return redirect("patients:patient_chart", patient_uuid=patient.uuid)
