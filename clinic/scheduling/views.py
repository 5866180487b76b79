"""Schedule pages: parse, call a selector or service, render."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.accounts.permissions import Capability
from clinic.core.access import require, staff_required
from clinic.core.exceptions import DomainError, NotFound, PermissionDenied
from clinic.core.forms import apply_domain_error
from clinic.core.notices import patient_notices
from clinic.core.parsing import date_problem
from clinic.core.policy import date_policy
from clinic.locations.selectors import ALL_LOCATIONS, actor_works_at, location_scope, sees_network
from clinic.scheduling import ical, selectors, services
from clinic.scheduling.choices import AppointmentStatus
from clinic.scheduling.forms import (
    ChairForm,
    OpeningHoursForm,
    ReasonForm,
    RescheduleForm,
    RoomForm,
    ShiftForm,
    SlotForm,
)
from clinic.scheduling.models import CalendarFeed, Chair, Room, StaffShift
from clinic.scheduling.policy import scheduling_policy


def _date_param(value: str | None) -> datetime.date:
    """The ?date= of a calendar page; today when it is missing, unreadable or implausible (a
    year-9999 week would overflow the calendar's arithmetic)."""
    today = timezone.localdate()
    try:
        day = datetime.date.fromisoformat(value) if value else today
    except ValueError:
        return today
    ahead = date_policy().booking_days_ahead
    return today if date_problem(day, today=today, days_ahead=ahead) else day


def _scope(request, key: str = "location"):
    """The location a per-location page shows (`?location=`; see `location_scope`)."""
    requested = request.GET.get(key) or request.POST.get(key) or None
    return location_scope(
        actor=request.user, requested=requested, current=getattr(request, "location", None)
    )


def _calendar_url(calendar, day: datetime.date, **overrides) -> str:
    params = {"date": day.isoformat(), "view": calendar.view}
    if calendar.location is None:
        params["location"] = ALL_LOCATIONS
    elif calendar.location != calendar.current:
        params["location"] = str(calendar.location.uuid)
    if calendar.room:
        params["room"] = str(calendar.room.uuid)
    if calendar.nurse:
        params["nurse"] = str(calendar.nurse.uuid)
    params.update({k: v for k, v in overrides.items() if v is not None})
    params = {k: v for k, v in params.items() if v != ""}
    return f"{reverse('scheduling:calendar')}?{urlencode(params)}"


@staff_required
@require_GET
def calendar(request):
    """Day or week calendar: /schedule/?date=YYYY-MM-DD&view=week&room=<uuid>&nurse=<uuid>."""
    location = _scope(request)
    calendar = selectors.calendar_get(
        actor=request.user,
        day=_date_param(request.GET.get("date")),
        view=request.GET.get("view", "day"),
        room_uuid=request.GET.get("room") or None,
        nurse_uuid=request.GET.get("nurse") or None,
        location=location,
    )
    calendar.current = getattr(request, "location", None)
    context = {
        "sees_network": sees_network(request.user),
        "all_locations": ALL_LOCATIONS,
        "calendar": calendar,
        "previous_url": _calendar_url(calendar, calendar.previous),
        "next_url": _calendar_url(calendar, calendar.next),
        "today_url": _calendar_url(calendar, timezone.localdate()),
        "day_url": _calendar_url(calendar, calendar.anchor, view="day"),
        "week_url": _calendar_url(calendar, calendar.anchor, view="week"),
        "week_days": [(d, _calendar_url(calendar, d.date, view="day")) for d in calendar.days],
        "today": timezone.localdate(),
        "can_manage": request.user.can(Capability.SCHEDULE_MANAGE_RESOURCES),
    }
    template = "scheduling/calendar.html"
    if request.htmx:
        template += "#grid"
    return render(request, template, context)


# --------------------------------------------------------------------------- booking a plan


def _slot_initial(proposal) -> dict:
    if not proposal.found:
        return {"date": proposal.session.planned_date}
    start = services.local(proposal.starts_at)
    return {
        "date": start.date(),
        "time": start.time(),
        "chair": proposal.chair.uuid,
        "nurse": proposal.nurse.uuid,
    }


@staff_required
@require_http_methods(["GET", "POST"])
def plan_book(request, plan_uuid):
    """Proposed slots for a plan's unbooked sessions; each is confirmed (or moved) on its own."""
    actor = request.user
    plan = selectors.plan_get_for_booking(actor=actor, plan_uuid=plan_uuid)
    problem = ""
    proposals = []
    try:
        proposals = services.appointment_propose(actor=actor, plan=plan, location=request.location)
    except DomainError as error:
        problem = error.message
    rows = [
        (
            p,
            SlotForm(
                prefix=f"s{p.session.number}",
                initial=_slot_initial(p),
                location=request.location,
            ),
        )
        for p in proposals
    ]
    if request.method == "POST":
        chosen = request.POST.get("session", "")
        index = next((i for i, (p, _) in enumerate(rows) if str(p.session.uuid) == chosen), None)
        if index is None:
            messages.error(request, "That session is booked already, or is not in this plan.")
            return redirect("scheduling:plan_book", plan_uuid=plan.uuid)
        proposal = rows[index][0]
        form = SlotForm(
            request.POST, prefix=f"s{proposal.session.number}", location=request.location
        )
        rows[index] = (proposal, form)
        if form.is_valid():
            try:
                appointment = services.appointment_book(
                    actor=actor,
                    patient=plan.patient,
                    chair=form.cleaned_data["chair"],
                    nurse=form.cleaned_data["nurse"],
                    starts_at=form.starts_at,
                    route=plan.route,
                    planned_session=proposal.session,
                )
            except DomainError as error:
                apply_domain_error(form, error)
            else:
                start = services.local(appointment.starts_at)
                messages.success(
                    request,
                    f"Session {proposal.session.number} booked for {start:%A %m/%d/%Y} at "
                    f"{start:%H:%M}.",
                )
                return redirect("scheduling:plan_book", plan_uuid=plan.uuid)
    context = {
        "plan": plan,
        "patient": plan.patient,
        "notices": patient_notices(actor=request.user, patient=plan.patient),
        "problem": problem,
        "rows": rows,
        "sessions": selectors.plan_sessions(plan=plan),
        "length_min": {
            p.session.pk: int((p.ends_at - p.starts_at).total_seconds() // 60)
            for p in proposals
            if p.found
        },
    }
    return render(request, "scheduling/plan_book.html", context)


# --------------------------------------------------------------------------- one appointment


def _detail(request, appointment, *, reschedule_form=None, cancel_form=None, no_show_form=None):
    location = appointment.chair.room.location
    # Anyone who may see the patient reads the appointment; its location's staff change it.
    works_here = actor_works_at(request.user, location)
    can_change = (
        request.user.can(Capability.SCHEDULE_BOOK)
        and appointment.status == AppointmentStatus.BOOKED
        and works_here
    )
    start = services.local(appointment.starts_at)
    context = {
        "appointment": appointment,
        "patient": appointment.patient,
        "reminders": selectors.appointment_reminders(appointment=appointment),
        "can_change": can_change,
        "changed_elsewhere": request.user.can(Capability.SCHEDULE_BOOK) and not works_here,
        "location_name": location.name,
        "can_no_show": can_change
        and (timezone.now() >= appointment.starts_at or bool(no_show_form and no_show_form.errors)),
        "reschedule_form": reschedule_form
        or RescheduleForm(
            prefix="move",
            location=appointment.chair.room.location,
            initial={
                "date": start.date(),
                "time": start.time(),
                "chair": appointment.chair.uuid,
                "nurse": appointment.nurse.uuid,
            },
        ),
        "cancel_form": cancel_form or ReasonForm(prefix="cancel"),
        "no_show_form": no_show_form or ReasonForm(prefix="noshow"),
    }
    return render(request, "scheduling/appointment_detail.html", context)


@staff_required
@require_GET
def appointment_detail(request, appointment_uuid):
    appointment = selectors.appointment_get(actor=request.user, appointment_uuid=appointment_uuid)
    return _detail(request, appointment)


@staff_required
@require_POST
def appointment_reschedule(request, appointment_uuid):
    require(request.user, Capability.SCHEDULE_BOOK)
    appointment = selectors.appointment_get(actor=request.user, appointment_uuid=appointment_uuid)
    form = RescheduleForm(request.POST, prefix="move", location=appointment.chair.room.location)
    if form.is_valid():
        try:
            services.appointment_reschedule(
                actor=request.user,
                appointment=appointment,
                starts_at=form.starts_at,
                chair=form.cleaned_data["chair"],
                nurse=form.cleaned_data["nurse"],
                reason=form.cleaned_data["reason"],
            )
        except PermissionDenied:
            raise  # another location's appointment: refused (403, audited), not a form error
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, "Appointment moved.")
            return redirect("scheduling:appointment_detail", appointment_uuid=appointment.uuid)
    return _detail(request, appointment, reschedule_form=form)


def _status_change(request, appointment_uuid, *, prefix: str, service, done: str):
    require(request.user, Capability.SCHEDULE_BOOK)
    appointment = selectors.appointment_get(actor=request.user, appointment_uuid=appointment_uuid)
    form = ReasonForm(request.POST, prefix=prefix)
    if form.is_valid():
        try:
            service(actor=request.user, appointment=appointment, reason=form.cleaned_data["reason"])
        except PermissionDenied:
            raise  # another location's appointment: refused (403, audited), not a form error
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, done)
            return redirect("scheduling:appointment_detail", appointment_uuid=appointment.uuid)
    key = "cancel_form" if prefix == "cancel" else "no_show_form"
    return _detail(request, appointment, **{key: form})


@staff_required
@require_POST
def appointment_cancel(request, appointment_uuid):
    return _status_change(
        request,
        appointment_uuid,
        prefix="cancel",
        service=services.appointment_cancel,
        done="Appointment cancelled; the chair and nurse are free again.",
    )


@staff_required
@require_POST
def appointment_no_show(request, appointment_uuid):
    return _status_change(
        request,
        appointment_uuid,
        prefix="noshow",
        service=services.appointment_mark_no_show,
        done="Marked as a no-show.",
    )


# --------------------------------------------------------------------------- resources


def _resources_forms(data=None, action: str = "", *, location=None):
    def bound(name):
        return data if action == name else None

    return {
        "room_form": RoomForm(bound("room_add"), prefix="room"),
        "chair_form": ChairForm(bound("chair_add"), prefix="chair", location=location),
        "shift_form": ShiftForm(bound("shift_add"), prefix="shift"),
    }


@staff_required
@require_http_methods(["GET", "POST"])
def resources(request):
    """One location's rooms, chairs, opening hours and staff shifts, and calendar feeds
    (clinic admins): the location worked at, or the one named by `?location=<uuid>`."""
    actor = request.user
    require(actor, Capability.SCHEDULE_MANAGE_RESOURCES)
    location = _scope(request)
    if location is None:
        raise NotFound("Choose one location.")
    here = reverse("scheduling:resources")
    if location != getattr(request, "location", None):
        here += f"?{urlencode({'location': str(location.uuid)})}"
    start = _date_param(request.GET.get("from"))
    action = request.POST.get("action", "") if request.method == "POST" else ""
    forms = _resources_forms(request.POST if action else None, action, location=location)
    hours_form = None
    if action:
        try:
            done = _resources_action(request, action, forms, location)
        except DomainError as error:
            target = {
                "room_add": "room_form",
                "chair_add": "chair_form",
                "shift_add": "shift_form",
            }.get(action)
            if target:
                apply_domain_error(forms[target], error)
            elif action == "hours":
                hours_form = OpeningHoursForm(request.POST, prefix="hours")
                hours_form.is_valid()
                apply_domain_error(hours_form, error)
            else:
                messages.error(request, error.message)
                return redirect(here)
        else:
            if done:
                messages.success(request, done)
                return redirect(here)
            if action == "hours":
                hours_form = OpeningHoursForm(request.POST, prefix="hours")
                hours_form.is_valid()
    overview = selectors.resources_get(actor=actor, start=start, location=location)
    workplace = getattr(request, "workplace", None)
    context = {
        **forms,
        "location": location,
        "locations": workplace.choices if workplace is not None else [],
        "overview": overview,
        "hours_form": hours_form or OpeningHoursForm(prefix="hours", hours=overview.hours),
        "feeds": selectors.calendar_feed_list(actor=actor),
        "policy": scheduling_policy(),
    }
    return render(request, "scheduling/resources.html", context)


def _resources_action(request, action: str, forms, location) -> str:
    """Run one POSTed action; return the success message, or "" when a form is invalid."""
    actor, data = request.user, request.POST
    if action == "room_add":
        form = forms["room_form"]
        if not form.is_valid():
            return ""
        room = services.room_create(actor=actor, name=form.cleaned_data["name"], location=location)
        return f"Room {room.name} added."
    if action == "room_active":
        room = selectors.resource_get(actor=actor, model=Room, resource_uuid=data.get("room"))
        active = data.get("active") == "1"
        services.room_update(actor=actor, room=room, active=active)
        return f"Room {room.name} {'back in service' if active else 'taken out of service'}."
    if action == "chair_add":
        form = forms["chair_form"]
        if not form.is_valid():
            return ""
        chair = services.chair_create(
            actor=actor,
            room=form.cleaned_data["room"],
            name=form.cleaned_data["name"],
            capabilities=form.cleaned_data["capabilities"],
        )
        return f"Chair {chair.name} added."
    if action == "chair_active":
        chair = selectors.resource_get(actor=actor, model=Chair, resource_uuid=data.get("chair"))
        active = data.get("active") == "1"
        services.chair_update(actor=actor, chair=chair, active=active)
        return f"Chair {chair.name} {'back in service' if active else 'taken out of service'}."
    if action == "hours":
        form = OpeningHoursForm(data, prefix="hours")
        if not form.is_valid():
            return ""
        services.opening_hours_set(actor=actor, hours=form.hours(), location=location)
        return "Opening hours saved."
    if action == "shift_add":
        form = forms["shift_form"]
        if not form.is_valid():
            return ""
        shift = services.staff_shift_add(actor=actor, location=location, **form.cleaned_data)
        return f"Shift added for {shift.staff.display_name} on {shift.date:%m/%d/%Y}."
    if action == "shift_remove":
        shift = selectors.resource_get(
            actor=actor, model=StaffShift, resource_uuid=data.get("shift")
        )
        services.staff_shift_remove(actor=actor, shift=shift)
        return "Shift removed."
    if action == "feed_revoke":
        feed = selectors.resource_get(
            actor=actor, model=CalendarFeed, resource_uuid=data.get("feed")
        )
        services.calendar_feed_revoke(actor=actor, feed=feed)
        return "Calendar feed revoked."
    raise NotFound()


# --------------------------------------------------------------------------- calendar feeds


@staff_required
@require_http_methods(["GET", "POST"])
def calendar_feed(request):
    """One's own iCalendar feed: create (the URL is shown once) or revoke it."""
    actor = request.user
    require(actor, Capability.SCHEDULE_VIEW)
    url = ""
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            feed = selectors.calendar_feed_live(user=actor)
            if feed is not None:
                services.calendar_feed_revoke(actor=actor, feed=feed)
                messages.success(request, "Calendar feed revoked: the old URL no longer works.")
            return redirect("scheduling:calendar_feed")
        _feed, token = services.calendar_feed_create(actor=actor)
        url = request.build_absolute_uri(reverse("scheduling:ical_feed", args=[token]))
    context = {"feed": selectors.calendar_feed_live(user=actor), "url": url}
    return render(request, "scheduling/calendar_feed.html", context)


@require_GET
def ical_feed(request, token):
    """The feed itself, for calendar apps: no sign-in, the secret token is the key."""
    feed = selectors.calendar_feed_by_token(token)
    if feed is None:
        raise Http404("No such calendar feed.")
    appointments, shifts = selectors.calendar_feed_events(feed=feed)
    services.calendar_feed_touch(feed)
    body = ical.render(
        name=f"KetaCare: {feed.user.display_name}",
        appointments=appointments,
        shifts=shifts,
        now=timezone.now(),
        at=services.at,
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "no-store, private"
    response["Content-Disposition"] = 'inline; filename="ketacare.ics"'
    return response
