"""Assessment responses per patient: the same selectors and services as the pages."""

from __future__ import annotations

import uuid

from django.http import HttpResponse
from ninja import Query, Router, Status

from clinic.accounts.permissions import Capability
from clinic.assessments import alerts, selectors, services
from clinic.assessments.choices import AlertKind, AlertStatus
from clinic.assessments.models import AssessmentResponse, SuicidalityAlert
from clinic.assessments.schemas import (
    AlertNote,
    ResponseCreate,
    ResponseRead,
    SuicidalityAlertPage,
    SuicidalityAlertRead,
)
from clinic.core.access import require
from clinic.core.api_pages import CursorQuery, cursor_decode, cursor_encode
from clinic.core.api_schemas import ApiError
from clinic.core.api_versions import IfMatch, entity_tag, etag_openapi, precondition
from clinic.core.text import OneLine
from clinic.patients.selectors import can_act_clinically, patient_get

router = Router(tags=["assessments"])


def _read(response: AssessmentResponse) -> dict:
    return {
        "uuid": response.uuid,
        "instrument": response.instrument_code,
        "instrument_version": response.instrument_version,
        "answers": response.answers,
        "complete": response.complete,
        "total": response.total,
        "severity": response.severity or None,
        "flags": response.flags,
        "subscales": response.subscales,
        "taken_at": response.taken_at,
        "timepoint": response.timepoint,
        "source": response.source,
        "entered_in_error": response.entered_in_error_at is not None,
        "alerts": [
            {
                "uuid": a.uuid,
                "kind": a.kind,
                "trigger": a.trigger,
                "status": a.status,
                "follow_up": False,
            }
            for a in response.alerts.all()
        ]
        + [
            # Answers that joined an alert already waiting for a clinician (ADR 0004).
            {
                "uuid": f.alert.uuid,
                "kind": f.alert.kind,
                "trigger": f.trigger,
                "status": f.alert.status,
                "follow_up": True,
            }
            for f in response.alert_follow_ups.all()
        ],
    }


@router.get(
    "/{patient_uuid}/assessments",
    response=list[ResponseRead],
    summary="A patient's assessments, newest first",
)
def response_list(request, patient_uuid: uuid.UUID):
    patient = patient_get(actor=request.auth, patient_uuid=patient_uuid, purpose="api assessments")
    responses = selectors.response_list(actor=request.auth, patient=patient, purpose="api")
    alerts = selectors.alerts_by_response(responses=responses)
    follow_ups = selectors.follow_ups_by_response(responses=responses)
    for response in responses:
        # Django's prefetch cache, filled by hand from the two queries above.
        response._prefetched_objects_cache = {  # type: ignore[attr-defined]
            "alerts": alerts.get(response.pk, []),
            "alert_follow_ups": follow_ups.get(response.pk, []),
        }
    return [_read(r) for r in responses]


@router.post(
    "/{patient_uuid}/assessments",
    response={201: ResponseRead},
    summary="Record an assessment; the server scores it",
    description=(
        "Answers are one value per item, null when unanswered. A partly answered form is "
        "stored unscored, with its flags; a blank one (every value null) is refused with 422. "
        "A positive suicidality answer raises an alert, or joins as a follow-up the patient's "
        "alert still waiting for a clinician (`alerts[].follow_up`)."
    ),
)
def response_create(request, patient_uuid: uuid.UUID, payload: ResponseCreate):
    require(request.auth, Capability.ASSESSMENT_RECORD)  # before looking anything up
    patient = patient_get(actor=request.auth, patient_uuid=patient_uuid, purpose="api assessments")
    response = services.response_record(
        actor=request.auth,
        patient=patient,
        instrument_code=payload.instrument,
        answers=payload.answers,
        timepoint=payload.timepoint,
        taken_at=payload.taken_at,
    )
    return Status(201, _read(response))


# --------------------------------------------------------------------------- suicidality alerts
# The alert pages' selectors and services (ADR 0004): the inbox as the in-basket shows it, one
# alert with every answer behind it, acknowledged (or resolved) by a clinician on the care team
# with a note. Mounted at /alerts/suicidality.

alerts_router = Router(tags=["alerts"])


def alert_etag(alert: SuicidalityAlert, follow_ups: int) -> str:
    """From the alert and how many answers joined it: a clinician acts on the answers they
    read, so a follow-up arriving since (perhaps escalating it) makes the tag stale."""
    return entity_tag(
        "suicidality_alert", alert.uuid, alert.updated_at, alert.status, alert.kind, follow_ups
    )


def _staff(user) -> dict | None:
    return {"uuid": user.uuid, "name": user.display_name} if user is not None else None


def _summary(alert: SuicidalityAlert, follow_ups: int) -> dict:
    return {
        "uuid": alert.uuid,
        "kind": alert.kind,
        "status": alert.status,
        "trigger": alert.trigger,
        "patient": {
            "uuid": alert.patient.uuid,
            "mrn": alert.patient.mrn,
            "name": alert.patient.display_name,
        },
        "assigned_to": _staff(alert.assigned_to),
        "created_at": alert.created_at,
        "escalated_at": alert.escalated_at,
        "follow_up_count": follow_ups,
        "updated_at": alert.updated_at,
    }


@alerts_router.get(
    "/suicidality",
    response=SuicidalityAlertPage,
    summary="Suicidality alerts waiting for you",
    description=(
        "The in-basket's: unresolved alerts assigned to you, or to the care team's prescribers "
        "when nobody on the team has them (every unresolved alert for the clinic "
        "administrator), oldest first, a page at a time. Clinical roles and the clinic "
        "administrator."
    ),
)
def suicidality_alert_list(request, params: Query[CursorQuery]):
    after = cursor_decode(params.cursor, scope="alerts:suicidality", filters={})
    page = selectors.alert_inbox_page(actor=request.auth, after=after, limit=params.limit)
    return {
        # follow_up_count: annotated by the selector.
        "items": [_summary(a, a.follow_up_count) for a in page.items],  # type: ignore[attr-defined]
        "next_cursor": cursor_encode(page.next_after, scope="alerts:suicidality", filters={})
        if page.next_after
        else None,
    }


def _answer(request, response: HttpResponse, alert_uuid: uuid.UUID) -> dict:
    actor = request.auth
    alert = selectors.alert_get(actor=actor, alert_uuid=alert_uuid)
    answers = selectors.alert_answers(alert)
    follow_ups = sum(1 for row in answers if row.follow_up)
    response["ETag"] = alert_etag(alert, follow_ups)
    patient = alert.patient
    return {
        **_summary(alert, follow_ups),
        "answers": [
            {
                "response_uuid": row.response.uuid,
                "instrument": row.instrument_name,
                "taken_at": row.response.taken_at,
                "result": row.result,
                "trigger": row.trigger,
                "answers_text": row.answers_text,
                "follow_up": row.follow_up,
            }
            for row in answers
        ],
        "acknowledged_at": alert.acknowledged_at,
        "acknowledged_by": _staff(alert.acknowledged_by),
        "acknowledgement_note": alert.acknowledgement_note,
        "resolved_at": alert.resolved_at,
        "resolved_by": _staff(alert.resolved_by),
        "resolution_note": alert.resolution_note,
        # As the alert page offers its buttons.
        "can_acknowledge": alert.status == AlertStatus.OPEN
        and can_act_clinically(
            actor=actor, patient=patient, capability=Capability.ALERT_ACKNOWLEDGE
        ),
        "can_resolve": alert.kind == AlertKind.HIGH_SUICIDE_RISK
        and alert.status != AlertStatus.RESOLVED
        and can_act_clinically(actor=actor, patient=patient, capability=Capability.ALERT_RESOLVE),
    }


@alerts_router.get(
    "/suicidality/{alert_uuid}",
    response=SuicidalityAlertRead,
    openapi_extra=etag_openapi(200),
    summary="One suicidality alert, with every answer behind it",
    description="Those who may see the patient's clinical record; 404 for anyone else.",
)
def suicidality_alert_detail(request, alert_uuid: uuid.UUID, response: HttpResponse):
    return _answer(request, response, alert_uuid)


def _locked_alert_etag(locked) -> str:
    return alert_etag(locked, locked.follow_ups.count())


_CHANGED = {200: SuicidalityAlertRead, 409: ApiError, 412: ApiError, 428: ApiError}
_CHANGE_NOTE = (
    " `If-Match`: the alert's ETag (428 without it; 412 when it changed since you read it, "
    "new answers included: read them, then act). 403 for a role that may not or off the care "
    "team."
)


@alerts_router.post(
    "/suicidality/{alert_uuid}/acknowledge",
    response=_CHANGED,
    openapi_extra=etag_openapi(200),
    summary="Acknowledge a suicidality alert, with a note",
    description=(
        "A clinician on the care team (prescriber, nurse, therapist). Suicidal ideation is "
        "then done (resolved); a high risk stays until a prescriber resolves it. 409 when not "
        "open." + _CHANGE_NOTE
    ),
)
def suicidality_alert_acknowledge(
    request,
    alert_uuid: uuid.UUID,
    payload: AlertNote,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    require(request.auth, Capability.ALERT_ACKNOWLEDGE)  # before looking anything up
    alert = selectors.alert_get(actor=request.auth, alert_uuid=alert_uuid)
    alerts.alert_acknowledge(
        actor=request.auth,
        alert=alert,
        note=payload.note,
        precondition=precondition(if_match, _locked_alert_etag),
    )
    return _answer(request, response, alert_uuid)


@alerts_router.post(
    "/suicidality/{alert_uuid}/resolve",
    response=_CHANGED,
    openapi_extra=etag_openapi(200),
    summary="Resolve a high-risk alert, with a note",
    description=(
        "A prescriber on the care team. 409 for an ideation alert (acknowledge it) or one "
        "resolved already." + _CHANGE_NOTE
    ),
)
def suicidality_alert_resolve(
    request,
    alert_uuid: uuid.UUID,
    payload: AlertNote,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    require(request.auth, Capability.ALERT_RESOLVE)  # before looking anything up
    alert = selectors.alert_get(actor=request.auth, alert_uuid=alert_uuid)
    alerts.alert_resolve(
        actor=request.auth,
        alert=alert,
        note=payload.note,
        precondition=precondition(if_match, _locked_alert_etag),
    )
    return _answer(request, response, alert_uuid)
