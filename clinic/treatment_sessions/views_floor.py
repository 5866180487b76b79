"""The floor's pages: today's check-in list, the live chair board, and checking a patient in.
Glue only: parse, call a selector or service, render."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from clinic.accounts.permissions import Capability
from clinic.core.access import require, staff_required
from clinic.core.exceptions import DomainError, InvalidInput, NotFound, PermissionDenied
from clinic.core.forms import apply_domain_error
from clinic.core.page_loads import page_load_for
from clinic.locations.selectors import ALL_LOCATIONS, location_scope, sees_network
from clinic.scheduling.choices import AppointmentStatus
from clinic.treatment_sessions import floor, services
from clinic.treatment_sessions.forms import CheckInForm


def _scope(request, *, network: bool):
    """The location a floor page shows: the one worked at, or `?location=<uuid>` of one's
    own locations; "all" (the clinic administrator) where the page is `network`-wide. Another
    location is refused (403, audited)."""
    location = location_scope(
        actor=request.user,
        requested=request.GET.get("location") or None,
        current=getattr(request, "location", None),
    )
    if location is None and not network:
        raise NotFound("Choose one location: the chair board is per location.")
    return location


# How often the board asks the server for fresh cards (operational, not clinical).
BOARD_REFRESH_SECONDS = 15


@staff_required
@require_GET
def day(request):
    """Today's appointments, by time, with a check-in button or a link to the session."""
    require(request.user, Capability.SESSION_BOARD)
    location = _scope(request, network=True)
    context = {
        "day": floor.day_list(actor=request.user, location=location),
        "sees_network": sees_network(request.user),
        "all_locations": ALL_LOCATIONS,
        "can_rems": request.user.can(Capability.SESSION_REMS),
    }
    return render(request, "treatment_sessions/floor_day.html", context)


@staff_required
@require_GET
def board(request):
    """Every chair: who is in it, the phase, time since dose, next vitals due, open alerts.
    htmx polls the same URL and gets the card grid only."""
    require(request.user, Capability.SESSION_BOARD)
    location = _scope(request, network=False)
    page_load = page_load_for(request)
    context = {
        "board": floor.board_get(actor=request.user, location=location, page_load=page_load),
        "page_load": page_load,
        "asked_location": request.GET.get("location", ""),
        "refresh_seconds": BOARD_REFRESH_SECONDS,
        "can_rems": request.user.can(Capability.SESSION_REMS),
        "can_run": request.user.can(Capability.SESSION_RUN),
    }
    template = "treatment_sessions/board.html"
    if request.htmx:
        template += "#grid"
    return render(request, template, context)


@staff_required
@require_http_methods(["GET", "POST"])
def check_in(request, appointment_uuid):
    """Confirm the patient's two identifiers and the chair's nurse, then start the session."""
    appointment = floor.appointment_for_check_in(
        actor=request.user, appointment_uuid=appointment_uuid
    )
    if request.method == "GET" and hasattr(appointment, "treatment_session"):
        messages.info(request, f"{appointment.patient.display_name} is checked in already.")
        return redirect("treatment_sessions:day")
    if request.method == "GET" and appointment.status != AppointmentStatus.BOOKED:
        messages.error(
            request,
            f"{appointment.patient.display_name}: the appointment is "
            f"{appointment.get_status_display().lower()}; only a booked appointment is checked in.",
        )
        return redirect("treatment_sessions:day")
    if request.method == "GET" and timezone.localdate(appointment.starts_at) != (
        timezone.localdate()
    ):
        messages.error(
            request,
            f"{appointment.patient.display_name}: the appointment is on "
            f"{timezone.localtime(appointment.starts_at):%m/%d/%Y}; patients are checked in on "
            "the day.",
        )
        return redirect("treatment_sessions:day")
    form = CheckInForm(
        request.POST or None,
        patient_name=appointment.patient.full_name,
        nurses=floor.nurses_for_the_chair(appointment=appointment),
        initial={"assigned_nurse": appointment.nurse.uuid if appointment.nurse else None},
    )
    if request.method == "POST" and form.is_valid():
        try:
            session = services.session_check_in(
                actor=request.user,
                appointment=appointment,
                identity=form.identity(),
                assigned_nurse=form.cleaned_data.get("assigned_nurse"),
            )
        except (NotFound, PermissionDenied):
            raise
        except InvalidInput as error:
            apply_domain_error(form, error)
        except DomainError as error:
            messages.error(request, f"{appointment.patient.display_name}: {error.message}")
            return redirect("treatment_sessions:day")
        else:
            messages.success(request, f"{appointment.patient.display_name} checked in.")
            return redirect("treatment_sessions:detail", session_uuid=session.uuid)
    return render(
        request,
        "treatment_sessions/check_in.html",
        {"appointment": appointment, "form": form},
    )
