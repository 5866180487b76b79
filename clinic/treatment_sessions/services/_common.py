"""What every chair-side write does first: the session row locked after the role, care-team,
signature and phase checks; the entry checks on times, text and choices; the session's audit
line; the appointment following its session; the prescriber's requests the record made moot.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from typing import Any

from django.db import models
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, InvalidInput, NotFound
from clinic.locations.selectors import require_works_at
from clinic.patients.models import Patient
from clinic.treatment_sessions import prescriber_requests
from clinic.treatment_sessions.choices import (
    PrescriberRequestKind,
    PrescriberRequestStatus,
    SessionPhase,
)
from clinic.treatment_sessions.models import TreatmentSession

ALL_PHASES = tuple(SessionPhase.values)
# A check of the locked session before it changes (the API's If-Match, core/api_versions.py):
# run under the row lock, so of two changes sent with the same version the second is refused.
Precondition = Callable[[TreatmentSession], None]
# Work done at the chair, by staff of the session's location.
CHAIR_SIDE = frozenset({Capability.SESSION_RUN, Capability.SESSION_REMS})


def _now(now: datetime.datetime | None) -> datetime.datetime:
    return now or timezone.now()


def _visible(actor: User, patient_id: int) -> bool:
    return Patient.objects.visible_to(actor).filter(pk=patient_id).exists()


def _locked(
    actor: User,
    session: TreatmentSession,
    capability: str,
    *,
    phases: tuple[str, ...] | None = None,
    signed_ok: bool = False,
    precondition: Precondition | None = None,
) -> TreatmentSession:
    """The session row, locked, after the role, care-team, location, signature and phase
    checks. Chair-side work (SESSION_RUN, SESSION_REMS) is for staff who work at the session's
    location; a prescriber's decisions and signature follow the care team, at any location."""
    require(actor, capability)
    locked = (
        TreatmentSession.objects.select_for_update(of=("self",))
        .select_related("patient", "appointment__chair__room__location", "planned_session__plan")
        .filter(pk=session.pk)
        .first()
    )
    if locked is None or not _visible(actor, locked.patient_id):
        raise NotFound("No such session, or the patient is not on your care team.")
    if capability in CHAIR_SIDE:
        require_works_at(actor, locked.appointment.chair.room.location)
    if precondition is not None:
        precondition(locked)
    if locked.is_signed and not signed_ok:
        raise Conflict(
            "This session record is signed and locked: add an addendum instead.",
            code="session_signed",
        )
    if phases is not None and locked.phase not in phases:
        wanted = ", ".join(SessionPhase(p).label.lower() for p in phases)
        raise Conflict(
            f"The session is {locked.get_phase_display().lower()}; this needs it {wanted}.",
            code="wrong_phase",
        )
    return locked


def _choice(
    field: str, value: str | None, choices: type[models.TextChoices], *, required: bool = True
) -> str:
    value = value or ""
    if not value and not required:
        return ""
    if value not in choices.values:
        raise InvalidInput({field: ["Choose one of the options."]})
    return value


def _audit(
    actor: User,
    session: TreatmentSession,
    summary: str,
    changes: dict[str, Any] | None = None,
    *,
    action: AuditAction | None = None,
) -> None:
    audit_record(
        actor=actor,
        action=action or AuditAction.UPDATE,
        object_type="treatment_session",
        object_id=session.uuid,
        patient=session.patient,
        summary=summary,
        changes=changes or {},
    )


def _session_ref(session: TreatmentSession) -> str:
    return str(session.uuid)


_PRE_DOSE_KINDS = (PrescriberRequestKind.PRE_DOSE_BP, PrescriberRequestKind.PRE_CHECKS)


def _requests_withdraw(
    session: TreatmentSession,
    kinds: Iterable[str],
    note: str,
    now: datetime.datetime,
) -> None:
    """Requests the record itself has made moot (dosing started, the session ended)."""
    prescriber_requests.requests_close(
        session=session, kinds=kinds, status=PrescriberRequestStatus.WITHDRAWN, note=note, now=now
    )
