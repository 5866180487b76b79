"""Portal: the patient's intention before a session and their integration journal after one.

Glue only: every read and write is `request.patient`'s own, through `clinic.journal`'s
selectors and services (audited, with the patient's user as the actor). A record of anyone
else's is "not found" (404), exactly like one that does not exist.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from clinic.core.exceptions import Conflict, InvalidInput
from clinic.core.forms import apply_domain_error
from clinic.journal import rules, selectors, services
from clinic.journal.forms import IntentionForm, JournalEntryForm, ShareForm
from clinic.portal.access import patient_required


def _entry_initial(entry) -> dict:
    return {
        "mood_before": str(entry.mood_before),
        "mood_after": str(entry.mood_after),
        "reflections": entry.reflections,
        "insights": entry.insights,
        "shared_with_care_team": entry.shared_with_care_team,
        "remind_at": timezone.localtime(entry.remind_at) if entry.remind_at else None,
    }


@patient_required
@require_http_methods(["GET", "POST"])
def intention(request, appointment_uuid):
    """Write or change the intention for one of the patient's own coming sessions; read-only
    once the session has started."""
    actor, patient = request.user, request.patient
    appointment = selectors.portal_appointment_get(
        actor=actor, patient=patient, appointment_uuid=appointment_uuid
    )
    now = timezone.now()
    current = selectors.portal_intention_get(actor=actor, patient=patient, appointment=appointment)
    editable = rules.intention_open(appointment, now)
    form = None
    if editable:
        form = IntentionForm(
            request.POST if request.method == "POST" else None,
            initial={"text": current.text if current else ""},
        )
        if request.method == "POST" and form.is_valid():
            try:
                services.intention_save(
                    actor=actor,
                    patient=patient,
                    appointment=appointment,
                    text=form.cleaned_data["text"],
                )
            except (Conflict, InvalidInput) as error:
                apply_domain_error(form, error)
            else:
                messages.success(
                    request, "Your intention is saved. Your care team will see it at your session."
                )
                return redirect("portal:intention", appointment_uuid=appointment.uuid)
    elif request.method == "POST":
        messages.error(
            request, "This session has started, so its intention can no longer be changed."
        )
        return redirect("portal:intention", appointment_uuid=appointment.uuid)
    return render(
        request,
        "portal/intention.html",
        {
            "appointment": appointment,
            "intention": current,
            "form": form,
            "editable": editable,
            "can_write_about": rules.is_past_session(appointment, now),
        },
    )


@patient_required
def journal(request):
    page = selectors.portal_journal_get(actor=request.user, patient=request.patient)
    return render(request, "portal/journal.html", {"page": page})


@patient_required
@require_http_methods(["GET", "POST"])
def entry_new(request):
    """A new entry; `?appointment=<uuid>` makes it about one of the patient's past sessions."""
    actor, patient = request.user, request.patient
    appointment = None
    key = request.GET.get("appointment")
    if key:
        appointment = selectors.portal_past_session_get(
            actor=actor, patient=patient, appointment_uuid=key
        )
        existing = selectors.portal_entry_for_session(patient=patient, appointment=appointment)
        if existing is not None:
            messages.info(
                request, "You have already written about this session. You can add to it here."
            )
            return redirect(f"{reverse('portal:journal_entry', args=[existing.uuid])}?edit=1")
    form = JournalEntryForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.journal_entry_create(
                actor=actor, patient=patient, appointment=appointment, **form.cleaned_data
            )
        except (Conflict, InvalidInput) as error:
            apply_domain_error(form, error)
        else:
            messages.success(
                request,
                "Your entry is saved and shared with your care team."
                if created.shared_with_care_team
                else "Your entry is saved. It is private: only you can read it.",
            )
            return redirect("portal:journal_entry", entry_uuid=created.uuid)
    return render(
        request,
        "portal/journal_form.html",
        {"form": form, "appointment": appointment, "entry": None},
    )


@patient_required
@require_http_methods(["GET", "POST"])
def entry(request, entry_uuid):
    """Read one of the patient's entries; `?edit=1` (or a POST) to change it. A POST with only
    `share` turns sharing on or off."""
    actor, patient = request.user, request.patient
    current = selectors.portal_entry_get(actor=actor, patient=patient, entry_uuid=entry_uuid)
    if request.method == "POST" and request.POST.get("action") == "share":
        share = ShareForm(request.POST)
        if share.is_valid():
            shared = share.cleaned_data["shared_with_care_team"]
            services.journal_entry_update(
                actor=actor, entry=current, data={"shared_with_care_team": shared}
            )
            messages.success(
                request,
                "This entry is now shared with your care team."
                if shared
                else "This entry is private again: your care team can no longer read it.",
            )
        return redirect("portal:journal_entry", entry_uuid=current.uuid)
    editing = request.method == "POST" or request.GET.get("edit") == "1"
    form = None
    if editing:
        form = JournalEntryForm(
            request.POST if request.method == "POST" else None, initial=_entry_initial(current)
        )
        if request.method == "POST" and form.is_valid():
            try:
                services.journal_entry_update(actor=actor, entry=current, data=form.cleaned_data)
            except (Conflict, InvalidInput) as error:
                apply_domain_error(form, error)
            else:
                messages.success(request, "Your changes are saved.")
                return redirect("portal:journal_entry", entry_uuid=current.uuid)
    template = "portal/journal_form.html" if editing else "portal/journal_entry.html"
    return render(
        request, template, {"entry": current, "form": form, "appointment": current.appointment}
    )
