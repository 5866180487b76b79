"""The esketamine REMS Patient Monitoring Form through the API, as its pages (views_rems.py):
the forms due at a location, one session's form with the record's suggestions, its answers
saved through the page's own form and service, the form recorded as submitted, and its PDF.
Registered on the signing router (api/signing.py)."""

from __future__ import annotations

import datetime
import uuid

from django.http import Http404, HttpResponse
from django.utils import timezone
from ninja import Query

from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.api_forms import form_checked
from clinic.core.api_pages import cursor_decode, cursor_encode
from clinic.core.api_schemas import ApiError
from clinic.core.api_versions import IfMatch, etag_openapi
from clinic.core.text import OneLine
from clinic.locations.selectors import location_scope, require_works_at, workplace_for
from clinic.screening.choices import Route
from clinic.treatment_sessions import rems, rules, selectors, services, state
from clinic.treatment_sessions.api._read import (
    matches,
    named,
    patient_ref,
    rems_status,
    session_etag,
)
from clinic.treatment_sessions.api.sessions import CHANGE_NOTE
from clinic.treatment_sessions.api.signing import router
from clinic.treatment_sessions.api.signing_schemas import (
    RemsDuePage,
    RemsDueQuery,
    RemsFormAnswers,
    RemsFormRead,
)
from clinic.treatment_sessions.forms_rems import NONE_OF_THESE, RemsMonitoringForm
from clinic.treatment_sessions.models import TreatmentSession

ONE = "/{session_uuid}"
FORM_CHANGED = {200: RemsFormRead, 409: ApiError, 412: ApiError, 428: ApiError}
PDF = {
    200: {
        "description": "The form on one printable page.",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _esketamine(request, session_uuid: uuid.UUID, capability: str, *, audit: bool):
    """The role first, the care team (404), then only an esketamine session has a form (404,
    as its page)."""
    require(request.auth, capability)
    session = selectors.session_get(actor=request.auth, session_uuid=session_uuid, audit=audit)
    if session.route != Route.ESKETAMINE:
        raise Http404("Only an esketamine session has a REMS monitoring form.")
    return session


def _form_read(session: TreatmentSession, actor, response: HttpResponse) -> dict:
    """The form as its page shows it: each field's saved answer, the record's suggestion for
    those unanswered, what is missing, and whether it may be saved or recorded as submitted."""
    response["ETag"] = session_etag(session)
    saved = session.rems_form or {}
    suggested = state.rems_form_prefill(session)
    missing = rules.rems_form_missing(saved)
    day = rems.session_date(session)
    status = rems_status(session, missing=missing)
    policy = state.policy_of(session)
    return {
        "session_uuid": session.uuid,
        "fields": [
            {
                "key": item.key,
                "label": item.label,
                "choices": list(item.choices),
                "answer": saved.get(item.key),
                "suggested": suggested.get(item.key) if item.key in missing else None,
            }
            for item in rules.REMS_MONITORING_FIELDS
        ],
        "missing": missing,
        "complete": not missing,
        "session_date": day,
        "due_on": rules.rems_form_due(day, policy),
        "overdue": bool(status and status["overdue"]),
        "submitted_at": session.rems_submitted_at,
        "submitted_by": named(session.rems_submitted_by),
        "can_save": actor.can(Capability.SESSION_RUN) and not session.is_signed,
        "can_submit": (
            actor.can(Capability.SESSION_REMS)
            and not missing
            and session.dose_started_at is not None
            and session.rems_submitted_at is None
        ),
    }


def _posted(payload: RemsFormAnswers) -> dict:
    """The body as the page's form posts it (views_rems.RemsMonitoringForm): yes/no, "none of
    these", one adverse event a line, "None" for none."""
    data: dict = {}
    for key, value in payload.model_dump(exclude_none=True).items():
        if key in rems.BOOLEAN_FIELDS:
            data[key] = "yes" if value else "no"
        elif key == "concomitant_medications":
            data[key] = list(value) or [NONE_OF_THESE]
        elif key == "serious_adverse_events":
            data[key] = "\n".join(value) if value else "None"
        elif isinstance(value, datetime.date):
            data[key] = value.isoformat()
        else:
            data[key] = str(value)
    return data


@router.get(
    "/rems/due",
    response=RemsDuePage,
    summary="REMS monitoring forms due",
    description=(
        "Dosed esketamine sessions whose monitoring form is not recorded as submitted, at one "
        "location (`location`: the one you work at when left out; `all` for the clinic "
        "administrator), oldest session first, a page at a time (send `next_cursor` back as "
        "`cursor`). Each is due within 7 days of its session (the REMS). Who each patient is "
        "only when you may open them. Clinic administrator, prescribers and nurses "
        "(session.rems)."
    ),
)
def rems_due(request, params: Query[RemsDueQuery]):
    actor = request.auth
    require(actor, Capability.SESSION_REMS)  # before looking anything up
    location = location_scope(
        actor=actor, requested=params.location, current=workplace_for(actor).current
    )
    filters = {"location": params.location}
    after = cursor_decode(params.cursor, scope="sessions:rems", filters=filters)
    page = rems.rems_due_page(actor=actor, location=location, after=after, limit=params.limit)
    return {
        "items": [
            {
                "session_uuid": row.session.uuid,
                "patient": patient_ref(row.session.patient) if row.reachable else None,
                "mrn": row.session.patient.mrn,
                "location": {
                    "uuid": row.session.appointment.chair.room.location.uuid,
                    "name": row.session.appointment.chair.room.location.name,
                },
                "session_date": row.session_date,
                "due_on": row.due,
                "overdue": row.overdue,
                "missing": rules.rems_form_missing(row.session.rems_form or {}),
            }
            for row in page.rows
        ],
        "next_cursor": cursor_encode(page.next_after, scope="sessions:rems", filters=filters)
        if page.next_after
        else None,
    }


@router.get(
    ONE + "/rems",
    response=RemsFormRead,
    openapi_extra=etag_openapi(200),
    summary="One session's REMS monitoring form",
    description=(
        "Each field with its saved answer and, while unanswered, the session record's "
        "suggestion (check it, then save it), as the form's page. Esketamine sessions (404 "
        "otherwise); for the staff of the session's location (403 elsewhere). The ETag is the "
        "session's."
    ),
)
def rems_form(request, session_uuid: uuid.UUID, response: HttpResponse):
    session = _esketamine(request, session_uuid, Capability.SESSION_REMS, audit=True)
    require_works_at(request.auth, session.appointment.chair.room.location)
    return _form_read(session, request.auth, response)


@router.patch(
    ONE + "/rems",
    response=FORM_CHANGED,
    openapi_extra=etag_openapi(200),
    summary="Save answers of the REMS monitoring form",
    description=(
        "Any of the answers, checked as on the form's page (422 naming the field); those left "
        "out stay as saved, so the form may be saved in parts. Nurses and prescribers of the "
        "session's location, until the record is signed (409 `session_signed`). A complete "
        "form is needed before the record can be signed." + CHANGE_NOTE
    ),
)
def rems_form_save(
    request,
    session_uuid: uuid.UUID,
    payload: RemsFormAnswers,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    session = _esketamine(request, session_uuid, Capability.SESSION_RUN, audit=False)
    require_works_at(request.auth, session.appointment.chair.room.location)
    form = RemsMonitoringForm(_posted(payload))
    form_checked(form)  # 422 naming the field, as the page's form refuses it
    services.rems_form_save(
        actor=request.auth, session=session, values=form.values(), precondition=matches(if_match)
    )
    fresh = selectors.session_get(actor=request.auth, session_uuid=session_uuid, audit=False)
    return _form_read(fresh, request.auth, response)


@router.post(
    ONE + "/rems/submitted",
    response=FORM_CHANGED,
    openapi_extra=etag_openapi(200),
    summary="Record that the REMS monitoring form was submitted",
    description=(
        "Once complete (409 `rems_incomplete`), for a dosed esketamine session (409 `route`), "
        "once (409 `already_submitted`); allowed after signing. Clinic administrator, "
        "prescribers and nurses (session.rems) of the session's location." + CHANGE_NOTE
    ),
)
def rems_form_submitted(
    request, session_uuid: uuid.UUID, response: HttpResponse, if_match: OneLine | None = IfMatch
):
    session = _esketamine(request, session_uuid, Capability.SESSION_REMS, audit=False)
    services.rems_form_mark_submitted(
        actor=request.auth, session=session, now=timezone.now(), precondition=matches(if_match)
    )
    fresh = selectors.session_get(actor=request.auth, session_uuid=session_uuid, audit=False)
    return _form_read(fresh, request.auth, response)


@router.get(
    ONE + "/rems.pdf",
    openapi_extra={"responses": PDF},
    summary="The REMS monitoring form as a PDF",
    description=(
        "One printable page: the session's location as the healthcare setting, each field and "
        "its answer, the form's status. Audited as an export. Esketamine sessions of your "
        "care team (404 otherwise); session.rems."
    ),
)
def rems_pdf(request, session_uuid: uuid.UUID):
    session = _esketamine(request, session_uuid, Capability.SESSION_REMS, audit=False)
    content = rems.rems_pdf_build(actor=request.auth, session=session)
    response = HttpResponse(content, content_type="application/pdf")
    day = rems.session_date(session)
    response["Content-Disposition"] = (
        f'inline; filename="rems-monitoring-{session.patient.mrn}-{day:%Y%m%d}.pdf"'
    )
    return response
