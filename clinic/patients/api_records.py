"""Right-of-access records requests through the API: the same log, due dates and files as the
records request pages (views_records.py).

As the pages: the front desk's and the clinic administrator's (records_request.manage), the role
checked before anything is read; a patient reached as the chart reaches them (patient_get, which
audits the view). Logging goes through the page's form and the same audited service; closing
(given, withdrawn) and the one extension (45 CFR 164.524(b)(2)(ii)) change the request, so they
take If-Match, compared by the service on the locked row. The whole-record file itself is not
here: it is built by clinic.fhir, a layer above this app (the chart's download)."""

from __future__ import annotations

import datetime
import uuid

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema, Status

from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.api_pages import CursorQuery, cursor_decode, cursor_encode
from clinic.core.api_schemas import ApiError, RequestBody
from clinic.core.api_versions import IfMatch, entity_tag, etag_openapi, precondition
from clinic.core.exceptions import InvalidInput
from clinic.core.text import MultiLine, OneLine
from clinic.patients import selectors, selectors_records, services_records
from clinic.patients.choices import RecordsFormat, RecordsRequester, RecordsRequestStatus
from clinic.patients.forms import (
    RecordsRequestForm,
    RecordsRequestFulfilForm,
    RecordsRequestWithdrawForm,
)
from clinic.patients.models import RecordsRequest
from clinic.patients.views_records import RecordsRequestExtendForm

router = Router(tags=["records requests"])

CHANGE_ERRORS = {404: ApiError, 409: ApiError, 412: ApiError, 428: ApiError}
DUE_STATE = (
    "`overdue` (past its due date), `due_soon` (due within the policy's days), `open`, or the "
    "closed request's status (`fulfilled`, `withdrawn`)."
)


# ----------------------------------------------------------------------------------- schemas


class RecordsRequestPatient(Schema):
    uuid: uuid.UUID
    mrn: str
    name: str


class RecordsRequestRead(Schema):
    uuid: uuid.UUID
    patient: RecordsRequestPatient
    received_on: datetime.date
    requester: RecordsRequester
    requester_name: str
    wanted_format: RecordsFormat
    deliver_to: str
    note: str
    due_on: datetime.date = Field(description="The date it must be acted on by (45 CFR 164.524)")
    due_state: str = Field(description=DUE_STATE)
    status: RecordsRequestStatus
    closed_on: datetime.date | None
    closing_note: str = Field(description="How it was given, or why it was withdrawn")
    first_due_on: datetime.date | None = Field(
        description="The first due date, once the one extension moved `due_on`"
    )
    extended_on: datetime.date | None
    extension_reason: str
    updated_at: datetime.datetime


class RecordsRequestPage(Schema):
    items: list[RecordsRequestRead]
    next_cursor: str | None


class RecordsRequestLog(RequestBody):
    received_on: datetime.date
    requester: RecordsRequester
    requester_name: OneLine = Field(
        "", max_length=200, description="Required unless the patient asked"
    )
    wanted_format: RecordsFormat
    deliver_to: OneLine = Field("", max_length=300)
    note: OneLine = Field("", max_length=500)


class RecordsRequestGiven(RequestBody):
    given_on: datetime.date = Field(description="The day the copy went out")
    how: OneLine = Field(max_length=300, description="E-mailed securely, handed over, posted")


class RecordsRequestWithdrawn(RequestBody):
    reason: OneLine = Field(max_length=300)


class RecordsRequestExtension(RequestBody):
    reason: MultiLine = Field(
        max_length=500, description="The reasons for the delay, as written to the requester"
    )


# ----------------------------------------------------------------------------------- helpers


def records_request_etag(request: RecordsRequest) -> str:
    return entity_tag(
        "records_request", request.uuid, request.updated_at, request.status, request.due_on
    )


def _checked(form, rename: dict[str, str] | None = None) -> dict:
    """The page's form, valid, or its messages named by the body's fields."""
    if not form.is_valid():
        rename = rename or {}
        raise InvalidInput(
            {
                rename.get(field, field): [str(message) for message in messages]
                for field, messages in form.errors.items()
            }
        )
    return form.cleaned_data


def _read(request: RecordsRequest) -> dict:
    patient = request.patient
    return {
        "uuid": request.uuid,
        "patient": {
            "uuid": patient.uuid,
            "mrn": patient.mrn,
            "name": f"{patient.legal_given_name} {patient.legal_family_name}",
        },
        "received_on": request.received_on,
        "requester": request.requester,
        "requester_name": request.requester_name,
        "wanted_format": request.wanted_format,
        "deliver_to": request.deliver_to,
        "note": request.note,
        "due_on": request.due_on,
        "due_state": selectors_records.due_state(request),
        "status": request.status,
        "closed_on": request.closed_on,
        "closing_note": request.closing_note,
        "first_due_on": request.first_due_on,
        "extended_on": request.extended_on,
        "extension_reason": request.extension_reason,
        "updated_at": request.updated_at,
    }


def _page(page, *, scope: str, filters: dict) -> dict:
    return {
        "items": [_read(record) for record in page.items],
        "next_cursor": cursor_encode(page.next_after, scope=scope, filters=filters)
        if page.next_after
        else None,
    }


def _found(request, request_uuid: uuid.UUID) -> RecordsRequest:
    """The role first (a refusal reads nothing), then the request and its patient."""
    require(request.auth, Capability.RECORDS_REQUEST_MANAGE)
    return selectors_records.records_request_by_uuid(actor=request.auth, request_uuid=request_uuid)


def _answer(response: HttpResponse, records_request: RecordsRequest) -> dict:
    response["ETag"] = records_request_etag(records_request)
    return _read(records_request)


# -------------------------------------------------------------------------------- operations


@router.get(
    "/records-requests",
    response=RecordsRequestPage,
    summary="The clinic's open records requests",
    description="Open requests, the one due first on top (late ones first of all), as the "
    "records requests page. A page at a time: send `next_cursor` back as `cursor`.",
)
def records_request_list(request, params: Query[CursorQuery]):
    require(request.auth, Capability.RECORDS_REQUEST_MANAGE)
    page = selectors_records.open_records_requests_page(
        actor=request.auth,
        after=cursor_decode(params.cursor, scope="records-requests", filters={}),
        limit=params.limit,
    )
    return _page(page, scope="records-requests", filters={})


@router.get(
    "/patients/{patient_uuid}/records-requests",
    response={200: RecordsRequestPage, 404: ApiError},
    summary="A patient's records requests",
    description="Every request of the patient, open or closed, the newest first.",
)
def patient_records_request_list(request, patient_uuid: uuid.UUID, params: Query[CursorQuery]):
    require(request.auth, Capability.RECORDS_REQUEST_MANAGE)
    patient = selectors.patient_get(
        actor=request.auth, patient_uuid=patient_uuid, purpose="records requests"
    )
    filters = {"patient": str(patient.uuid)}
    page = selectors_records.patient_records_requests_page(
        actor=request.auth,
        patient=patient,
        after=cursor_decode(params.cursor, scope="patient-records-requests", filters=filters),
        limit=params.limit,
    )
    return _page(page, scope="patient-records-requests", filters=filters)


@router.post(
    "/patients/{patient_uuid}/records-requests",
    response={201: RecordsRequestRead, 404: ApiError},
    openapi_extra=etag_openapi(201),
    summary="Log a records request",
    description="As it arrived: due the policy's days after it was received (at most 30, "
    "45 CFR 164.524(b)(2)(i)). 422 for a day in the future, or no name when someone other "
    "than the patient asked.",
)
def records_request_log(
    request, patient_uuid: uuid.UUID, payload: RecordsRequestLog, response: HttpResponse
):
    require(request.auth, Capability.RECORDS_REQUEST_MANAGE)
    patient = selectors.patient_get(
        actor=request.auth, patient_uuid=patient_uuid, purpose="log a records request"
    )
    data = _checked(RecordsRequestForm(payload.model_dump(mode="json")))
    logged = services_records.records_request_log(actor=request.auth, patient=patient, **data)
    return Status(201, _answer(response, logged))


@router.get(
    "/records-requests/{request_uuid}",
    response={200: RecordsRequestRead, 404: ApiError},
    openapi_extra=etag_openapi(200),
    summary="One records request",
)
def records_request_detail(request, request_uuid: uuid.UUID, response: HttpResponse):
    return _answer(response, _found(request, request_uuid))


@router.post(
    "/records-requests/{request_uuid}/given",
    response={200: RecordsRequestRead, **CHANGE_ERRORS},
    openapi_extra=etag_openapi(200),
    summary="Record that the copy was given",
    description="Closes the request: the day (not before it arrived, not in the future) and "
    "how. 409 `records_request_closed` when it is already closed.",
)
def records_request_given(
    request,
    request_uuid: uuid.UUID,
    payload: RecordsRequestGiven,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    records_request = _found(request, request_uuid)
    data = _checked(
        RecordsRequestFulfilForm(
            {"fulfilled_on": payload.given_on.isoformat(), "how": payload.how}
        ),
        rename={"fulfilled_on": "given_on"},
    )
    try:
        closed = services_records.records_request_fulfil(
            actor=request.auth,
            request=records_request,
            precondition=precondition(if_match, records_request_etag),
            **data,
        )
    except InvalidInput as error:
        # The service names the page's field; the body calls it `given_on`.
        if "fulfilled_on" in error.errors:
            error.errors["given_on"] = error.errors.pop("fulfilled_on")
        raise
    return _answer(response, closed)


@router.post(
    "/records-requests/{request_uuid}/withdrawn",
    response={200: RecordsRequestRead, **CHANGE_ERRORS},
    openapi_extra=etag_openapi(200),
    summary="Withdraw a records request",
    description="The requester withdrew it, or it was logged twice: closed today, with the "
    "reason. 409 `records_request_closed` when it is already closed.",
)
def records_request_withdrawn(
    request,
    request_uuid: uuid.UUID,
    payload: RecordsRequestWithdrawn,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    records_request = _found(request, request_uuid)
    data = _checked(RecordsRequestWithdrawForm(payload.model_dump()))
    closed = services_records.records_request_withdraw(
        actor=request.auth,
        request=records_request,
        precondition=precondition(if_match, records_request_etag),
        **data,
    )
    return _answer(response, closed)


@router.post(
    "/records-requests/{request_uuid}/extend",
    response={200: RecordsRequestRead, **CHANGE_ERRORS},
    openapi_extra=etag_openapi(200),
    summary="Extend a records request, once",
    description="The one extension 45 CFR 164.524(b)(2)(ii) allows, by the policy's days, "
    "with the reasons written to the requester. 409: `records_request_closed`, "
    "`records_request_extended` (a second one), `records_request_extension_late` (after the "
    "first due date).",
)
def records_request_extend(
    request,
    request_uuid: uuid.UUID,
    payload: RecordsRequestExtension,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    records_request = _found(request, request_uuid)
    data = _checked(RecordsRequestExtendForm(payload.model_dump()))
    extended = services_records.records_request_extend(
        actor=request.auth,
        request=records_request,
        precondition=precondition(if_match, records_request_etag),
        **data,
    )
    return _answer(response, extended)
