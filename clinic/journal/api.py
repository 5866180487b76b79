"""The patient's own journal and intentions at /api/v1/me (PatientBearerAuth, set where the
router is mounted): the portal's journal pages for an app the patient connects.

Glue only, as the portal's views_journal: every read and write is the signed-in patient's own
(`request.auth`, their portal user; `request.patient`, their record), through the same audited
selectors and services. Another patient's record is "not found" (404), exactly like one that
does not exist; a private entry stays private from staff, since only the patient reads here.
"""

from __future__ import annotations

import uuid

from django.http import HttpResponse
from django.utils import timezone
from ninja import Query, Router, Status

from clinic.core.api_pages import CursorQuery, cursor_decode, cursor_encode
from clinic.core.api_schemas import ApiError
from clinic.core.api_versions import IfMatch, entity_tag, etag_openapi, precondition
from clinic.core.exceptions import Conflict
from clinic.core.text import OneLine
from clinic.journal import rules, selectors, services
from clinic.journal.models import Intention, JournalEntry
from clinic.journal.schemas import (
    OwnIntentionCreate,
    OwnIntentionPage,
    OwnIntentionRead,
    OwnIntentionUpdate,
    OwnJournalEntryCreate,
    OwnJournalEntryPage,
    OwnJournalEntryRead,
    OwnJournalEntryUpdate,
)

router = Router(tags=["my journal"])

_CHANGE_ERRORS = {404: ApiError, 409: ApiError, 412: ApiError, 428: ApiError}


def entry_etag(entry: JournalEntry) -> str:
    return entity_tag(
        "journal_entry",
        entry.uuid,
        entry.updated_at,
        entry.mood_before,
        entry.mood_after,
        entry.shared_with_care_team,
        entry.remind_at,
    )


def intention_etag(intention: Intention) -> str:
    return entity_tag("intention", intention.uuid, intention.updated_at, intention.written_at)


def _session(appointment) -> dict | None:
    if appointment is None:
        return None
    return {
        "uuid": appointment.uuid,
        "starts_at": appointment.starts_at,
        "status": appointment.status,
    }


def _entry(entry: JournalEntry) -> dict:
    return {
        "uuid": entry.uuid,
        "appointment": _session(entry.appointment),
        "mood_before": entry.mood_before,
        "mood_after": entry.mood_after,
        "reflections": entry.reflections,
        "insights": entry.insights,
        "shared_with_care_team": entry.shared_with_care_team,
        "shared_at": entry.shared_at,
        "remind_at": entry.remind_at,
        "created_at": entry.created_at,
        "updated_at": entry.updated_at,
    }


def _intention(intention: Intention) -> dict:
    return {
        "uuid": intention.uuid,
        "appointment": _session(intention.appointment),
        "text": intention.text,
        "written_at": intention.written_at,
        "editable": rules.intention_open(intention.appointment, timezone.now()),
        "created_at": intention.created_at,
    }


def _page(page, *, scope: str, read) -> dict:
    return {
        "items": [read(record) for record in page.items],
        "next_cursor": cursor_encode(page.next_after, scope=scope, filters={})
        if page.next_after
        else None,
    }


# --------------------------------------------------------------------------- journal entries


@router.get(
    "/journal/entries",
    response=OwnJournalEntryPage,
    summary="My journal entries",
    description=(
        "Your journal, newest first, shared and private alike, a page at a time: send "
        "`next_cursor` back as `cursor` for the next page (null: the last page)."
    ),
)
def entry_list(request, params: Query[CursorQuery]):
    after = cursor_decode(params.cursor, scope="me/journal/entries", filters={})
    page = selectors.own_entry_page(
        actor=request.auth, patient=request.patient, after=after, limit=params.limit
    )
    return _page(page, scope="me/journal/entries", read=_entry)


@router.post(
    "/journal/entries",
    response={201: OwnJournalEntryRead, 404: ApiError, 409: ApiError},
    openapi_extra=etag_openapi(201),
    summary="Write a journal entry",
    description=(
        "As the portal's journal page. Private unless `shared_with_care_team`. About one of "
        "your past sessions with `appointment` (404 for one that is not yours or has not "
        "begun; 409 `entry_exists` when you already wrote about it: change that entry)."
    ),
)
def entry_create(request, payload: OwnJournalEntryCreate, response: HttpResponse):
    actor, patient = request.auth, request.patient
    appointment = None
    if payload.appointment is not None:
        appointment = selectors.portal_past_session_get(
            actor=actor, patient=patient, appointment_uuid=payload.appointment
        )
    entry = services.journal_entry_create(
        actor=actor,
        patient=patient,
        appointment=appointment,
        **payload.model_dump(exclude={"appointment"}),
    )
    response["ETag"] = entry_etag(entry)
    return Status(201, _entry(entry))


@router.get(
    "/journal/entries/{entry_uuid}",
    response=OwnJournalEntryRead,
    openapi_extra=etag_openapi(200),
    summary="One of my journal entries",
)
def entry_detail(request, entry_uuid: uuid.UUID, response: HttpResponse):
    entry = selectors.portal_entry_get(
        actor=request.auth, patient=request.patient, entry_uuid=entry_uuid
    )
    response["ETag"] = entry_etag(entry)
    return _entry(entry)


@router.patch(
    "/journal/entries/{entry_uuid}",
    response={200: OwnJournalEntryRead, **_CHANGE_ERRORS},
    openapi_extra=etag_openapi(200),
    summary="Change, share or unshare a journal entry",
    description=(
        "Only the fields you send change. `shared_with_care_team` false makes it private "
        "again: your care team can no longer read it. `If-Match` required."
    ),
)
def entry_update(
    request,
    entry_uuid: uuid.UUID,
    payload: OwnJournalEntryUpdate,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    entry = selectors.portal_entry_get(
        actor=request.auth, patient=request.patient, entry_uuid=entry_uuid
    )
    changed = services.journal_entry_update(
        actor=request.auth,
        entry=entry,
        data=payload.model_dump(exclude_unset=True),
        precondition=precondition(if_match, entry_etag),
    )
    response["ETag"] = entry_etag(changed)
    return _entry(changed)


# --------------------------------------------------------------------------- intentions


@router.get(
    "/intentions",
    response=OwnIntentionPage,
    summary="My intentions",
    description="The intentions you wrote for your sessions, the latest written first, paged.",
)
def intention_list(request, params: Query[CursorQuery]):
    after = cursor_decode(params.cursor, scope="me/intentions", filters={})
    page = selectors.own_intention_page(
        actor=request.auth, patient=request.patient, after=after, limit=params.limit
    )
    return _page(page, scope="me/intentions", read=_intention)


def _not_written_yet(current: Intention | None) -> None:
    if current is not None:
        raise Conflict(
            "You already wrote an intention for this session: change that one instead.",
            code="intention_exists",
        )


@router.post(
    "/intentions",
    response={201: OwnIntentionRead, 404: ApiError, 409: ApiError},
    openapi_extra=etag_openapi(201),
    summary="Write the intention for a coming session",
    description=(
        "Your care team sees it at the session. 404 for an appointment that is not one of "
        "your in-clinic sessions; 409 `intention_locked` once the session has started, "
        "`intention_exists` when you already wrote one (change it instead)."
    ),
)
def intention_create(request, payload: OwnIntentionCreate, response: HttpResponse):
    actor, patient = request.auth, request.patient
    appointment = selectors.portal_appointment_get(
        actor=actor, patient=patient, appointment_uuid=payload.appointment
    )
    intention = services.intention_save(
        actor=actor,
        patient=patient,
        appointment=appointment,
        text=payload.text,
        precondition=_not_written_yet,
    )
    response["ETag"] = intention_etag(intention)
    return Status(201, _intention(intention))


@router.get(
    "/intentions/{intention_uuid}",
    response=OwnIntentionRead,
    openapi_extra=etag_openapi(200),
    summary="One of my intentions",
)
def intention_detail(request, intention_uuid: uuid.UUID, response: HttpResponse):
    intention = selectors.own_intention_get(
        actor=request.auth, patient=request.patient, intention_uuid=intention_uuid
    )
    response["ETag"] = intention_etag(intention)
    return _intention(intention)


@router.patch(
    "/intentions/{intention_uuid}",
    response={200: OwnIntentionRead, **_CHANGE_ERRORS},
    openapi_extra=etag_openapi(200),
    summary="Change an intention",
    description="Until the session starts (then 409 `intention_locked`). `If-Match` required.",
)
def intention_update(
    request,
    intention_uuid: uuid.UUID,
    payload: OwnIntentionUpdate,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    actor, patient = request.auth, request.patient
    intention = selectors.own_intention_get(
        actor=actor, patient=patient, intention_uuid=intention_uuid
    )
    check = precondition(if_match, intention_etag)

    def unchanged_since_read(current: Intention | None) -> None:
        # The intention exists (never deleted): it was just read.
        check(current if current is not None else intention)

    changed = services.intention_save(
        actor=actor,
        patient=patient,
        appointment=intention.appointment,
        text=payload.text,
        precondition=unchanged_since_read,
    )
    response["ETag"] = intention_etag(changed)
    return _intention(changed)
