"""Appointment endpoints: the schedule pages' selectors and services, so the same checks, row
locks and audit. Reading follows the patient (the care team); booking and changing are the
front desk's and the clinic administrator's (schedule.book), at a location they work at."""

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
from clinic.core.api_versions import IfMatch, entity_tag, etag_openapi, precondition
from clinic.core.exceptions import DomainError, InvalidInput
from clinic.core.text import OneLine
from clinic.locations.models import Location
from clinic.locations.selectors import location_get, location_scope, workplace_for
from clinic.patients.selectors import patient_get
from clinic.scheduling import selectors, services
from clinic.scheduling.models import Appointment, Chair
from clinic.scheduling.schemas import (
    AppointmentBook,
    AppointmentListQuery,
    AppointmentPage,
    AppointmentRead,
    AppointmentReason,
    AppointmentReschedule,
    ProposalQuery,
    ProposalRead,
)

router = Router(tags=["appointments"])

# The booking pages name the inputs as their form does; the API names its body's fields.
_API_FIELD = {"time": "starts_at", "date": "starts_at", "session": "planned_session"}
_CHANGE_ERRORS = {409: ApiError, 412: ApiError, 428: ApiError}


def _in_api_words(error: DomainError) -> DomainError:
    if isinstance(error, InvalidInput):
        renamed: dict[str, list[str]] = {}
        for field, messages in error.errors.items():
            renamed.setdefault(_API_FIELD.get(field, field), []).extend(messages)
        return InvalidInput(renamed, error.message)
    if error.field in _API_FIELD:
        error.field = _API_FIELD[error.field]
    return error


def appointment_etag(appointment: Appointment) -> str:
    return entity_tag(
        "appointment",
        appointment.uuid,
        appointment.updated_at,
        appointment.status,
        appointment.starts_at,
        appointment.chair_id,
        appointment.nurse_id,
    )


def _named(record, name: str) -> dict:
    return {"uuid": record.uuid, "name": name}


def _chair(chair: Chair) -> dict:
    return {
        **_named(chair, chair.name),
        "room": _named(chair.room, chair.room.name),
        "location": _named(chair.room.location, chair.room.location.name),
    }


def _read(appointment: Appointment, *, visible: bool) -> dict:
    """An appointment; who it is for (and why it was cancelled) only when the caller may open
    the patient, as the calendar shows "Booked" otherwise."""
    session = appointment.planned_session
    return {
        "uuid": appointment.uuid,
        "starts_at": appointment.starts_at,
        "ends_at": appointment.ends_at,
        "duration_min": appointment.duration_min,
        "route": appointment.route,
        "status": appointment.status,
        "patient": {
            "uuid": appointment.patient.uuid,
            "mrn": appointment.patient.mrn,
            "name": appointment.patient.display_name,
        }
        if visible
        else None,
        "planned_session": {
            "uuid": session.uuid,
            "number": session.number,
            "plan_uuid": session.plan.uuid,
        }
        if visible and session is not None
        else None,
        "status_reason": appointment.status_reason if visible else None,
        "chair": _chair(appointment.chair),
        "nurse": _named(appointment.nurse, appointment.nurse.display_name),
        "updated_at": appointment.updated_at,
    }


def _answer(response: HttpResponse, appointment: Appointment) -> dict:
    response["ETag"] = appointment_etag(appointment)
    return _read(appointment, visible=True)


def _location_zone(location: Location | None):
    """The chosen location's time zone for the day's bounds, as its calendar page uses."""
    try:
        return timezone.override(zoneinfo.ZoneInfo(location.time_zone)) if location else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


@router.get(
    "",
    response={200: AppointmentPage, 404: ApiError},
    summary="A day's appointments",
    description=(
        "A day of one location's calendar (`location`: the one you work at when left out), "
        "optionally of one room, chair, nurse or patient, in start order, a page at a time: "
        "send `next_cursor` back as `cursor` for the next page (null: the last page). A "
        "clinician sees every appointment but who it is for only when on the patient's care "
        "team. 404 for an unknown room, chair, nurse or patient."
    ),
)
def appointment_list(request, params: Query[AppointmentListQuery]):
    actor = request.auth
    require(actor, Capability.SCHEDULE_VIEW)  # before looking anything up
    location = location_scope(
        actor=actor, requested=params.location, current=workplace_for(actor).current
    )
    patient = None
    if params.patient:
        patient = patient_get(actor=actor, patient_uuid=params.patient, purpose="api schedule")
    filters = params.model_dump(exclude={"cursor", "limit"})
    after = cursor_decode(params.cursor, scope="appointments", filters=filters)
    with _location_zone(location) or nullcontext():
        found = selectors.appointment_day_page(
            actor=actor,
            day=params.date,
            location=location,
            after=after,
            limit=params.limit,
            room_uuid=params.room,
            chair_uuid=params.chair,
            nurse_uuid=params.nurse,
            patient=patient,
            include_cancelled=params.include_cancelled,
        )
    page = found.page
    return {
        "items": [_read(a, visible=a.patient_id in found.visible_patient_ids) for a in page.items],
        "next_cursor": cursor_encode(page.next_after, scope="appointments", filters=filters)
        if page.next_after
        else None,
    }


@router.get(
    "/proposals",
    response={200: list[ProposalRead], 404: ApiError, 409: ApiError},
    summary="Propose slots for a plan's sessions",
    description=(
        "As the booking page: for each session of an active plan not booked yet, the earliest "
        "free chair with the route's equipment and a nurse on shift below the clinic's limit of "
        "chairs at once, or why there is none. Writes nothing: book each with POST "
        "/appointments. 404 for a plan you may not book or a location you do not work at; "
        "409 when the plan is not active or its route is not given in a chair."
    ),
)
def appointment_proposals(request, params: Query[ProposalQuery]):
    actor = request.auth
    plan = selectors.plan_get_for_booking(actor=actor, plan_uuid=params.plan)
    location = (
        location_get(actor=actor, location_uuid=params.location)
        if params.location
        else workplace_for(actor).current
    )
    proposals = services.appointment_propose(actor=actor, plan=plan, location=location)
    return [
        {
            "session": {
                "uuid": p.session.uuid,
                "number": p.session.number,
                "planned_date": p.session.planned_date,
            },
            "found": p.found,
            "starts_at": p.starts_at,
            "ends_at": p.ends_at,
            "chair": _chair(p.chair) if p.chair else None,
            "nurse": _named(p.nurse, p.nurse.display_name) if p.nurse else None,
            "note": p.note,
        }
        for p in proposals
    ]


@router.post(
    "",
    response={201: AppointmentRead, 404: ApiError, 409: ApiError},
    openapi_extra=etag_openapi(201),
    summary="Book an appointment",
    description=(
        "A chair and a nurse for a patient from `starts_at`, for as long as the route's policy "
        "holds them. 409 with the clash named (`chair_booked`, `patient_booked`, "
        "`nurse_booked`, `patient_same_day`, `session_booked`, `nurse_off_shift`, "
        "`outside_opening_hours`, ...): nothing is booked. 404 for a patient you may not open."
    ),
)
def appointment_create(request, payload: AppointmentBook, response: HttpResponse):
    actor = request.auth
    require(actor, Capability.SCHEDULE_BOOK)  # before looking anything up
    patient = patient_get(actor=actor, patient_uuid=payload.patient, purpose="api booking")
    try:
        chair = selectors.chair_for_booking(actor=actor, chair_uuid=payload.chair)
        nurse = selectors.nurse_for_booking(nurse_uuid=payload.nurse)
        session = (
            selectors.planned_session_for_booking(
                patient=patient, session_uuid=payload.planned_session
            )
            if payload.planned_session
            else None
        )
        appointment = services.appointment_book(
            actor=actor,
            patient=patient,
            chair=chair,
            nurse=nurse,
            starts_at=payload.starts_at,
            route=payload.route,
            planned_session=session,
        )
    except DomainError as error:
        raise _in_api_words(error) from error
    return Status(201, _answer(response, appointment))


@router.get(
    "/{appointment_uuid}",
    response=AppointmentRead,
    openapi_extra=etag_openapi(200),
    summary="One appointment",
)
def appointment_detail(request, appointment_uuid: uuid.UUID, response: HttpResponse):
    return _answer(
        response,
        selectors.appointment_get(actor=request.auth, appointment_uuid=appointment_uuid),
    )


def _for_change(request, appointment_uuid: uuid.UUID) -> Appointment:
    require(request.auth, Capability.SCHEDULE_BOOK)  # before looking anything up
    return selectors.appointment_get(actor=request.auth, appointment_uuid=appointment_uuid)


@router.post(
    "/{appointment_uuid}/reschedule",
    response={200: AppointmentRead, **_CHANGE_ERRORS},
    openapi_extra=etag_openapi(200),
    summary="Move a booked appointment",
    description="The same checks as booking (409 on a clash); `If-Match` required.",
)
def appointment_reschedule(
    request,
    appointment_uuid: uuid.UUID,
    payload: AppointmentReschedule,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    actor = request.auth
    appointment = _for_change(request, appointment_uuid)
    try:
        chair = (
            selectors.chair_for_booking(actor=actor, chair_uuid=payload.chair)
            if payload.chair
            else None
        )
        nurse = selectors.nurse_for_booking(nurse_uuid=payload.nurse) if payload.nurse else None
        moved = services.appointment_reschedule(
            actor=actor,
            appointment=appointment,
            starts_at=payload.starts_at,
            reason=payload.reason,
            chair=chair,
            nurse=nurse,
            precondition=precondition(if_match, appointment_etag),
        )
    except DomainError as error:
        raise _in_api_words(error) from error
    return _answer(response, moved)


@router.post(
    "/{appointment_uuid}/cancel",
    response={200: AppointmentRead, **_CHANGE_ERRORS},
    openapi_extra=etag_openapi(200),
    summary="Cancel a booked appointment, with a reason",
    description="Its chair, nurse and time are free again. `If-Match` required.",
)
def appointment_cancel(
    request,
    appointment_uuid: uuid.UUID,
    payload: AppointmentReason,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    appointment = _for_change(request, appointment_uuid)
    cancelled = services.appointment_cancel(
        actor=request.auth,
        appointment=appointment,
        reason=payload.reason,
        precondition=precondition(if_match, appointment_etag),
    )
    return _answer(response, cancelled)


@router.post(
    "/{appointment_uuid}/no-show",
    response={200: AppointmentRead, **_CHANGE_ERRORS},
    openapi_extra=etag_openapi(200),
    summary="Record that the patient did not come, with a reason",
    description="Only once the start time has passed (409 before). `If-Match` required.",
)
def appointment_no_show(
    request,
    appointment_uuid: uuid.UUID,
    payload: AppointmentReason,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    appointment = _for_change(request, appointment_uuid)
    marked = services.appointment_mark_no_show(
        actor=request.auth,
        appointment=appointment,
        reason=payload.reason,
        precondition=precondition(if_match, appointment_etag),
    )
    return _answer(response, marked)
