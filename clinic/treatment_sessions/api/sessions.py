"""Treatment sessions at the chair: a day's sessions, one session's whole record, check-in,
pre-checks, vitals (with the alerts they raise), alert acknowledgement, recovery, discharge and
stopping. Glue over the session page's selectors and services, so the same role, care-team,
location and phase checks, row locks and audit; the page's posts show which apply."""

from __future__ import annotations

import uuid
import zoneinfo
from contextlib import nullcontext

from django.http import HttpResponse
from django.utils import timezone
from ninja import Query, Router, Status

from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.api_pages import cursor_decode, cursor_encode
from clinic.core.api_schemas import ApiError
from clinic.core.api_versions import IfMatch, etag_openapi
from clinic.core.exceptions import InvalidInput
from clinic.core.text import OneLine
from clinic.locations.models import Location
from clinic.locations.selectors import location_scope, workplace_for
from clinic.treatment_sessions import floor, selectors, services
from clinic.treatment_sessions.api._read import (
    alert_in,
    alert_read,
    answer,
    for_change,
    matches,
    session_etag,
    session_read,
    summary,
    vitals_read,
)
from clinic.treatment_sessions.schemas import (
    AlertAcknowledge,
    CheckIn,
    Discharge,
    PreChecks,
    Reason,
    SessionListPage,
    SessionListQuery,
    SessionRead,
    VitalsCreate,
    VitalsRecorded,
)

router = Router(tags=["treatment sessions"])

ONE = "/{session_uuid}"
# Every change of a session: 409 for the wrong phase or a signed record, and If-Match.
CHANGED = {200: SessionRead, 409: ApiError, 412: ApiError, 428: ApiError}
CHANGE_NOTE = (
    " `If-Match`: the session's ETag (428 without it, 412 when another device changed the "
    "session since). 403 at a location you do not work at."
)


def _location_zone(location: Location | None):
    """The location's time zone for the day's bounds, as its floor pages use."""
    try:
        return timezone.override(zoneinfo.ZoneInfo(location.time_zone)) if location else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


@router.get(
    "",
    response=SessionListPage,
    summary="A day's sessions",
    description=(
        "The sessions checked in on a day at one location (`location`: the one you work at "
        "when left out; `all` for the clinic administrator), in check-in order, a page at a "
        "time (send `next_cursor` back as `cursor`). For those who run the floor "
        "(session.board); who each patient is only when you may open them."
    ),
)
def session_list(request, params: Query[SessionListQuery]):
    actor = request.auth
    require(actor, Capability.SESSION_BOARD)  # before looking anything up
    location = location_scope(
        actor=actor, requested=params.location, current=workplace_for(actor).current
    )
    filters = params.model_dump(exclude={"cursor", "limit"})
    after = cursor_decode(params.cursor, scope="sessions", filters=filters)
    with _location_zone(location) or nullcontext():
        found = selectors.session_day_page(
            actor=actor,
            day=params.date,
            location=location,
            after=after,
            limit=params.limit,
            open_only=params.open_only,
        )
    page = found.page
    return {
        "items": [
            summary(s, visible=s.patient_id in found.visible_patient_ids) for s in page.items
        ],
        "next_cursor": cursor_encode(page.next_after, scope="sessions", filters=filters)
        if page.next_after
        else None,
    }


# Before "/{session_uuid}", which would otherwise take "check-in" as an id.
@router.post(
    "/check-in",
    response={201: SessionRead, 404: ApiError, 409: ApiError},
    openapi_extra=etag_openapi(201),
    summary="Check a patient in: the session starts",
    description=(
        "Today's booked appointment, once the patient's two identifiers match the record (the "
        "nurse asks them; 422 `stated_date_of_birth` when they do not). `assigned_nurse` runs "
        "the chair: a nurse on the care team who works there (the booked nurse when left out). "
        "409 when checked in already, not booked, not today or not an in-clinic route; 404 "
        "for an appointment you may not open; 403 at a location you do not work at."
    ),
)
def session_check_in(request, payload: CheckIn, response: HttpResponse):
    actor = request.auth
    appointment = floor.appointment_for_check_in(actor=actor, appointment_uuid=payload.appointment)
    nurse = None
    if payload.assigned_nurse is not None:
        nurse = (
            floor.nurses_for_the_chair(appointment=appointment)
            .filter(uuid=payload.assigned_nurse)
            .first()
        )
        if nurse is None:
            raise InvalidInput(
                {"assigned_nurse": ["Choose a nurse on the patient's care team to run the chair."]}
            )
    session = services.session_check_in(
        actor=actor,
        appointment=appointment,
        identity=services.IdentityCheck(
            full_name_confirmed=payload.full_name_confirmed,
            stated_date_of_birth=payload.stated_date_of_birth,
        ),
        assigned_nurse=nurse,
    )
    return Status(201, answer(response, session.uuid, actor=actor))


@router.get(
    ONE,
    response=SessionRead,
    openapi_extra=etag_openapi(200),
    summary="One session's whole record",
    description=(
        "As the session page shows it: phase, the patient, pre-checks and what is unmet, "
        "today's dose, vitals with the alerts each raised, pump events, doses with their lot "
        "and what is left to waste, scores, side effects, discharge criteria and signature. "
        "The care team and the clinic administrator; 404 for anyone else."
    ),
)
def session_detail(request, session_uuid: uuid.UUID, response: HttpResponse):
    actor = request.auth
    session = selectors.session_get(actor=actor, session_uuid=session_uuid)
    response["ETag"] = session_etag(session)
    return session_read(session, actor=actor)


@router.post(
    ONE + "/pre-checks",
    response=CHANGED,
    openapi_extra=etag_openapi(200),
    summary="Record pre-checks",
    description="Any of them; those left out stay as they are. Only while checked in."
    + CHANGE_NOTE,
)
def session_pre_checks(
    request,
    session_uuid: uuid.UUID,
    payload: PreChecks,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    session = for_change(request, session_uuid)
    services.precheck_record(
        actor=request.auth,
        session=session,
        data=payload.model_dump(exclude_unset=True),
        precondition=matches(if_match),
    )
    return answer(response, session_uuid, actor=request.auth)


@router.post(
    ONE + "/vitals",
    response={201: VitalsRecorded, 409: ApiError},
    openapi_extra=etag_openapi(201),
    summary="Record a set of vital signs (a monitor may post them)",
    description=(
        "The page's rules: an implausible value is 422 naming the field; a value outside the "
        "clinic's limits raises the same alerts as on the page, listed in the answer (they stay "
        "open until acknowledged). A reading is appended, never overwriting anything, so no "
        "`If-Match` is needed; the answer's ETag is the session's new one. 409 once the "
        "session has ended; 403 at a location you do not work at."
    ),
)
def session_vitals(request, session_uuid: uuid.UUID, payload: VitalsCreate, response: HttpResponse):
    actor = request.auth
    session = for_change(request, session_uuid)
    values = payload.model_dump(exclude={"taken_at"})
    entry, alerts = services.vitals_record(
        actor=actor, session=session, taken_at=payload.taken_at, **values
    )
    fresh = selectors.session_get(actor=actor, session_uuid=session_uuid, audit=False)
    response["ETag"] = session_etag(fresh)
    for alert in alerts:
        alert.vitals = entry
    return Status(
        201,
        {
            "vitals": vitals_read(entry, [a.uuid for a in alerts]),
            "alerts": [alert_read(a) for a in alerts],
        },
    )


@router.post(
    ONE + "/alerts/{alert_uuid}/acknowledge",
    response=CHANGED,
    openapi_extra=etag_openapi(200),
    summary="Acknowledge a vitals alert with what was done",
    description=(
        "`pause` also pauses a running infusion; `stop` and `intervention` need a `note`. 409 "
        "when acknowledged already." + CHANGE_NOTE
    ),
)
def session_alert_acknowledge(
    request,
    session_uuid: uuid.UUID,
    alert_uuid: uuid.UUID,
    payload: AlertAcknowledge,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    session = for_change(request, session_uuid)
    services.session_alert_acknowledge(
        actor=request.auth,
        alert=alert_in(session, alert_uuid),
        action=payload.action,
        note=payload.note,
        precondition=matches(if_match),
    )
    return answer(response, session_uuid, actor=request.auth)


@router.post(
    ONE + "/recovery",
    response=CHANGED,
    openapi_extra=etag_openapi(200),
    summary="Start recovery",
    description="From monitoring." + CHANGE_NOTE,
)
def session_recovery(
    request, session_uuid: uuid.UUID, response: HttpResponse, if_match: OneLine | None = IfMatch
):
    session = for_change(request, session_uuid)
    services.recovery_start(actor=request.auth, session=session, precondition=matches(if_match))
    return answer(response, session_uuid, actor=request.auth)


@router.post(
    ONE + "/discharge",
    response=CHANGED,
    openapi_extra=etag_openapi(200),
    summary="Discharge the patient",
    description=(
        "When the criteria are met (observation over, modified Aldrete, escort), every vitals "
        "alert acknowledged and the instructions given. Otherwise 409 `discharge_blocked`, "
        "unless a prescriber sends `override_reason` (403 for anyone else) or already granted "
        "the override from the in-basket." + CHANGE_NOTE
    ),
)
def session_discharge(
    request,
    session_uuid: uuid.UUID,
    payload: Discharge,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    session = for_change(request, session_uuid)
    services.session_discharge(
        actor=request.auth,
        session=session,
        escort_present=payload.escort_present,
        instructions_given=payload.instructions_given,
        instructions_text=payload.instructions_text,
        override_reason=payload.override_reason,
        precondition=matches(if_match),
    )
    return answer(response, session_uuid, actor=request.auth)


@router.post(
    ONE + "/stop",
    response=CHANGED,
    openapi_extra=etag_openapi(200),
    summary="Stop the session early, with a reason",
    description=(
        "Once a dose was given only a prescriber may (403 otherwise); a running infusion is "
        "stopped first (409)." + CHANGE_NOTE
    ),
)
def session_stop(
    request,
    session_uuid: uuid.UUID,
    payload: Reason,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    session = for_change(request, session_uuid)
    services.session_stop(
        actor=request.auth,
        session=session,
        reason=payload.reason,
        precondition=matches(if_match),
    )
    return answer(response, session_uuid, actor=request.auth)
