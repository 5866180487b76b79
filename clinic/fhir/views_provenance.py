"""FHIR Provenance and the clinic's Organization at /fhir/R4/ (issue 16): who signed a
treatment session's record, when, and what the signature covers. A Provenance is reached as
its session is (the care team and the clinic administrator; roles without clinical view are
refused; off the team is not found), and every read is audited."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from clinic.assessments import selectors as assessments
from clinic.core.exceptions import NotFound, PermissionDenied
from clinic.fhir.capability import search_params
from clinic.fhir.http import (
    FhirError,
    bundle,
    count_param,
    dump,
    fhir_endpoint,
    json_response,
    named_patient,
    page_links,
    refuse_unknown,
    request_actor,
)
from clinic.fhir.provenance import (
    CLINIC_ORGANIZATION_ID,
    ClinicFacts,
    organization_resource,
    provenance_resource,
)
from clinic.fhir.records import signature_facts
from clinic.treatment_sessions.models import DoseAdministration, TreatmentSession
from clinic.treatment_sessions.selectors import sessions_of_scores
from clinic.treatment_sessions.selectors_doses import dose_in_reach
from clinic.treatment_sessions.selectors_signatures import (
    session_signature_get,
    signed_session_page,
)
from clinic.treatment_sessions.selectors_vital_signs import vitals_reading_get

NOT_SIGNED = "No such Provenance: the session is not signed, or not in your reach."


def _provenance(session: TreatmentSession) -> dict:
    return dump(provenance_resource(signature_facts(session, settings.CLINIC_NAME)))


@fhir_endpoint()
def provenance_read(request: HttpRequest, provenance_id: str) -> HttpResponse:
    """A signed session's Provenance, by the session's id."""
    session = session_signature_get(
        actor=request_actor(request), session_uuid=provenance_id, purpose="FHIR Provenance read"
    )
    if session.signed_at is None:
        raise NotFound(NOT_SIGNED)
    return json_response(_provenance(session))


_PROVENANCE_SEARCH = search_params("Provenance")
_VITALS_SUFFIXES = {"bp", "hr", "rr", "spo2", "temp"}


@fhir_endpoint()
def provenance_search(request: HttpRequest) -> HttpResponse:
    """By `target` (the Provenance of the signature covering that resource, if any) or by
    `patient` (each signed session of theirs, the latest signed first, paged)."""
    params = request.GET
    refuse_unknown(params, _PROVENANCE_SEARCH, "Provenance")
    count = count_param(params.get("_count"))
    purpose = "FHIR Provenance search"
    if "target" not in params:
        patient = named_patient(request, purpose)
        page = signed_session_page(
            actor=request_actor(request),
            patient=patient,
            page_number=params.get("_page", 1),
            page_size=count,
            purpose=purpose,
        )
        found = [_provenance(session) for session in page.object_list]
        return json_response(
            bundle(
                request, found, total=page.paginator.count, links=page_links(request, page, count)
            )
        )
    target = params["target"]
    session = _session_of_target(request, target, purpose)
    found = []
    if session is not None and session.signed_at is not None:
        provenance = _provenance(session)
        named = params.get("patient", "").removeprefix("Patient/")
        covers = any(t["reference"] == target for t in provenance["target"])
        if covers and named in ("", str(session.patient.uuid)):
            found = [provenance]
    return json_response(bundle(request, found, total=len(found)))


def _session_of_target(request: HttpRequest, target: str, purpose: str) -> TreatmentSession | None:
    """The session whose signature would cover `target`, read through the target's own
    audited selector (out of reach is not found, as reading the target would be); None when
    the target is a kind no signature covers (an at-home dose, a weight)."""
    actor = request_actor(request)
    kind, _, target_id = target.partition("/")
    if kind == "Encounter":
        session_uuid = target_id
    elif kind == "MedicationAdministration":
        dose = dose_in_reach(actor=actor, dose_uuid=target_id, purpose=purpose)
        if isinstance(dose, TreatmentSession):
            session_uuid = str(dose.uuid)
        elif isinstance(dose, DoseAdministration):
            session_uuid = str(dose.session.uuid)
        else:
            return None
    elif kind == "Observation":
        record_id, suffix = target_id[:36], target_id[37:]
        if suffix in _VITALS_SUFFIXES:
            reading = vitals_reading_get(actor=actor, reading_uuid=record_id, purpose=purpose)
            session_uuid = str(reading.session.uuid)
        elif suffix:
            return None
        else:
            response = assessments.response_in_reach(
                actor=actor, response_uuid=record_id, purpose=purpose
            )
            rated_in = sessions_of_scores(responses=[response])
            if response.pk not in rated_in:
                return None
            session_uuid = str(rated_in[response.pk])
    else:
        raise FhirError(
            400,
            "invalid",
            "target is Encounter/<id>, MedicationAdministration/<id> or Observation/<id>.",
        )
    return session_signature_get(actor=actor, session_uuid=session_uuid, purpose=purpose)


@fhir_endpoint()
def organization_read(request: HttpRequest, organization_id: str) -> HttpResponse:
    """The clinic, for clinic staff: no patient information, so not audited."""
    if not request_actor(request).is_clinic_staff:
        raise PermissionDenied("For clinic staff.")
    if organization_id != CLINIC_ORGANIZATION_ID:
        raise NotFound("No such Organization: the clinic is Organization/clinic.")
    facts = ClinicFacts(name=settings.CLINIC_NAME, phone=settings.CLINIC_PHONE)
    return json_response(dump(organization_resource(facts)))
