"""Dosing at the chair: the IV infusion's one endpoint (start, pause, resume, rate, stop), the IM
injection, the esketamine devices and the end of esketamine dosing, and the witnessed waste of
what is left of a draw. Glue only, as in views.py, whose page these forms post back to.
"""

from __future__ import annotations

from django.contrib import messages
from django.utils import timezone
from django.views.decorators.http import require_POST

from clinic.accounts.permissions import Capability
from clinic.core.access import staff_required
from clinic.core.exceptions import Conflict, InvalidInput, NotFound
from clinic.treatment_sessions import services
from clinic.treatment_sessions.forms import (
    DeviceForm,
    DosingEndForm,
    ImInjectionForm,
    InfusionPauseForm,
    InfusionRateForm,
    InfusionStartForm,
    InfusionStopForm,
    WasteForm,
    today_at,
)
from clinic.treatment_sessions.page import usable_containers
from clinic.treatment_sessions.views import _back, _one_field_action, _session, _submit


def _containers(session):
    return usable_containers(
        session.route, timezone.localdate(), location=session.appointment.chair.room.location
    )


def _witness_kwargs(data) -> dict:
    return {"witness": data.get("witness"), "waste_reason": data.get("waste_reason") or ""}


@staff_required
@require_POST
def infusion(request, session_uuid):
    """One endpoint for the infusion: `action` is start, pause, resume, rate or stop."""
    session = _session(request, session_uuid, Capability.SESSION_RUN)
    actor = request.user
    action = request.POST.get("action", "")
    if action == "start":
        return _submit(
            request,
            session,
            key="start",
            form=InfusionStartForm(request.POST, prefix="start", containers=_containers(session)),
            call=lambda data: services.infusion_start(
                actor=actor,
                session=session,
                container=data["container"],
                drawn_mg=data["drawn_mg"],
                rate_ml_per_h=data.get("rate_ml_per_h"),
            ),
            done="Infusion started.",
            anchor="dosing",
        )
    if action == "pause":
        return _submit(
            request,
            session,
            key="pause",
            form=InfusionPauseForm(request.POST, prefix="pause"),
            call=lambda data: services.infusion_pause(
                actor=actor, session=session, reason=data["reason"]
            ),
            done="Infusion paused.",
            anchor="dosing",
        )
    if action == "resume":
        try:
            services.infusion_resume(actor=actor, session=session)
        except (Conflict, InvalidInput) as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Infusion resumed.")
        return _back(session, "dosing", request=request)
    if action == "rate":
        return _submit(
            request,
            session,
            key="rate",
            form=InfusionRateForm(request.POST, prefix="rate"),
            call=lambda data: services.infusion_rate_change(
                actor=actor,
                session=session,
                rate_ml_per_h=data["rate_ml_per_h"],
                reason=data.get("reason") or "",
            ),
            done="Rate changed.",
            anchor="dosing",
        )
    if action == "stop":
        return _submit(
            request,
            session,
            key="infusion_stop",
            form=InfusionStopForm(
                request.POST,
                prefix="iv-stop",
                actor=actor,
                request=request,
                location=session.appointment.chair.room.location,
            ),
            call=lambda data: services.infusion_stop(
                actor=actor,
                session=session,
                given_mg=data["given_mg"],
                reason=data.get("reason") or "",
                given_above_expected_reason=data.get("given_above_expected_reason") or "",
                **_witness_kwargs(data),
            ),
            done="Infusion stopped and recorded in the controlled-substance ledger.",
            anchor="dosing",
        )
    messages.error(request, "Choose start, pause, resume, rate or stop.")
    return _back(session, "dosing", request=request)


@staff_required
@require_POST
def im_injection(request, session_uuid):
    session = _session(request, session_uuid, Capability.SESSION_RUN)
    actor = request.user
    form = ImInjectionForm(
        request.POST,
        prefix="im",
        containers=_containers(session),
        actor=actor,
        request=request,
        location=session.appointment.chair.room.location,
    )
    return _submit(
        request,
        session,
        key="im",
        form=form,
        call=lambda data: services.im_injection_record(
            actor=actor,
            session=session,
            container=data["container"],
            drawn_mg=data["drawn_mg"],
            given_mg=data["given_mg"],
            site=data["site"],
            given_at=today_at(data.get("given_at")),
            **_witness_kwargs(data),
        ),
        done="Injection recorded in the controlled-substance ledger.",
        anchor="dosing",
    )


@staff_required
@require_POST
def device(request, session_uuid):
    session = _session(request, session_uuid, Capability.SESSION_RUN)
    number = len([a for a in session.administrations.all() if a.device_number is not None]) + 1
    return _submit(
        request,
        session,
        key="device",
        form=DeviceForm(request.POST, prefix="device", containers=_containers(session)),
        call=lambda data: services.esketamine_device_record(
            actor=request.user,
            session=session,
            container=data["container"],
            given_at=today_at(data.get("given_at")),
        ),
        done=f"Device {number} recorded in the controlled-substance ledger.",
        anchor="dosing",
    )


@staff_required
@require_POST
def waste(request, session_uuid, administration_uuid):
    session = _session(request, session_uuid, Capability.SESSION_RUN)
    administration = next(
        (a for a in session.administrations.all() if a.uuid == administration_uuid), None
    )
    if administration is None:
        raise NotFound("No such administration in this session.")
    form = WasteForm(
        request.POST,
        prefix=f"waste-{administration.uuid}",
        actor=request.user,
        request=request,
        location=session.appointment.chair.room.location,
    )
    return _submit(
        request,
        session,
        key=("waste", administration.pk),
        form=form,
        call=lambda data: services.residual_waste(
            actor=request.user,
            session=session,
            administration=administration,
            witness=data["witness"],
            reason=data.get("reason") or "",
        ),
        done="Residual wasted, witnessed.",
        anchor="dosing",
    )


# Esketamine: no more devices today; observation runs from the last one given.
dosing_end = _one_field_action(
    capability=Capability.SESSION_RUN,
    key="dosing_end",
    prefix="dosing-end",
    form=DosingEndForm,
    service=services.esketamine_dosing_end,
    argument="reason",
    done="Dosing ended: observation runs from the last device given.",
    anchor="dosing",
)
