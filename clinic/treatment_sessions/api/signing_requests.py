"""Asking a prescriber from the chair, and answering, through the API (views_requests.py and
the in-basket): a nurse asks or withdraws, a prescriber answers or declines, with the page's
services. These wait on a person, so a prescriber's integration reads the same open list as the
in-basket (`GET /sessions/requests/waiting`), with how long each has waited and when it is
e-mailed. A request is its own record with its own ETag (`request_etag`): what it asks and
whether it is still open; an answer sent on a request that has changed since it was read (what
it asks brought up to date, or answered from another device) is refused with 412 under the
request's row lock. Registered on the signing router (api/signing.py)."""

from __future__ import annotations

import uuid

from django.http import HttpResponse
from django.utils import timezone
from ninja import Query, Status

from clinic.accounts.permissions import Capability
from clinic.core.api_pages import CursorQuery, cursor_decode, cursor_encode
from clinic.core.api_schemas import ApiError
from clinic.core.api_versions import IfMatch, entity_tag, etag_openapi, precondition
from clinic.core.exceptions import Conflict
from clinic.core.text import OneLine
from clinic.treatment_sessions import selectors
from clinic.treatment_sessions.api._read import for_change, request_read
from clinic.treatment_sessions.api.signing import router
from clinic.treatment_sessions.api.signing_schemas import (
    PrescriberAnswer,
    PrescriberAsk,
    PrescriberDecline,
    PrescriberRequestPage,
    PrescriberWithdraw,
)
from clinic.treatment_sessions.models import PrescriberRequest, about_digest
from clinic.treatment_sessions.prescriber_requests import request_policy
from clinic.treatment_sessions.schemas import PrescriberRequestRead
from clinic.treatment_sessions.services import prescriber as asks

REQUEST = "/requests/{request_uuid}"
DECIDED = {200: PrescriberRequestRead, 409: ApiError, 412: ApiError, 428: ApiError}
IF_MATCH_NOTE = (
    " `If-Match`: the request's ETag (from the waiting list or `GET "
    "/sessions/requests/{request_uuid}`): 428 without it, 412 when the request changed since "
    "(what it asks brought up to date, or closed from another device), and nothing is decided."
)


def request_etag(request: PrescriberRequest) -> str:
    """What a decision is made on: what the request asks and whether it is still open (not
    when its reminder was e-mailed, which changes nothing a prescriber decides on)."""
    return entity_tag(
        "prescriber_request", request.uuid, request.status, about_digest(request.about)
    )


def _read(request: PrescriberRequest, *, with_etag: bool = False) -> dict:
    read = request_read(
        request, now=timezone.now(), email_after_min=request_policy().email_after_min
    )
    if with_etag:
        read["etag"] = request_etag(request)
    return read


def _answer(response: HttpResponse, actor, request_uuid) -> dict:
    """The request as it is now, with its new ETag."""
    request = selectors.prescriber_request_get(actor=actor, request_uuid=request_uuid, audit=False)
    response["ETag"] = request_etag(request)
    return _read(request)


def _waiting(request, request_uuid: uuid.UUID, capability: str) -> PrescriberRequest:
    """The role first (a refusal reads nothing), then the care team (404), as the page's posts."""
    return asks.request_for_actor(
        actor=request.auth, request_uuid=request_uuid, capability=capability
    )


@router.post(
    "/{session_uuid}/ask",
    response={201: PrescriberRequestRead, 409: ApiError},
    openapi_extra=etag_openapi(201),
    summary="Ask the care team's prescribers to decide",
    description=(
        "As the session page's ask: to override unmet pre-checks (while checked in) or the "
        "discharge criteria (monitoring or recovery), or to confirm a high pre-dose blood "
        "pressure again after a decline (a high reading asks by itself). It shows at once in "
        "the prescribers' in-basket and `GET /sessions/requests/waiting`, and is e-mailed to "
        "them once it has waited the clinic's delay (to the clinic administrators when the "
        "care team has no prescriber). 409 `already_asked` while one of the kind waits, "
        "`not_needed` when there is nothing to decide, `wrong_phase` otherwise. Nurses and "
        "prescribers of the session's location. The answer's ETag is the request's."
    ),
)
def prescriber_ask(
    request, session_uuid: uuid.UUID, payload: PrescriberAsk, response: HttpResponse
):
    session = for_change(request, session_uuid)
    asked = asks.prescriber_request_ask(
        actor=request.auth,
        session=session,
        kind=payload.kind,
        note=payload.note,
        escort_present=payload.escort_present,
    )
    return Status(201, _answer(response, request.auth, asked.uuid))


@router.get(
    "/requests/waiting",
    response=PrescriberRequestPage,
    summary="Requests waiting for a prescriber",
    description=(
        "The in-basket's: open requests on sessions of your care team's patients (for the "
        "clinic administrator, those no prescriber can answer: the care team has none), "
        "oldest first, a page at a time. Each with what it asks, how long it has waited and "
        "when it is (or was) e-mailed, and its ETag to answer with. Clinical roles and the "
        "clinic administrator."
    ),
)
def prescriber_request_list(request, params: Query[CursorQuery]):
    after = cursor_decode(params.cursor, scope="sessions:requests", filters={})
    page = selectors.prescriber_request_page(actor=request.auth, after=after, limit=params.limit)
    return {
        "items": [_read(r, with_etag=True) for r in page.items],
        "next_cursor": cursor_encode(page.next_after, scope="sessions:requests", filters={})
        if page.next_after
        else None,
    }


@router.get(
    REQUEST,
    response=PrescriberRequestRead,
    openapi_extra=etag_openapi(200),
    summary="One request to a prescriber",
    description="Open or closed, with its ETag. The care team; 404 for anyone else.",
)
def prescriber_request_detail(request, request_uuid: uuid.UUID, response: HttpResponse):
    found = selectors.prescriber_request_get(actor=request.auth, request_uuid=request_uuid)
    response["ETag"] = request_etag(found)
    return _read(found)


@router.post(
    REQUEST + "/answer",
    response=DECIDED,
    openapi_extra=etag_openapi(200),
    summary="Answer yes, with the reason (a prescriber)",
    description=(
        "Confirms the pre-dose blood pressure, overrides the pre-checks, or lets the patient "
        "go despite the discharge criteria; the reason goes in the record and the nurse sees "
        "it at the chair. Checked first against the chair as it is now: when what the request "
        "asks has changed since, nothing is decided, the request is brought up to date and the "
        "answer is 409 `situation_changed` saying what is asked now (read it again). 409 "
        "`not_waiting` once closed, `not_needed` when the chair has moved on. Prescribers of "
        "the care team, at any location." + IF_MATCH_NOTE
    ),
)
def prescriber_request_answer(
    request,
    request_uuid: uuid.UUID,
    payload: PrescriberAnswer,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    waiting = _waiting(request, request_uuid, Capability.SESSION_OVERRIDE)
    now = asks.prescriber_request_answer(
        actor=request.auth,
        request=waiting,
        reason=payload.reason,
        # What the prescriber read: the tag below guarantees it is still the request's.
        seen_digest=about_digest(waiting.about),
        precondition=precondition(if_match, request_etag),
    )
    if now.changed:
        raise Conflict(
            "The chair's situation changed since you read it; nothing was decided. Read it "
            "again: " + " ".join(now.about),
            code="situation_changed",
        )
    return _answer(response, request.auth, request_uuid)


@router.post(
    REQUEST + "/decline",
    response=DECIDED,
    openapi_extra=etag_openapi(200),
    summary="Decline, saying what the nurse should do instead (a prescriber)",
    description=(
        "The note is shown at the chair. 409 `not_waiting` once closed. Prescribers of the "
        "care team." + IF_MATCH_NOTE
    ),
)
def prescriber_request_decline(
    request,
    request_uuid: uuid.UUID,
    payload: PrescriberDecline,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    waiting = _waiting(request, request_uuid, Capability.SESSION_OVERRIDE)
    asks.prescriber_request_decline(
        actor=request.auth,
        request=waiting,
        note=payload.note,
        precondition=precondition(if_match, request_etag),
    )
    return _answer(response, request.auth, request_uuid)


@router.post(
    REQUEST + "/withdraw",
    response=DECIDED,
    openapi_extra=etag_openapi(200),
    summary="Withdraw a request no longer needed (the chair)",
    description=(
        "E.g. a recheck came back within the limit. 409 `not_waiting` once closed. Nurses and "
        "prescribers of the session's location." + IF_MATCH_NOTE
    ),
)
def prescriber_request_withdraw(
    request,
    request_uuid: uuid.UUID,
    payload: PrescriberWithdraw,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    waiting = _waiting(request, request_uuid, Capability.SESSION_RUN)
    asks.prescriber_request_withdraw(
        actor=request.auth,
        request=waiting,
        note=payload.note,
        precondition=precondition(if_match, request_etag),
    )
    return _answer(response, request.auth, request_uuid)
