"""The clinic administrator's location pages (the network list, opening a location, editing
it, who works there) and the switcher every staff member with more than one location sees.
Glue only: parse, call a selector or service, render."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.core.access import require, staff_required
from clinic.core.exceptions import DomainError, NotFound, PermissionDenied
from clinic.core.forms import apply_domain_error
from clinic.locations import selectors, services
from clinic.locations.forms import LocationChooseForm, LocationForm, LocationStaffForm

MANAGE = "location.manage"


@staff_required
@require_GET
def location_list(request):
    rows = selectors.location_network(actor=request.user)
    return render(request, "locations/location_list.html", {"rows": rows})


@staff_required
@require_http_methods(["GET", "POST"])
def location_open(request):
    require(request.user, MANAGE)
    form = LocationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            location = services.location_open(actor=request.user, details=form.details())
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(
                request,
                f"{location.name} is open. Next: who works there, its rooms, chairs and hours.",
            )
            return redirect("locations:detail", location_uuid=location.uuid)
    return render(request, "locations/location_form.html", {"form": form, "location": None})


@staff_required
@require_http_methods(["GET", "POST"])
def location_detail(request, location_uuid):
    """Edit a location's details; links to who works there and its rooms, chairs and hours."""
    location = selectors.location_for_admin(actor=request.user, location_uuid=location_uuid)
    form = LocationForm.for_location(location, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.location_update(actor=request.user, location=location, details=form.details())
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, "Saved.")
            return redirect("locations:detail", location_uuid=location.uuid)
    return render(request, "locations/location_form.html", {"form": form, "location": location})


@staff_required
@require_http_methods(["GET", "POST"])
def location_staff(request, location_uuid):
    """Who works here: a checkbox per active staff member."""
    location = selectors.location_for_admin(actor=request.user, location_uuid=location_uuid)
    people, working = selectors.location_staff_choices(actor=request.user, location=location)
    form = LocationStaffForm(
        request.POST or None,
        people=people,
        initial={"staff": [p for p in people if p.pk in working]},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.location_staff_set(
                actor=request.user,
                location=location,
                staff_ids=[p.pk for p in form.cleaned_data["staff"]],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, f"Saved who works at {location.name}.")
            return redirect("locations:staff", location_uuid=location.uuid)
    return render(request, "locations/location_staff.html", {"form": form, "location": location})


def _same_site(request, target: str) -> str:
    """`target` when it is a path on this site, else the home page."""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


@staff_required
@require_POST
def location_choose(request):
    """The switcher: work at another of one's locations (remembered across sign-ins). A
    location one does not work at is refused (403, audited)."""
    form = LocationChooseForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of your locations.")
        return redirect(_same_site(request, request.POST.get("next", "")))
    try:
        location = selectors.location_get(
            actor=request.user, location_uuid=form.cleaned_data["location"]
        )
    except NotFound as error:
        # Unknown or not one's own: the same refusal, audited.
        raise PermissionDenied("You do not work at that location.") from error
    services.location_choose(actor=request.user, location=location)
    messages.success(request, f"You are working at {location.name}.")
    return redirect(_same_site(request, form.cleaned_data["next"]))
