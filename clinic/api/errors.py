"""One error envelope for the whole API: {"detail": ..., "code": ...}.

`detail` is a message, or for invalid input a list of {"loc", "msg", "type"} items naming
each offending field, as Ninja reports schema errors.
"""

from __future__ import annotations

import logging

from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import Http404
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

from clinic.core.api_schemas import UNKNOWN_FIELD, ApiError
from clinic.core.exceptions import DomainError, InvalidInput
from clinic.core.middleware import request_refused_response

logger = logging.getLogger("clinic.api")

# Every operation can answer 401 (no valid session or token) and 403 (a role that may not, or
# a session request without its CSRF token), but a public one (`auth=None`); one with path
# parameters 404; one with parameters or a body 422; one with a body 400 (not JSON at all)
# and 413 (too large). 409 is declared by the operations that can conflict. Each with the one
# envelope.
_BODY_STATUSES = (400, 413)


def _problem(item: dict) -> dict:
    """One schema problem in the envelope's words (the same for every operation)."""
    kind = item.get("type")
    if kind == "extra_forbidden":
        return {**item, "msg": UNKNOWN_FIELD}
    return item


def declare_error_responses(api) -> None:
    """Add the envelope to every operation for each status it can answer with (a status an
    operation declares itself keeps its own schema). Call once every router is added."""
    for bound_router in api._get_bound_routers():
        for path_view in bound_router.path_operations.values():
            for operation in path_view.operations:
                sources = {model.__ninja_param_source__ for model in operation.models}
                # A public operation takes no credentials, so none can be refused.
                statuses = [] if operation.auth_param is None else [401, 403]
                if "path" in sources:
                    statuses.append(404)
                if sources or operation.openapi_extra:
                    statuses.append(422)
                if "body" in sources or (operation.openapi_extra or {}).get("requestBody"):
                    statuses.extend(_BODY_STATUSES)
                for status in statuses:
                    if status not in operation.response_models:
                        operation.response_models[status] = operation._create_response_model(
                            ApiError
                        )


def install_error_handlers(api) -> None:
    @api.exception_handler(InvalidInput)
    def invalid_input(request, error: InvalidInput):
        detail = [
            {"loc": ["body", field], "msg": message, "type": "invalid_input"}
            for field, messages in error.errors.items()
            for message in messages
        ]
        return api.create_response(request, {"detail": detail, "code": error.code}, status=422)

    @api.exception_handler(DomainError)
    def domain_error(request, error: DomainError):
        body = {"detail": error.message, "code": error.code}
        if error.field:
            body["field"] = error.field
        return api.create_response(request, body, status=error.status)

    @api.exception_handler(ValidationError)
    def validation_error(request, error: ValidationError):
        return api.create_response(
            request,
            {"detail": [_problem(item) for item in error.errors], "code": "invalid_input"},
            status=422,
        )

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, error):
        return api.create_response(
            request,
            {"detail": "Sign in, or send a valid Bearer token.", "code": "unauthenticated"},
            status=401,
        )

    @api.exception_handler(AuthorizationError)
    def unauthorized(request, error):
        return api.create_response(
            request,
            {"detail": "Your role does not allow this.", "code": "permission_denied"},
            status=403,
        )

    @api.exception_handler(Http404)
    def not_found(request, error):
        return api.create_response(
            request, {"detail": "Not found.", "code": "not_found"}, status=404
        )

    @api.exception_handler(HttpError)
    def http_error(request, error: HttpError):
        return api.create_response(
            request, {"detail": str(error), "code": "http_error"}, status=error.status_code
        )

    # RequestTooLargeMiddleware answers these before the API runs; should a handler still meet
    # one (a body read lazily), it is the same 413, not the catch-all's 500.
    @api.exception_handler(RequestDataTooBig)
    @api.exception_handler(TooManyFieldsSent)
    @api.exception_handler(TooManyFilesSent)
    def request_too_large(request, error: Exception):
        return request_refused_response(request, error, status=413)

    @api.exception_handler(SuspiciousOperation)
    def suspicious(request, error: SuspiciousOperation):
        logger.warning("Refused a suspicious request: %s", type(error).__name__)
        return api.create_response(
            request, {"detail": "The request was refused.", "code": "bad_request"}, status=400
        )

    @api.exception_handler(Exception)
    def unexpected(request, error: Exception):
        # The traceback goes to the server log; the request body (which may hold PHI) does not.
        logger.exception(
            "Unhandled API error on %s %s",
            request.method,
            request.resolver_match.route if request.resolver_match else "?",
        )
        return api.create_response(
            request,
            {
                "detail": "Something went wrong on our side; nothing was saved.",
                "code": "internal_error",
            },
            status=500,
        )
