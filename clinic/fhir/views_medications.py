"""FHIR MedicationAdministration and MedicationRequest at /fhir/R4/ (issue 16): the doses given,
every route together, and the treatment plans as the orders for them."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from clinic.fhir.capability import search_includes, search_params
from clinic.fhir.http import (
    bundle,
    date_bounds,
    dump,
    fhir_endpoint,
    json_response,
    named_patient,
    paged_patient_search,
    refuse_unknown,
    request_actor,
)
from clinic.fhir.includes import administration_requests, last_updated_within
from clinic.fhir.medications import medication_administration_resource, medication_request_resource
from clinic.fhir.records import dose_facts, medication_order_facts
from clinic.protocols import selectors as protocols
from clinic.treatment_sessions.selectors_doses import dose_in_reach, dose_page


@fhir_endpoint()
def medication_administration_read(request: HttpRequest, administration_id: str) -> HttpResponse:
    dose = dose_in_reach(
        actor=request_actor(request),
        dose_uuid=administration_id,
        purpose="FHIR MedicationAdministration read",
    )
    return json_response(dump(medication_administration_resource(dose_facts(dose))))


_ADMINISTRATION_SEARCH = search_params("MedicationAdministration")


@fhir_endpoint()
def medication_administration_search(request: HttpRequest) -> HttpResponse:
    return paged_patient_search(
        request,
        resource="MedicationAdministration",
        allowed=_ADMINISTRATION_SEARCH,
        date_param="effective-time",
        read_page=lambda actor, patient, after, before, number, size, purpose, updated: dose_page(
            actor=actor,
            patient=patient,
            given_after=after,
            given_before=before,
            updated_after=updated[0],
            updated_before=updated[1],
            page_number=number,
            page_size=size,
            purpose=purpose,
        ),
        to_resource=lambda dose, patient: medication_administration_resource(dose_facts(dose)),
        includes=search_includes("MedicationAdministration"),
        include=administration_requests,
    )


@fhir_endpoint()
def medication_request_read(request: HttpRequest, request_id: str) -> HttpResponse:
    plan = protocols.plan_in_reach(
        actor=request_actor(request), plan_uuid=request_id, purpose="FHIR MedicationRequest read"
    )
    return json_response(
        dump(medication_request_resource(medication_order_facts(plan, str(plan.patient.uuid))))
    )


_REQUEST_SEARCH = search_params("MedicationRequest")


@fhir_endpoint()
def medication_request_search(request: HttpRequest) -> HttpResponse:
    """The patient's plans as orders, whole (a few per patient, not paged)."""
    params = request.GET
    refuse_unknown(params, _REQUEST_SEARCH, "MedicationRequest")
    updated = date_bounds(params.getlist("_lastUpdated"), "_lastUpdated")
    patient = named_patient(request, "FHIR MedicationRequest search")
    plans = protocols.plans_read(
        actor=request_actor(request), patient=patient, purpose="FHIR MedicationRequest search"
    )
    found = [
        dump(medication_request_resource(medication_order_facts(plan, str(patient.uuid))))
        for plan in plans
    ]
    found = last_updated_within(found, updated)
    for name in ("status", "intent"):
        if name in params:
            found = [order for order in found if order[name] in params[name].split(",")]
    return json_response(bundle(request, found, total=len(found)))
