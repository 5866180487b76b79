"""The patient's at-home sublingual sessions: the list, starting a session (blood pressure and
the treatment monitor first), and one session's page (the dose only when the blood pressure
allows it, then side effects and the check-in).

Every read and write goes through clinic.home_program's selectors and services for
`request.patient`, the signed-in patient's own record (audited with their user as the actor).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from clinic.core.exceptions import Conflict, InvalidInput
from clinic.core.forms import apply_domain_error
from clinic.home_program import selectors, services
from clinic.home_program.choices import HomeSessionStatus
from clinic.home_program.forms import CheckInForm, DoseForm, SideEffectForm, StartForm
from clinic.portal.access import patient_required


@patient_required
@require_GET
def home_sessions(request):
    state = selectors.home_program_get(actor=request.user, patient=request.patient)
    logs = selectors.home_session_list(actor=request.user, patient=request.patient)
    return render(
        request,
        "portal/home_sessions.html",
        {"state": state, "logs": logs},
    )


@patient_required
@require_http_methods(["GET", "POST"])
def home_session_new(request):
    state = selectors.home_program_get(actor=request.user, patient=request.patient)
    form = StartForm(request.POST or None)
    if request.method == "POST" and state.can_start and form.is_valid():
        data = form.cleaned_data
        try:
            log = services.home_session_start(
                actor=request.user,
                patient=request.patient,
                systolic_mmhg=data["systolic_mmhg"],
                diastolic_mmhg=data["diastolic_mmhg"],
                monitor_name=data["monitor_name"],
            )
        except (InvalidInput, Conflict) as error:
            apply_domain_error(form, error)
        else:
            return redirect("portal:home_session", log_uuid=log.uuid)
    waiting = selectors.open_waiting_logs(request.patient).exists() if state.plan else False
    return render(
        request,
        "portal/home_session_new.html",
        {"state": state, "form": form, "waiting": waiting},
    )


_ACTIONS = {"dose", "not_taken", "side_effect", "check_in"}


@patient_required
@require_http_methods(["GET", "POST"])
def home_session(request, log_uuid):
    log = selectors.home_session_get(actor=request.user, patient=request.patient, log_uuid=log_uuid)
    action = request.POST.get("action") if request.method == "POST" else None
    bound = request.POST if action in _ACTIONS else None
    dose_form = DoseForm(bound if action == "dose" else None)
    effect_form = SideEffectForm(bound if action == "side_effect" else None, prefix="effect")
    check_in_form = CheckInForm(bound if action == "check_in" else None, prefix="checkin")
    done = None
    try:
        if action == "dose" and dose_form.is_valid():
            services.home_session_dose_record(
                actor=request.user,
                log=log,
                dose_mg=dose_form.cleaned_data["dose_mg"],
                taken_at=dose_form.cleaned_data["taken_at"],
            )
            done = "Your dose is logged. Stay where you are with your treatment monitor."
        elif action == "not_taken":
            services.home_session_not_taken(actor=request.user, log=log)
            done = "Logged: you did not take the dose this time."
        elif action == "side_effect" and effect_form.is_valid():
            data = effect_form.cleaned_data
            services.home_side_effect_record(
                actor=request.user,
                log=log,
                kind=data["kind"],
                severity=data["severity"],
                other_text=data["other_text"],
                noticed_at=data["noticed_at"],
            )
            done = "Side effect logged."
        elif action == "check_in" and check_in_form.is_valid():
            data = check_in_form.cleaned_data
            services.home_session_check_in(
                actor=request.user,
                log=log,
                feeling=data["feeling"],
                mood_after=data["mood_after"],
                checked_in_at=data["checked_in_at"],
            )
            done = "Thank you — your check-in is logged."
    except (InvalidInput, Conflict) as error:
        target = {
            "dose": dose_form,
            "side_effect": effect_form,
            "check_in": check_in_form,
        }.get(action, dose_form)
        apply_domain_error(target, error)
    if done:
        messages.success(request, done)
        return redirect("portal:home_session", log_uuid=log.uuid)
    return render(
        request,
        "portal/home_session.html",
        {
            "log": log,
            "statuses": HomeSessionStatus,
            "dose_form": dose_form,
            "effect_form": effect_form,
            "check_in_form": check_in_form,
            "resources": settings.CRISIS_RESOURCES,
        },
        status=200,
    )
