"""Requests for a copy of a patient's record (the right of access): logged by the front desk
or the clinic administrator when they arrive, extended once when the clinic cannot act in time
(45 CFR 164.524(b)(2)(ii)), closed when fulfilled (the day, and how) or withdrawn (why). Each
write is audited; a request is never deleted."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, InvalidInput
from clinic.core.parsing import clean_text, event_date
from clinic.patients.choices import RecordsFormat, RecordsRequester, RecordsRequestStatus
from clinic.patients.models import Patient, RecordsRequest
from clinic.patients.records_policy import records_request_policy


def _choice(field: str, value: object, choices) -> str:
    if value not in choices.values:
        raise InvalidInput({field: ["Choose one of the options."]})
    return str(value)


@transaction.atomic
def records_request_log(
    *,
    actor: User,
    patient: Patient,
    received_on: datetime.date,
    requester: str,
    wanted_format: str,
    requester_name: str = "",
    deliver_to: str = "",
    note: str = "",
) -> RecordsRequest:
    """A request as it arrived. Due `days_to_act` days after it was received (policy)."""
    require(actor, Capability.RECORDS_REQUEST_MANAGE)
    today = timezone.localdate()
    received_on = event_date(
        "received_on",
        received_on,
        today=today,
        future_message="A request cannot arrive in the future.",
    )
    requester = _choice("requester", requester, RecordsRequester)
    wanted_format = _choice("wanted_format", wanted_format, RecordsFormat)
    requester_name = clean_text(
        "requester_name",
        requester_name,
        max_length=200,
        required_message=None
        if requester == RecordsRequester.PATIENT
        else "Name who asked (a representative or the person the patient named).",
    )
    request = RecordsRequest.objects.create(
        patient=patient,
        received_on=received_on,
        requester=requester,
        requester_name=requester_name,
        wanted_format=wanted_format,
        deliver_to=clean_text("deliver_to", deliver_to, max_length=300),
        note=clean_text("note", note, max_length=500),
        due_on=received_on + datetime.timedelta(days=records_request_policy().days_to_act),
        logged_by=actor,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="records_request",
        object_id=request.uuid,
        patient=patient,
        summary=f"Records request received {received_on:%m/%d/%Y}, due {request.due_on:%m/%d/%Y}",
    )
    return request


# The API's If-Match (clinic.core.api_versions.precondition): checked on the locked row, so of
# two changes sent with one tag the second is refused; the pages send none.
Precondition = Callable[[RecordsRequest], None] | None


def _locked_open(
    actor: User, request: RecordsRequest, precondition: Precondition = None
) -> RecordsRequest:
    require(actor, Capability.RECORDS_REQUEST_MANAGE)
    locked = RecordsRequest.objects.select_for_update().get(pk=request.pk)
    if precondition is not None:
        precondition(locked)
    if locked.status != RecordsRequestStatus.OPEN:
        raise Conflict(
            f"This request was already {locked.get_status_display().lower()} on "
            f"{locked.closed_on:%m/%d/%Y}.",
            code="records_request_closed",
        )
    return locked


def _close(
    actor: User, locked: RecordsRequest, status: str, on: datetime.date, note: str
) -> RecordsRequest:
    locked.status = status
    locked.closed_on = on
    locked.closed_by = actor
    locked.closing_note = note
    locked.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="records_request",
        object_id=locked.uuid,
        patient=locked.patient,
        summary=f"Records request {locked.get_status_display().lower()} {on:%m/%d/%Y}"[:300],
    )
    return locked


@transaction.atomic
def records_request_fulfil(
    *,
    actor: User,
    request: RecordsRequest,
    fulfilled_on: datetime.date,
    how: str,
    precondition: Precondition = None,
) -> RecordsRequest:
    """The copy went out: the day (not before the request arrived, not in the future) and how."""
    locked = _locked_open(actor, request, precondition)
    day = event_date(
        "fulfilled_on",
        fulfilled_on,
        today=timezone.localdate(),
        future_message="Record the day it went out; it cannot be in the future.",
    )
    if day < locked.received_on:
        raise InvalidInput(
            {"fulfilled_on": [f"Not before the request arrived, {locked.received_on:%m/%d/%Y}."]}
        )
    how = clean_text(
        "how",
        how,
        max_length=300,
        required_message="Say how it was given: e-mailed securely, handed over, posted.",
    )
    return _close(actor, locked, RecordsRequestStatus.FULFILLED, day, how)


@transaction.atomic
def records_request_withdraw(
    *, actor: User, request: RecordsRequest, reason: str, precondition: Precondition = None
) -> RecordsRequest:
    """The requester withdrew it, or it was a duplicate: closed today, with the reason."""
    locked = _locked_open(actor, request, precondition)
    reason = clean_text(
        "reason", reason, max_length=300, required_message="Say why it is withdrawn."
    )
    return _close(actor, locked, RecordsRequestStatus.WITHDRAWN, timezone.localdate(), reason)


@transaction.atomic
def records_request_extend(
    *, actor: User, request: RecordsRequest, reason: str, precondition: Precondition = None
) -> RecordsRequest:
    """The one extension 45 CFR 164.524(b)(2)(ii) allows: by no more than 30 days (the policy's
    `extension_days`), once, and only while the first time limit runs (by the first due date,
    the day included), with the written statement of the reasons given to the requester. The
    due date moves; the first one is kept."""
    locked = _locked_open(actor, request, precondition)
    if locked.first_due_on is not None:
        raise Conflict(
            f"This request was already extended on {locked.extended_on:%m/%d/%Y}, to "
            f"{locked.due_on:%m/%d/%Y}: the rule allows one extension.",
            code="records_request_extended",
        )
    today = timezone.localdate()
    if today > locked.due_on:
        raise Conflict(
            f"It was due {locked.due_on:%m/%d/%Y}: an extension must be given to the requester "
            "within the first time limit, not after it.",
            code="records_request_extension_late",
        )
    reason = clean_text(
        "reason",
        reason,
        max_length=500,
        required_message="State the reasons for the delay, as written to the requester.",
    )
    before = locked.due_on
    locked.first_due_on = before
    locked.due_on = before + datetime.timedelta(days=records_request_policy().extension_days)
    locked.extended_on = today
    locked.extended_by = actor
    locked.extension_reason = reason
    locked.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="records_request",
        object_id=locked.uuid,
        patient=locked.patient,
        summary=f"Records request extended: due {before:%m/%d/%Y}, now {locked.due_on:%m/%d/%Y}",
        changes={
            "due_on": {"before": before.isoformat(), "after": locked.due_on.isoformat()},
            "extension_reason": {"before": "", "after": reason},
        },
    )
    return locked
