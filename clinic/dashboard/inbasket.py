"""A clinician's in-basket: everything that waits on them, most urgent first, in one list that
their home page keeps fresh (htmx) and the top bar counts on every page.

What waits, by role (each part is the owning app's actor-checked, audited selector):
- prescribers: decisions the chair waits for (a high pre-dose BP to confirm, pre-checks or
  discharge to override), open chair-side vitals alerts, unacknowledged suicidality alerts,
  open at-home BP alerts, and ended sessions to sign;
- nurses: the same chair-side requests and alerts (to see what they wait for), suicidality
  and at-home BP alerts of their patients;
- clinic administrators: requests that no prescriber can answer (no prescriber on the care
  team), the suicidality alerts with nobody assigned, and emergency accesses (break the glass)
  not yet reviewed.
The count in the top bar (`waiting_get`) reads no patient information and writes no audit
event; opening the list audits each part. The home page's list refreshes when the top bar's
digest of what waits changes (and every two minutes, for the waiting times), not on a fast
poll of its own; and a refresh is audited only when it shows a patient its page load had not
shown (clinic/core/page_loads.py), so a home page left open does not fill the audit trail
with reads.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from clinic.accounts.permissions import Capability
from clinic.assessments.selectors import alert_inbox
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.page_loads import PageLoad
from clinic.core.pages import Bounded
from clinic.home_program.selectors import home_bp_alert_open_list
from clinic.patients.emergency_access import emergency_access_awaiting_review
from clinic.treatment_sessions import selectors as chair
from clinic.treatment_sessions.prescriber_requests import request_policy


def _none() -> Bounded:
    return Bounded(items=[], total=0)


@dataclass
class InBasket:
    now: datetime.datetime
    # Each part is bounded (clinic/core/pages.py): its first SECTION_SIZE items and its total.
    requests: Bounded = field(default_factory=_none)
    chair_alerts: Bounded = field(default_factory=_none)
    suicidality_alerts: Bounded = field(default_factory=_none)
    home_bp_alerts: Bounded = field(default_factory=_none)
    to_sign: Bounded = field(default_factory=_none)
    emergency_reviews: Bounded = field(default_factory=_none)
    can_answer: bool = False
    email_after_min: int = 0

    @property
    def count(self) -> int:
        return (
            self.requests.total
            + self.chair_alerts.total
            + self.suicidality_alerts.total
            + self.home_bp_alerts.total
            + self.to_sign.total
            + self.emergency_reviews.total
        )

    @property
    def urgent_count(self) -> int:
        """What someone is waiting on now: requests, chair alerts, suicidality alerts."""
        return self.requests.total + self.chair_alerts.total + self.suicidality_alerts.total

    def waited(self, since: datetime.datetime) -> str:
        minutes = max(int((self.now - since).total_seconds() // 60), 0)
        return "just now" if minutes < 1 else f"{minutes} min"

    def overdue(self, request: Any) -> bool:
        return self.now - request.created_at >= datetime.timedelta(minutes=self.email_after_min)


def inbasket_get(
    *, actor, now: datetime.datetime | None = None, page_load: PageLoad | None = None
) -> InBasket:
    """Everything waiting on `actor`, each part read (and audited) by its owner's selector.

    With a `page_load` (the page showing the in-basket, and its refreshes): the page itself is
    audited part by part, plus one event naming the patients it shows; a refresh is audited
    only if it shows a patient the page load has not shown before, by one event naming those
    patients (clinic/core/page_loads.py)."""
    basket = InBasket(now=now or timezone.now(), email_after_min=request_policy().email_after_min)
    if not actor.can(Capability.PATIENT_VIEW_CLINICAL):
        return basket
    audit = page_load is None or page_load.new
    basket.requests = chair.prescriber_requests_waiting(actor=actor, audit=audit)
    basket.can_answer = actor.can(Capability.SESSION_OVERRIDE)
    if actor.can(Capability.SESSION_RUN):
        basket.chair_alerts = chair.session_alerts_open(actor=actor, audit=audit)
    basket.suicidality_alerts = alert_inbox(actor=actor, audit=audit)
    if actor.can(Capability.HOME_PROGRAM_REVIEW):
        basket.home_bp_alerts = home_bp_alert_open_list(actor=actor, audit=audit)
    if actor.can(Capability.SESSION_SIGN):
        basket.to_sign = chair.sessions_awaiting_signature(actor=actor, audit=audit)
    basket.emergency_reviews = emergency_access_awaiting_review(actor=actor, audit=audit)
    if page_load is not None:
        _audit_page_load(actor=actor, basket=basket, page_load=page_load)
    for item in [*basket.requests, *basket.chair_alerts]:
        item.waited_text = basket.waited(item.created_at)
    for request in basket.requests:
        # Read by the in-basket template only.
        request.is_overdue = basket.overdue(request)  # type: ignore[attr-defined]
    return basket


def _patient_keys(basket: InBasket) -> set[str]:
    """The patients the in-basket names (by uuid)."""
    patients = [
        *(item.session.patient for item in [*basket.requests, *basket.chair_alerts]),
        *(alert.patient for alert in [*basket.suicidality_alerts, *basket.home_bp_alerts]),
        *(session.patient for session in basket.to_sign),
        *(grant.patient for grant in basket.emergency_reviews),
    ]
    return {str(patient.uuid) for patient in patients}


def _audit_page_load(*, actor, basket: InBasket, page_load: PageLoad) -> None:
    shown = _patient_keys(basket)
    if page_load.new:
        newly = sorted(shown)
        summary = f"In-basket: {len(newly)} patient(s) shown"
    else:
        newly = page_load.unseen(shown)
        summary = f"In-basket refresh: {len(newly)} patient(s) newly shown"
    if newly:
        audit_record(
            actor=actor,
            action=AuditAction.LIST,
            object_type="inbasket",
            summary=summary,
            changes={"page_load": page_load.id, "patients": newly},
        )
    page_load.remember(shown)


@dataclass(frozen=True)
class Waiting:
    """What the top bar knows: how many urgent items wait, and a digest of which ones (record
    ids only), so a page can tell that its in-basket list is out of date without reading it."""

    count: int
    digest: str


def waiting_get(*, actor) -> Waiting:
    """The urgent items waiting on `actor` (requests, chair alerts, suicidality alerts), as a
    count and a digest. No patient information leaves here, so no audit event is written."""
    if not actor.can(Capability.PATIENT_VIEW_CLINICAL):
        return Waiting(count=0, digest="")
    # The items the in-basket shows (each part's first SECTION_SIZE) and each part's total:
    # what the list on the page would show, at a cost that does not grow with what waits.
    # Ids only, without the joins the list's rows need: the count and digest are the same.
    requests = chair.prescriber_requests_waiting(actor=actor, audit=False, ids_only=True)
    items = [f"r{r.pk}" for r in requests] + [f"R{requests.total}"]
    count = requests.total
    if actor.can(Capability.SESSION_RUN):
        alerts = chair.session_alerts_open(actor=actor, audit=False, ids_only=True)
        items += [f"c{a.pk}" for a in alerts] + [f"C{alerts.total}"]
        count += alerts.total
    suicidality = alert_inbox(actor=actor, audit=False, ids_only=True)
    items += [f"s{a.pk}.{a.status}.{a.kind}" for a in suicidality] + [f"S{suicidality.total}"]
    count += suicidality.total
    digest = hashlib.sha256(",".join(sorted(items)).encode()).hexdigest()[:16]
    return Waiting(count=count, digest=digest)
