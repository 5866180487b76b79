"""Reads of charges and the fee schedule, each checked against the actor. Billing (and the
clinic administrator, reading) reach every patient's charges, as they reach every patient's
demographics; the care team's prescribers and therapists reach their patients' charges to add
their visit codes. Lists are bounded: the queue shows the oldest of each kind and the count."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, Sum
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.billing import session_codes
from clinic.billing.models import (
    Charge,
    ChargeLine,
    ClaimBatch,
    FeeScheduleEntry,
    PackageOffer,
    VisitCode,
)
from clinic.billing.selectors_claims import ClaimQueue, claim_queue
from clinic.billing.selectors_prior_auth import (
    Attention,
    approvals_needing_attention,
    expiry_warning_days,
)
from clinic.billing.selectors_reports import PastDue, past_due
from clinic.core.access import require
from clinic.core.exceptions import NotFound
from clinic.core.pages import bounded_in_two_steps
from clinic.patients.models import Patient
from clinic.patients.selectors import can_view_clinical, record_in_reach
from clinic.treatment_sessions.models import TreatmentSession

QUEUE_ROWS = 25


def can_add_visit_codes(*, actor: User, patient: Patient) -> bool:
    return actor.can(Capability.VISIT_CODE_ADD) and can_view_clinical(actor=actor, patient=patient)


def can_see_charges(*, actor: User, patient: Patient) -> bool:
    """Billing and the administrator: any patient they reach (the caller reached this one).
    Prescribers and therapists: their care team's."""
    return actor.can(Capability.CHARGE_VIEW) or can_add_visit_codes(actor=actor, patient=patient)


def _in_reach(actor: User, charge: Charge) -> bool:
    if actor.can(Capability.CHARGE_VIEW):
        return Patient.objects.visible_to(actor).filter(pk=charge.patient_id).exists()
    return can_add_visit_codes(actor=actor, patient=charge.patient)


def charge_get(*, actor: User, charge_uuid: uuid.UUID | str) -> Charge:
    """One charge with its lines (those replaced too, for the history), its visit codes and the
    coverage it was coded under; the read is audited."""
    if not (actor.can(Capability.CHARGE_VIEW) or actor.can(Capability.VISIT_CODE_ADD)):
        require(actor, Capability.CHARGE_VIEW)
    return record_in_reach(
        actor=actor,
        queryset=Charge.objects.select_related(
            "patient", "coverage__plan__payer", "rendering_provider", "coded_by", "package_purchase"
        ).prefetch_related(
            Prefetch(
                "lines",
                queryset=ChargeLine.objects.select_related(
                    "entered_in_error_by", "visit_code"
                ).order_by("entered_in_error_at", "position", "id"),
            ),
            Prefetch(
                "visit_codes",
                queryset=VisitCode.objects.select_related(
                    "clinician", "entered_in_error_by"
                ).order_by("id"),
            ),
        ),
        record_uuid=charge_uuid,
        object_type="charge",
        patient_of=lambda charge: charge.patient,
        not_found_message="No such charge, or the patient is not in your reach.",
        in_reach=lambda charge: _in_reach(actor, charge),
        view_summary=lambda charge: f"Charge for the session of {charge.date_of_service:%m/%d/%Y}",
        denial_names_patient=True,
    )


def visit_code_get(*, actor: User, charge: Charge, visit_uuid: uuid.UUID | str) -> VisitCode:
    visit = charge.visit_codes.filter(uuid=visit_uuid).select_related("charge__patient").first()
    if visit is None:
        raise NotFound("No such visit code on this charge.")
    return visit


def signed_session_to_code(*, actor: User, session_uuid: uuid.UUID | str) -> TreatmentSession:
    """A signed session with no charge yet, for billing to code (no clinical content read)."""
    require(actor, Capability.CHARGE_MANAGE)
    return record_in_reach(
        actor=actor,
        queryset=TreatmentSession.objects.filter(signed_at__isnull=False).select_related(
            "patient", "signed_by"
        ),
        record_uuid=session_uuid,
        object_type="treatment_session",
        patient_of=lambda session: session.patient,
        not_found_message="No such signed session.",
        denial_names_patient=True,
    )


def oldest_uncharged_sessions(*, actor: User) -> list[TreatmentSession]:
    """The queue's first page of signed sessions without a charge, for coding as a batch."""
    require(actor, Capability.CHARGE_MANAGE)
    return list(_uncharged(actor).select_related("patient", "signed_by")[:QUEUE_ROWS])


def _uncharged(actor: User):
    """Signed sessions with no charge, oldest first. Read along the signed sessions' index
    (session_signed_idx) against the set of charged session ids: a NOT IN over one narrow
    column, not a join per session. NULLs are kept out of that set (a charge's session is
    required today): one NULL in it would make NOT IN match nothing, and hide every session."""
    charged = Charge.objects.filter(session_id__isnull=False).values("session_id")
    signed = TreatmentSession.objects.filter(signed_at__isnull=False).exclude(pk__in=charged)
    return Patient.objects.of_visible_patients(signed, actor).order_by("checked_in_at", "id")


@dataclass
class ChargeRow:
    charge: Charge
    total_cents: int
    unpriced_lines: int


@dataclass
class BillingQueue:
    """The billing role's home: what waits, oldest first, with how many of each."""

    uncharged: list[TreatmentSession] = field(default_factory=list)
    uncharged_count: int = 0
    # "1000+" past SECTION_COUNT_CAP: counted no further (clinic/core/pages.py).
    uncharged_count_text: str = "0"
    problems: list[Charge] = field(default_factory=list)
    problems_count: int = 0
    unpriced: list[ChargeRow] = field(default_factory=list)
    unpriced_count: int = 0
    recent: list[ChargeRow] = field(default_factory=list)
    attention: Attention | None = None
    attention_days: int = 0
    claims: ClaimQueue | None = None
    past_due: PastDue | None = None
    file: ClaimBatch | None = None


def _with_totals(queryset):
    valid = Q(lines__entered_in_error_at__isnull=True)
    return queryset.annotate(
        total_cents=Sum("lines__amount_cents", filter=valid),
        unpriced_lines=Count(
            "lines", filter=valid & Q(lines__amount_cents__isnull=True), distinct=True
        ),
    )


def _rows(charges) -> list[ChargeRow]:
    return [ChargeRow(c, c.total_cents or 0, c.unpriced_lines) for c in charges]


def billing_queue(*, actor: User) -> BillingQueue:
    """Signed sessions with no charge, charges that could not be coded, charges with a line no
    price covers, and the latest charges coded. A fixed number of queries, whatever the size of
    the clinic."""
    require(actor, Capability.CHARGE_VIEW)
    visible = Patient.objects.visible_to(actor).values("pk")
    uncharged = bounded_in_two_steps(
        _uncharged(actor),
        rows=lambda rows: rows.select_related("patient", "signed_by"),
        size=QUEUE_ROWS,
    )
    charges = Charge.objects.filter(patient__in=visible).select_related("patient")
    problems = charges.exclude(coding_problem="").order_by("coded_at", "id")
    unpriced_ids = ChargeLine.objects.filter(
        entered_in_error_at__isnull=True, amount_cents__isnull=True
    ).values("charge_id")
    unpriced = _with_totals(charges.filter(pk__in=unpriced_ids, coding_problem="")).order_by(
        "date_of_service", "id"
    )
    recent = _with_totals(charges.filter(coding_problem="")).order_by("-coded_at", "-id")
    return BillingQueue(
        uncharged=uncharged.items,
        uncharged_count=uncharged.total,
        uncharged_count_text=uncharged.total_text,
        problems=list(problems[:QUEUE_ROWS]),
        problems_count=problems.count(),
        unpriced=_rows(unpriced[:QUEUE_ROWS]),
        unpriced_count=unpriced.count(),
        recent=_rows(recent[:QUEUE_ROWS]),
        attention=(
            approvals_needing_attention(actor=actor)
            if actor.can(Capability.PRIOR_AUTH_VIEW)
            else None
        ),
        attention_days=expiry_warning_days(),
        claims=claim_queue(actor=actor),
        past_due=past_due(actor=actor),
    )


def patient_charges(*, actor: User, patient: Patient, limit: int = 10) -> list[ChargeRow]:
    """The patient's latest charges for the chart (one query), for whoever may see them."""
    if not can_see_charges(actor=actor, patient=patient):
        return []
    charges = _with_totals(Charge.objects.filter(patient=patient)).order_by(
        "-date_of_service", "-id"
    )
    return _rows(charges[:limit])


@dataclass(frozen=True)
class FeeRow:
    code: str
    current: FeeScheduleEntry | None
    upcoming: list[FeeScheduleEntry]
    past: list[FeeScheduleEntry]


def fee_schedule(*, actor: User, today: datetime.date | None = None) -> list[FeeRow]:
    """Every code a charge can carry, with its price today, prices set for later dates and the
    history (entries marked in error included). One query."""
    require(actor, Capability.FEE_SCHEDULE_MANAGE)
    today = today or timezone.localdate()
    entries: dict[str, list[FeeScheduleEntry]] = {}
    for entry in FeeScheduleEntry.objects.select_related("set_by", "entered_in_error_by"):
        entries.setdefault(entry.code, []).append(entry)
    rows = []
    for code in sorted(session_codes.BILLABLE_CODES):
        listed = entries.get(code, [])
        valid = [e for e in listed if e.is_valid]
        current = next((e for e in valid if e.effective_on <= today), None)
        rows.append(
            FeeRow(
                code=code,
                current=current,
                upcoming=[e for e in valid if e.effective_on > today],
                past=[e for e in listed if e is not current and e.effective_on <= today],
            )
        )
    return rows


def fee_entry_get(*, actor: User, entry_uuid: uuid.UUID | str) -> FeeScheduleEntry:
    require(actor, Capability.FEE_SCHEDULE_MANAGE)
    entry = FeeScheduleEntry.objects.filter(uuid=entry_uuid).first()
    if entry is None:
        raise NotFound("No such price.")
    return entry


def package_offers(*, actor: User) -> list[PackageOffer]:
    """The clinic's self-pay packages, those still sold first, each with how many were sold."""
    require(actor, Capability.FEE_SCHEDULE_MANAGE)
    return list(
        PackageOffer.objects.select_related("created_by")
        .annotate(sold=Count("purchases", filter=Q(purchases__entered_in_error_at__isnull=True)))
        .order_by("-active", "name", "id")
    )


def package_offer_get(*, actor: User, offer_uuid: uuid.UUID | str) -> PackageOffer:
    require(actor, Capability.FEE_SCHEDULE_MANAGE)
    offer = PackageOffer.objects.filter(uuid=offer_uuid).first()
    if offer is None:
        raise NotFound("No such package.")
    return offer
