"""The conversation between the chair and the prescriber: a nurse asks, a prescriber answers
or declines (with words the nurse reads at the chair), a nurse withdraws what is no longer
needed. Answers that let the session go on are the existing decisions (`pre_dose_bp_confirm`,
`precheck_override` in check_in.py, and `discharge_override_grant` here); each closes the
request it answers. Records and reminders: prescriber_requests.py (ADR 0011)."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.exceptions import Conflict, InvalidInput, NotFound
from clinic.core.parsing import clean_text
from clinic.core.records import required_text
from clinic.treatment_sessions import prescriber_requests, state
from clinic.treatment_sessions.choices import (
    OverrideKind,
    PrescriberRequestKind,
    PrescriberRequestStatus,
    SessionPhase,
)
from clinic.treatment_sessions.models import (
    PrescriberRequest,
    SessionOverride,
    TreatmentSession,
    about_digest,
)
from clinic.treatment_sessions.services._common import ALL_PHASES, _audit, _locked, _now
from clinic.treatment_sessions.services.check_in import pre_dose_bp_confirm, precheck_override

# A check of the locked request before it changes (the API's If-Match on the request's own
# tag): run under the request's row lock, so of two answers sent with one tag the second sees
# the first and is refused.
RequestPrecondition = Callable[[PrescriberRequest], None]

_PHASES: dict[str, tuple[str, ...]] = {
    PrescriberRequestKind.PRE_DOSE_BP: (SessionPhase.CHECKED_IN,),
    PrescriberRequestKind.PRE_CHECKS: (SessionPhase.CHECKED_IN,),
    PrescriberRequestKind.DISCHARGE: (SessionPhase.MONITORING, SessionPhase.RECOVERY),
}


def request_need(
    session: TreatmentSession, kind: str, *, escort_present: bool, now: datetime.datetime
) -> list[str]:
    """What a prescriber would be deciding, in words; empty when nothing needs deciding."""
    if kind == PrescriberRequestKind.PRE_DOSE_BP:
        return state.bp_confirmation_reasons(session)
    if kind == PrescriberRequestKind.PRE_CHECKS:
        status = state.precheck_status(session, now)
        if status.passed or status.overridden:
            return []
        return [f"{item.label}: {' '.join(item.messages)}".strip() for item in status.unmet]
    result = state.discharge_status(session, escort_present=escort_present, now=now)
    if result.allowed or state.discharge_override_covering(session, result):
        return []
    return [finding.message for finding in result.blocking_reasons]


@transaction.atomic
def prescriber_request_ask(
    *,
    actor: User,
    session: TreatmentSession,
    kind: str,
    note: str = "",
    escort_present: bool = True,
    now: datetime.datetime | None = None,
) -> PrescriberRequest:
    """A nurse asks the care team's prescribers to decide. Refused when a request of the kind
    is already waiting, or when there is nothing to decide."""
    now = _now(now)
    if kind not in PrescriberRequestKind.values:
        raise InvalidInput({"kind": ["Choose what the prescriber is asked to decide."]})
    locked = _locked(actor, session, Capability.SESSION_RUN, phases=_PHASES[kind])
    note = clean_text("note", note, max_length=500)
    waiting = prescriber_requests.open_request(locked, kind)
    if waiting is not None:
        raise Conflict(
            f"A prescriber was asked at {timezone.localtime(waiting.created_at):%H:%M}; the "
            "request is still waiting.",
            code="already_asked",
        )
    about = request_need(locked, kind, escort_present=escort_present, now=now)
    if not about:
        raise Conflict("There is nothing for a prescriber to decide now.", code="not_needed")
    return prescriber_requests.request_open(
        actor=actor, session=locked, kind=kind, about=about, note=note, now=now
    )


def _close(
    *,
    actor: User,
    request: PrescriberRequest,
    capability: str,
    status: str,
    note: str,
    now: datetime.datetime,
    precondition: RequestPrecondition | None = None,
) -> PrescriberRequest:
    """Close one waiting request under the session's row lock (refused once it has closed)."""
    session = _locked(actor, request.session, capability, phases=ALL_PHASES)
    locked = _request_locked(request, precondition)
    if locked.status != PrescriberRequestStatus.OPEN:
        raise Conflict(
            f"This request is {locked.get_status_display().lower()} already.", code="not_waiting"
        )
    prescriber_requests.requests_close(
        session=session, kinds=[locked.kind], status=status, actor=actor, note=note, now=now
    )
    locked.refresh_from_db()
    return locked


def _request_locked(
    request: PrescriberRequest, precondition: RequestPrecondition | None
) -> PrescriberRequest:
    locked = PrescriberRequest.objects.select_for_update().get(pk=request.pk)
    if precondition is not None:
        precondition(locked)
    return locked


@transaction.atomic
def prescriber_request_decline(
    *,
    actor: User,
    request: PrescriberRequest,
    note: str,
    now: datetime.datetime | None = None,
    precondition: RequestPrecondition | None = None,
) -> PrescriberRequest:
    """A prescriber says no, with what the nurse should do instead (shown at the chair)."""
    require(actor, Capability.SESSION_OVERRIDE)
    return _close(
        actor=actor,
        request=request,
        capability=Capability.SESSION_OVERRIDE,
        status=PrescriberRequestStatus.DECLINED,
        note=required_text("note", note, "Say what the nurse should do instead."),
        now=_now(now),
        precondition=precondition,
    )


@transaction.atomic
def prescriber_request_withdraw(
    *,
    actor: User,
    request: PrescriberRequest,
    note: str = "",
    now: datetime.datetime | None = None,
    precondition: RequestPrecondition | None = None,
) -> PrescriberRequest:
    """The nurse no longer needs the decision (e.g. a recheck came back within the limit)."""
    require(actor, Capability.SESSION_RUN)
    return _close(
        actor=actor,
        request=request,
        capability=Capability.SESSION_RUN,
        status=PrescriberRequestStatus.WITHDRAWN,
        note=clean_text("note", note, max_length=500) or "Withdrawn by the nurse.",
        now=_now(now),
        precondition=precondition,
    )


@dataclass(frozen=True)
class RequestNow:
    about: list[str]  # what is asked now
    changed: bool  # since the prescriber read it (the request is brought up to date)


@transaction.atomic
def prescriber_request_check_current(
    *,
    actor: User,
    request: PrescriberRequest,
    seen_digest: str,
    now: datetime.datetime | None = None,
    precondition: RequestPrecondition | None = None,
) -> RequestNow:
    """Before a prescriber answers away from the chair: is the situation still the one they
    read (`seen_digest` of the request's `about`)? If it changed, the request is brought up to
    date (so the in-basket shows it) and `changed` says so: a decision is never made on what is
    no longer true. Conflict when the request has closed or nothing is left to decide."""
    now = _now(now)
    session = _locked(actor, request.session, Capability.SESSION_OVERRIDE, phases=ALL_PHASES)
    locked = _request_locked(request, precondition)
    if locked.status != PrescriberRequestStatus.OPEN:
        raise Conflict(
            f"This request is {locked.get_status_display().lower()} already.", code="not_waiting"
        )
    current = request_need(session, locked.kind, escort_present=True, now=now)
    if not current:
        raise Conflict(
            "There is nothing left for a prescriber to decide: the chair has moved on.",
            code="not_needed",
        )
    changed = about_digest(current) != seen_digest
    if changed and locked.about != current:
        prescriber_requests.request_about_update(session=session, request=locked, about=current)
    return RequestNow(about=current, changed=changed)


@transaction.atomic
def prescriber_request_answer(
    *,
    actor: User,
    request: PrescriberRequest,
    reason: str,
    seen_digest: str,
    now: datetime.datetime | None = None,
    precondition: RequestPrecondition | None = None,
) -> RequestNow:
    """A prescriber says yes, away from the chair, in one transaction: what they read is
    checked first (`prescriber_request_check_current`, under the request's row lock), then
    the decision the request asks for is made (`pre_dose_bp_confirm`, `precheck_override`,
    `discharge_override_grant`), which closes the request. When the situation changed, nothing
    is decided and `changed` says so; the request brought up to date is kept."""
    current = prescriber_request_check_current(
        actor=actor, request=request, seen_digest=seen_digest, now=now, precondition=precondition
    )
    if current.changed:
        return current
    kind = PrescriberRequestKind(request.kind)
    if kind == PrescriberRequestKind.PRE_DOSE_BP:
        pre_dose_bp_confirm(actor=actor, session=request.session, reason=reason)
    elif kind == PrescriberRequestKind.PRE_CHECKS:
        precheck_override(actor=actor, session=request.session, reason=reason)
    else:
        discharge_override_grant(actor=actor, session=request.session, reason=reason)
    return current


@transaction.atomic
def discharge_override_grant(
    *, actor: User, session: TreatmentSession, reason: str, now: datetime.datetime | None = None
) -> SessionOverride:
    """A prescriber lets the patient go although the discharge criteria are unmet (away from
    the chair: the nurse then completes the discharge, with the escort and the instructions).
    The override covers the criteria unmet now; a missing escort is for the nurse to resolve at
    the discharge itself."""
    now = _now(now)
    locked = _locked(
        actor,
        session,
        Capability.SESSION_OVERRIDE,
        phases=(SessionPhase.MONITORING, SessionPhase.RECOVERY),
    )
    reason = required_text("reason", reason, "Say why the patient may go.")
    result = state.discharge_status(locked, escort_present=True, now=now)
    if result.allowed:
        raise Conflict("The discharge criteria are met: nothing to override.", code="not_needed")
    override = SessionOverride.objects.create(
        session=locked,
        kind=OverrideKind.DISCHARGE,
        prescriber=actor,
        reason=reason[:500],
        unmet=[{"key": f.code, "messages": [f.message]} for f in result.blocking_reasons],
    )
    _audit(
        actor,
        locked,
        "Discharge criteria overridden ("
        + ", ".join(f.code for f in result.blocking_reasons)
        + f"): {reason}",
    )
    prescriber_requests.requests_close(
        session=locked,
        kinds=[PrescriberRequestKind.DISCHARGE],
        status=PrescriberRequestStatus.ANSWERED,
        actor=actor,
        note=reason,
        override=override,
        now=now,
    )
    return override


def request_for_actor(
    *, actor: User, request_uuid: uuid.UUID | str, capability: str
) -> PrescriberRequest:
    """A request on a session of a patient the actor reaches; otherwise NotFound."""
    from clinic.patients.models import Patient

    require(actor, capability)
    request = (
        PrescriberRequest.objects.select_related("session__patient")
        .filter(uuid=request_uuid, session__patient_id__in=Patient.objects.ids_visible_to(actor))
        .first()
    )
    if request is None:
        raise NotFound("No such request, or the patient is not on your care team.")
    return request
