"""FHIR R4 read API at /fhir/R4/ (issue 16): JSON only, a personal API token as the bearer,
the same access rules and audit as the pages (the apps' selectors), and an OperationOutcome
for every error. So far: the CapabilityStatement, Patient read and search, and Observation
search (every scored instrument, and vital signs), and Encounter read and search (one per
treatment session), Practitioner read, Condition search (the problem list), Questionnaire read
and QuestionnaireResponse read and search (PHQ-9 and GAD-7), Appointment read and search, and
KetaCare's instrument CodeSystem."""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from clinic.accounts import selectors as accounts
from clinic.assessments import selectors as assessments
from clinic.billing import selectors as billing
from clinic.core.exceptions import NotFound
from clinic.core.selectors import AuditFilter, audit_event_page
from clinic.fhir import terminology
from clinic.fhir.capability import capability_statement, search_includes, search_params
from clinic.fhir.http import (
    FhirError,
    bundle,
    count_param,
    date_bounds,
    dump,
    fhir_endpoint,
    include_values,
    json_response,
    named_patient,
    numbered_links,
    page_links,
    paged_patient_search,
    refuse_unknown,
    request_actor,
    token_param,
)
from clinic.fhir.includes import (
    encounter_participants,
    last_updated_within,
    observation_encounters,
)
from clinic.fhir.instrument_observations import (
    SERVED_INSTRUMENTS,
    instrument_code_system,
    instrument_codings,
    survey_observations,
)
from clinic.fhir.mappers import (
    appointment_resource,
    audit_event_resource,
    careplan_resource,
    condition_resource,
    encounter_resource,
    patient_resource,
    practitioner_resource,
)
from clinic.fhir.observations import (
    body_measurement_observations,
    questionnaire_resource,
    questionnaire_response_resource,
    vital_sign_observations,
)
from clinic.fhir.records import (
    appointment_facts,
    audit_facts,
    body_measurement_facts,
    careplan_facts,
    condition_facts,
    encounter_facts,
    patient_facts,
    practitioner_facts,
    scored_response_facts,
    vitals_facts,
)
from clinic.fhir.terminology import MRN_SYSTEM
from clinic.patients import selectors as patients
from clinic.patients.models import BodyMeasurement
from clinic.protocols import selectors as protocols
from clinic.scheduling import selectors as scheduling
from clinic.treatment_sessions import selectors as sessions
from clinic.treatment_sessions.selectors_vital_signs import (
    body_measurement_in_reach,
    session_page,
    vital_signs_page,
    vitals_reading_get,
)


@fhir_endpoint(public=True)
def not_served(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other path under /fhir/R4/: a resource type or operation not served (yet)."""
    raise FhirError(404, "not-supported", "Not served here: GET /fhir/R4/metadata lists what is.")


@fhir_endpoint(public=True)
def metadata(request: HttpRequest) -> HttpResponse:
    """What this server supports, exactly: built from capability.SERVED, the same table every
    search takes its parameters from."""
    statement = capability_statement(
        base_url=request.build_absolute_uri("/fhir/R4"), date=timezone.now().date().isoformat()
    )
    CapabilityStatement.model_validate(statement)
    return json_response(statement)


@fhir_endpoint()
def patient_read(request: HttpRequest, patient_id: str) -> HttpResponse:
    patient = patients.patient_get(
        actor=request_actor(request), patient_uuid=patient_id, purpose="FHIR Patient read"
    )
    return json_response(dump(patient_resource(patient_facts(patient))))


_PATIENT_SEARCH = search_params("Patient")


@fhir_endpoint()
def patient_search(request: HttpRequest) -> HttpResponse:
    if "identifier" in request.GET:
        # ADR 0003: an MRN never travels in a URL (access logs, history, Referer).
        raise FhirError(
            400,
            "not-supported",
            "Search by identifier with POST /fhir/R4/Patient/_search and the terms in the "
            "form body: an MRN is never sent in a URL.",
        )
    return _patient_search(request, request.GET)


@fhir_endpoint(method="POST")
def patient_search_post(request: HttpRequest) -> HttpResponse:
    """FHIR's search by POST (`Patient/_search`, terms in a form body), the way to search
    by MRN."""
    return _patient_search(request, request.POST)


def _patient_search(request: HttpRequest, params) -> HttpResponse:
    refuse_unknown(params, _PATIENT_SEARCH, "Patient")
    count = count_param(params.get("_count"))
    after, before = date_bounds(params.getlist("_lastUpdated"), "_lastUpdated")
    # `_id` and `identifier` each name at most one patient; given together, both must match.
    found: list | None = None
    if "_id" in params:
        try:
            found = [patients.patient_get(actor=request_actor(request), patient_uuid=params["_id"])]
        except NotFound:
            found = []
    if "identifier" in params:
        system, bar, value = params["identifier"].rpartition("|")
        if bar and system not in ("", MRN_SYSTEM):
            found = []
        elif found is None:
            patient = patients.patient_with_mrn(actor=request_actor(request), mrn=value)
            found = [patient] if patient else []
        else:
            found = [patient for patient in found if patient.mrn == value]
    if found is not None:
        found = [
            patient
            for patient in found
            if (after is None or patient.updated_at >= after)
            and (before is None or patient.updated_at < before)
        ]
        return json_response(_searchset(request, found, total=len(found)))
    page = patients.patient_page(
        actor=request_actor(request),
        page_number=params.get("_page", 1),
        page_size=count,
        updated_after=after,
        updated_before=before,
    )
    return json_response(
        _searchset(
            request,
            list(page.object_list),
            total=page.paginator.count,
            links=page_links(request, page, count),
        )
    )


def _searchset(
    request: HttpRequest, found: list, *, total: int, links: dict[str, str] | None = None
) -> dict[str, Any]:
    """A searchset of patients."""
    return bundle(
        request,
        [dump(patient_resource(patient_facts(patient))) for patient in found],
        total=total,
        links=links,
    )


_OBSERVATION_SEARCH = search_params("Observation")
_OBSERVATION_INCLUDES = search_includes("Observation")


@fhir_endpoint()
def observation_search(request: HttpRequest) -> HttpResponse:
    """A patient's Observations of one category (survey: the scored instruments; vital-signs:
    the chair-side readings and the chart's weights and heights) or of one code, as US Core
    asks servers to answer: patient with category, or patient with code, each with a date."""
    params = request.GET
    refuse_unknown(params, _OBSERVATION_SEARCH, "Observation")
    category = token_param(params.get("category"), terminology.OBSERVATION_CATEGORY)
    code = _code_param(params.get("code"))
    if category is None and code is None:
        raise FhirError(
            400,
            "invalid",
            "Name a category (survey or vital-signs) or a code (LOINC, or KetaCare's "
            f"{terminology.INSTRUMENT_SYSTEM}).",
        )
    count = count_param(params.get("_count"))
    wanted = include_values(params, _OBSERVATION_INCLUDES, "Observation")
    taken_after, taken_before = date_bounds(params.getlist("date"))
    updated_after, updated_before = date_bounds(params.getlist("_lastUpdated"), "_lastUpdated")
    actor = request_actor(request)
    patient = named_patient(request, "FHIR Observation search")
    instruments = [
        name
        for name in SERVED_INSTRUMENTS
        if code is None or any(_matches(coding, code) for coding in instrument_codings(name))
    ]
    surveys = category == "survey" or (category is None and bool(instruments))
    vitals = category == "vital-signs" or (
        category is None
        and code is not None
        and any(_matches((terminology.LOINC, c), code) for c in terminology.VITAL_SIGN_CODES)
    )
    page_number = params.get("_page", 1)
    found: list[dict[str, Any]] = []
    links: dict[str, str] = {}
    if surveys:
        page = assessments.response_page(
            actor=actor,
            patient=patient,
            instruments=instruments,
            taken_after=taken_after,
            taken_before=taken_before,
            updated_after=updated_after,
            updated_before=updated_before,
            page_number=page_number,
            page_size=count,
            purpose="FHIR Observation search",
        )
        responses = list(page.object_list)
        rated_in = sessions.sessions_of_scores(responses=responses)  # one query for the whole page
        for response in responses:
            response.patient = patient
            facts = scored_response_facts(response, str(rated_in.get(response.pk, "")))
            found += map(dump, survey_observations(facts))
        links = page_links(request, page, count)
    elif vitals:
        readings = vital_signs_page(
            actor=actor,
            patient=patient,
            taken_after=taken_after,
            taken_before=taken_before,
            updated_after=updated_after,
            updated_before=updated_before,
            page_number=page_number,
            page_size=count,
            purpose="FHIR Observation search",
        )
        for reading in readings.readings:
            if isinstance(reading, BodyMeasurement):
                made = body_measurement_observations(
                    body_measurement_facts(reading, str(patient.uuid))
                )
            else:
                made = vital_sign_observations(vitals_facts(reading, str(patient.uuid)))
            found += map(dump, made)
        links = numbered_links(
            request, readings.number, readings.has_next, readings.has_previous, count
        )
    if code is not None:
        found = [
            o
            for o in found
            if any(_matches((c["system"], c["code"]), code) for c in o["code"].get("coding", []))
        ]
    included = []
    if wanted:
        included = observation_encounters(actor, patient, found, wanted, "FHIR Observation search")
    # No total: a page is counted in source records (responses, readings), each of which
    # gives one or several Observations.
    return json_response(bundle(request, found, total=None, links=links, included=included))


@fhir_endpoint()
def practitioner_read(request: HttpRequest, practitioner_id: str) -> HttpResponse:
    user = accounts.practitioner_get(
        actor=request_actor(request), practitioner_uuid=practitioner_id
    )
    return json_response(dump(practitioner_resource(practitioner_facts(user))))


@fhir_endpoint()
def encounter_read(request: HttpRequest, encounter_id: str) -> HttpResponse:
    session = sessions.session_get(actor=request_actor(request), session_uuid=encounter_id)
    return json_response(
        dump(encounter_resource(encounter_facts(session, str(session.patient.uuid))))
    )


_ENCOUNTER_SEARCH = search_params("Encounter")


@fhir_endpoint()
def encounter_search(request: HttpRequest) -> HttpResponse:
    return paged_patient_search(
        request,
        resource="Encounter",
        allowed=_ENCOUNTER_SEARCH,
        date_param="date",
        read_page=lambda actor, patient, after, before, number, size, purpose, updated: (
            session_page(
                actor=actor,
                patient=patient,
                started_after=after,
                started_before=before,
                updated_after=updated[0],
                updated_before=updated[1],
                page_number=number,
                page_size=size,
                purpose=purpose,
            )
        ),
        to_resource=lambda session, patient: encounter_resource(
            encounter_facts(session, str(patient.uuid))
        ),
        includes=search_includes("Encounter"),
        include=encounter_participants,
    )


_VITALS_SUFFIXES = {"bp", "hr", "rr", "spo2", "temp"}
_BODY_SUFFIXES = {"weight", "height"}


@fhir_endpoint()
def observation_read(request: HttpRequest, observation_id: str) -> HttpResponse:
    """One Observation by its id: a record's UUID, alone (a questionnaire panel) or with the
    suffix of the part it is ("-total", "-item-3", "-risk", "-bp", "-weight", ...), so the
    references a panel lists can be followed."""
    record_id, suffix = observation_id[:36], observation_id[37:]
    actor, purpose = request_actor(request), "FHIR Observation read"
    observations: list[Any]
    if suffix in _VITALS_SUFFIXES:
        reading = vitals_reading_get(actor=actor, reading_uuid=record_id, purpose=purpose)
        patient_uuid = str(reading.session.patient.uuid)
        observations = vital_sign_observations(vitals_facts(reading, patient_uuid))
    elif suffix in _BODY_SUFFIXES:
        measurement = body_measurement_in_reach(
            actor=actor, measurement_uuid=record_id, purpose=purpose
        )
        patient_uuid = str(measurement.patient.uuid)
        observations = body_measurement_observations(
            body_measurement_facts(measurement, patient_uuid)
        )
    else:
        response = assessments.response_in_reach(
            actor=actor, response_uuid=record_id, purpose=purpose
        )
        if response.instrument_code not in SERVED_INSTRUMENTS:
            raise NotFound("No such Observation.")
        rated_in = sessions.sessions_of_scores(responses=[response])
        facts = scored_response_facts(response, str(rated_in.get(response.pk, "")))
        observations = survey_observations(facts)
    for observation in observations:
        if observation.id == observation_id:
            return json_response(dump(observation))
    raise NotFound("No such Observation.")


@fhir_endpoint()
def questionnaire_read(request: HttpRequest, questionnaire_id: str) -> HttpResponse:
    if questionnaire_id not in terminology.LOINC_INSTRUMENTS:
        raise NotFound("No such Questionnaire: phq9 and gad7 are served.")
    return json_response(dump(questionnaire_resource(questionnaire_id)))


@fhir_endpoint()
def questionnaire_response_read(request: HttpRequest, response_id: str) -> HttpResponse:
    response = assessments.response_in_reach(
        actor=request_actor(request),
        response_uuid=response_id,
        purpose="FHIR QuestionnaireResponse read",
    )
    facts = scored_response_facts(response)
    if response.instrument_code not in terminology.LOINC_INSTRUMENTS or not facts.answers_known:
        raise NotFound("No such QuestionnaireResponse.")  # an imported total has no answers
    return json_response(dump(questionnaire_response_resource(facts)))


_QUESTIONNAIRE_RESPONSE_SEARCH = search_params("QuestionnaireResponse")


@fhir_endpoint()
def questionnaire_response_search(request: HttpRequest) -> HttpResponse:
    instruments = list(terminology.LOINC_INSTRUMENTS)
    if "questionnaire" in request.GET:
        # The canonical URL, Questionnaire/<id> or the id.
        named = request.GET["questionnaire"].removeprefix("Questionnaire/")
        by_url = {terminology.questionnaire_url(code): code for code in instruments}
        code = by_url.get(named, named)
        instruments = [code] if code in instruments else []

    def to_resource(response, patient):
        response.patient = patient
        return questionnaire_response_resource(scored_response_facts(response))

    return paged_patient_search(
        request,
        resource="QuestionnaireResponse",
        allowed=_QUESTIONNAIRE_RESPONSE_SEARCH,
        date_param="authored",
        read_page=lambda actor, patient, after, before, number, size, purpose, updated: (
            assessments.response_page(
                actor=actor,
                patient=patient,
                instruments=instruments,
                taken_after=after,
                taken_before=before,
                updated_after=updated[0],
                updated_before=updated[1],
                page_number=number,
                page_size=size,
                purpose=purpose,
                answered_only=True,  # an imported total has no answers to give
            )
        ),
        to_resource=to_resource,
    )


@fhir_endpoint()
def appointment_read(request: HttpRequest, appointment_id: str) -> HttpResponse:
    appointment = scheduling.appointment_get(
        actor=request_actor(request), appointment_uuid=appointment_id
    )
    return json_response(
        dump(appointment_resource(appointment_facts(appointment, str(appointment.patient.uuid))))
    )


_APPOINTMENT_SEARCH = search_params("Appointment")


@fhir_endpoint()
def appointment_search(request: HttpRequest) -> HttpResponse:
    return paged_patient_search(
        request,
        resource="Appointment",
        allowed=_APPOINTMENT_SEARCH,
        date_param="date",
        read_page=lambda actor, patient, after, before, number, size, purpose, updated: (
            scheduling.appointment_page(
                actor=actor,
                patient=patient,
                starting_after=after,
                starting_before=before,
                updated_after=updated[0],
                updated_before=updated[1],
                page_number=number,
                page_size=size,
                purpose=purpose,
            )
        ),
        to_resource=lambda appointment, patient: appointment_resource(
            appointment_facts(appointment, str(patient.uuid))
        ),
    )


_CAREPLAN_SEARCH = search_params("CarePlan")


@fhir_endpoint()
def careplan_search(request: HttpRequest) -> HttpResponse:
    """The patient's treatment plans, whole (a few per patient, not paged)."""
    params = request.GET
    refuse_unknown(params, _CAREPLAN_SEARCH, "CarePlan")
    updated = date_bounds(params.getlist("_lastUpdated"), "_lastUpdated")
    category = token_param(params.get("category"), terminology.CAREPLAN_CATEGORY)
    status = params.get("status")
    patient = named_patient(request, "FHIR CarePlan search")
    plans = protocols.plans_read(
        actor=request_actor(request), patient=patient, purpose="FHIR CarePlan search"
    )
    found = [dump(careplan_resource(careplan_facts(plan, str(patient.uuid)))) for plan in plans]
    found = last_updated_within(found, updated)
    if category not in (None, "assess-plan"):
        found = []
    if status is not None:
        found = [plan for plan in found if plan["status"] == status]
    return json_response(bundle(request, found, total=len(found)))


_AUDIT_SEARCH = search_params("AuditEvent")


@fhir_endpoint()
def audit_event_search(request: HttpRequest) -> HttpResponse:
    """The audit trail as the audit log page reads it (the clinic administrator only; the
    reading is itself audited), narrowed to a patient and to whole days."""
    params = request.GET
    refuse_unknown(params, _AUDIT_SEARCH, "AuditEvent")
    count = count_param(params.get("_count"))
    after, before = date_bounds(params.getlist("date"))
    actor = request_actor(request)
    mrn = ""
    if "patient" in params:
        mrn = named_patient(request, "FHIR AuditEvent search").mrn or ""
    filters = AuditFilter(
        mrn=mrn,
        date_from=timezone.localtime(after).date() if after else None,
        date_to=(
            timezone.localtime(before - datetime.timedelta(microseconds=1)).date()
            if before
            else None
        ),
    )
    page = audit_event_page(
        actor=actor, filters=filters, page_number=params.get("_page", 1), page_size=count
    )
    found = [dump(audit_event_resource(audit_facts(event))) for event in page.object_list]
    return json_response(
        bundle(request, found, total=page.paginator.count, links=page_links(request, page, count))
    )


_CONDITION_SEARCH = search_params("Condition")


@fhir_endpoint()
def condition_search(request: HttpRequest) -> HttpResponse:
    """The patient's problem list, whole (a list of a few entries, not paged)."""
    params = request.GET
    refuse_unknown(params, _CONDITION_SEARCH, "Condition")
    updated = date_bounds(params.getlist("_lastUpdated"), "_lastUpdated")
    status = token_param(params.get("clinical-status"), terminology.CONDITION_CLINICAL)
    patient = named_patient(request, "FHIR Condition search")
    rows = billing.problem_list_read(
        actor=request_actor(request), patient=patient, purpose="FHIR Condition search"
    )
    found = [dump(condition_resource(condition_facts(d, str(patient.uuid)))) for d in rows]
    found = last_updated_within(found, updated)
    if status is not None:
        found = [c for c in found if c["clinicalStatus"]["coding"][0]["code"] == status]
    return json_response(bundle(request, found, total=len(found)))


def _code_param(raw: str | None) -> tuple[str, str] | None:
    """The `code` parameter as (system, code); the system is "" when not named."""
    if raw is None:
        return None
    system, _, code = raw.rpartition("|")
    return system, code


def _matches(coding: tuple[str, str], wanted: tuple[str, str]) -> bool:
    system, code = wanted
    return coding[1] == code and system in ("", coding[0])


@fhir_endpoint()
def code_system_read(request: HttpRequest, code_system_id: str) -> HttpResponse:
    """KetaCare's instrument codes (fhir-loinc.md §1.4), the one CodeSystem served."""
    if code_system_id != "instrument":
        raise NotFound("No such CodeSystem: instrument is served.")
    return json_response(dump(instrument_code_system()))
