"""The session's clinical record through the API: the prescriber's pre-dose blood-pressure
confirmation and pre-check override, in-session scores, side effects, adverse events, and their
correction as entered in error — the same forms, services, rules and audit as the session
page's posts (views.py `bp_confirm`, `override`; views_flowsheet.py). A correction amends: the
row stays in the record, struck through, with its reason (GET the session to see it).

Every operation here takes `If-Match`. Vitals alone are exempt (sessions.py): a monitor posts
them unattended and cannot re-read. Everything here is charted or decided by a person looking
at the record, and the tag is what says they saw the latest of it:
- a prescriber's confirmation or override answers the pre-checks and readings they read; a
  reading or pre-check charted since may change the decision, so it must be read again;
- a score, side effect or adverse event charted by a second device on what it read before the
  first one's would otherwise double-chart the same event (two emesis entries, two adverse
  event reports of one event); 412 makes the second see the first and decide;
- a correction strikes a row through: the reason is about the row as it was read.
"""

from __future__ import annotations

import uuid

from django.http import HttpResponse
from ninja import Router, Status

from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.api_forms import form_checked
from clinic.core.api_schemas import ApiError
from clinic.core.api_versions import IfMatch, etag_openapi
from clinic.core.exceptions import InvalidInput, NotFound
from clinic.core.text import OneLine
from clinic.treatment_sessions import selectors, services
from clinic.treatment_sessions.api._read import (
    adverse_event_read,
    answer,
    for_change,
    matches,
    score_read,
    session_etag,
    side_effect_read,
)
from clinic.treatment_sessions.api.sessions import CHANGE_NOTE, CHANGED
from clinic.treatment_sessions.choices import SessionScoreKind
from clinic.treatment_sessions.forms import (
    AdverseEventForm,
    EnteredInErrorForm,
    ReasonForm,
    ScoreForm,
    SideEffectForm,
)
from clinic.treatment_sessions.models import TreatmentSession
from clinic.treatment_sessions.schemas import (
    AdverseEventCreate,
    AdverseEventRead,
    EnteredInError,
    PrescriberReason,
    ScoreCreate,
    ScoreRead,
    SideEffectCreate,
    SideEffectRead,
)

router = Router(tags=["treatment sessions"])

ONE = "/{session_uuid}"
# A row added to the record: 201 with the row, the session's new ETag in the header.
ADDED = {409: ApiError, 412: ApiError, 428: ApiError}
ADDED_NOTE = (
    " `If-Match`: the session's ETag (428 without it, 412 when another device charted on the "
    "session since: read it again, it may already hold this). The answer's `ETag` is the "
    "session's new one. 403 at a location you do not work at."
)
DECISION_NOTE = (
    " For prescribers on the care team, at any location (403 for anyone else, before anything "
    "is read). `If-Match`: the session's ETag (428 without it, 412 when a reading or pre-check "
    "was charted since: read it again before deciding)."
)
CORRECTION_NOTE = (
    " The entry stays in the record, marked entered in error with the reason, by whom and "
    "when; nothing is deleted. Marking it again changes nothing." + CHANGE_NOTE
)


def _for_decision(request, session_uuid: uuid.UUID) -> TreatmentSession:
    """A prescriber's decision, as the page's: the role first (a refusal reads nothing), then
    the care team (404 otherwise)."""
    require(request.auth, Capability.SESSION_OVERRIDE)
    return selectors.session_get(actor=request.auth, session_uuid=session_uuid, audit=False)


def _in_session(rows, key: uuid.UUID, what: str):
    found = next((row for row in rows if row.uuid == key), None)
    if found is None:
        raise NotFound(f"No such {what} in this session.")
    return found


def _with_new_tag(response: HttpResponse, request, session_uuid: uuid.UUID) -> None:
    fresh = selectors.session_get(actor=request.auth, session_uuid=session_uuid, audit=False)
    response["ETag"] = session_etag(fresh)


def _reason(form_class, payload) -> str:
    return form_checked(form_class({"reason": payload.reason})).cleaned_data["reason"]


# --------------------------------------------------------------------------- decisions


@router.post(
    ONE + "/pre-dose-bp/confirm",
    response=CHANGED,
    openapi_extra=etag_openapi(200),
    summary="Confirm dosing despite a high pre-dose blood pressure",
    description=(
        "The prescriber's confirmation of the latest pre-dose reading above the clinic's "
        "limit, with the reason; it answers the nurse's waiting request. 409 `no_pre_dose_bp` "
        "before a reading, `not_needed` when the reading needs none, `wrong_phase` once dosing "
        "started." + DECISION_NOTE
    ),
)
def pre_dose_bp_confirm(
    request,
    session_uuid: uuid.UUID,
    payload: PrescriberReason,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    session = _for_decision(request, session_uuid)
    services.pre_dose_bp_confirm(
        actor=request.auth,
        session=session,
        reason=_reason(ReasonForm, payload),
        precondition=matches(if_match),
    )
    return answer(response, session_uuid, actor=request.auth)


@router.post(
    ONE + "/pre-checks/override",
    response=CHANGED,
    openapi_extra=etag_openapi(200),
    summary="Override unmet pre-checks: dosing may start",
    description=(
        "The prescriber lets dosing start although pre-checks are unmet; what was unmet is "
        "kept with the reason (`overrides` in the record) and a waiting pre-dose request is "
        "answered. 409 `not_needed` when every pre-check has passed, `wrong_phase` once "
        "dosing started." + DECISION_NOTE
    ),
)
def pre_checks_override(
    request,
    session_uuid: uuid.UUID,
    payload: PrescriberReason,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    session = _for_decision(request, session_uuid)
    services.precheck_override(
        actor=request.auth,
        session=session,
        reason=_reason(ReasonForm, payload),
        precondition=matches(if_match),
    )
    return answer(response, session_uuid, actor=request.auth)


# --------------------------------------------------------------------------- charting


def _score_answers(kind: str, answers: list[int]) -> tuple[ScoreForm, list]:
    """The page's score form over the body's answers (item 1 first), so an item is refused in
    the page's words; 422 `answers` naming the item."""
    form = ScoreForm(
        {f"item_{number}": str(value) for number, value in enumerate(answers, start=1)},
        kind=kind,
    )
    items = form.instrument.items
    if len(answers) != len(items):
        label = SessionScoreKind(kind).label
        raise InvalidInput(
            {"answers": [f"{label} has {len(items)} item(s): send one value for each."]}
        )
    if not form.is_valid():
        raise InvalidInput(
            {
                "answers": [
                    f"Item {name.removeprefix('item_')}: {message}"
                    for name, messages in form.errors.items()
                    for message in messages
                ]
            }
        )
    return form, form.answers()


@router.post(
    ONE + "/scores",
    response={201: ScoreRead, **ADDED},
    openapi_extra=etag_openapi(201),
    summary="Record a MOAA/S, CADSS or modified Aldrete score",
    description=(
        "Every item, scored on the server as on the page (the modified Aldrete total is what "
        "discharge reads). While the session is open (409 `wrong_phase` after)." + ADDED_NOTE
    ),
)
def session_score(
    request,
    session_uuid: uuid.UUID,
    payload: ScoreCreate,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    session = for_change(request, session_uuid)
    _form, answers = _score_answers(payload.kind, payload.answers)
    score = services.session_score_record(
        actor=request.auth,
        session=session,
        kind=payload.kind,
        answers=answers,
        taken_at=payload.taken_at,
        precondition=matches(if_match),
    )
    _with_new_tag(response, request, session_uuid)
    return Status(201, score_read(score))


@router.post(
    ONE + "/side-effects",
    response={201: SideEffectRead, **ADDED},
    openapi_extra=etag_openapi(201),
    summary="Record a side effect",
    description=(
        "`other` needs `other_text` (422). While the session is open (409 `wrong_phase` "
        "after)." + ADDED_NOTE
    ),
)
def side_effect(
    request,
    session_uuid: uuid.UUID,
    payload: SideEffectCreate,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    session = for_change(request, session_uuid)
    data = form_checked(
        SideEffectForm(
            payload.model_dump(include={"kind", "other_text", "severity", "intervention"})
        )
    ).cleaned_data
    effect = services.side_effect_record(
        actor=request.auth,
        session=session,
        kind=data["kind"],
        severity=data["severity"],
        other_text=data.get("other_text") or "",
        intervention=data.get("intervention") or "",
        noticed_at=payload.noticed_at,
        precondition=matches(if_match),
    )
    _with_new_tag(response, request, session_uuid)
    return Status(201, side_effect_read(effect))


@router.post(
    ONE + "/adverse-events",
    response={201: AdverseEventRead, **ADDED},
    openapi_extra=etag_openapi(201),
    summary="Record an adverse event",
    description=(
        "What happened, how serious, the outcome and what was done; in any phase until the "
        "record is signed (409 `session_signed`: add an addendum)." + ADDED_NOTE
    ),
)
def adverse_event(
    request,
    session_uuid: uuid.UUID,
    payload: AdverseEventCreate,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    session = for_change(request, session_uuid)
    data = form_checked(
        AdverseEventForm(
            payload.model_dump(include={"description", "seriousness", "action_taken", "outcome"})
        )
    ).cleaned_data
    event = services.adverse_event_record(
        actor=request.auth,
        session=session,
        description=data["description"],
        seriousness=data["seriousness"],
        outcome=data["outcome"],
        action_taken=data.get("action_taken") or "",
        onset_at=payload.onset_at,
        precondition=matches(if_match),
    )
    _with_new_tag(response, request, session_uuid)
    return Status(201, adverse_event_read(event))


# --------------------------------------------------------------------------- corrections


@router.post(
    ONE + "/vitals/{vitals_uuid}/entered-in-error",
    response=CHANGED,
    openapi_extra=etag_openapi(200),
    summary="Mark a reading entered in error, with the reason",
    description=(
        "The reading stops counting (alert trends, the pre-dose check); the alerts it raised "
        "stay until acknowledged." + CORRECTION_NOTE
    ),
)
def vitals_entered_in_error(
    request,
    session_uuid: uuid.UUID,
    vitals_uuid: uuid.UUID,
    payload: EnteredInError,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    session = for_change(request, session_uuid)
    entry = _in_session(session.vitals.all(), vitals_uuid, "reading")
    services.vitals_mark_entered_in_error(
        actor=request.auth,
        vitals=entry,
        reason=_reason(EnteredInErrorForm, payload),
        precondition=matches(if_match),
    )
    return answer(response, session_uuid, actor=request.auth)


@router.post(
    ONE + "/side-effects/{side_effect_uuid}/entered-in-error",
    response=CHANGED,
    openapi_extra=etag_openapi(200),
    summary="Mark a side effect entered in error, with the reason",
    description="Until the record is signed (409 `session_signed`)." + CORRECTION_NOTE,
)
def side_effect_entered_in_error(
    request,
    session_uuid: uuid.UUID,
    side_effect_uuid: uuid.UUID,
    payload: EnteredInError,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    session = for_change(request, session_uuid)
    effect = _in_session(session.side_effects.all(), side_effect_uuid, "side effect")
    services.session_record_mark_entered_in_error(
        actor=request.auth,
        record=effect,
        reason=_reason(EnteredInErrorForm, payload),
        precondition=matches(if_match),
    )
    return answer(response, session_uuid, actor=request.auth)


@router.post(
    ONE + "/adverse-events/{adverse_event_uuid}/entered-in-error",
    response=CHANGED,
    openapi_extra=etag_openapi(200),
    summary="Mark an adverse event entered in error, with the reason",
    description="Until the record is signed (409 `session_signed`)." + CORRECTION_NOTE,
)
def adverse_event_entered_in_error(
    request,
    session_uuid: uuid.UUID,
    adverse_event_uuid: uuid.UUID,
    payload: EnteredInError,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    session = for_change(request, session_uuid)
    event = _in_session(session.adverse_events.all(), adverse_event_uuid, "adverse event")
    services.session_record_mark_entered_in_error(
        actor=request.auth,
        record=event,
        reason=_reason(EnteredInErrorForm, payload),
        precondition=matches(if_match),
    )
    return answer(response, session_uuid, actor=request.auth)
