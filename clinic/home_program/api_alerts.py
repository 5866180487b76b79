"""The care team's side of the at-home program through the API: the blood-pressure alerts a
patient's at-home reading raised, as the alerts page lists them.

As the page (views.alerts, views.alert_acknowledge): a prescriber or nurse (home_program.review),
the role checked before anything is read; the open alerts of the patients on their care team,
oldest first; an alert of another team's patient is not found (404). Acknowledging goes
through the page's form and the same audited service, with what was done; it changes the
alert, so it takes If-Match, compared by the service on the locked row."""

from __future__ import annotations

import datetime
import uuid

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema

from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.api_pages import CursorQuery, cursor_decode, cursor_encode
from clinic.core.api_schemas import ApiError, RequestBody
from clinic.core.api_versions import IfMatch, entity_tag, etag_openapi, precondition
from clinic.core.exceptions import InvalidInput
from clinic.core.text import MultiLine, OneLine
from clinic.home_program import selectors, services
from clinic.home_program.choices import HomeBpAlertStatus
from clinic.home_program.forms import AcknowledgeForm
from clinic.home_program.models import HomeBpAlert

router = Router(tags=["at-home alerts"])

SCOPE = "home-alerts"


class HomeAlertPatient(Schema):
    uuid: uuid.UUID
    mrn: str
    name: str


class HomeAlertStaff(Schema):
    uuid: uuid.UUID
    name: str


class HomeAlertRead(Schema):
    uuid: uuid.UUID
    patient: HomeAlertPatient
    status: HomeBpAlertStatus
    raised_at: datetime.datetime = Field(description="When the reading was entered at home")
    systolic_mmhg: int
    diastolic_mmhg: int
    limit_systolic_mmhg: int = Field(description="The clinic's at-home limit then")
    limit_diastolic_mmhg: int
    acknowledged_at: datetime.datetime | None
    acknowledged_by: HomeAlertStaff | None
    acknowledgement_note: str = Field(description="What was done or decided")
    updated_at: datetime.datetime


class HomeAlertPage(Schema):
    items: list[HomeAlertRead]
    next_cursor: str | None


class HomeAlertAcknowledge(RequestBody):
    note: MultiLine = Field(
        max_length=2000, description="What you did or decided (for example: called the patient)"
    )


def home_alert_etag(alert: HomeBpAlert) -> str:
    return entity_tag("home_bp_alert", alert.uuid, alert.updated_at, alert.status)


def _read(alert: HomeBpAlert) -> dict:
    patient, log, by = alert.patient, alert.log, alert.acknowledged_by
    return {
        "uuid": alert.uuid,
        "patient": {"uuid": patient.uuid, "mrn": patient.mrn, "name": patient.display_name},
        "status": alert.status,
        "raised_at": alert.created_at,
        "systolic_mmhg": log.systolic_mmhg,
        "diastolic_mmhg": log.diastolic_mmhg,
        "limit_systolic_mmhg": log.limit_systolic_mmhg,
        "limit_diastolic_mmhg": log.limit_diastolic_mmhg,
        "acknowledged_at": alert.acknowledged_at,
        "acknowledged_by": None if by is None else {"uuid": by.uuid, "name": by.display_name},
        "acknowledgement_note": alert.acknowledgement_note,
        "updated_at": alert.updated_at,
    }


def _found(request, alert_uuid: uuid.UUID) -> HomeBpAlert:
    """The role first (a refusal reads nothing), then the alert among the caller's patients."""
    require(request.auth, Capability.HOME_PROGRAM_REVIEW)
    return selectors.home_bp_alert_get(actor=request.auth, alert_uuid=alert_uuid)


@router.get(
    "/home-alerts",
    response=HomeAlertPage,
    summary="Open at-home blood pressure alerts",
    description="The open alerts of the patients on your care team, oldest first, as the "
    "alerts page. A page at a time: send `next_cursor` back as `cursor`.",
)
def home_alert_list(request, params: Query[CursorQuery]):
    require(request.auth, Capability.HOME_PROGRAM_REVIEW)
    # The caller's own patients: a cursor is the caller's list's, not another's.
    filters = {"staff": str(request.auth.uuid)}
    page = selectors.home_bp_alert_open_keyset_page(
        actor=request.auth,
        after=cursor_decode(params.cursor, scope=SCOPE, filters=filters),
        limit=params.limit,
    )
    return {
        "items": [_read(alert) for alert in page.items],
        "next_cursor": cursor_encode(page.next_after, scope=SCOPE, filters=filters)
        if page.next_after
        else None,
    }


@router.get(
    "/home-alerts/{alert_uuid}",
    response={200: HomeAlertRead, 404: ApiError},
    openapi_extra=etag_openapi(200),
    summary="One at-home blood pressure alert",
)
def home_alert_detail(request, alert_uuid: uuid.UUID, response: HttpResponse):
    alert = _found(request, alert_uuid)
    response["ETag"] = home_alert_etag(alert)
    return _read(alert)


@router.post(
    "/home-alerts/{alert_uuid}/acknowledge",
    response={200: HomeAlertRead, 404: ApiError, 409: ApiError, 412: ApiError, 428: ApiError},
    openapi_extra=etag_openapi(200),
    summary="Acknowledge an at-home blood pressure alert",
    description="With a note of what was done or decided (422 without one). 409 "
    "`alert_not_open` when it was already acknowledged.",
)
def home_alert_acknowledge(
    request,
    alert_uuid: uuid.UUID,
    payload: HomeAlertAcknowledge,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    alert = _found(request, alert_uuid)
    form = AcknowledgeForm(payload.model_dump())
    if not form.is_valid():
        raise InvalidInput(
            {
                field: [str(message) for message in messages]
                for field, messages in form.errors.items()
            }
        )
    acknowledged = services.home_bp_alert_acknowledge(
        actor=request.auth,
        alert=alert,
        note=form.cleaned_data["note"],
        precondition=precondition(if_match, home_alert_etag),
    )
    response["ETag"] = home_alert_etag(acknowledged)
    return _read(acknowledged)
