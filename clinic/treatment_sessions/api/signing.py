"""Closing a session's record through the API: the nurse's note (and the draft the page offers),
the prescriber's signature, addenda after it and the therapist's integration notes; the REMS
monitoring form (signing_rems.py) and the requests to a prescriber (signing_requests.py) hang
on the same router. Each is the page's own service and form (views.py `note`, `sign`,
`addendum`, `integration_note`), so the same roles, care team, location, rules and audit."""

from __future__ import annotations

import uuid

from django.http import HttpResponse
from django.utils import timezone
from ninja import Router, Status

from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.api_forms import form_checked
from clinic.core.api_schemas import ApiError
from clinic.core.api_versions import IfMatch, etag_openapi
from clinic.core.exceptions import Conflict
from clinic.core.text import OneLine
from clinic.treatment_sessions import selectors, services
from clinic.treatment_sessions.api._read import (
    answer,
    for_change,
    matches,
    note_read,
    session_etag,
)
from clinic.treatment_sessions.api.sessions import CHANGE_NOTE, CHANGED
from clinic.treatment_sessions.api.signing_schemas import NoteDraft, NoteText
from clinic.treatment_sessions.forms import AddendumForm, IntegrationNoteForm, NoteForm
from clinic.treatment_sessions.models import TreatmentSession
from clinic.treatment_sessions.note_facts import note_draft_of
from clinic.treatment_sessions.page import session_page
from clinic.treatment_sessions.schemas import IntegrationNoteRead, SessionAddendumRead

router = Router(tags=["treatment sessions"])

ONE = "/{session_uuid}"


def session_for(request, session_uuid: uuid.UUID, capability: str) -> TreatmentSession:
    """The role first (a refusal reads nothing), then the care team (404 otherwise)."""
    require(request.auth, capability)
    return selectors.session_get(actor=request.auth, session_uuid=session_uuid, audit=False)


def with_new_tag(response: HttpResponse, actor, session_uuid: uuid.UUID) -> None:
    """The session's ETag after an addition, for the client's next change."""
    fresh = selectors.session_get(actor=actor, session_uuid=session_uuid, audit=False)
    response["ETag"] = session_etag(fresh)


# --------------------------------------------------------------------------- the nurse's note


@router.get(
    ONE + "/note/draft",
    response={200: NoteDraft, 409: ApiError},
    summary="The nurse's note as the page drafts it",
    description=(
        "Written from the record (times, dose and what was given, vital signs' ranges, alerts "
        "and what was done, scores, side effects, the prescriber's decisions, how it ended), "
        "for the nurse to edit and save; nothing is stored. The page offers it until the "
        "record is signed: 409 `session_signed` after. Nurses and prescribers of the care team."
    ),
)
def note_draft(request, session_uuid: uuid.UUID):
    require(request.auth, Capability.SESSION_RUN)
    session = selectors.session_get(actor=request.auth, session_uuid=session_uuid)
    if session.is_signed:
        raise Conflict(
            "This session record is signed and locked: add an addendum instead.",
            code="session_signed",
        )
    page = session_page(session, actor=request.auth, now=timezone.now())
    return {"text": note_draft_of(session, page)}


@router.put(
    ONE + "/note",
    response=CHANGED,
    openapi_extra=etag_openapi(200),
    summary="Save the nurse's session note",
    description=(
        "Replaces the note (the page's note form: up to 20,000 characters, not blank), in any "
        "phase until the record is signed (409 `session_signed`: add an addendum). The note "
        "must be written before a prescriber can sign." + CHANGE_NOTE
    ),
)
def note_save(
    request,
    session_uuid: uuid.UUID,
    payload: NoteText,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    session = for_change(request, session_uuid)
    data = form_checked(NoteForm({"text": payload.text})).cleaned_data
    services.nurse_note_save(
        actor=request.auth, session=session, text=data["text"], precondition=matches(if_match)
    )
    return answer(response, session_uuid, actor=request.auth)


# --------------------------------------------------------------------------- the signature


@router.post(
    ONE + "/sign",
    response=CHANGED,
    openapi_extra=etag_openapi(200),
    summary="Sign the session record (a prescriber of the care team)",
    description=(
        "The record's content is hashed (`signature.sha256`) and locked; later words go in "
        "addenda. Only a prescriber on the patient's care team, at any location (403 for "
        "other roles). 409 `cannot_sign` while anything stops it, the message saying each "
        "thing to do first, as `signature.blockers` of the session lists them: the session "
        "still open (discharge or stop it), the nurse's note not written, a vitals alert not "
        "acknowledged, a residual awaiting witnessed waste, an esketamine session's REMS "
        "monitoring form incomplete. 409 `session_signed` once signed. `If-Match`: the "
        "session's ETag (428 without it, 412 when the record changed since it was read, so a "
        "signature always covers what the prescriber read)."
    ),
)
def session_sign(
    request, session_uuid: uuid.UUID, response: HttpResponse, if_match: OneLine | None = IfMatch
):
    session = session_for(request, session_uuid, Capability.SESSION_SIGN)
    services.session_sign(actor=request.auth, session=session, precondition=matches(if_match))
    return answer(response, session_uuid, actor=request.auth)


# --------------------------------------------------------------------------- added afterwards


@router.post(
    ONE + "/addenda",
    response={201: SessionAddendumRead, 409: ApiError},
    openapi_extra=etag_openapi(201),
    summary="Add an addendum to a signed record",
    description=(
        "Words added after signing (the page's addendum form, up to 20,000 characters); the "
        "signed record itself never changes. Nurses and prescribers of the care team who work "
        "at the session's location (403 elsewhere). 409 `not_signed` before signing: save the "
        "note instead. Added, never replacing anything, so no `If-Match`; the answer's ETag is "
        "the session's new one."
    ),
)
def addendum_add(request, session_uuid: uuid.UUID, payload: NoteText, response: HttpResponse):
    session = session_for(request, session_uuid, Capability.SESSION_RUN)
    data = form_checked(AddendumForm({"text": payload.text})).cleaned_data
    addendum = services.session_addendum_add(actor=request.auth, session=session, text=data["text"])
    with_new_tag(response, request.auth, session_uuid)
    return Status(201, note_read(addendum))


@router.post(
    ONE + "/integration-notes",
    response={201: IntegrationNoteRead},
    openapi_extra=etag_openapi(201),
    summary="Add the therapist's integration note",
    description=(
        "Before or after signing (the page's integration note form, up to 20,000 characters); "
        "notes are only added. Therapists and prescribers of the care team. No `If-Match`; the "
        "answer's ETag is the session's new one."
    ),
)
def integration_note_add(
    request, session_uuid: uuid.UUID, payload: NoteText, response: HttpResponse
):
    session = session_for(request, session_uuid, Capability.SESSION_INTEGRATION_NOTE)
    data = form_checked(IntegrationNoteForm({"text": payload.text})).cleaned_data
    note = services.integration_note_add(actor=request.auth, session=session, text=data["text"])
    with_new_tag(response, request.auth, session_uuid)
    return Status(201, note_read(note))


# The REMS form and the requests to a prescriber register their operations on `router`.
import clinic.treatment_sessions.api.signing_rems  # noqa: E402, F401
import clinic.treatment_sessions.api.signing_requests  # noqa: E402, F401
