"""The IV infusion through the ledger: started from a vial with today's dose drawn, paused,
resumed and re-rated as the pump is, and stopped with the mg the patient received (the ledger
entry is written then, and the residual wasted with a witness now or later).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.controlled_substances.models import Container
from clinic.controlled_substances.services import (
    container_lock_for_draw,
    waste_record,
)
from clinic.core.exceptions import Conflict, InvalidInput
from clinic.core.parsing import clean_text
from clinic.core.records import required_text
from clinic.screening.choices import Route
from clinic.treatment_sessions.choices import (
    AdministrationKind,
    InfusionEventKind,
    SessionPhase,
)
from clinic.treatment_sessions.models import (
    DoseAdministration,
    InfusionEvent,
    TreatmentSession,
)
from clinic.treatment_sessions.services._common import (
    _PRE_DOSE_KINDS,
    Precondition,
    _audit,
    _locked,
    _now,
    _requests_withdraw,
    _session_ref,
)
from clinic.treatment_sessions.services.dosing import (
    _administer,
    _container,
    _require_cleared,
    _store_dose,
)
from clinic.treatment_sessions.state import (
    infusion_delivery,
    infusion_running,
    mg_text,
)


@transaction.atomic
def infusion_start(
    *,
    actor: User,
    session: TreatmentSession,
    container: Container,
    drawn_mg: Decimal | int | str,
    rate_ml_per_h: Decimal | int | str | None = None,
    now: datetime.datetime | None = None,
    precondition: Precondition | None = None,
) -> TreatmentSession:
    """Start the IV infusion: today's dose, the vial the bag was prepared from and how much
    was drawn. The ledger entry is written when the infusion stops (drawn and given)."""
    now = _now(now)
    locked = _locked(
        actor,
        session,
        Capability.SESSION_RUN,
        phases=(SessionPhase.CHECKED_IN,),
        precondition=precondition,
    )
    if locked.route != Route.IV:
        raise Conflict("Only an IV session has an infusion.", code="route")
    dose = _require_cleared(locked, now)
    container = _container(container, route=Route.IV)
    try:
        drawn = Decimal(str(drawn_mg))
    except Exception as error:  # noqa: BLE001 — any unparsable amount is an entry error
        raise InvalidInput({"drawn_mg": ["Enter the mg drawn."]}) from error
    if drawn <= 0:
        raise InvalidInput({"drawn_mg": ["Enter the mg drawn."]})
    if drawn < dose.dose_mg:
        raise InvalidInput(
            {"drawn_mg": [f"Today's dose is {mg_text(dose.dose_mg)}: draw at least that."]}
        )
    # The ledger entry of an infusion is written when it stops: what other infusions in
    # progress drew from this vial is not on its balance yet, but is not in it either.
    # Only from stock kept at the session's location (its chair's room's): the ledger finds it
    # from the session reference and refuses a container kept elsewhere.
    container = container_lock_for_draw(container_id=container.pk, session_ref=_session_ref(locked))
    pending = TreatmentSession.objects.filter(
        infusion_container=container, phase=SessionPhase.DOSING
    ).exclude(pk=locked.pk).aggregate(total=Sum("infusion_drawn_mg"))["total"] or Decimal(0)
    if drawn > container.balance_mg - pending:
        held = f"{container.label} holds {mg_text(container.balance_mg)}"
        if pending:
            held += f", {mg_text(pending)} of it drawn for another infusion in progress"
        raise InvalidInput({"drawn_mg": [f"{held}."]})
    if container.lot.expiry < timezone.localdate(now):
        raise InvalidInput({"container": [f"Lot {container.lot.lot_number} has expired."]})
    rate = _rate(rate_ml_per_h)
    _store_dose(locked, dose)
    locked.infusion_container = container
    locked.infusion_drawn_mg = drawn
    locked.infusion_rate_ml_per_h = rate
    locked.dose_started_at = now
    locked.phase = SessionPhase.DOSING
    locked.save()
    InfusionEvent.objects.create(
        session=locked,
        kind=InfusionEventKind.START,
        occurred_at=now,
        rate_ml_per_h=rate,
        recorded_by=actor,
    )
    _requests_withdraw(locked, _PRE_DOSE_KINDS, "Dosing started.", now)
    _audit(
        actor,
        locked,
        f"Infusion started: {mg_text(dose.dose_mg)} planned, {mg_text(drawn)} drawn from "
        f"{container.label}",
        {"phase": {"before": SessionPhase.CHECKED_IN, "after": SessionPhase.DOSING}},
    )
    return locked


def _rate(value: Decimal | int | str | None) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        rate = Decimal(str(value))
    except Exception as error:  # noqa: BLE001
        raise InvalidInput({"rate_ml_per_h": ["Enter the rate in mL/h."]}) from error
    if rate <= 0 or rate > 2000:
        raise InvalidInput({"rate_ml_per_h": ["Enter a rate between 0 and 2000 mL/h."]})
    return rate.quantize(Decimal("0.1"))


def _infusion_event(
    actor: User,
    session: TreatmentSession,
    kind: InfusionEventKind,
    now: datetime.datetime,
    *,
    reason: str = "",
    rate: Decimal | None = None,
) -> InfusionEvent:
    last = session.infusion_events.order_by("-occurred_at", "-id").first()
    if last is not None and now < last.occurred_at:
        raise InvalidInput({"occurred_at": ["This is before the infusion's last event."]})
    event = InfusionEvent.objects.create(
        session=session,
        kind=kind,
        occurred_at=now,
        reason=reason,
        rate_ml_per_h=rate,
        recorded_by=actor,
    )
    _audit(
        actor,
        session,
        f"Infusion {InfusionEventKind(kind).label.lower()}" + (f": {reason}" if reason else ""),
    )
    return event


@transaction.atomic
def infusion_pause(
    *,
    actor: User,
    session: TreatmentSession,
    reason: str,
    now: datetime.datetime | None = None,
    precondition: Precondition | None = None,
) -> InfusionEvent:
    now = _now(now)
    locked = _locked(
        actor,
        session,
        Capability.SESSION_RUN,
        phases=(SessionPhase.DOSING,),
        precondition=precondition,
    )
    if locked.route != Route.IV or not infusion_running(locked):
        raise Conflict("The infusion is not running.", code="not_running")
    reason = required_text("reason", reason, "Say why the infusion is paused.")
    return _infusion_event(actor, locked, InfusionEventKind.PAUSE, now, reason=reason[:300])


@transaction.atomic
def infusion_resume(
    *,
    actor: User,
    session: TreatmentSession,
    now: datetime.datetime | None = None,
    precondition: Precondition | None = None,
) -> InfusionEvent:
    now = _now(now)
    locked = _locked(
        actor,
        session,
        Capability.SESSION_RUN,
        phases=(SessionPhase.DOSING,),
        precondition=precondition,
    )
    if locked.route != Route.IV or infusion_running(locked):
        raise Conflict("The infusion is not paused.", code="not_paused")
    return _infusion_event(actor, locked, InfusionEventKind.RESUME, now)


@transaction.atomic
def infusion_rate_change(
    *,
    actor: User,
    session: TreatmentSession,
    rate_ml_per_h: Decimal | int | str | None,
    reason: str = "",
    now: datetime.datetime | None = None,
    precondition: Precondition | None = None,
) -> InfusionEvent:
    now = _now(now)
    locked = _locked(
        actor,
        session,
        Capability.SESSION_RUN,
        phases=(SessionPhase.DOSING,),
        precondition=precondition,
    )
    if locked.route != Route.IV or not infusion_running(locked):
        raise Conflict("The infusion is not running.", code="not_running")
    rate = _rate(rate_ml_per_h)
    if rate is None:
        raise InvalidInput({"rate_ml_per_h": ["Enter the new rate in mL/h."]})
    locked.infusion_rate_ml_per_h = rate
    locked.save(update_fields=["infusion_rate_ml_per_h", "updated_at"])
    return _infusion_event(
        actor,
        locked,
        InfusionEventKind.RATE,
        now,
        reason=clean_text("reason", reason, max_length=300),
        rate=rate,
    )


@transaction.atomic
def infusion_stop(
    *,
    actor: User,
    session: TreatmentSession,
    given_mg: Decimal | int | str,
    reason: str = "",
    given_above_expected_reason: str = "",
    witness: User | None = None,
    waste_reason: str = "",
    now: datetime.datetime | None = None,
    precondition: Precondition | None = None,
) -> DoseAdministration | None:
    """Stop the infusion: the ledger records the mg drawn and the mg given; the residual is
    wasted now (with a witness) or later from the session page. Stopping short of the planned
    dose needs a reason; stopping with nothing given wastes the whole draw at once (witnessed)
    and records no administration (None). An amount above what the pump could have run in its
    running time (pauses excluded) is an entry the nurse must correct, or explain."""
    now = _now(now)
    locked = _locked(
        actor,
        session,
        Capability.SESSION_RUN,
        phases=(SessionPhase.DOSING,),
        precondition=precondition,
    )
    if locked.route != Route.IV:
        raise Conflict("Only an IV session has an infusion.", code="route")
    # infusion_start set these together as the session went into dosing.
    assert locked.infusion_container is not None and locked.infusion_drawn_mg is not None
    assert locked.dose_planned_mg is not None
    try:
        given = Decimal(str(given_mg))
    except Exception as error:  # noqa: BLE001
        raise InvalidInput({"given_mg": ["Enter the mg the patient received."]}) from error
    if not given.is_finite() or given < 0 or given > locked.infusion_drawn_mg:
        raise InvalidInput(
            {"given_mg": [f"Between 0 and the {mg_text(locked.infusion_drawn_mg)} drawn."]}
        )
    reason = clean_text("reason", reason, max_length=300)
    above_reason = clean_text(
        "given_above_expected_reason", given_above_expected_reason, max_length=300
    )
    delivery = infusion_delivery(locked, now)
    if given > delivery.max_mg and not above_reason:
        raise InvalidInput(
            {
                "given_mg": [
                    f"The pump ran {delivery.running_minutes} min (pauses excluded): at the set "
                    f"rate at most {mg_text(delivery.max_mg)} could have run in. Record what the "
                    "pump shows, or say below why more was given."
                ]
            }
        )
    if given <= delivery.max_mg:
        above_reason = ""  # nothing to explain: keep the record free of a stray reason
    if given < locked.dose_planned_mg and not reason:
        raise InvalidInput(
            {"reason": [f"Less than the planned {mg_text(locked.dose_planned_mg)}: say why."]}
        )
    if given == 0:
        # Nothing ran in: no administration to record. The whole bag is wasted from the vial
        # at once, witnessed, so the ledger still accounts for the drawn mg.
        if witness is None:
            raise InvalidInput(
                {"witness": ["Nothing was given: waste the whole draw now, with a witness."]}
            )
        waste_record(
            actor=actor,
            container=locked.infusion_container,
            quantity_mg=locked.infusion_drawn_mg,
            witness=witness,
            reason=clean_text("waste_reason", waste_reason, max_length=300)
            or "Infusion stopped before any was given",
            patient=locked.patient,
            session_ref=_session_ref(locked),
            occurred_at=now,
        )
        administration = None
    else:
        administration = _administer(
            actor,
            locked,
            kind=AdministrationKind.IV_INFUSION,
            container=locked.infusion_container,
            drawn_mg=locked.infusion_drawn_mg,
            given_mg=given,
            given_at=now,
            witness=witness,
            waste_reason=waste_reason,
            expected_max_mg=delivery.max_mg,
            given_above_expected_reason=above_reason,
        )
        if above_reason:
            _audit(
                actor,
                locked,
                f"Infusion: {mg_text(given)} recorded as given, above the "
                f"{mg_text(delivery.max_mg)} the pump could have run in "
                f"{delivery.running_minutes} min: {above_reason}",
            )
    _infusion_event(actor, locked, InfusionEventKind.STOP, now, reason=reason)
    locked.dose_completed_at = now
    locked.phase = SessionPhase.MONITORING
    locked.save()
    return administration
