"""The end of the session: recovery, discharge under the criteria (or a prescriber's
override), and stopping a session early. The appointment is completed with it.
"""

from __future__ import annotations

import datetime

from django.db import transaction

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.exceptions import Conflict, InvalidInput
from clinic.core.parsing import clean_text
from clinic.core.records import required_text
from clinic.scheduling.choices import AppointmentStatus
from clinic.scheduling.services import appointment_status_from_chair
from clinic.screening.choices import Route
from clinic.treatment_sessions import prescriber_requests
from clinic.treatment_sessions.choices import (
    OPEN_PHASES,
    OverrideKind,
    PrescriberRequestKind,
    PrescriberRequestStatus,
    SessionPhase,
)
from clinic.treatment_sessions.models import (
    SessionOverride,
    TreatmentSession,
)
from clinic.treatment_sessions.services._common import (
    Precondition,
    _audit,
    _locked,
    _now,
    _requests_withdraw,
)
from clinic.treatment_sessions.state import (
    discharge_override_covering,
    discharge_status,
)


@transaction.atomic
def recovery_start(
    *,
    actor: User,
    session: TreatmentSession,
    now: datetime.datetime | None = None,
    precondition: Precondition | None = None,
) -> TreatmentSession:
    now = _now(now)
    locked = _locked(
        actor,
        session,
        Capability.SESSION_RUN,
        phases=(SessionPhase.MONITORING,),
        precondition=precondition,
    )
    locked.phase = SessionPhase.RECOVERY
    locked.recovery_started_at = now
    locked.save()
    _audit(
        actor,
        locked,
        "Recovery started",
        {"phase": {"before": SessionPhase.MONITORING, "after": SessionPhase.RECOVERY}},
    )
    return locked


@transaction.atomic
def session_discharge(
    *,
    actor: User,
    session: TreatmentSession,
    escort_present: bool,
    instructions_given: bool,
    instructions_text: str = "",
    override_reason: str = "",
    now: datetime.datetime | None = None,
    precondition: Precondition | None = None,
) -> TreatmentSession:
    """Discharge when the criteria are met; otherwise only a prescriber's override with a
    reason lets the patient go. Open vitals alerts must be acknowledged first, and the
    post-session instructions recorded as given."""
    now = _now(now)
    locked = _locked(
        actor,
        session,
        Capability.SESSION_RUN,
        phases=(SessionPhase.MONITORING, SessionPhase.RECOVERY),
        precondition=precondition,
    )
    if locked.alerts.unacknowledged().exists():
        raise Conflict("Acknowledge every vitals alert before discharge.", code="alerts_open")
    if not instructions_given:
        raise InvalidInput(
            {"instructions_given": ["Give the post-session instructions and tick this."]}
        )
    result = discharge_status(locked, escort_present=escort_present, now=now)
    override_reason = clean_text("override_reason", override_reason, max_length=500)
    override = None
    granted = discharge_override_covering(locked, result)
    if not result.allowed and granted is not None and not override_reason:
        # A prescriber decided from their in-basket (discharge_override_grant): the nurse
        # completes the discharge under that decision.
        override_reason = granted.reason
        override = granted
    elif not result.allowed:
        if not override_reason:
            raise Conflict(
                "Discharge is blocked: " + " ".join(f.message for f in result.blocking_reasons),
                code="discharge_blocked",
            )
        require(actor, Capability.SESSION_OVERRIDE)
        override = SessionOverride.objects.create(
            session=locked,
            kind=OverrideKind.DISCHARGE,
            prescriber=actor,
            reason=override_reason,
            unmet=[{"key": f.code, "messages": [f.message]} for f in result.blocking_reasons],
        )
    prescriber_requests.requests_close(
        session=locked,
        kinds=[PrescriberRequestKind.DISCHARGE],
        status=PrescriberRequestStatus.ANSWERED if override else PrescriberRequestStatus.WITHDRAWN,
        actor=actor if override else None,
        note=override_reason if override else "Discharged: the criteria were met.",
        override=override,
        now=now,
    )
    before = locked.phase
    locked.phase = SessionPhase.DISCHARGED
    locked.discharged_at = now
    locked.discharged_by = actor
    locked.escort_present_at_discharge = escort_present
    locked.instructions_given = True
    locked.instructions_text = clean_text("instructions_text", instructions_text, max_length=4000)
    locked.save()
    _audit(
        actor,
        locked,
        "Discharged" + (f" by override: {override_reason}" if not result.allowed else ""),
        {"phase": {"before": before, "after": SessionPhase.DISCHARGED}},
    )
    appointment_status_from_chair(
        actor=actor, appointment_id=locked.appointment_id, status=AppointmentStatus.COMPLETED
    )
    return locked


@transaction.atomic
def session_stop(
    *,
    actor: User,
    session: TreatmentSession,
    reason: str,
    now: datetime.datetime | None = None,
    precondition: Precondition | None = None,
) -> TreatmentSession:
    """End the session early, with the reason. Once a dose was given only a prescriber may
    (the discharge criteria are not checked)."""
    now = _now(now)
    locked = _locked(
        actor, session, Capability.SESSION_RUN, phases=OPEN_PHASES, precondition=precondition
    )
    reason = required_text("reason", reason, "Say why the session is stopped.")
    if locked.route == Route.IV and locked.phase == SessionPhase.DOSING:
        raise Conflict(
            "Stop the infusion first, with the mg the patient received.", code="infusion_running"
        )
    if locked.dose_started_at is not None:
        # After a dose, ending the session skips the discharge criteria (observation, Aldrete,
        # escort): a prescriber's decision, as a discharge override is.
        require(actor, Capability.SESSION_OVERRIDE)
    before = locked.phase
    locked.phase = SessionPhase.STOPPED
    locked.stopped_at = now
    locked.stopped_by = actor
    locked.stop_reason = reason[:300]
    if locked.route == Route.ESKETAMINE and locked.dose_started_at and not locked.dose_completed_at:
        last = locked.administrations.order_by("-given_at").first()
        assert last is not None  # dosing started with a device
        locked.dose_completed_at = last.given_at
    locked.save()
    _requests_withdraw(locked, PrescriberRequestKind.values, "The session was stopped.", now)
    _audit(
        actor,
        locked,
        f"Session stopped: {reason}",
        {"phase": {"before": before, "after": SessionPhase.STOPPED}},
    )
    appointment_status_from_chair(
        actor=actor, appointment_id=locked.appointment_id, status=AppointmentStatus.COMPLETED
    )
    return locked
