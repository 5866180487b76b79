"""The patient's own at-home sublingual sessions at /api/v1/me (PatientBearerAuth, set where
the router is mounted): the portal's at-home pages for an app the patient connects.

Glue only, as the portal's views_home_program: the signed-in patient's own logs
(`request.auth`, their portal user; `request.patient`, their record), through the same audited
selectors and services. A blood pressure over the clinic's limit makes the log "do not dose"
and raises the alert for the care team in the same transaction as on the portal; the answer
says so. Another patient's log is "not found" (404), like one that does not exist.
"""

from __future__ import annotations

import uuid

from django.http import HttpResponse
from ninja import Query, Router, Status

from clinic.core.api_pages import CursorQuery, cursor_decode, cursor_encode
from clinic.core.api_schemas import ApiError
from clinic.core.api_versions import IfMatch, entity_tag, etag_openapi, precondition
from clinic.core.text import OneLine
from clinic.home_program import selectors, services
from clinic.home_program.choices import HomeSessionStatus
from clinic.home_program.models import HomeSessionLog
from clinic.home_program.schemas import (
    OwnHomeCheckIn,
    OwnHomeDose,
    OwnHomeProgramRead,
    OwnHomeSessionPage,
    OwnHomeSessionRead,
    OwnHomeSessionStart,
    OwnHomeSideEffect,
)

router = Router(tags=["my at-home sessions"])

_CHANGE_ERRORS = {404: ApiError, 409: ApiError, 412: ApiError, 428: ApiError}
_SCOPE = "me/home-sessions"


def log_etag(log: HomeSessionLog) -> str:
    # A side effect is a row of its own: the count makes the log's tag change with it.
    return entity_tag(
        "home_session_log", log.uuid, log.updated_at, log.status, len(log.side_effects.all())
    )


def _message(log: HomeSessionLog) -> str | None:
    if log.status == HomeSessionStatus.DO_NOT_DOSE:
        return services.DO_NOT_DOSE_TEXT
    if log.status == HomeSessionStatus.WAITING:
        return (
            f"You may take your prescribed dose of {log.prescribed_dose_mg.normalize():f} mg, "
            "with your treatment monitor present."
        )
    return None


def _bp_alert(log: HomeSessionLog) -> dict | None:
    alert = getattr(log, "bp_alert", None)  # None when the reading raised no alert
    if alert is None:
        return None
    # The alert and its e-mails to the care team are written in one transaction.
    return {"raised_at": alert.created_at, "care_team_told": True, "status": alert.status}


def _read(log: HomeSessionLog) -> dict:
    return {
        "uuid": log.uuid,
        "status": log.status,
        "status_text": log.get_status_display(),
        "message": _message(log),
        "started_at": log.started_at,
        "systolic_mmhg": log.systolic_mmhg,
        "diastolic_mmhg": log.diastolic_mmhg,
        "limit_systolic_mmhg": log.limit_systolic_mmhg,
        "limit_diastolic_mmhg": log.limit_diastolic_mmhg,
        "monitor_name": log.monitor_name,
        "prescribed_dose_mg": log.prescribed_dose_mg,
        "dose_taken_mg": log.dose_taken_mg,
        "dose_taken_at": log.dose_taken_at,
        "not_taken_at": log.not_taken_at,
        "checked_in_at": log.checked_in_at,
        "feeling": log.feeling_text,
        "mood_after": log.mood_after,
        "side_effects": [
            {
                "kind": effect.kind,
                "label": effect.label,
                "severity": effect.severity,
                "noticed_at": effect.noticed_at,
            }
            for effect in log.side_effects.all()
        ],
        "bp_alert": _bp_alert(log),
    }


def _answer(request, response: HttpResponse, log_uuid) -> dict:
    """The log as it now stands, read again through the audited selector (as the portal's
    redirect to the log's page does), with its new ETag."""
    log = selectors.home_session_get(actor=request.auth, patient=request.patient, log_uuid=log_uuid)
    response["ETag"] = log_etag(log)
    return _read(log)


def _own_log(request, log_uuid: uuid.UUID) -> HomeSessionLog:
    return selectors.home_session_get(
        actor=request.auth, patient=request.patient, log_uuid=log_uuid
    )


@router.get(
    "/home-program",
    response=OwnHomeProgramRead,
    summary="My at-home program",
    description="Your active at-home plan, the dose of your next session, and whether one "
    "can start now (and why not).",
)
def home_program_detail(request):
    state = selectors.home_program_get(actor=request.auth, patient=request.patient)
    return {
        "plan": state.plan.uuid if state.plan else None,
        "prescribed_dose_mg": state.prescribed_dose_mg,
        "sessions_planned": state.sessions_planned,
        "sessions_dosed": state.sessions_dosed,
        "can_start": state.can_start,
        "blocked_reason": state.blocked_reason,
    }


@router.get(
    "/home-sessions",
    response=OwnHomeSessionPage,
    summary="My at-home sessions",
    description="Newest first, a page at a time: send `next_cursor` back as `cursor`.",
)
def home_session_list(request, params: Query[CursorQuery]):
    after = cursor_decode(params.cursor, scope=_SCOPE, filters={})
    page = selectors.own_home_session_page(
        actor=request.auth, patient=request.patient, after=after, limit=params.limit
    )
    return {
        "items": [_read(log) for log in page.items],
        "next_cursor": cursor_encode(page.next_after, scope=_SCOPE, filters={})
        if page.next_after
        else None,
    }


@router.post(
    "/home-sessions",
    response={201: OwnHomeSessionRead, 409: ApiError},
    openapi_extra=etag_openapi(201),
    summary="Start an at-home session: blood pressure and treatment monitor",
    description=(
        "The blood pressure just taken and the adult present. Over the clinic's at-home limit "
        "the session is `do_not_dose`: do not take the dose; your care team is alerted at "
        "once (`bp_alert`). Otherwise it waits for the dose. A session still waiting for its "
        "dose is closed as not taken. 409 `no_home_program` or `home_session_blocked` when "
        "no session can start (the message says why)."
    ),
)
def home_session_start(request, payload: OwnHomeSessionStart, response: HttpResponse):
    log = services.home_session_start(
        actor=request.auth,
        patient=request.patient,
        systolic_mmhg=payload.systolic_mmhg,
        diastolic_mmhg=payload.diastolic_mmhg,
        monitor_name=payload.monitor_name,
    )
    return Status(201, _answer(request, response, log.uuid))


@router.get(
    "/home-sessions/{log_uuid}",
    response=OwnHomeSessionRead,
    openapi_extra=etag_openapi(200),
    summary="One of my at-home sessions",
)
def home_session_detail(request, log_uuid: uuid.UUID, response: HttpResponse):
    log = _own_log(request, log_uuid)
    response["ETag"] = log_etag(log)
    return _read(log)


@router.post(
    "/home-sessions/{log_uuid}/dose",
    response={200: OwnHomeSessionRead, **_CHANGE_ERRORS},
    openapi_extra=etag_openapi(200),
    summary="Log the dose taken",
    description=(
        "Only on a session waiting for its dose, and exactly the prescribed dose (422 "
        "otherwise). 409 `do_not_dose` after a blood pressure over the limit, `not_waiting`, "
        "`plan_not_active`. `If-Match` required."
    ),
)
def home_session_dose(
    request,
    log_uuid: uuid.UUID,
    payload: OwnHomeDose,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    log = _own_log(request, log_uuid)
    services.home_session_dose_record(
        actor=request.auth,
        log=log,
        dose_mg=payload.dose_mg,
        taken_at=payload.taken_at,
        precondition=precondition(if_match, log_etag),
    )
    return _answer(request, response, log.uuid)


@router.post(
    "/home-sessions/{log_uuid}/not-taken",
    response={200: OwnHomeSessionRead, **_CHANGE_ERRORS},
    openapi_extra=etag_openapi(200),
    summary="Not taking the dose this time",
    description="Closes a session waiting for its dose (409 `not_waiting` otherwise). "
    "`If-Match` required.",
)
def home_session_not_taken(
    request, log_uuid: uuid.UUID, response: HttpResponse, if_match: OneLine | None = IfMatch
):
    log = _own_log(request, log_uuid)
    services.home_session_not_taken(
        actor=request.auth, log=log, precondition=precondition(if_match, log_etag)
    )
    return _answer(request, response, log.uuid)


@router.post(
    "/home-sessions/{log_uuid}/side-effects",
    response={201: OwnHomeSessionRead, 404: ApiError, 409: ApiError},
    openapi_extra=etag_openapi(201),
    summary="Log a side effect",
    description=(
        "After the dose and before the check-in (409 `not_dosed` otherwise). Added to the "
        "session, never changing what is there, so no `If-Match`."
    ),
)
def home_side_effect_create(
    request, log_uuid: uuid.UUID, payload: OwnHomeSideEffect, response: HttpResponse
):
    log = _own_log(request, log_uuid)
    services.home_side_effect_record(
        actor=request.auth,
        log=log,
        kind=payload.kind,
        severity=payload.severity,
        other_text=payload.other_text,
        noticed_at=payload.noticed_at,
    )
    return Status(201, _answer(request, response, log.uuid))


@router.post(
    "/home-sessions/{log_uuid}/check-in",
    response={200: OwnHomeSessionRead, **_CHANGE_ERRORS},
    openapi_extra=etag_openapi(200),
    summary="Check in after the dose",
    description="How you feel now, and an optional mood. 409 `not_dosed` before the dose. "
    "`If-Match` required.",
)
def home_session_check_in(
    request,
    log_uuid: uuid.UUID,
    payload: OwnHomeCheckIn,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    log = _own_log(request, log_uuid)
    services.home_session_check_in(
        actor=request.auth,
        log=log,
        feeling=payload.feeling,
        mood_after=payload.mood_after,
        checked_in_at=payload.checked_in_at,
        precondition=precondition(if_match, log_etag),
    )
    return _answer(request, response, log.uuid)
