"""FHIR R4 read API at /fhir/R4/ (issue 16): JSON only, a personal API token as the bearer,
the same access rules and audit as the pages (the apps' selectors), and an OperationOutcome
for every error. So far: the CapabilityStatement, Patient read and search, and Observation
search (the scored instruments with LOINC codes, PHQ-9 and GAD-7, and vital signs), and
Encounter read and search (one per treatment session), Practitioner read, Condition search
(the problem list), Questionnaire read and QuestionnaireResponse read and search, and
Appointment read and search."""

from __future__ import annotations

import datetime
import functools
import json
import logging
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from clinic.accounts import selectors as accounts
from clinic.accounts.models import User
from clinic.accounts.services import api_token_authenticate
from clinic.assessments import selectors as assessments
from clinic.billing import selectors as billing
from clinic.core.exceptions import DomainError, NotFound
from clinic.core.selectors import AuditFilter, audit_event_page
from clinic.fhir import terminology
from clinic.fhir.capability import capability_statement, search_params
from clinic.fhir.mappers import (
    appointment_resource,
    audit_event_resource,
    body_measurement_observations,
    careplan_resource,
    condition_resource,
    encounter_resource,
    patient_resource,
    practitioner_resource,
    questionnaire_resource,
    questionnaire_response_resource,
    scored_instrument_observations,
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

logger = logging.getLogger("clinic.fhir")

CONTENT_TYPE = "application/fhir+json; charset=utf-8"
DEFAULT_COUNT = 20
MAX_COUNT = 100


class FhirError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _actor(request: HttpRequest) -> User:
    """The token's user, set by `fhir_endpoint` before any view runs."""
    return cast(User, request.user)


def _json(body: dict[str, Any], status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(body), status=status, content_type=CONTENT_TYPE)


def operation_outcome(status: int, code: str, message: str) -> HttpResponse:
    """An error as FHIR states one: an OperationOutcome with one issue (its `code` from the
    IssueType value set: login, security, not-found, invalid, not-supported)."""
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": message}],
    }
    response = _json(body, status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="fhir"'
    return response


def fhir_endpoint(*, public: bool = False) -> Callable:
    """GET only; the bearer token's user as `request.user` (unless `public`); every refusal
    and error as an OperationOutcome."""

    def decorate(view: Callable) -> Callable:
        @csrf_exempt
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method != "GET":
                response = operation_outcome(
                    405, "not-supported", "This FHIR API is read-only: use GET."
                )
                response["Allow"] = "GET"
                return response
            if not public:
                header = request.headers.get("Authorization", "")
                scheme, _, token = header.partition(" ")
                user = api_token_authenticate(token.strip()) if scheme == "Bearer" else None
                if user is None:
                    return operation_outcome(
                        401,
                        "login",
                        "A valid API token is required: Authorization: Bearer <token>.",
                    )
                request.user = user
            try:
                return view(request, *args, **kwargs)
            except FhirError as error:
                return operation_outcome(error.status, error.code, error.message)
            except NotFound as error:
                return operation_outcome(404, "not-found", error.message)
            except DomainError as error:
                code = "security" if error.status == 403 else "invalid"
                return operation_outcome(error.status, code, error.message)
            except Exception:
                # The traceback goes to the server log, naming the route, not the path with
                # its ids; the client gets an OperationOutcome like every other error.
                logger.exception(
                    "Unhandled FHIR error on %s",
                    request.resolver_match.route if request.resolver_match else "?",
                )
                return operation_outcome(500, "exception", "Something went wrong on our side.")

        return wrapped

    return decorate


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
    return _json(statement)


@fhir_endpoint()
def patient_read(request: HttpRequest, patient_id: str) -> HttpResponse:
    patient = patients.patient_get(
        actor=_actor(request), patient_uuid=patient_id, purpose="FHIR Patient read"
    )
    return _json(_dump(patient_resource(patient_facts(patient))))


_PATIENT_SEARCH = search_params("Patient")


@fhir_endpoint()
def patient_search(request: HttpRequest) -> HttpResponse:
    params = request.GET
    _refuse_unknown(params, _PATIENT_SEARCH, "Patient")
    count = _count(params.get("_count"))
    if "_id" in params:
        try:
            found = [patients.patient_get(actor=_actor(request), patient_uuid=params["_id"])]
        except NotFound:
            found = []
        return _json(_searchset(request, found, total=len(found)))
    if "identifier" in params:
        system, bar, value = params["identifier"].rpartition("|")
        if bar and system not in ("", MRN_SYSTEM):
            return _json(_searchset(request, [], total=0))
        patient = patients.patient_with_mrn(actor=_actor(request), mrn=value)
        found = [patient] if patient else []
        return _json(_searchset(request, found, total=len(found)))
    page = patients.patient_page(
        actor=_actor(request), page_number=params.get("_page", 1), page_size=count
    )
    return _json(
        _searchset(
            request,
            list(page.object_list),
            total=page.paginator.count,
            links=_page_links(request, page, count),
        )
    )


def _refuse_unknown(params, allowed: set[str], resource: str) -> None:
    """An unsupported parameter is refused, never ignored: a search that silently dropped a
    filter would answer a different question."""
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise FhirError(
            400,
            "not-supported",
            f"Unsupported search parameter(s): {', '.join(unknown)}. "
            f"{resource} supports {', '.join(sorted(allowed))}.",
        )


def _named_patient(request: HttpRequest, purpose: str):
    """The patient a search names (patient=Patient/<id> or <id>), read as the pages read it."""
    reference = request.GET.get("patient", "")
    if not reference:
        raise FhirError(400, "invalid", "Name the patient: patient=Patient/<id> or patient=<id>.")
    return patients.patient_get(
        actor=_actor(request), patient_uuid=reference.removeprefix("Patient/"), purpose=purpose
    )


def _count(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_COUNT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_COUNT:
        raise FhirError(400, "invalid", f"_count must be a whole number from 1 to {MAX_COUNT}.")
    return int(raw)


def _page_url(request: HttpRequest, page: int, count: int) -> str:
    query = {key: value for key, value in request.GET.items() if key != "_page"}
    query.update({"_count": str(count), "_page": str(page)})
    return request.build_absolute_uri(f"{request.path}?{urlencode(query)}")


def _dump(resource: Any) -> dict[str, Any]:
    return json.loads(resource.model_dump_json(exclude_none=True))


def _searchset(
    request: HttpRequest, found: list, *, total: int, links: dict[str, str] | None = None
) -> dict[str, Any]:
    """A searchset of patients."""
    return _bundle(
        request,
        [_dump(patient_resource(patient_facts(patient))) for patient in found],
        total=total,
        links=links,
    )


def _bundle(
    request: HttpRequest,
    resources: list[dict[str, Any]],
    *,
    total: int | None,
    links: dict[str, str] | None = None,
) -> dict[str, Any]:
    base = request.build_absolute_uri("/fhir/R4/")
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": [
            {"relation": "self", "url": request.build_absolute_uri()},
            *({"relation": relation, "url": url} for relation, url in (links or {}).items()),
        ],
        "entry": [
            {
                "fullUrl": f"{base}{resource['resourceType']}/{resource['id']}",
                "resource": resource,
                "search": {"mode": "match"},
            }
            for resource in resources
        ],
    }
    if total is not None:
        bundle["total"] = total
    return _dump(Bundle.model_validate(bundle))


def _page_links(request: HttpRequest, page, count: int) -> dict[str, str]:
    return _numbered_links(request, page.number, page.has_next(), page.has_previous(), count)


_OBSERVATION_SEARCH = search_params("Observation")
_DATE_PREFIXES = ("eq", "ge", "gt", "le", "lt")


@fhir_endpoint()
def observation_search(request: HttpRequest) -> HttpResponse:
    """A patient's Observations of one category (survey: PHQ-9 and GAD-7; vital-signs: the
    chair-side readings and the chart's weights and heights) or of one code, as US Core asks
    servers to answer: patient with category, or patient with code, each with a date."""
    params = request.GET
    _refuse_unknown(params, _OBSERVATION_SEARCH, "Observation")
    category = _token(params.get("category"), terminology.OBSERVATION_CATEGORY)
    code = _token(params.get("code"), terminology.LOINC)
    if category is None and code is None:
        raise FhirError(
            400, "invalid", "Name a category (survey or vital-signs) or a code (LOINC)."
        )
    count = _count(params.get("_count"))
    taken_after, taken_before = _date_bounds(params.getlist("date"))
    actor = _actor(request)
    patient = _named_patient(request, "FHIR Observation search")
    surveys = category == "survey" or (
        category is None and any(code in i.all_codes for i in _instruments())
    )
    vitals = category == "vital-signs" or (
        category is None and code in terminology.VITAL_SIGN_CODES
    )
    page_number = params.get("_page", 1)
    found: list[dict[str, Any]] = []
    links: dict[str, str] = {}
    if surveys:
        instruments = [
            name
            for name, loinc in terminology.LOINC_INSTRUMENTS.items()
            if code is None or code in loinc.all_codes
        ]
        page = assessments.response_page(
            actor=actor,
            patient=patient,
            instruments=instruments,
            taken_after=taken_after,
            taken_before=taken_before,
            page_number=page_number,
            page_size=count,
            purpose="FHIR Observation search",
        )
        for response in page.object_list:
            response.patient = patient
            found += map(_dump, scored_instrument_observations(scored_response_facts(response)))
        links = _page_links(request, page, count)
    elif vitals:
        readings = vital_signs_page(
            actor=actor,
            patient=patient,
            taken_after=taken_after,
            taken_before=taken_before,
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
            found += map(_dump, made)
        links = _numbered_links(
            request, readings.number, readings.has_next, readings.has_previous, count
        )
    if code is not None:
        found = [o for o in found if any(c["code"] == code for c in o["code"]["coding"])]
    # No total: a page is counted in source records (responses, readings), each of which
    # gives several Observations.
    return _json(_bundle(request, found, total=None, links=links))


@fhir_endpoint()
def practitioner_read(request: HttpRequest, practitioner_id: str) -> HttpResponse:
    user = accounts.practitioner_get(actor=_actor(request), practitioner_uuid=practitioner_id)
    return _json(_dump(practitioner_resource(practitioner_facts(user))))


@fhir_endpoint()
def encounter_read(request: HttpRequest, encounter_id: str) -> HttpResponse:
    session = sessions.session_get(actor=_actor(request), session_uuid=encounter_id)
    return _json(_dump(encounter_resource(encounter_facts(session, str(session.patient.uuid)))))


_ENCOUNTER_SEARCH = search_params("Encounter")


@fhir_endpoint()
def encounter_search(request: HttpRequest) -> HttpResponse:
    return _paged_patient_search(
        request,
        resource="Encounter",
        allowed=_ENCOUNTER_SEARCH,
        date_param="date",
        read_page=lambda actor, patient, after, before, number, size, purpose: session_page(
            actor=actor,
            patient=patient,
            started_after=after,
            started_before=before,
            page_number=number,
            page_size=size,
            purpose=purpose,
        ),
        to_resource=lambda session, patient: encounter_resource(
            encounter_facts(session, str(patient.uuid))
        ),
    )


_VITALS_SUFFIXES = {"bp", "hr", "rr", "spo2", "temp"}
_BODY_SUFFIXES = {"weight", "height"}


@fhir_endpoint()
def observation_read(request: HttpRequest, observation_id: str) -> HttpResponse:
    """One Observation by its id: a record's UUID, alone (a questionnaire panel) or with the
    suffix of the part it is (mappers.py: "-total", "-item-3", "-bp", "-weight", ...), so the
    references a panel lists can be followed."""
    record_id, suffix = observation_id[:36], observation_id[37:]
    actor, purpose = _actor(request), "FHIR Observation read"
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
        if response.instrument_code not in terminology.LOINC_INSTRUMENTS:
            raise NotFound("No such Observation.")
        observations = scored_instrument_observations(scored_response_facts(response))
    for observation in observations:
        if observation.id == observation_id:
            return _json(_dump(observation))
    raise NotFound("No such Observation.")


@fhir_endpoint()
def questionnaire_read(request: HttpRequest, questionnaire_id: str) -> HttpResponse:
    if questionnaire_id not in terminology.LOINC_INSTRUMENTS:
        raise NotFound("No such Questionnaire: phq9 and gad7 are served.")
    return _json(_dump(questionnaire_resource(questionnaire_id)))


@fhir_endpoint()
def questionnaire_response_read(request: HttpRequest, response_id: str) -> HttpResponse:
    response = assessments.response_in_reach(
        actor=_actor(request), response_uuid=response_id, purpose="FHIR QuestionnaireResponse read"
    )
    if response.instrument_code not in terminology.LOINC_INSTRUMENTS:
        raise NotFound("No such QuestionnaireResponse.")
    return _json(_dump(questionnaire_response_resource(scored_response_facts(response))))


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

    return _paged_patient_search(
        request,
        resource="QuestionnaireResponse",
        allowed=_QUESTIONNAIRE_RESPONSE_SEARCH,
        date_param="authored",
        read_page=lambda actor, patient, after, before, number, size, purpose: (
            assessments.response_page(
                actor=actor,
                patient=patient,
                instruments=instruments,
                taken_after=after,
                taken_before=before,
                page_number=number,
                page_size=size,
                purpose=purpose,
            )
        ),
        to_resource=to_resource,
    )


@fhir_endpoint()
def appointment_read(request: HttpRequest, appointment_id: str) -> HttpResponse:
    appointment = scheduling.appointment_get(actor=_actor(request), appointment_uuid=appointment_id)
    return _json(
        _dump(appointment_resource(appointment_facts(appointment, str(appointment.patient.uuid))))
    )


_APPOINTMENT_SEARCH = search_params("Appointment")


@fhir_endpoint()
def appointment_search(request: HttpRequest) -> HttpResponse:
    return _paged_patient_search(
        request,
        resource="Appointment",
        allowed=_APPOINTMENT_SEARCH,
        date_param="date",
        read_page=lambda actor, patient, after, before, number, size, purpose: (
            scheduling.appointment_page(
                actor=actor,
                patient=patient,
                starting_after=after,
                starting_before=before,
                page_number=number,
                page_size=size,
                purpose=purpose,
            )
        ),
        to_resource=lambda appointment, patient: appointment_resource(
            appointment_facts(appointment, str(patient.uuid))
        ),
    )


def _paged_patient_search(
    request: HttpRequest,
    *,
    resource: str,
    allowed: set[str],
    date_param: str,
    read_page: Callable[..., Any],
    to_resource: Callable[[Any, Any], Any],
) -> HttpResponse:
    """The one shape of a search for one patient's records of one kind, a page at a time:
    refuse unknown parameters, read `_count` and the dates, reach the patient, read a page
    through the owning app's audited selector, and answer a searchset with its total and its
    next and previous links."""
    params = request.GET
    _refuse_unknown(params, allowed, resource)
    count = _count(params.get("_count"))
    after, before = _date_bounds(params.getlist(date_param))
    purpose = f"FHIR {resource} search"
    patient = _named_patient(request, purpose)
    page = read_page(
        _actor(request), patient, after, before, params.get("_page", 1), count, purpose
    )
    found = [_dump(to_resource(row, patient)) for row in page.object_list]
    return _json(
        _bundle(request, found, total=page.paginator.count, links=_page_links(request, page, count))
    )


_CAREPLAN_SEARCH = search_params("CarePlan")


@fhir_endpoint()
def careplan_search(request: HttpRequest) -> HttpResponse:
    """The patient's treatment plans, whole (a few per patient, not paged)."""
    params = request.GET
    _refuse_unknown(params, _CAREPLAN_SEARCH, "CarePlan")
    category = _token(params.get("category"), terminology.CAREPLAN_CATEGORY)
    status = params.get("status")
    patient = _named_patient(request, "FHIR CarePlan search")
    plans = protocols.plans_read(
        actor=_actor(request), patient=patient, purpose="FHIR CarePlan search"
    )
    found = [_dump(careplan_resource(careplan_facts(plan, str(patient.uuid)))) for plan in plans]
    if category not in (None, "assess-plan"):
        found = []
    if status is not None:
        found = [plan for plan in found if plan["status"] == status]
    return _json(_bundle(request, found, total=len(found)))


_AUDIT_SEARCH = search_params("AuditEvent")


@fhir_endpoint()
def audit_event_search(request: HttpRequest) -> HttpResponse:
    """The audit trail as the audit log page reads it (the clinic administrator only; the
    reading is itself audited), narrowed to a patient and to whole days."""
    params = request.GET
    _refuse_unknown(params, _AUDIT_SEARCH, "AuditEvent")
    count = _count(params.get("_count"))
    after, before = _date_bounds(params.getlist("date"))
    actor = _actor(request)
    mrn = ""
    if "patient" in params:
        mrn = _named_patient(request, "FHIR AuditEvent search").mrn or ""
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
    found = [_dump(audit_event_resource(audit_facts(event))) for event in page.object_list]
    return _json(
        _bundle(request, found, total=page.paginator.count, links=_page_links(request, page, count))
    )


_CONDITION_SEARCH = search_params("Condition")


@fhir_endpoint()
def condition_search(request: HttpRequest) -> HttpResponse:
    """The patient's problem list, whole (a list of a few entries, not paged)."""
    params = request.GET
    _refuse_unknown(params, _CONDITION_SEARCH, "Condition")
    status = _token(params.get("clinical-status"), terminology.CONDITION_CLINICAL)
    patient = _named_patient(request, "FHIR Condition search")
    rows = billing.problem_list_read(
        actor=_actor(request), patient=patient, purpose="FHIR Condition search"
    )
    found = [_dump(condition_resource(condition_facts(d, str(patient.uuid)))) for d in rows]
    if status is not None:
        found = [c for c in found if c["clinicalStatus"]["coding"][0]["code"] == status]
    return _json(_bundle(request, found, total=len(found)))


def _instruments():
    return terminology.LOINC_INSTRUMENTS.values()


def _numbered_links(
    request: HttpRequest, number: int, has_next: bool, has_previous: bool, count: int
) -> dict[str, str]:
    links = {}
    if has_next:
        links["next"] = _page_url(request, number + 1, count)
    if has_previous:
        links["previous"] = _page_url(request, number - 1, count)
    return links


def _token(raw: str | None, system: str) -> str | None:
    """The code of a token parameter (`code` or `system|code`), None when absent; a code of
    another system matches nothing, so it becomes one no resource carries."""
    if raw is None:
        return None
    named_system, bar, code = raw.rpartition("|")
    if bar and named_system and named_system != system:
        return "(another system)"
    return code


def _date_bounds(
    values: list[str],
) -> tuple[datetime.datetime | None, datetime.datetime | None]:
    """`date` parameters as [after, before): a plain date is the whole day in the clinic's
    time zone; several parameters narrow each other."""
    after: datetime.datetime | None = None
    before: datetime.datetime | None = None
    for value in values:
        prefix = value[:2] if value[:2].isalpha() else "eq"
        text = value[2:] if value[:2].isalpha() else value
        if prefix not in _DATE_PREFIXES:
            raise FhirError(400, "not-supported", f"date supports the prefixes {_DATE_PREFIXES}.")
        start, end = _instant_range(text)
        low = {"eq": start, "ge": start, "gt": end}.get(prefix)
        high = {"eq": end, "le": end, "lt": start}.get(prefix)
        if low is not None:
            after = low if after is None else max(after, low)
        if high is not None:
            before = high if before is None else min(before, high)
    return after, before


def _instant_range(text: str) -> tuple[datetime.datetime, datetime.datetime]:
    """[start, end) of a FHIR date (a day) or dateTime (an instant, with its zone)."""
    try:
        if len(text) == 10:
            day = datetime.date.fromisoformat(text)
            zone = timezone.get_default_timezone()
            start = datetime.datetime.combine(day, datetime.time(), tzinfo=zone)
            return start, start + datetime.timedelta(days=1)
        moment = datetime.datetime.fromisoformat(text)
    except ValueError as error:
        raise FhirError(
            400, "invalid", f"date {text!r} is not a FHIR date (YYYY-MM-DD) or dateTime."
        ) from error
    if moment.tzinfo is None:
        raise FhirError(400, "invalid", "A dateTime in date must carry its time zone.")
    return moment, moment + datetime.timedelta(microseconds=1)
