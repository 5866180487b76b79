"""Dosing through the ledger: what every route's dose goes through (cleared pre-checks, today's
dose stored, the container checked, the administration written), the IM injection, the
esketamine devices, and the witnessed waste of what is left of a draw. The IV infusion is in
infusion.py.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.controlled_substances.choices import ProductKind
from clinic.controlled_substances.models import Container, LedgerEntry
from clinic.controlled_substances.services import (
    administration_record,
    residual_outstanding_mg,
    waste_record,
)
from clinic.core.exceptions import Conflict, InvalidInput, NotFound
from clinic.core.parsing import clean_text, event_moment
from clinic.core.records import required_text
from clinic.screening.choices import Route
from clinic.treatment_sessions import rules
from clinic.treatment_sessions.choices import (
    AdministrationKind,
    ImSite,
    SessionPhase,
)
from clinic.treatment_sessions.models import (
    DoseAdministration,
    TreatmentSession,
)
from clinic.treatment_sessions.services._common import (
    _PRE_DOSE_KINDS,
    Precondition,
    _audit,
    _choice,
    _locked,
    _now,
    _requests_withdraw,
    _session_ref,
)
from clinic.treatment_sessions.state import (
    TodaysDose,
    devices_needed,
    mg_text,
    policy_of,
    pre_dose_vitals,
    precheck_status,
)


def _require_cleared(session: TreatmentSession, now: datetime.datetime) -> TodaysDose:
    status = precheck_status(session, now)
    if status.dose is None:
        raise Conflict(status.dose_problem or "The dose cannot be calculated.", code="no_dose")
    if not status.cleared:
        raise Conflict(
            "Dosing cannot start until the pre-checks pass or a prescriber overrides them: "
            + "; ".join(i.label for i in status.unmet)
            + ".",
            code="pre_checks_unmet",
        )
    return status.dose


def _dose_time(
    field: str, value: object, session: TreatmentSession, now: datetime.datetime
) -> datetime.datetime:
    """When a dose was given, as the nurse charts it: now when blank; never in the future, and
    never before the patient was checked in or before the pre-dose reading (a dose follows it)."""
    floor = session.checked_in_at
    reading = pre_dose_vitals(session)
    if reading is not None and reading.taken_at > floor:
        floor = reading.taken_at
    return event_moment(field, value, now=now, not_before=floor)


def _store_dose(session: TreatmentSession, dose: TodaysDose) -> None:
    session.dose_planned_mg = dose.dose_mg
    session.dose_mg_per_kg = dose.dose_mg_per_kg
    session.dose_weight_used_kg = dose.weight_used_kg
    session.infusion_minutes = dose.infusion_minutes


def _container(container: Container, *, route: str) -> Container:
    found = Container.objects.select_related("lot__product").filter(pk=container.pk).first()
    if found is None:
        raise InvalidInput({"container": ["Choose a vial or device from the inventory."]})
    wanted = (
        ProductKind.ESKETAMINE_DEVICE
        if route == Route.ESKETAMINE
        else ProductKind.RACEMIC_KETAMINE_VIAL
    )
    if found.lot.product.kind != wanted:
        what = ProductKind(wanted).label.lower()
        article = "an" if what[0] in "aeiou" else "a"
        raise InvalidInput({"container": [f"This session needs {article} {what}."]})
    return found


def _administer(
    actor: User,
    session: TreatmentSession,
    *,
    kind: str,
    container: Container,
    drawn_mg: Decimal | int | str,
    given_mg: Decimal | int | str,
    given_at: datetime.datetime,
    im_site: str = "",
    device_number: int | None = None,
    witness: User | None = None,
    waste_reason: str = "",
    expected_max_mg: Decimal | None = None,
    given_above_expected_reason: str = "",
) -> DoseAdministration:
    entry = administration_record(
        actor=actor,
        container=container,
        patient=session.patient,
        drawn_mg=drawn_mg,
        given_mg=given_mg,
        session_ref=_session_ref(session),
        occurred_at=given_at,
    )
    # An administration's ledger entry always carries the mg drawn and the mg given.
    assert entry.drawn_mg is not None and entry.given_mg is not None
    administration = DoseAdministration.objects.create(
        session=session,
        kind=kind,
        ledger_entry=entry,
        container=entry.container,
        drawn_mg=entry.drawn_mg,
        given_mg=entry.given_mg,
        given_at=given_at,
        im_site=im_site,
        device_number=device_number,
        expected_max_mg=expected_max_mg,
        given_above_expected_reason=given_above_expected_reason,
        recorded_by=actor,
    )
    residual = entry.drawn_mg - entry.given_mg
    if residual > 0 and witness is not None:
        waste_record(
            actor=actor,
            container=entry.container,
            quantity_mg=residual,
            witness=witness,
            reason=waste_reason or "Residual of the session's dose",
            administration=entry,
            occurred_at=given_at,
        )
    return administration


@transaction.atomic
def im_injection_record(
    *,
    actor: User,
    session: TreatmentSession,
    container: Container,
    drawn_mg: Decimal | int | str,
    given_mg: Decimal | int | str,
    site: str,
    witness: User | None = None,
    waste_reason: str = "",
    given_at: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
    precondition: Precondition | None = None,
) -> DoseAdministration:
    """The IM injection, at `given_at` (charted later than it was given) or now."""
    now = _now(now)
    locked = _locked(
        actor,
        session,
        Capability.SESSION_RUN,
        phases=(SessionPhase.CHECKED_IN,),
        precondition=precondition,
    )
    if locked.route != Route.IM:
        raise Conflict("Only an IM session has an injection.", code="route")
    dose = _require_cleared(locked, now)
    given_at = _dose_time("given_at", given_at, locked, now)
    site = _choice("site", site, ImSite)
    container = _container(container, route=Route.IM)
    try:
        given = Decimal(str(given_mg))
    except Exception as error:  # noqa: BLE001
        raise InvalidInput({"given_mg": ["Enter the mg injected."]}) from error
    if given != dose.dose_mg:
        raise InvalidInput(
            {
                "given_mg": [
                    f"Today's dose is {mg_text(dose.dose_mg)}; the prescriber changes "
                    "doses in the plan."
                ]
            }
        )
    _store_dose(locked, dose)
    administration = _administer(
        actor,
        locked,
        kind=AdministrationKind.IM_INJECTION,
        container=container,
        drawn_mg=drawn_mg,
        given_mg=given,
        given_at=given_at,
        im_site=site,
        witness=witness,
        waste_reason=waste_reason,
    )
    locked.dose_started_at = given_at
    locked.dose_completed_at = given_at
    locked.phase = SessionPhase.MONITORING
    locked.save()
    _requests_withdraw(locked, _PRE_DOSE_KINDS, "Dosing started.", now)
    _audit(actor, locked, f"IM injection {mg_text(given)} ({ImSite(site).label})")
    return administration


@transaction.atomic
def esketamine_device_record(
    *,
    actor: User,
    session: TreatmentSession,
    container: Container,
    given_at: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
    precondition: Precondition | None = None,
) -> DoseAdministration:
    """One device, used whole, at `given_at` (charted later than it was given) or now. The
    next may not be given until 5 minutes after the last (label [C2]), judged on the times
    given; the last device of the dose completes dosing."""
    now = _now(now)
    locked = _locked(
        actor,
        session,
        Capability.SESSION_RUN,
        phases=(SessionPhase.CHECKED_IN, SessionPhase.DOSING),
        precondition=precondition,
    )
    if locked.route != Route.ESKETAMINE:
        raise Conflict("Only an esketamine session uses devices.", code="route")
    policy = policy_of(locked)
    if locked.phase == SessionPhase.CHECKED_IN:
        dose = _require_cleared(locked, now)
        _store_dose(locked, dose)
    given = list(locked.administrations.all())
    needed = devices_needed(locked)
    assert needed is not None  # the dose is stored once dosing is cleared, just above
    if len(given) >= needed:
        raise Conflict(f"All {needed} devices are given.", code="dose_complete")
    given_at = _dose_time("given_at", given_at, locked, now)
    if given and given_at < given[-1].given_at:
        raise InvalidInput(
            {
                "given_at": [
                    f"Device {len(given)} was given at "
                    f"{timezone.localtime(given[-1].given_at):%H:%M}: the next one comes after it."
                ]
            }
        )
    check = rules.esketamine_device_check([a.given_at for a in given], given_at, policy)
    if not check.allowed:
        assert check.next_allowed_at is not None  # a refusal says when the next one may go
        wait = check.next_allowed_at - given_at
        seconds = int(wait.total_seconds())
        raise Conflict(
            f"Wait {seconds // 60} min {seconds % 60:02d} s more: devices are "
            f"{policy.esketamine_minutes_between_devices} minutes apart (label).",
            code="device_too_soon",
        )
    container = _container(container, route=Route.ESKETAMINE)
    administration = _administer(
        actor,
        locked,
        kind=AdministrationKind.ESKETAMINE_DEVICE,
        container=container,
        drawn_mg=container.balance_mg,
        given_mg=container.balance_mg,
        given_at=given_at,
        device_number=len(given) + 1,
    )
    before = locked.phase
    if locked.dose_started_at is None:
        locked.dose_started_at = given_at
        locked.phase = SessionPhase.DOSING
        _requests_withdraw(locked, _PRE_DOSE_KINDS, "Dosing started.", now)
    if len(given) + 1 == needed:
        locked.dose_completed_at = given_at
        locked.phase = SessionPhase.MONITORING
    locked.save()
    _audit(
        actor,
        locked,
        f"Esketamine device {len(given) + 1} of {needed} given ({container.label})",
        {"phase": {"before": before, "after": locked.phase}} if before != locked.phase else {},
    )
    return administration


@transaction.atomic
def residual_waste(
    *,
    actor: User,
    session: TreatmentSession,
    administration: DoseAdministration,
    witness: User,
    reason: str = "",
    now: datetime.datetime | None = None,
    precondition: Precondition | None = None,
) -> LedgerEntry:
    """Waste what is left of a draw, witnessed (the witness's password is checked by the page
    or API before this is called)."""
    now = _now(now)
    locked = _locked(
        actor, session, Capability.SESSION_RUN, signed_ok=False, precondition=precondition
    )
    if administration.session_id != locked.pk:
        raise NotFound("No such administration in this session.")
    outstanding = residual_outstanding_mg(administration.ledger_entry)
    if outstanding <= 0:
        raise Conflict("Nothing is left of this draw to waste.", code="nothing_to_waste")
    return waste_record(
        actor=actor,
        container=administration.container,
        quantity_mg=outstanding,
        witness=witness,
        reason=clean_text("reason", reason, max_length=300) or "Residual of the session's dose",
        administration=administration.ledger_entry,
        occurred_at=now,
    )


@transaction.atomic
def esketamine_dosing_end(
    *,
    actor: User,
    session: TreatmentSession,
    reason: str,
    now: datetime.datetime | None = None,
    precondition: Precondition | None = None,
) -> TreatmentSession:
    """Give no more devices (e.g. the patient cannot tolerate the next one): dosing is complete
    at the last device given, and observation and discharge run from it as usual."""
    locked = _locked(
        actor,
        session,
        Capability.SESSION_RUN,
        phases=(SessionPhase.DOSING,),
        precondition=precondition,
    )
    if locked.route != Route.ESKETAMINE:
        raise Conflict("Only esketamine dosing is ended this way.", code="route")
    reason = required_text("reason", reason, "Say why no more devices are given.")
    last = locked.administrations.order_by("-given_at").first()
    assert last is not None  # dosing is under way: a device has been given
    locked.dose_completed_at = last.given_at
    locked.dosing_ended_early_reason = reason[:300]
    locked.phase = SessionPhase.MONITORING
    locked.save()
    _audit(
        actor,
        locked,
        f"Esketamine dosing ended after device {last.device_number}: {reason}",
        {"phase": {"before": SessionPhase.DOSING, "after": SessionPhase.MONITORING}},
    )
    return locked
