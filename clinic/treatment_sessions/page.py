"""The session page's view-model: what the chair-side page shows about one session, computed
from the session (loaded with `selectors.session_queryset()`), the rules and the read model
(state.py); its clocks are in clocks.py and the note's draft in note_facts.py. Nothing here
writes.

The query count does not grow with the flowsheet: vitals, alerts, scores, events and notes come
from the selector's prefetches; the few other reads (pre-check status, sign blockers, stock to
choose from, residuals) are a fixed number per page.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone

from clinic.accounts.permissions import Capability
from clinic.assessments.selectors import unresolved_alerts_for_patient
from clinic.controlled_substances.choices import ProductKind
from clinic.controlled_substances.models import Container
from clinic.controlled_substances.selectors import on_hand_containers
from clinic.core.clinic_phone import call_the_clinic
from clinic.journal.selectors import session_intention
from clinic.locations.models import Location
from clinic.locations.selectors import actor_works_at
from clinic.screening.choices import Route
from clinic.screening.selectors import allergies_by_patient
from clinic.treatment_sessions import rules, state
from clinic.treatment_sessions.choices import (
    InfusionEventKind,
    PrescriberRequestKind,
    PrescriberRequestStatus,
    SessionPhase,
    SessionScoreKind,
)
from clinic.treatment_sessions.clocks import (
    Countdown,
    countdown_of,
    duration_text,
    infusion_planned_end,
    iso,
    next_vitals_due,
)
from clinic.treatment_sessions.models import (
    DoseAdministration,
    PrescriberRequest,
    SessionAlert,
    TreatmentSession,
    VitalsEntry,
)
from clinic.treatment_sessions.prescriber_requests import request_policy
from clinic.treatment_sessions.state import mg_text

SCORE_HINTS: dict[str, str] = {
    SessionScoreKind.MOAAS: "Sedation: during and after dosing.",
    SessionScoreKind.CADSS: "Dissociation: after the infusion, or about 40 minutes after "
    "esketamine.",
    SessionScoreKind.MODIFIED_ALDRETE: "Discharge readiness: after dosing is complete.",
}


# --------------------------------------------------------------------------- parts of the page


@dataclass(frozen=True)
class Dose:
    """Today's dose: calculated (before dosing) or as stored when dosing started."""

    dose_mg: Decimal | None
    mg_per_kg: Decimal | None = None
    weight_used_kg: Decimal | None = None
    weight_kg: Decimal | None = None
    weight_measured_on: datetime.date | None = None
    infusion_minutes: int | None = None
    devices: int | None = None
    problem: str = ""

    @property
    def text(self) -> str:
        return mg_text(self.dose_mg)

    @property
    def devices_text(self) -> str:
        if not self.devices:
            return ""
        each = mg_text(state.MG_PER_ESKETAMINE_DEVICE)
        return f"{self.devices} device{'s' if self.devices != 1 else ''} of {each}"


@dataclass(frozen=True)
class Devices:
    needed: int | None
    given: list[DoseAdministration]
    next_number: int | None  # None when every device is given
    next_allowed: Countdown | None  # None before the first device

    @property
    def waiting(self) -> bool:
        return self.next_allowed is not None and not self.next_allowed.passed


@dataclass(frozen=True)
class ScoreRow:
    kind: str
    label: str
    taken_at: datetime.datetime
    total: int | None
    complete: bool
    recorded_by: Any


@dataclass
class SessionPage:
    session: TreatmentSession
    now: datetime.datetime
    policy: rules.SessionPolicy
    route_label: str
    phase_label: str
    can_run: bool
    # The actor runs sessions, but not at this one's location: the page says where it is.
    charted_elsewhere: bool
    location_name: str
    can_override: bool
    can_sign: bool
    can_integrate: bool
    editable: bool  # open to SESSION_RUN writes: not signed
    vitals: list[VitalsEntry]
    alerts_open: list[SessionAlert]
    alerts_closed: list[SessionAlert]
    alert_vitals_ids: set[int]
    dose: Dose
    since_dose: str = ""
    next_vitals: Countdown | None = None
    precheck: state.PreCheckStatus | None = None
    suicidality_flagged: bool = False
    bp_needs_confirmation: bool = False
    infusion_running: bool = False
    infusion_paused: bool = False
    infusion_planned_end: datetime.datetime | None = None
    # What the pump could have run in by now (state.infusion_delivery), while it is dosing.
    infusion_delivery: rules.InfusionDelivery | None = None
    devices: Devices | None = None
    residuals: list[tuple[DoseAdministration, Decimal]] = field(default_factory=list)
    containers: list[Container] = field(default_factory=list)
    discharge: rules.DischargeResult | None = None
    # A prescriber's discharge override already given (from the in-basket) that covers what is
    # unmet now: the nurse completes the discharge under it.
    discharge_granted: Any = None
    observation_end: Countdown | None = None
    aldrete: Any = None
    scores: list[ScoreRow] = field(default_factory=list)
    sign_blockers: list[str] = field(default_factory=list)
    rems_missing: list[str] = field(default_factory=list)
    default_instructions: str = ""
    # The intention the patient wrote in the portal for this appointment (clinic.journal).
    portal_intention: Any = None
    # Identity at the chair: allergies as the latest intake records them ("" when none is
    # recorded: unknown, shown as such), and the patient's age today.
    allergies: str = ""
    age_years: int | None = None
    # Decisions asked of a prescriber (prescriber_requests): every one, oldest first; and the
    # clinic's minutes before a waiting one is e-mailed.
    requests: list[PrescriberRequest] = field(default_factory=list)
    email_after_min: int = 0
    # What the nurse may ask a prescriber now, by kind (none while one of the kind waits).
    can_ask: tuple[str, ...] = ()
    # Requests closed since `since` (the page's first render): answered or declined while the
    # page was open; the live bar says so.
    news: list[PrescriberRequest] = field(default_factory=list)

    @property
    def phase(self) -> str:
        return self.session.phase

    @property
    def now_iso(self) -> str:
        return iso(self.now)

    @property
    def dose_started_iso(self) -> str:
        return iso(self.session.dose_started_at)

    @property
    def is_checked_in(self) -> bool:
        return self.session.phase == SessionPhase.CHECKED_IN

    @property
    def is_open(self) -> bool:
        return self.session.is_open

    @property
    def waiting(self) -> list[PrescriberRequest]:
        return [r for r in self.requests if r.status == PrescriberRequestStatus.OPEN]

    @property
    def latest_declines(self) -> list[PrescriberRequest]:
        """The last word on each kind when it was "no": a declined request with no newer one
        of its kind (the nurse reads what to do instead)."""
        latest: dict[str, PrescriberRequest] = {}
        for request in self.requests:
            latest[request.kind] = request
        return [r for r in latest.values() if r.status == PrescriberRequestStatus.DECLINED]

    @property
    def waiting_since_text(self) -> str:
        if not self.waiting:
            return ""
        return duration_text(self.now - min(r.created_at for r in self.waiting))

    @property
    def infusion_complete(self) -> bool:
        """The infusion has run its planned minutes (pauses excluded)."""
        return self.infusion_planned_end is not None and self.infusion_planned_end <= self.now

    @property
    def in_aftercare(self) -> bool:
        return self.session.phase in (SessionPhase.MONITORING, SessionPhase.RECOVERY)

    @property
    def dosing_open(self) -> bool:
        """The dosing forms apply: before dosing, or while devices/infusion are under way."""
        return self.session.phase in (SessionPhase.CHECKED_IN, SessionPhase.DOSING)

    @property
    def run(self) -> bool:
        """The actor may write to the session now (SESSION_RUN, not signed)."""
        return self.can_run and self.editable

    @property
    def rems_complete(self) -> bool:
        return not self.rems_missing

    @property
    def rems_missing_labels(self) -> list[str]:
        labels = {f.key: f.label for f in rules.REMS_MONITORING_FIELDS}
        return [labels[key] for key in self.rems_missing]

    @property
    def infusion_events(self):
        return list(self.session.infusion_events.all())

    @property
    def administrations(self) -> list[DoseAdministration]:
        return list(self.session.administrations.all())

    @property
    def side_effects(self):
        return list(self.session.side_effects.all())

    @property
    def adverse_events(self):
        return list(self.session.adverse_events.all())

    @property
    def overrides(self):
        return list(self.session.overrides.all())

    @property
    def addenda(self):
        return list(self.session.addenda.all())

    @property
    def integration_notes(self):
        return list(self.session.integration_notes.all())


# --------------------------------------------------------------------------- builders


def usable_containers(route: str, today: datetime.date, *, location: Location) -> list[Container]:
    """On-hand containers of the route's product (vials for IV/IM, devices for esketamine)
    kept at `location` (the session's: a dose is drawn only from its own location's stock,
    as the ledger insists), not expired and not empty, soonest expiry first."""
    wanted = (
        ProductKind.ESKETAMINE_DEVICE
        if route == Route.ESKETAMINE
        else ProductKind.RACEMIC_KETAMINE_VIAL
    )
    return [
        c
        for c in on_hand_containers(location)
        if c.lot.product.kind == wanted and c.balance_mg > 0 and c.lot.expiry >= today
    ]


def container_label(container: Container) -> str:
    return (
        f"{container.label} · lot {container.lot.lot_number} · expires "
        f"{container.lot.expiry:%m/%d/%Y} · {mg_text(container.balance_mg)} left"
    )


def _dose(session: TreatmentSession, precheck: state.PreCheckStatus | None) -> Dose:
    if session.dose_planned_mg is not None:
        return Dose(
            dose_mg=session.dose_planned_mg,
            mg_per_kg=session.dose_mg_per_kg,
            weight_used_kg=session.dose_weight_used_kg,
            infusion_minutes=session.infusion_minutes,
            devices=state.devices_needed(session) if session.route == Route.ESKETAMINE else None,
        )
    if precheck is None:
        return Dose(dose_mg=None)
    if precheck.dose is None:
        return Dose(dose_mg=None, problem=precheck.dose_problem)
    dose = precheck.dose
    return Dose(
        dose_mg=dose.dose_mg,
        mg_per_kg=dose.dose_mg_per_kg,
        weight_used_kg=dose.weight_used_kg,
        weight_kg=dose.weight_kg,
        weight_measured_on=dose.weight_measured_on,
        infusion_minutes=dose.infusion_minutes,
        devices=dose.devices,
    )


def _first_up(text: str) -> str:
    return text[:1].upper() + text[1:]


def default_instructions(route: str) -> str:
    """The post-session instructions prefilled on the discharge form, from the clinic's policy
    (policy-defaults.md "Escort home": no driving until the next day [C3], [E11]; esketamine:
    until the next day after a restful sleep [C3]) and the clinic's crisis resources."""
    drive = "Do not drive or operate machinery until the next day"
    if route == Route.ESKETAMINE:
        drive += " after a restful sleep"
    lines = [
        "Go home with your escort: a responsible adult takes you home today.",
        drive + ".",
        _first_up(call_the_clinic()) + " if anything about today's session worries you.",
    ]
    lines += [f"{name}: {text}" for name, text in getattr(settings, "CRISIS_RESOURCES", [])]
    return "\n".join(lines)


def session_page(
    session: TreatmentSession,
    *,
    actor,
    now: datetime.datetime | None = None,
    since: datetime.datetime | None = None,
):
    """Everything the session page shows. `session` comes from `selectors.session_get`;
    `since` is when the page was first shown (the live bar's refresh reports what a prescriber
    decided after it)."""
    now = now or timezone.now()
    policy = state.policy_of(session)
    phase = SessionPhase(session.phase)
    vitals = list(session.vitals.all())
    alerts = list(session.alerts.all())
    by_id = {entry.pk: entry for entry in vitals}
    for alert in alerts:
        if alert.vitals_id in by_id:
            alert.vitals = by_id[alert.vitals_id]  # the reading already read: no query per alert
    location = session.appointment.chair.room.location
    # Charting is for staff of the session's location; others on the care team read it.
    works_here = actor_works_at(actor, location)
    can_run = actor.can(Capability.SESSION_RUN) and works_here
    page = SessionPage(
        session=session,
        now=now,
        policy=policy,
        route_label=Route(session.route).label if session.route in Route.values else session.route,
        phase_label=phase.label,
        can_run=can_run,
        charted_elsewhere=actor.can(Capability.SESSION_RUN) and not works_here,
        location_name=location.name,
        can_override=actor.can(Capability.SESSION_OVERRIDE),
        can_sign=actor.can(Capability.SESSION_SIGN),
        can_integrate=actor.can(Capability.SESSION_INTEGRATION_NOTE),
        editable=not session.is_signed,
        vitals=vitals,
        alerts_open=[a for a in alerts if a.acknowledged_at is None],
        alerts_closed=[a for a in alerts if a.acknowledged_at is not None],
        alert_vitals_ids={a.vitals_id for a in alerts},
        dose=Dose(dose_mg=None),
    )
    if session.dose_started_at is not None:
        end = session.discharged_at or session.stopped_at or now
        page.since_dose = duration_text(end - session.dose_started_at)
    if session.is_open:
        page.next_vitals = countdown_of(next_vitals_due(session, policy, now), now)
    if phase == SessionPhase.CHECKED_IN:
        page.precheck = state.precheck_status(session, now)
        page.suicidality_flagged = bool(unresolved_alerts_for_patient(patient=session.patient))
        reading = state.pre_dose_vitals(session)
        page.bp_needs_confirmation = (
            reading is not None
            and not page.precheck.bp_confirmed
            and rules.pre_dose_check(
                state.vitals_reading(reading), policy
            ).needs_prescriber_confirmation
        )
    page.dose = _dose(session, page.precheck)
    page.portal_intention = session_intention(actor=actor, appointment=session.appointment)
    page.allergies = allergies_by_patient([session.patient_id]).get(session.patient_id, "")
    page.age_years = session.patient.age_years(timezone.localdate(now))
    page.requests = list(session.prescriber_requests.all())
    page.email_after_min = request_policy().email_after_min
    if since is not None:
        page.news = [
            r
            for r in page.requests
            if r.status in (PrescriberRequestStatus.ANSWERED, PrescriberRequestStatus.DECLINED)
            and r.closed_at is not None
            and r.closed_at > since
        ]

    if session.route == Route.IV:
        events = list(session.infusion_events.all())
        page.infusion_running = state.infusion_running(session)
        page.infusion_paused = bool(events) and events[-1].kind == InfusionEventKind.PAUSE
        if session.dose_started_at is not None and session.infusion_minutes:
            page.infusion_planned_end = infusion_planned_end(session, now)
            if phase == SessionPhase.DOSING and session.dose_planned_mg:
                page.infusion_delivery = state.infusion_delivery(session, now)
    if session.route == Route.ESKETAMINE:
        given = [a for a in session.administrations.all() if a.device_number is not None]
        needed = page.dose.devices
        next_allowed = None
        if given:
            last = max(a.given_at for a in given)
            next_allowed = countdown_of(rules.esketamine_next_device_allowed_at(last, policy), now)
        page.devices = Devices(
            needed=needed,
            given=given,
            next_number=len(given) + 1 if needed is None or len(given) < needed else None,
            next_allowed=next_allowed,
        )
    if page.can_run and page.editable and page.dosing_open and session.is_open:
        page.containers = usable_containers(
            session.route, timezone.localdate(now), location=session.appointment.chair.room.location
        )

    page.residuals = state.residual_outstanding(session) if session.administrations.all() else []

    if session.dose_completed_at is not None:
        page.aldrete = state.latest_aldrete(session)
        if session.is_open:
            # Escort presence is answered on the discharge form itself.
            page.discharge = state.discharge_status(session, escort_present=True, now=now)
            page.observation_end = countdown_of(page.discharge.observation_ends_at, now)
            page.discharge_granted = state.discharge_override_covering(session, page.discharge)
        page.default_instructions = default_instructions(session.route)

    page.scores = [
        ScoreRow(
            kind=score.kind,
            label=score.get_kind_display(),
            taken_at=score.response.taken_at,
            total=score.response.total,
            complete=score.response.complete,
            recorded_by=score.response.recorded_by,
        )
        for score in session.scores.all()
    ]
    if not session.is_signed:
        page.sign_blockers = state.sign_blockers(session)
    if session.route == Route.ESKETAMINE:
        page.rems_missing = rules.rems_form_missing(session.rems_form or {})
    page.can_ask = _askable(page)
    return page


def _askable(page: SessionPage) -> tuple[str, ...]:
    """What the nurse may ask a prescriber from the page now: something unmet that a
    prescriber decides, with no request of that kind waiting."""
    if not (page.run and page.session.is_open):
        return ()
    waiting = {r.kind for r in page.waiting}
    kinds = []
    if page.precheck is not None and not (page.precheck.passed or page.precheck.overridden):
        kinds.append(PrescriberRequestKind.PRE_CHECKS)
    if page.bp_needs_confirmation:
        kinds.append(PrescriberRequestKind.PRE_DOSE_BP)
    if page.discharge is not None and not page.discharge.allowed and not page.discharge_granted:
        kinds.append(PrescriberRequestKind.DISCHARGE)
    return tuple(kind for kind in kinds if kind not in waiting)
