"""Portal care pages: home, appointments with preparation, questionnaires and their results,
and progress. Every page is for the signed-in patient's own record only (`patient_required`
sets `request.patient`); reads go through `clinic.portal.care`, the one write through
`clinic.assessments.services.portal_response_record`."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from clinic.assessments import services
from clinic.assessments.forms import InstrumentForm
from clinic.core.exceptions import DomainError, InvalidInput
from clinic.core.forms import apply_domain_error
from clinic.portal import care, care_questionnaires
from clinic.portal.access import patient_required


def _first_name(patient) -> str:
    return patient.preferred_name.strip() or patient.legal_given_name


@patient_required
@require_GET
def home(request):
    home = care.home_for(actor=request.user, patient=request.patient)
    return render(
        request,
        "portal/home.html",
        {"home": home, "first_name": _first_name(request.patient)},
    )


@patient_required
@require_GET
def appointments(request):
    upcoming, earlier = care.appointment_lists(actor=request.user, patient=request.patient)
    return render(request, "portal/appointments.html", {"upcoming": upcoming, "earlier": earlier})


@patient_required
@require_GET
def appointment(request, appointment_uuid):
    appointment, card = care.appointment_for(
        actor=request.user, patient=request.patient, appointment_uuid=appointment_uuid
    )
    return render(
        request,
        "portal/appointment.html",
        {
            "card": card,
            "preparation": care.preparation_for(appointment) if card.upcoming else None,
            "tasks": care.open_tasks(
                actor=request.user,
                patient=request.patient,
                next_appointment=appointment,
                last_session=None,
                now=timezone.now(),
            )
            if card.upcoming
            else [],
        },
    )


@patient_required
@require_GET
def questionnaires(request):
    state = care_questionnaires.questionnaire_state(actor=request.user, patient=request.patient)
    return render(request, "portal/questionnaires.html", {"state": state})


def _apply_answers_error(form, error: DomainError) -> None:
    """A refusal of the answers as a whole (e.g. none given) above the questions; an answer
    to a skipped question is refused by the form itself, in words, at that question."""
    if isinstance(error, InvalidInput) and "answers" in error.errors:
        for message in error.errors.pop("answers"):
            form.add_error(None, message)
        if not error.errors:
            return
    apply_domain_error(form, error)


@patient_required
@require_http_methods(["GET", "POST"])
def questionnaire(request, code):
    state = care_questionnaires.questionnaire_state(
        actor=request.user, patient=request.patient, audit=request.method == "GET"
    )
    instrument = care_questionnaires.portal_instrument(code, state)
    # Bound on every POST: a form with nothing ticked posts no item at all, and must still be
    # checked (and refused as blank), never shown again as if it had not been sent.
    form = InstrumentForm(
        request.POST if request.method == "POST" else None,
        instrument=instrument,
        staff=False,
    )
    if request.method == "POST" and form.is_valid():
        try:
            response = services.portal_response_record(
                patient_user=request.user,
                patient=request.patient,
                instrument_code=instrument.code,
                answers=form.answers(),
                timepoint=state.timepoints[instrument.code],
            )
        except DomainError as error:
            _apply_answers_error(form, error)
        else:
            return redirect("portal:questionnaire_result", response_uuid=response.uuid)
    return render(
        request,
        "portal/questionnaire.html",
        {
            "instrument": instrument,
            "form": form,
            "about": care_questionnaires.ABOUT.get(instrument.code, ""),
        },
    )


@patient_required
@require_GET
def questionnaire_result(request, response_uuid):
    result = care_questionnaires.result_for(
        actor=request.user, patient=request.patient, response_uuid=response_uuid
    )
    state = (
        care_questionnaires.questionnaire_state(
            actor=request.user, patient=request.patient, audit=False
        )
        if result.crisis
        else None
    )
    return render(
        request,
        "portal/questionnaire_result.html",
        {
            "result": result,
            "resources": settings.CRISIS_RESOURCES,
            "prompted": state.prompted if state else (),
        },
    )


@patient_required
@require_GET
def progress(request):
    courses = care_questionnaires.progress_for(actor=request.user, patient=request.patient)
    return render(request, "portal/progress.html", {"courses": courses})
