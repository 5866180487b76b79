"""POST /api/v1/consultations: the public site's consultation request as JSON, without an
account (the one operation of the API that takes no credentials: `auth=None`, so no CSRF
token either, as there is no session to forge; every other operation keeps the API's auth).

The same as the public page (clinic/public_site/views.py): the same rules (the service's
`clean_consultation_request`, which the page's form runs too, so the same messages), the same
rate limit with the same count per address (clinic/screening/rate_limit.py: a request by the
page and one by the API count alike), and the same answer whoever sends it: 201 with the
thank-you page's words and nothing else — no id, nothing the person sent — so it cannot tell
anyone whether that person is a patient, nor be used to read anything.

The front desk's queue (clinic/screening/views_consultations.py) on the same path, with the
API's staff authentication: the requests a page at a time by the queue's status filter, one
request with its ETag, and the page's actions with the page's forms and services — a new
status and/or a note, registering the person as a patient, linking the request to a patient
already registered — each with `If-Match` (the request changes), checked under its row lock.
`consultation.manage` (the clinic administrator and the front desk); registering a patient
also `patient.create`. Every read and write is audited as on the pages."""

from __future__ import annotations

import datetime
import uuid
from typing import Literal

from django.conf import settings
from django.http import HttpResponse
from ninja import Field, Query, Router, Schema, Status
from pydantic import StrictBool

from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.api_forms import form_checked
from clinic.core.api_pages import CursorQuery, cursor_decode, cursor_encode
from clinic.core.api_schemas import ApiError, RequestBody
from clinic.core.api_versions import IfMatch, entity_tag, etag_openapi, precondition
from clinic.core.text import MultiLine, OneLine
from clinic.patients.choices import Sex
from clinic.patients.duplicates import PossibleDuplicatePatient
from clinic.patients.schemas import PatientDuplicateConflict, duplicate_conflict
from clinic.screening import selectors, selectors_api, services
from clinic.screening.choices import (
    ConsultationStatus,
    ContactMethod,
    SeekingHelp,
    seeking_help_label,
)
from clinic.screening.models import ConsultationRequest
from clinic.screening.rate_limit import (
    consultation_counted,
    consultation_over_limit,
    consultation_retry_after_s,
)
from clinic.screening.services import TEXT_LIMITS, consultation_request_create
from clinic.screening.views_consultations import ConsultationConvertForm, ConsultationStatusForm

router = Router(tags=["consultations"])

RECEIVED = (
    "We have your request. Someone from our front desk will contact you, the way you asked, "
    "as soon as we can. You do not need to send it again."
)

ContactCode = Literal[tuple(ContactMethod.values)]  # type: ignore[valid-type]
SeekingCode = Literal[tuple(SeekingHelp.values)]  # type: ignore[valid-type]


class ConsultationRequestBody(RequestBody):
    given_name: OneLine = Field(..., max_length=TEXT_LIMITS["given_name"])
    family_name: OneLine = Field(..., max_length=TEXT_LIMITS["family_name"])
    email: OneLine = Field("", max_length=TEXT_LIMITS["email"])
    phone: OneLine = Field("", max_length=TEXT_LIMITS["phone"], description="7 to 15 digits.")
    preferred_contact: ContactCode = Field(  # type: ignore[valid-type]
        description="E-mail needs `email`; a call or a text needs `phone`."
    )
    date_of_birth: datetime.date | None = None
    seeking_help_with: SeekingCode  # type: ignore[valid-type]
    message: MultiLine = Field("", max_length=TEXT_LIMITS["message"])
    heard_about: OneLine = Field("", max_length=TEXT_LIMITS["heard_about"])
    consent_to_contact: StrictBool = Field(
        description="Must be true: the clinic may contact the person about this request."
    )


class ConsultationReceived(Schema):
    status: Literal["received"]
    detail: str = Field(description="The thank-you page's words; the same for everyone.")


_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds until this address may send another request.",
        "schema": {"type": "integer"},
    }
}


@router.post(
    "",
    auth=None,
    response={201: ConsultationReceived, 429: ApiError},
    openapi_extra={"responses": {429: {"headers": _RETRY_AFTER}}},
    summary="Ask for a consultation (public: no account needed)",
    description=(
        "The public site's consultation form as JSON: no credentials and no CSRF token. The "
        "same rules and messages as the form (422 naming each field), and its rate limit: "
        "CONSULTATION_RATE_LIMIT_COUNT requests an address in CONSULTATION_RATE_LIMIT_WINDOW_MIN "
        "minutes, counted together with the page's; past it, 429 with `Retry-After` and "
        "nothing is stored. 201 says only that the request was received."
    ),
    operation_id="consultation_request_create",
)
def consultation_create(request, payload: ConsultationRequestBody, response: HttpResponse):
    if consultation_over_limit(request):
        response["Retry-After"] = str(consultation_retry_after_s(request))
        return Status(
            429,
            {
                "detail": (
                    "Too many requests from this address: please try again in "
                    f"{settings.CONSULTATION_RATE_LIMIT_WINDOW_MIN} minutes, or call the clinic."
                ),
                "code": "rate_limited",
            },
        )
    consultation_request_create(data=payload.model_dump())
    # As the page: only a request that was stored counts (a refused one can be corrected).
    consultation_counted(request)
    return Status(201, {"status": "received", "detail": RECEIVED})


# --------------------------------------------------------------------------- the front desk

StatusCode = Literal[tuple(ConsultationStatus.values)]  # type: ignore[valid-type]
StatusFilter = Literal[tuple(value for value, _ in selectors.STATUS_FILTERS)]  # type: ignore[valid-type]
SexCode = Literal[tuple(Sex.values)]  # type: ignore[valid-type]
CHANGE_ERRORS = {404: ApiError, 412: ApiError, 428: ApiError}


class ConsultationListQuery(CursorQuery):
    status: StatusFilter = Field(  # type: ignore[valid-type]
        selectors.STATUS_FILTER_OPEN,
        description="As the queue's filter: open (new and contacted, the default), one "
        "status, or all.",
    )


class ConsultationPatient(Schema):
    uuid: uuid.UUID
    mrn: str


class ConsultationStaff(Schema):
    uuid: uuid.UUID
    name: str


class ConsultationSummary(Schema):
    uuid: uuid.UUID
    received_at: datetime.datetime
    given_name: str
    family_name: str
    seeking_help_with: SeekingCode  # type: ignore[valid-type]
    seeking_help_label: str
    preferred_contact: ContactCode  # type: ignore[valid-type]
    status: StatusCode  # type: ignore[valid-type]
    patient: ConsultationPatient | None = Field(description="The patient it is linked to.")


class ConsultationPage(Schema):
    items: list[ConsultationSummary]
    next_cursor: str | None


class ConsultationRead(ConsultationSummary):
    email: str
    phone: str
    date_of_birth: datetime.date | None
    message: str
    heard_about: str
    status_changed_at: datetime.datetime | None
    status_changed_by: ConsultationStaff | None
    front_desk_note: str = Field(description="The desk's notes, each with its time and author.")
    etag: str = Field(description="Send it as If-Match to change the request.")


class ConsultationStatusChange(RequestBody):
    status: StatusCode  # type: ignore[valid-type]
    note: MultiLine = Field(
        "",
        max_length=services.NOTE_MAX_LENGTH,
        description="Added to the request's notes with your name and the time.",
    )


class ConsultationConvert(RequestBody):
    """What registration needs (the page's form, pre-filled there from the request)."""

    legal_given_name: OneLine = Field(..., max_length=100)
    legal_family_name: OneLine = Field(..., max_length=100)
    date_of_birth: datetime.date
    sex: SexCode  # type: ignore[valid-type]
    email: OneLine = Field("", max_length=254)
    phone_mobile: OneLine = Field("", max_length=32)
    confirm_new_patient: StrictBool = Field(
        False,
        description="True once you have checked that the likely duplicates (409 "
        "`possible_duplicate_patient`) are other people.",
    )


class ConsultationLink(RequestBody):
    patient: uuid.UUID = Field(description="A registered patient's UUID.")


def consultation_etag(consultation: ConsultationRequest) -> str:
    return entity_tag(
        "consultation_request",
        consultation.uuid,
        consultation.updated_at,
        consultation.status,
        consultation.patient_id,
    )


def _summary(consultation: ConsultationRequest) -> dict:
    patient = consultation.patient
    return {
        "uuid": consultation.uuid,
        "received_at": consultation.created_at,
        "given_name": consultation.given_name,
        "family_name": consultation.family_name,
        "seeking_help_with": consultation.seeking_help_with,
        "seeking_help_label": seeking_help_label(consultation.seeking_help_with),
        "preferred_contact": consultation.preferred_contact,
        "status": consultation.status,
        "patient": {"uuid": patient.uuid, "mrn": patient.mrn} if patient else None,
    }


def _read(consultation: ConsultationRequest, response: HttpResponse) -> dict:
    changed_by = consultation.status_changed_by
    tag = consultation_etag(consultation)
    response["ETag"] = tag
    return {
        **_summary(consultation),
        "email": consultation.email,
        "phone": consultation.phone,
        "date_of_birth": consultation.date_of_birth,
        "message": consultation.message,
        "heard_about": consultation.heard_about,
        "status_changed_at": consultation.status_changed_at,
        "status_changed_by": (
            {"uuid": changed_by.uuid, "name": changed_by.display_name} if changed_by else None
        ),
        "front_desk_note": consultation.front_desk_note,
        "etag": tag,
    }


@router.get(
    "",
    response=ConsultationPage,
    summary="The front desk's consultation requests, newest first",
    description=(
        "By the queue's status filter, a page at a time: send `next_cursor` back as `cursor` "
        "(null: the last page). A request that arrives while you page comes before the first "
        "page and never shifts the others. The clinic administrator and the front desk."
    ),
    operation_id="consultation_request_list",
)
def consultation_list(request, params: Query[ConsultationListQuery]):
    actor = request.auth
    require(actor, Capability.CONSULTATION_MANAGE)
    filters = {"status": params.status}
    after = cursor_decode(params.cursor, scope="consultations", filters=filters)
    page = selectors_api.consultation_request_cursor_page(
        actor=actor, status=params.status, after=after, limit=params.limit
    )
    return {
        "items": [_summary(c) for c in page.items],
        "next_cursor": (
            cursor_encode(page.next_after, scope="consultations", filters=filters)
            if page.next_after
            else None
        ),
    }


@router.get(
    "/{consultation_uuid}",
    response=ConsultationRead,
    openapi_extra=etag_openapi(200),
    summary="One consultation request, with its ETag",
    operation_id="consultation_request_detail",
)
def consultation_detail(request, consultation_uuid: uuid.UUID, response: HttpResponse):
    consultation = selectors.consultation_request_get(
        actor=request.auth, consultation_uuid=consultation_uuid, purpose="api"
    )
    return _read(consultation, response)


@router.post(
    "/{consultation_uuid}/status",
    response={200: ConsultationRead, **CHANGE_ERRORS},
    openapi_extra=etag_openapi(200),
    summary="Move a request to another status, add a note, or both",
    description=(
        "As the request's page: e.g. contacted, booked or declined, with an optional note "
        "added with your name and the time (what was written before stays). The same status "
        "without a note is 422. `If-Match` required."
    ),
    operation_id="consultation_request_status",
)
def consultation_status(
    request,
    consultation_uuid: uuid.UUID,
    payload: ConsultationStatusChange,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    actor = request.auth
    require(actor, Capability.CONSULTATION_MANAGE)  # before looking anything up
    consultation = selectors.consultation_request_get(
        actor=actor, consultation_uuid=consultation_uuid, purpose="api status"
    )
    form = form_checked(ConsultationStatusForm({"status": payload.status, "note": payload.note}))
    changed = services.consultation_request_set_status(
        actor=actor,
        consultation=consultation,
        status=form.cleaned_data["status"],
        note=form.cleaned_data["note"],
        precondition=precondition(if_match, consultation_etag),
    )
    return _read(changed, response)


@router.post(
    "/{consultation_uuid}/convert",
    response={201: ConsultationRead, 409: PatientDuplicateConflict | ApiError, **CHANGE_ERRORS},
    openapi_extra=etag_openapi(201),
    summary="Register the person as a patient, linked to the request",
    description=(
        "As the page: the clinic administrator and the front desk (`patient.create` too). 409 "
        "`possible_duplicate_patient` while a likely duplicate is registered, listing them as "
        "registering a patient does (who they are only where you may open them): link the "
        "request to that patient instead, or send `confirm_new_patient: true` once you have "
        "checked that this is a different person. 409 `consultation_already_linked` too. The "
        "request's status stays as it was. `If-Match` required; 201 with the request, now linked."
    ),
    operation_id="consultation_request_convert",
)
def consultation_convert(
    request,
    consultation_uuid: uuid.UUID,
    payload: ConsultationConvert,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    actor = request.auth
    require(actor, Capability.CONSULTATION_MANAGE)  # before looking anything up
    require(actor, Capability.PATIENT_CREATE)
    consultation = selectors.consultation_request_get(
        actor=actor, consultation_uuid=consultation_uuid, purpose="convert to patient"
    )
    body = payload.model_dump()
    body["date_of_birth"] = payload.date_of_birth.isoformat()
    form = form_checked(ConsultationConvertForm(body))
    try:
        services.consultation_request_convert(
            actor=actor,
            consultation=consultation,
            data=form.patient_data(),
            allow_possible_duplicate=form.cleaned_data["confirm_new_patient"],
            precondition=precondition(if_match, consultation_etag),
        )
    except PossibleDuplicatePatient as error:
        return Status(409, duplicate_conflict(error))
    linked = selectors.consultation_request_get(
        actor=actor, consultation_uuid=consultation_uuid, purpose="api"
    )
    return Status(201, _read(linked, response))


@router.post(
    "/{consultation_uuid}/link",
    response={200: ConsultationRead, 409: ApiError, **CHANGE_ERRORS},
    openapi_extra=etag_openapi(200),
    summary="Link the request to a patient already registered",
    description=(
        "As the page: no new patient. 404 for a patient you may not see; 409 "
        "`consultation_already_linked` when it is linked to another. `If-Match` required."
    ),
    operation_id="consultation_request_link",
)
def consultation_link(
    request,
    consultation_uuid: uuid.UUID,
    payload: ConsultationLink,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    actor = request.auth
    require(actor, Capability.CONSULTATION_MANAGE)  # before looking anything up
    consultation = selectors.consultation_request_get(
        actor=actor, consultation_uuid=consultation_uuid, purpose="link to patient"
    )
    services.consultation_request_link_patient(
        actor=actor,
        consultation=consultation,
        patient_uuid=payload.patient,
        precondition=precondition(if_match, consultation_etag),
    )
    linked = selectors.consultation_request_get(
        actor=actor, consultation_uuid=consultation_uuid, purpose="api"
    )
    return _read(linked, response)
