"""Dosing at the chair through the API: the IV infusion (start, pause, resume, rate, stop), the
IM injection, esketamine devices and the witnessed waste of a residual. Each body goes through
the page's own form (views_dosing.py), so the container is one of the location's usable stock
and a waste's witness is chosen and confirmed exactly as on the page: another licensed
clinician who works at the session's location, typing their own password (checked through the
sign-in backends, so failures are audited and lockouts apply). The ledger entries are the
services' (ADR 0007)."""

from __future__ import annotations

import uuid

from django.http import HttpResponse
from django.utils import timezone
from ninja import Router

from clinic.core.api_forms import form_checked
from clinic.core.api_versions import IfMatch, etag_openapi
from clinic.core.exceptions import NotFound
from clinic.core.text import OneLine
from clinic.treatment_sessions import services
from clinic.treatment_sessions.api._read import answer, for_change, matches
from clinic.treatment_sessions.api.sessions import CHANGE_NOTE, CHANGED
from clinic.treatment_sessions.forms import (
    DeviceForm,
    ImInjectionForm,
    InfusionStartForm,
    InfusionStopForm,
    WasteForm,
)
from clinic.treatment_sessions.models import TreatmentSession
from clinic.treatment_sessions.page import usable_containers
from clinic.treatment_sessions.schemas import (
    DeviceGiven,
    ImInjection,
    InfusionRate,
    InfusionStart,
    InfusionStop,
    Reason,
    Waste,
)

router = Router(tags=["treatment sessions"])

ONE = "/{session_uuid}"
WITNESS_NOTE = (
    " A waste's witness (`witness`, `witness_password`) is confirmed as on the page: another "
    "licensed clinician of this location, with their own password; otherwise 422 naming "
    "`witness` or `witness_password`, and nothing is written."
)


def _containers(session: TreatmentSession):
    return usable_containers(
        session.route, timezone.localdate(), location=session.appointment.chair.room.location
    )


def _fields(payload, *names: str) -> dict:
    """The body as the page's form posts it: amounts as text, ids as their UUID."""
    data = {}
    for name in names:
        value = getattr(payload, name)
        if value is not None:
            data[name] = str(value)
    return data


def _witness_fields(payload) -> dict:
    data = _fields(payload, "witness")
    data["witness_password"] = payload.witness_password.get_secret_value()
    return data


def _form_context(request, session: TreatmentSession) -> dict:
    return {
        "actor": request.auth,
        "request": request,
        "location": session.appointment.chair.room.location,
    }


@router.post(
    ONE + "/infusion/start",
    response=CHANGED,
    openapi_extra=etag_openapi(200),
    summary="Start the IV infusion",
    description=(
        "Today's dose from a vial of the location's stock (`container`), at least the dose "
        "drawn; the ledger entry is written when it stops. 409 unless the pre-checks are "
        "cleared (`pre_checks_unmet`) and the session is checked in." + CHANGE_NOTE
    ),
)
def infusion_start(
    request,
    session_uuid: uuid.UUID,
    payload: InfusionStart,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    session = for_change(request, session_uuid)
    data = form_checked(
        InfusionStartForm(
            _fields(payload, "container", "drawn_mg", "rate_ml_per_h"),
            containers=_containers(session),
        )
    ).cleaned_data
    services.infusion_start(
        actor=request.auth,
        session=session,
        container=data["container"],
        drawn_mg=data["drawn_mg"],
        rate_ml_per_h=data.get("rate_ml_per_h"),
        precondition=matches(if_match),
    )
    return answer(response, session_uuid, actor=request.auth)


@router.post(
    ONE + "/infusion/pause",
    response=CHANGED,
    openapi_extra=etag_openapi(200),
    summary="Pause the infusion, with a reason",
    description="409 unless it is running." + CHANGE_NOTE,
)
def infusion_pause(
    request,
    session_uuid: uuid.UUID,
    payload: Reason,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    session = for_change(request, session_uuid)
    services.infusion_pause(
        actor=request.auth, session=session, reason=payload.reason, precondition=matches(if_match)
    )
    return answer(response, session_uuid, actor=request.auth)


@router.post(
    ONE + "/infusion/resume",
    response=CHANGED,
    openapi_extra=etag_openapi(200),
    summary="Resume a paused infusion",
    description="409 unless it is paused." + CHANGE_NOTE,
)
def infusion_resume(
    request, session_uuid: uuid.UUID, response: HttpResponse, if_match: OneLine | None = IfMatch
):
    session = for_change(request, session_uuid)
    services.infusion_resume(actor=request.auth, session=session, precondition=matches(if_match))
    return answer(response, session_uuid, actor=request.auth)


@router.post(
    ONE + "/infusion/rate",
    response=CHANGED,
    openapi_extra=etag_openapi(200),
    summary="Change the infusion's rate",
    description="409 unless it is running." + CHANGE_NOTE,
)
def infusion_rate(
    request,
    session_uuid: uuid.UUID,
    payload: InfusionRate,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    session = for_change(request, session_uuid)
    services.infusion_rate_change(
        actor=request.auth,
        session=session,
        rate_ml_per_h=payload.rate_ml_per_h,
        reason=payload.reason,
        precondition=matches(if_match),
    )
    return answer(response, session_uuid, actor=request.auth)


@router.post(
    ONE + "/infusion/stop",
    response=CHANGED,
    openapi_extra=etag_openapi(200),
    summary="Stop the infusion with the mg the patient received",
    description=(
        "The ledger records the mg drawn and given; the residual is wasted now (with a witness) "
        "or later (.../waste). Less than the planned dose needs a `reason`; more than the pump "
        "could have run in, `given_above_expected_reason`; nothing given wastes the whole draw "
        "at once and so needs the witness." + WITNESS_NOTE + CHANGE_NOTE
    ),
)
def infusion_stop(
    request,
    session_uuid: uuid.UUID,
    payload: InfusionStop,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    session = for_change(request, session_uuid)
    data = form_checked(
        InfusionStopForm(
            {
                **_fields(
                    payload, "given_mg", "reason", "given_above_expected_reason", "waste_reason"
                ),
                **_witness_fields(payload),
            },
            **_form_context(request, session),
        )
    ).cleaned_data
    services.infusion_stop(
        actor=request.auth,
        session=session,
        given_mg=data["given_mg"],
        reason=data.get("reason") or "",
        given_above_expected_reason=data.get("given_above_expected_reason") or "",
        witness=data.get("witness"),
        waste_reason=data.get("waste_reason") or "",
        precondition=matches(if_match),
    )
    return answer(response, session_uuid, actor=request.auth)


@router.post(
    ONE + "/injection",
    response=CHANGED,
    openapi_extra=etag_openapi(200),
    summary="Record the IM injection",
    description=(
        "Today's dose (422 `given_mg` otherwise) from a vial of the location's stock, at "
        "`given_at` or now; the residual is wasted now with a witness, or later. 409 unless "
        "the pre-checks are cleared." + WITNESS_NOTE + CHANGE_NOTE
    ),
)
def im_injection(
    request,
    session_uuid: uuid.UUID,
    payload: ImInjection,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    session = for_change(request, session_uuid)
    data = form_checked(
        ImInjectionForm(
            {
                **_fields(payload, "container", "drawn_mg", "given_mg", "site", "waste_reason"),
                **_witness_fields(payload),
            },
            containers=_containers(session),
            **_form_context(request, session),
        )
    ).cleaned_data
    services.im_injection_record(
        actor=request.auth,
        session=session,
        container=data["container"],
        drawn_mg=data["drawn_mg"],
        given_mg=data["given_mg"],
        site=data["site"],
        given_at=payload.given_at,
        witness=data.get("witness"),
        waste_reason=data.get("waste_reason") or "",
        precondition=matches(if_match),
    )
    return answer(response, session_uuid, actor=request.auth)


@router.post(
    ONE + "/devices",
    response=CHANGED,
    openapi_extra=etag_openapi(200),
    summary="Record an esketamine device given",
    description=(
        "One device, used whole (no residual, no witness), at `given_at` or now; the next "
        "comes 5 minutes after the last (409 `device_too_soon`), and the last of the dose "
        "completes dosing. 409 unless the pre-checks are cleared." + CHANGE_NOTE
    ),
)
def esketamine_device(
    request,
    session_uuid: uuid.UUID,
    payload: DeviceGiven,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    session = for_change(request, session_uuid)
    data = form_checked(
        DeviceForm(_fields(payload, "container"), containers=_containers(session))
    ).cleaned_data
    services.esketamine_device_record(
        actor=request.auth,
        session=session,
        container=data["container"],
        given_at=payload.given_at,
        precondition=matches(if_match),
    )
    return answer(response, session_uuid, actor=request.auth)


@router.post(
    ONE + "/administrations/{administration_uuid}/waste",
    response=CHANGED,
    openapi_extra=etag_openapi(200),
    summary="Waste what is left of a draw, witnessed",
    description="409 when nothing is left to waste." + WITNESS_NOTE + CHANGE_NOTE,
)
def residual_waste(
    request,
    session_uuid: uuid.UUID,
    administration_uuid: uuid.UUID,
    payload: Waste,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    session = for_change(request, session_uuid)
    administration = next(
        (a for a in session.administrations.all() if a.uuid == administration_uuid), None
    )
    if administration is None:
        raise NotFound("No such administration in this session.")
    data = form_checked(
        WasteForm(
            {**_fields(payload, "reason"), **_witness_fields(payload)},
            **_form_context(request, session),
        )
    ).cleaned_data
    services.residual_waste(
        actor=request.auth,
        session=session,
        administration=administration,
        witness=data["witness"],
        reason=data.get("reason") or "",
        precondition=matches(if_match),
    )
    return answer(response, session_uuid, actor=request.auth)
