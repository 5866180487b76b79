from __future__ import annotations

import logging
import time

from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import JsonResponse
from django.http.multipartparser import MultiPartParserError

from clinic.core.request_context import (
    RequestContext,
    buffering_audit,
    collecting_refusals,
    reset_request_context,
    set_request_context,
)


def client_ip(request) -> str | None:
    """The client address, trusting X-Forwarded-For only as far as configured proxies go."""
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        context = RequestContext(
            ip_address=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
            channel="api" if request.path.startswith(("/api/", "/fhir/")) else "web",
        )
        request.request_id = context.request_id
        token = set_request_context(context)
        try:
            with buffering_audit() as events, collecting_refusals() as refusals:
                try:
                    response = self.get_response(request)
                    if refusals:
                        from clinic.core.access import audit_refusals

                        audit_refusals(request, refusals)
                finally:
                    # One audit write per request: what the request read or was refused, even
                    # if the view raised after reading (clinic/core/audit.py).
                    if events:
                        from clinic.core.audit import audit_flush

                        audit_flush(events)
            return response
        finally:
            reset_request_context(token)


class NoStoreMiddleware:
    """Pages for signed-in users may hold patient information or their session cookie:
    browsers and shared caches must not keep them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        # Always, even where a view asked for public caching (the education pages): a signed-in
        # response may carry the session cookie, which no shared cache may keep.
        if user is not None and user.is_authenticated:
            response["Cache-Control"] = "no-store, private"
        return response


class DomainErrorPageMiddleware:
    """On pages, a NotFound or PermissionDenied from a selector or service becomes the
    404 or 403 page; the API has its own handlers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.shortcuts import render

        from clinic.core.exceptions import NotFound, PermissionDenied

        if isinstance(exception, NotFound):
            return render(request, "404.html", {"message": exception.message}, status=404)
        if isinstance(exception, PermissionDenied):
            return render(request, "403.html", {"message": exception.message}, status=403)
        return None


# A page that refreshes itself (the chair board, a session's live bar) sends this header.
BACKGROUND_REFRESH_HEADER = "X-Background-Refresh"


# When the session's idle sign-out was last pushed back (seconds since the epoch), kept in the
# session itself.
_REFRESHED_AT = "_idle_refreshed_at"


class IdleSessionMiddleware(SessionMiddleware):
    """Django's session middleware, except that:
    - a background refresh is not activity: it does not push back the idle sign-out
      (SESSION_IDLE_TIMEOUT_MIN), so a screen left open does not keep its user signed in for
      ever;
    - activity pushes the sign-out back at most once per SESSION_REFRESH_INTERVAL_S: a session
      write on every page load is a database write per request, and moving a 30-minute
      deadline by a few seconds protects nothing. The sign-out then comes between
      SESSION_IDLE_TIMEOUT_MIN minus that interval and SESSION_IDLE_TIMEOUT_MIN after the last
      page the user opened.
    Anything the request changed in the session is saved."""

    def process_response(self, request, response):
        session = getattr(request, "session", None)
        if session is None or session.is_empty():
            return super().process_response(request, response)
        now_s = int(time.time())
        if not session.modified:
            if request.headers.get(BACKGROUND_REFRESH_HEADER):
                return response
            refreshed_s = session.get(_REFRESHED_AT)
            if isinstance(refreshed_s, int) and 0 <= now_s - refreshed_s < (
                settings.SESSION_REFRESH_INTERVAL_S
            ):
                return response
        session[_REFRESHED_AT] = now_s
        return super().process_response(request, response)


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class RequestTooLargeMiddleware:
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE, or a query string or body with more fields or
    files than DATA_UPLOAD_MAX_NUMBER_FIELDS / _FILES, is answered 413 here, on pages (the 413
    page) and in the API (its envelope) alike; a multipart body that cannot be parsed, 400.
    Left to the view, Django turns them into a bare 400 (in DEBUG, a traceback) and the API's
    catch-all into a 500 with a logged traceback.

    The query string and body are parsed here, once, as CSRF checking and the views would
    parse them anyway."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            request.GET  # noqa: B018 - the query string, with Django's field limit
            if request.method in _BODY_METHODS:
                # The whole body first (KetaCare takes no file uploads, so the size limit holds
                # for all of it), so that it stays readable after the form is parsed from it:
                # the API reads request.body whatever the content type.
                request.body  # noqa: B018
                request.POST  # noqa: B018 - form bodies, with the field and file limits
        except (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent) as error:
            return request_refused_response(request, error, status=413)
        except MultiPartParserError as error:
            return request_refused_response(request, error, status=400)
        return self.get_response(request)


_REFUSED_DETAIL = {
    "RequestDataTooBig": "The request body is larger than this server accepts.",
    "TooManyFieldsSent": "The request has more fields than this server accepts.",
    "TooManyFilesSent": "The request has more files than this server accepts.",
    "MultiPartParserError": "The request body could not be read.",
}


def request_refused_response(request, error: Exception, *, status: int = 413):
    """413 (too large) or 400 (unreadable): the API's envelope under /api/, else the page."""
    from django.shortcuts import render

    # A warning without a traceback: the request is the client's mistake, not ours.
    logging.getLogger("django.security.request_refused").warning(
        "%s %s on %s %s", status, type(error).__name__, request.method, request.path
    )
    name = next((k.__name__ for k in type(error).__mro__ if k.__name__ in _REFUSED_DETAIL), "")
    detail = _REFUSED_DETAIL.get(name, _REFUSED_DETAIL["RequestDataTooBig"])
    code = "request_too_large" if status == 413 else "bad_request"
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": detail, "code": code}, status=status)
    return render(request, f"{status}.html", {"message": detail}, status=status)
