"""FHIR R4 read API at /fhir/R4/ (issue 16): JSON only, a personal API token as the bearer,
the same access rules and audit as the pages (the apps' selectors), and an OperationOutcome
for every error. So far: the CapabilityStatement, and Patient read and search."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from clinic.accounts.models import User
from clinic.accounts.services import api_token_authenticate
from clinic.core.exceptions import DomainError, NotFound
from clinic.fhir.mappers import patient_resource
from clinic.fhir.records import patient_facts
from clinic.fhir.terminology import MRN_SYSTEM
from clinic.patients import selectors as patients

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

        return wrapped

    return decorate


@fhir_endpoint(public=True)
def metadata(request: HttpRequest) -> HttpResponse:
    """What this server supports, exactly (no more than is answered below)."""
    statement = {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": timezone.now().date().isoformat(),
        "kind": "instance",
        "software": {"name": "KetaCare"},
        "implementation": {
            "description": "KetaCare FHIR R4 read API",
            "url": request.build_absolute_uri("/fhir/R4"),
        },
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "description": "A personal API token (the API tokens page) as the bearer. "
                    "Each token reaches the patients its user reaches in the app.",
                },
                "resource": [
                    {
                        "type": "Patient",
                        "supportedProfile": [
                            "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"
                        ],
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": [
                            {"name": "_id", "type": "token"},
                            {
                                "name": "identifier",
                                "type": "token",
                                "documentation": f"The MRN ({MRN_SYSTEM}|value or value).",
                            },
                            {"name": "_count", "type": "number"},
                        ],
                    }
                ],
            }
        ],
    }
    CapabilityStatement.model_validate(statement)
    return _json(statement)


@fhir_endpoint()
def patient_read(request: HttpRequest, patient_id: str) -> HttpResponse:
    patient = patients.patient_get(
        actor=_actor(request), patient_uuid=patient_id, purpose="FHIR Patient read"
    )
    return _json(_dump(patient_resource(patient_facts(patient))))


_PATIENT_SEARCH = {"_id", "identifier", "_count", "_page"}


@fhir_endpoint()
def patient_search(request: HttpRequest) -> HttpResponse:
    params = request.GET
    unknown = sorted(set(params) - _PATIENT_SEARCH)
    if unknown:
        raise FhirError(
            400,
            "not-supported",
            f"Unsupported search parameter(s): {', '.join(unknown)}. "
            f"Patient supports {', '.join(sorted(_PATIENT_SEARCH))}.",
        )
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
    links = {}
    if page.has_next():
        links["next"] = _page_url(request, page.next_page_number(), count)
    if page.has_previous():
        links["previous"] = _page_url(request, page.previous_page_number(), count)
    return _json(
        _searchset(request, list(page.object_list), total=page.paginator.count, links=links)
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
    base = request.build_absolute_uri("/fhir/R4/Patient/")
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": [
            {"relation": "self", "url": request.build_absolute_uri()},
            *({"relation": relation, "url": url} for relation, url in (links or {}).items()),
        ],
        "entry": [
            {
                "fullUrl": f"{base}{patient.uuid}",
                "resource": _dump(patient_resource(patient_facts(patient))),
                "search": {"mode": "match"},
            }
            for patient in found
        ],
    }
    return _dump(Bundle.model_validate(bundle))
