"""How /fhir/R4/ speaks HTTP (issue 16): the bearer token, GET only, an OperationOutcome for
every error, search parameters refused unless declared, `_count` and dates read one way, and
searchset bundles with their paging links. The resource views are in views.py."""

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

from clinic.accounts.models import User
from clinic.accounts.services import api_token_authenticate
from clinic.core.exceptions import DomainError, NotFound
from clinic.core.text import has_control_characters
from clinic.fhir.rate_limit import fhir_request_counted
from clinic.patients import selectors as patients

logger = logging.getLogger("clinic.fhir")
CONTENT_TYPE = "application/fhir+json; charset=utf-8"
DEFAULT_COUNT = 20
MAX_COUNT = 100
DATE_PREFIXES = ("eq", "ge", "gt", "le", "lt")


class FhirError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def request_actor(request: HttpRequest) -> User:
    """The token's user, set by `fhir_endpoint` before any view runs."""
    return cast(User, request.user)


def json_response(body: dict[str, Any], status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(body), status=status, content_type=CONTENT_TYPE)


def operation_outcome(status: int, code: str, message: str) -> HttpResponse:
    """An error as FHIR states one: an OperationOutcome with one issue (its `code` from the
    IssueType value set: login, security, not-found, invalid, not-supported)."""
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": message}],
    }
    response = json_response(body, status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="fhir"'
    return response


def fhir_endpoint(*, public: bool = False, method: str | tuple[str, ...] = "GET") -> Callable:
    """One method (GET, or POST for a search whose terms must not travel in a URL; GET and
    DELETE for a bulk export's status, which DELETE cancels); the bearer token's user as
    `request.user` (unless `public`); every refusal and error as an OperationOutcome."""
    methods = (method,) if isinstance(method, str) else method

    def decorate(view: Callable) -> Callable:
        @csrf_exempt
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in methods:
                response = operation_outcome(
                    405,
                    "not-supported",
                    f"This FHIR API reads only: use {' or '.join(methods)} here.",
                )
                response["Allow"] = ", ".join(methods)
                return response
            if any(has_control_characters(v) for vs in query_of(request).lists() for v in vs[1]):
                # The text policy of every door (clinic/core/text.py); PostgreSQL would
                # refuse a NUL in a query with a server error.
                return operation_outcome(
                    400, "invalid", "A search parameter holds a control character."
                )
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
                wait_s = fhir_request_counted(user)
                if wait_s is not None:
                    response = operation_outcome(
                        429,
                        "throttled",
                        f"Too many requests with this user's tokens: try again in {wait_s} s.",
                    )
                    response["Retry-After"] = str(wait_s)
                    return response
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


def query_of(request: HttpRequest):
    """A search's parameters: the query string, or the form body of a POST search."""
    return request.POST if request.method == "POST" else request.GET


def refuse_unknown(params, allowed: set[str], resource: str) -> None:
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


def named_patient(request: HttpRequest, purpose: str):
    """The patient a search names (patient=Patient/<id> or <id>), read as the pages read it."""
    reference = query_of(request).get("patient", "")
    if not reference:
        raise FhirError(400, "invalid", "Name the patient: patient=Patient/<id> or patient=<id>.")
    return patients.patient_get(
        actor=request_actor(request),
        patient_uuid=reference.removeprefix("Patient/"),
        purpose=purpose,
    )


def count_param(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_COUNT
    # Its length first: Python refuses to read a number of thousands of digits.
    if not raw.isdigit() or len(raw) > len(str(MAX_COUNT)) or not 1 <= int(raw) <= MAX_COUNT:
        raise FhirError(400, "invalid", f"_count must be a whole number from 1 to {MAX_COUNT}.")
    return int(raw)


def page_url(request: HttpRequest, page: int, count: int) -> str:
    """A GET link to another page of the same search. A POST search's paging links point at
    the GET search without its identifying terms (those are never put in a URL)."""
    query = {key: value for key, value in query_of(request).items() if key != "_page"}
    path = request.path
    if request.method == "POST":
        query.pop("identifier", None)
        path = path.removesuffix("/_search")
    query.update({"_count": str(count), "_page": str(page)})
    return request.build_absolute_uri(f"{path}?{urlencode(query)}")


def dump(resource: Any) -> dict[str, Any]:
    return json.loads(resource.model_dump_json(exclude_none=True))


def bundle(
    request: HttpRequest,
    resources: list[dict[str, Any]],
    *,
    total: int | None,
    links: dict[str, str] | None = None,
    included: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A searchset: the matches, then what `_include` brought (search mode include), each
    resource once; `total` counts the matches only."""
    base = request.build_absolute_uri("/fhir/R4/")
    seen = {(r["resourceType"], r["id"]) for r in resources}
    extra = []
    for resource in included or []:
        key = (resource["resourceType"], resource["id"])
        if key not in seen:
            seen.add(key)
            extra.append(resource)
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
                "search": {"mode": mode},
            }
            for mode, found in (("match", resources), ("include", extra))
            for resource in found
        ],
    }
    if total is not None:
        bundle["total"] = total
    return dump(Bundle.model_validate(bundle))


def page_links(request: HttpRequest, page, count: int) -> dict[str, str]:
    return numbered_links(request, page.number, page.has_next(), page.has_previous(), count)


# What an `_include` adds: (actor, patient, the matches as JSON, the values asked, purpose)
# to the resources to include, read in bulk through the owning apps' audited selectors.
Includer = Callable[[User, Any, list[dict[str, Any]], set[str], str], list[dict[str, Any]]]


def paged_patient_search(
    request: HttpRequest,
    *,
    resource: str,
    allowed: set[str],
    date_param: str,
    read_page: Callable[..., Any],
    to_resource: Callable[[Any, Any], Any],
    includes: frozenset[str] = frozenset(),
    include: Includer | None = None,
) -> HttpResponse:
    """The one shape of a search for one patient's records of one kind, a page at a time:
    refuse unknown parameters, read `_count`, `_include` and the dates, reach the patient,
    read a page through the owning app's audited selector, and answer a searchset with its
    total, its next and previous links and what `_include` asked for. Where `_lastUpdated`
    is allowed, `read_page` also takes `updated=(after, before)`."""
    params = request.GET
    refuse_unknown(params, allowed, resource)
    count = count_param(params.get("_count"))
    wanted = include_values(params, includes, resource)
    after, before = date_bounds(params.getlist(date_param), date_param)
    extra = {}
    if "_lastUpdated" in allowed:
        extra["updated"] = date_bounds(params.getlist("_lastUpdated"), "_lastUpdated")
    purpose = f"FHIR {resource} search"
    patient = named_patient(request, purpose)
    actor = request_actor(request)
    page = read_page(actor, patient, after, before, params.get("_page", 1), count, purpose, **extra)
    found = [dump(to_resource(row, patient)) for row in page.object_list]
    included = include(actor, patient, found, wanted, purpose) if include and wanted else []
    return json_response(
        bundle(
            request,
            found,
            total=page.paginator.count,
            links=page_links(request, page, count),
            included=included,
        )
    )


def include_values(params, served: frozenset[str], resource: str) -> set[str]:
    """The `_include` values asked (each parameter one value, or several comma-separated),
    refused unless this search answers them."""
    wanted = {value for raw in params.getlist("_include") for value in raw.split(",")}
    unknown = sorted(wanted - served)
    if unknown:
        answered = ", ".join(sorted(served)) or "none"
        raise FhirError(
            400,
            "not-supported",
            f"Unsupported _include: {', '.join(unknown)}. {resource} answers {answered}.",
        )
    return wanted


def numbered_links(
    request: HttpRequest, number: int, has_next: bool, has_previous: bool, count: int
) -> dict[str, str]:
    links = {}
    if has_next:
        links["next"] = page_url(request, number + 1, count)
    if has_previous:
        links["previous"] = page_url(request, number - 1, count)
    return links


def token_param(raw: str | None, system: str) -> str | None:
    """The code of a token parameter (`code` or `system|code`), None when absent; a code of
    another system matches nothing, so it becomes one no resource carries."""
    if raw is None:
        return None
    named_system, bar, code = raw.rpartition("|")
    if bar and named_system and named_system != system:
        return "(another system)"
    return code


def date_bounds(
    values: list[str], name: str = "date"
) -> tuple[datetime.datetime | None, datetime.datetime | None]:
    """Date parameters (`name`: date, _lastUpdated, ...) as [after, before): a plain date is
    the whole day in the clinic's time zone; several parameters narrow each other."""
    after: datetime.datetime | None = None
    before: datetime.datetime | None = None
    for value in values:
        prefix = value[:2] if value[:2].isalpha() else "eq"
        text = value[2:] if value[:2].isalpha() else value
        if prefix not in DATE_PREFIXES:
            raise FhirError(400, "not-supported", f"{name} supports the prefixes {DATE_PREFIXES}.")
        start, end = instant_range(text, name)
        low = {"eq": start, "ge": start, "gt": end}.get(prefix)
        high = {"eq": end, "le": end, "lt": start}.get(prefix)
        if low is not None:
            after = low if after is None else max(after, low)
        if high is not None:
            before = high if before is None else min(before, high)
    return after, before


def instant_range(text: str, name: str = "date") -> tuple[datetime.datetime, datetime.datetime]:
    """[start, end) of a FHIR date (a day) or dateTime (an instant, with its zone)."""
    try:
        if len(text) == 10:
            day = datetime.date.fromisoformat(text)
            zone = timezone.get_default_timezone()
            start = datetime.datetime.combine(day, datetime.time(), tzinfo=zone)
            return start, start + datetime.timedelta(days=1)
        moment = datetime.datetime.fromisoformat(text)
        if moment.tzinfo is None:
            raise FhirError(400, "invalid", f"A dateTime in {name} must carry its time zone.")
        return moment, moment + datetime.timedelta(microseconds=1)
    except ValueError as error:
        raise FhirError(
            400, "invalid", f"{name} {text!r} is not a FHIR date (YYYY-MM-DD) or dateTime."
        ) from error
    except OverflowError as error:  # the last day of year 9999 has no day after it
        raise FhirError(400, "invalid", f"{name} {text!r} is out of range.") from error
