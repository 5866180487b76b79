"""The floor's pages: today's check-in list, the live chair board, and checking a patient in.
Glue only: parse, call a selector or service, render."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from clinic.accounts.permissions import Capability
from clinic.core.access import staff_required
from clinic.core.exceptions import DomainError, NotFound, PermissionDenied
from clinic.treatment_sessions import floor, services

# How often the board asks the server for fresh cards (operational, not clinical).
BOARD_REFRESH_SECONDS = 15


@staff_required
@require_GET
def day(request):
    """Today's appointments, by time, with a check-in button or a link to the session."""
    context = {
        "day": floor.day_list(actor=request.user),
        "can_rems": request.user.can(Capability.SESSION_REMS),
    }
    return render(request, "treatment_sessions/floor_day.html", context)


@staff_required
@require_GET
def board(request):
    """Every chair: who is in it, the phase, time since dose, next vitals due, open alerts.
    htmx polls the same URL and gets the card grid only."""
    context = {
        "board": floor.board_get(actor=request.user),
        "refresh_seconds": BOARD_REFRESH_SECONDS,
        "can_rems": request.user.can(Capability.SESSION_REMS),
        "can_run": request.user.can(Capability.SESSION_RUN),
    }
    template = "treatment_sessions/board.html"
    if request.htmx:
        template += "#grid"
    return render(request, template, context)


@staff_required
@require_POST
def check_in(request, appointment_uuid):
    """Start the session of today's booked appointment and open it."""
    appointment = floor.appointment_for_check_in(
        actor=request.user, appointment_uuid=appointment_uuid
    )
    try:
        session = services.session_check_in(actor=request.user, appointment=appointment)
    except (NotFound, PermissionDenied):
        raise
    except DomainError as error:
        messages.error(request, f"{appointment.patient.display_name}: {error.message}")
        return redirect("treatment_sessions:day")
    messages.success(request, f"{appointment.patient.display_name} checked in.")
    return redirect("treatment_sessions:detail", session_uuid=session.uuid)
