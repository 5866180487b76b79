"""Asking a prescriber and answering: the nurse's "ask", "withdraw", and the prescriber's
"answer" and "decline", from the session page or the in-basket. Glue only: the services check
role, care team and state; a refusal comes back as a message where the form was."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from clinic.accounts.permissions import Capability
from clinic.core.access import staff_required
from clinic.core.exceptions import Conflict, InvalidInput
from clinic.core.forms import TextField
from clinic.treatment_sessions import selectors
from clinic.treatment_sessions.choices import PrescriberRequestKind
from clinic.treatment_sessions.services import prescriber as asks

# Where a form sends the user back to: a fixed choice, never a URL from the request.
BACK = {"inbasket": "dashboard:inbasket", "home": "dashboard:home"}


class AskForm(forms.Form):
    kind = forms.ChoiceField(choices=PrescriberRequestKind.choices)
    note = TextField(label="For the prescriber", max_length=500, required=False)
    escort_present = forms.BooleanField(required=False)


class AnswerForm(forms.Form):
    reason = TextField(max_length=500)


class DeclineForm(forms.Form):
    note = TextField(max_length=500)


def _back(request, session):
    where = request.POST.get("back", "")
    if where in BACK:
        return redirect(BACK[where])
    return redirect("treatment_sessions:detail", session_uuid=session.uuid)


def _refusal(error: Conflict | InvalidInput) -> str:
    """A service's refusal in words, for a message (these forms have one field each)."""
    if isinstance(error, InvalidInput):
        return " ".join(m for messages_ in error.errors.values() for m in messages_)
    return error.message


@staff_required
@require_POST
def ask(request, session_uuid):
    """The nurse asks the care team's prescribers to decide (pre-checks, discharge, or a
    pre-dose BP again after a decline)."""
    session = selectors.session_get(actor=request.user, session_uuid=session_uuid, audit=False)
    form = AskForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say what the prescriber is asked to decide.")
        return _back(request, session)
    try:
        asks.prescriber_request_ask(
            actor=request.user,
            session=session,
            kind=form.cleaned_data["kind"],
            note=form.cleaned_data["note"],
            escort_present=form.cleaned_data["escort_present"],
        )
    except (Conflict, InvalidInput) as error:
        messages.error(request, _refusal(error))
    else:
        messages.success(
            request,
            "The care team's prescribers are asked: it shows in their in-basket now, and they "
            "are e-mailed if nobody answers in time.",
        )
    return _back(request, session)


def _request(request, request_uuid, capability):
    return asks.request_for_actor(
        actor=request.user, request_uuid=request_uuid, capability=capability
    )


@staff_required
@require_POST
def withdraw(request, request_uuid):
    waiting = _request(request, request_uuid, Capability.SESSION_RUN)
    try:
        asks.prescriber_request_withdraw(
            actor=request.user, request=waiting, note=request.POST.get("note", "")
        )
    except (Conflict, InvalidInput) as error:
        messages.error(request, _refusal(error))
    else:
        messages.success(request, "Request withdrawn.")
    return _back(request, waiting.session)


@staff_required
@require_POST
def answer(request, request_uuid):
    """The prescriber decides yes, with the reason: confirms the pre-dose BP, overrides the
    pre-checks, or lets the patient go despite the discharge criteria."""
    waiting = _request(request, request_uuid, Capability.SESSION_OVERRIDE)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the reason for your decision: it goes in the record.")
        return _back(request, waiting.session)
    try:
        # Decided on what the prescriber read, in one transaction with the check (as the API):
        # a situation that changed since is shown again and nothing is decided.
        now = asks.prescriber_request_answer(
            actor=request.user,
            request=waiting,
            reason=form.cleaned_data["reason"],
            seen_digest=request.POST.get("seen", ""),
        )
    except (Conflict, InvalidInput) as error:
        messages.error(request, _refusal(error))
        return _back(request, waiting.session)
    if now.changed:
        messages.error(
            request,
            "The chair's situation changed since you read it; nothing was decided. Read it "
            "again: " + " ".join(now.about),
        )
    else:
        messages.success(
            request,
            f"{waiting.get_kind_display()}: done. The nurse sees your decision at the chair.",
        )
    return _back(request, waiting.session)


@staff_required
@require_POST
def decline(request, request_uuid):
    waiting = _request(request, request_uuid, Capability.SESSION_OVERRIDE)
    form = DeclineForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say what the nurse should do instead.")
        return _back(request, waiting.session)
    try:
        asks.prescriber_request_decline(
            actor=request.user, request=waiting, note=form.cleaned_data["note"]
        )
    except (Conflict, InvalidInput) as error:
        messages.error(request, _refusal(error))
    else:
        messages.success(request, "Declined: the nurse sees what to do instead at the chair.")
    return _back(request, waiting.session)
