"""Pages for measurement-based care: staff entry, patient links and the kiosk, alerts."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from clinic.accounts.permissions import Capability
from clinic.assessments import alerts, selectors, services
from clinic.assessments.choices import AlertKind, AlertStatus
from clinic.assessments.forms import InstrumentForm, LinkForm, NoteForm, ReasonForm
from clinic.assessments.instruments import get_instrument
from clinic.assessments.models import QuestionnaireLink
from clinic.assessments.suicidality import CSSRS_CODE
from clinic.core.access import require, staff_required
from clinic.core.exceptions import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from clinic.core.forms import apply_domain_error
from clinic.notifications.selectors import notification_outbox
from clinic.patients.selectors import can_act_clinically, patient_get

SESSION_LINK_KEY = "questionnaire_link_digest"
# The link whose answers raised a suicidality alert: crisis resources belong to that link only.
SESSION_CRISIS_KEY = "questionnaire_crisis_link"


def _instrument(code: str):
    try:
        return get_instrument(code)
    except KeyError as error:
        raise NotFound("No such questionnaire.") from error


def _apply_answers_error(form, error: DomainError) -> None:
    if isinstance(error, InvalidInput) and "answers" in error.errors:
        for message in error.errors["answers"]:
            form.add_error(None, message)
        error.errors.pop("answers")
    if not isinstance(error, InvalidInput) or error.errors:
        apply_domain_error(form, error)


@staff_required
@require_http_methods(["GET", "POST"])
def response_create(request, patient_uuid, code):
    patient = patient_get(actor=request.user, patient_uuid=patient_uuid, purpose="assessment entry")
    if not can_act_clinically(
        actor=request.user, patient=patient, capability=Capability.ASSESSMENT_RECORD
    ):
        raise PermissionDenied("Only clinicians on the care team enter assessments.")
    instrument = _instrument(code)
    # Bound on every POST: a form with nothing ticked posts no item at all, and must still be
    # checked (and refused as blank), never shown again as if it had not been sent.
    form = InstrumentForm(
        request.POST if request.method == "POST" else None,
        instrument=instrument,
        staff=True,
    )
    if request.method == "POST" and form.is_valid():
        try:
            response = services.response_record(
                actor=request.user,
                patient=patient,
                instrument_code=instrument.code,
                answers=form.answers(),
                timepoint=form.cleaned_data["timepoint"],
                taken_at=form.cleaned_data["taken_at"],
            )
        except DomainError as error:
            _apply_answers_error(form, error)
        else:
            messages.success(request, f"{instrument.name} saved.")
            return redirect(
                "assessments:response_detail",
                patient_uuid=patient.uuid,
                response_uuid=response.uuid,
            )
    return render(
        request,
        "assessments/response_form.html",
        {"patient": patient, "instrument": instrument, "form": form},
    )


@staff_required
def response_detail(request, patient_uuid, response_uuid):
    patient = patient_get(actor=request.user, patient_uuid=patient_uuid, purpose="assessment")
    response = selectors.response_get(
        actor=request.user, patient=patient, response_uuid=response_uuid
    )
    instrument = _instrument(response.instrument_code)
    rows = [
        (
            item,
            response.answers[i] if i < len(response.answers) else None,
            selectors.answer_words(instrument, response.answers, item),
        )
        for i, item in enumerate(instrument.items)
    ]
    return render(
        request,
        "assessments/response_detail.html",
        {
            "patient": patient,
            "response": response,
            "instrument": instrument,
            "rows": rows,
            "band": instrument.band_for(response.total),
            "alerts": list(response.alerts.all()),
            "followed_alerts": [f.alert for f in response.alert_follow_ups.select_related("alert")],
            "can_correct": can_act_clinically(
                actor=request.user, patient=patient, capability=Capability.ASSESSMENT_RECORD
            ),
            "reason_form": ReasonForm(),
        },
    )


@staff_required
@require_POST
def response_entered_in_error(request, patient_uuid, response_uuid):
    patient = patient_get(
        actor=request.user, patient_uuid=patient_uuid, purpose="assessment correction"
    )
    response = selectors.response_get(
        actor=request.user, patient=patient, response_uuid=response_uuid
    )
    form = ReasonForm(request.POST)
    if form.is_valid():
        services.response_mark_entered_in_error(
            actor=request.user, response=response, reason=form.cleaned_data["reason"]
        )
        messages.success(
            request, "Marked as entered in error; it stays in the record, struck through."
        )
    else:
        messages.error(request, "Say why the entry is wrong before marking it.")
    return redirect(
        "assessments:response_detail", patient_uuid=patient.uuid, response_uuid=response.uuid
    )


@staff_required
@require_http_methods(["GET", "POST"])
def link_create(request, patient_uuid):
    require(request.user, Capability.ASSESSMENT_SEND_LINK)
    patient = patient_get(
        actor=request.user, patient_uuid=patient_uuid, purpose="questionnaire link"
    )
    form = LinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        kiosk = request.POST.get("mode") == "kiosk"
        try:
            link, token = services.questionnaire_link_create(
                actor=request.user,
                patient=patient,
                instrument_codes=form.cleaned_data["instrument_codes"],
                timepoint=form.cleaned_data["timepoint"],
                kiosk=kiosk,
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            url = request.build_absolute_uri(
                reverse("assessments:questionnaire_start", args=[token])
            )
            if kiosk:
                # The tablet goes to the patient signed out: the chart is never one tap away.
                logout(request)
                return redirect(url)
            return render(
                request,
                "assessments/link_created.html",
                {"patient": patient, "link": link, "url": url},
            )
    return render(request, "assessments/link_form.html", {"patient": patient, "form": form})


def questionnaire_start(request, token):
    """Swap the token in the URL for the session, so it does not linger in the address bar."""
    link = QuestionnaireLink.objects.filter(token_digest=services.link_token_digest(token)).first()
    if link is None or not link.usable:
        return render(request, "assessments/questionnaire_closed.html", status=404)
    request.session[SESSION_LINK_KEY] = link.token_digest
    request.session.pop(SESSION_CRISIS_KEY, None)
    return redirect("assessments:questionnaire_fill")


@require_http_methods(["GET", "POST"])
def questionnaire_fill(request):
    digest = request.session.get(SESSION_LINK_KEY)
    link = QuestionnaireLink.objects.filter(token_digest=digest).first() if digest else None
    if link is None or not link.usable:
        done = link is not None and link.used_at is not None
        return render(
            request,
            "assessments/questionnaire_done.html"
            if done
            else "assessments/questionnaire_closed.html",
            {
                "link": link,
                "crisis": request.session.get(SESSION_CRISIS_KEY) == digest,
                "resources": settings.CRISIS_RESOURCES,
            },
            status=200 if done else 404,
        )
    remaining = services.link_remaining_codes(link)
    instrument = _instrument(remaining[0])
    # Bound on every POST: a form with nothing ticked posts no item at all, and must still be
    # checked (and refused as blank), never shown again as if it had not been sent.
    form = InstrumentForm(
        request.POST if request.method == "POST" else None,
        instrument=instrument,
        staff=False,
    )
    if (
        request.method == "POST"
        and form.is_valid()
        and request.POST.get("instrument") == instrument.code
    ):
        try:
            response, remaining = services.link_response_record(
                token_digest=digest, instrument_code=instrument.code, answers=form.answers()
            )
        except DomainError as error:
            _apply_answers_error(form, error)
        else:
            if response.in_suicidality_alert():
                request.session[SESSION_CRISIS_KEY] = digest
            return redirect("assessments:questionnaire_fill")
    return render(
        request,
        "assessments/questionnaire.html",
        {
            "instrument": instrument,
            "form": form,
            "step": len(link.instrument_codes) - len(remaining) + 1,
            "steps": len(link.instrument_codes),
            "crisis": request.session.get(SESSION_CRISIS_KEY) == digest,
            "resources": settings.CRISIS_RESOURCES,
        },
    )


def _seen_follow_ups(request) -> int | None:
    """How many follow-up answers the alert page showed when the clinician acted on it."""
    try:
        return int(request.POST.get("seen_follow_ups", ""))
    except ValueError:
        return None


@staff_required
@require_http_methods(["GET", "POST"])
def alert_detail(request, alert_uuid):
    alert = selectors.alert_get(actor=request.user, alert_uuid=alert_uuid)
    form = NoteForm(request.POST or None)
    action = request.POST.get("action")
    if request.method == "POST" and form.is_valid():
        service = alerts.alert_resolve if action == "resolve" else alerts.alert_acknowledge
        try:
            service(
                actor=request.user,
                alert=alert,
                note=form.cleaned_data["note"],
                # A page that did not say what it showed acts on what is there now.
                seen_follow_ups=_seen_follow_ups(request),
            )
        except (InvalidInput, Conflict) as error:
            # A refusal for the role (PermissionDenied) is not a form error: it is a 403.
            apply_domain_error(form, error)
            # Show what changed (an escalation, new answers) with the refusal.
            alert = selectors.alert_get(actor=request.user, alert_uuid=alert_uuid)
        else:
            messages.success(request, "Resolved." if action == "resolve" else "Acknowledged.")
            return redirect("patients:patient_chart", patient_uuid=alert.patient.uuid)
    patient = alert.patient
    answers = selectors.alert_answers(alert)
    # The C-SSRS is the next step after an ideation answer (policy-defaults.md "Suicidality"),
    # offered until one is among the alert's answers, and only to those who may enter it: a
    # link that ends in 403 is not shown.
    cssrs_next = alert.status == AlertStatus.OPEN and not any(
        row.response.instrument_code == CSSRS_CODE for row in answers
    )
    return render(
        request,
        "assessments/alert_detail.html",
        {
            "alert": alert,
            "patient": patient,
            "form": form,
            "answers": answers,
            "follow_up_count": sum(1 for row in answers if row.follow_up),
            "can_acknowledge": alert.status == AlertStatus.OPEN
            and can_act_clinically(
                actor=request.user, patient=patient, capability=Capability.ALERT_ACKNOWLEDGE
            ),
            "can_resolve": alert.kind == AlertKind.HIGH_SUICIDE_RISK
            and alert.status != AlertStatus.RESOLVED
            and can_act_clinically(
                actor=request.user, patient=patient, capability=Capability.ALERT_RESOLVE
            ),
            "cssrs_next": cssrs_next,
            "can_enter_cssrs": cssrs_next
            and can_act_clinically(
                actor=request.user, patient=patient, capability=Capability.ASSESSMENT_RECORD
            ),
            "cssrs_url": reverse("assessments:response_create", args=[patient.uuid, CSSRS_CODE]),
        },
    )


@staff_required
def outbox(request):
    return render(
        request,
        "assessments/outbox.html",
        {"notifications": notification_outbox(actor=request.user)},
    )
