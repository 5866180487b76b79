"""Reads of claims and 837P files, for billing (and the clinic administrator, reading): one
claim with its history, a charge's claims, the queue's insured charges with no claim yet, its
claims ready to export and those rejected or denied, and a file as it was sent."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import Exists, OuterRef

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.billing.claim_rules import EXPORT_MAX_CLAIMS
from clinic.billing.models import Charge, Claim, ClaimBatch, ClaimStatus
from clinic.core.access import require
from clinic.core.exceptions import NotFound
from clinic.core.parsing import record_uuid as parse_record_uuid
from clinic.patients.models import Patient
from clinic.patients.selectors import record_in_reach

QUEUE_ROWS = 25


def claim_get(*, actor: User, claim_uuid: uuid.UUID | str) -> Claim:
    require(actor, Capability.CHARGE_VIEW)
    return record_in_reach(
        actor=actor,
        queryset=Claim.objects.select_related(
            "patient", "coverage__plan__payer", "charge", "batch", "prior_authorization", "replaces"
        ),
        record_uuid=claim_uuid,
        object_type="claim",
        patient_of=lambda claim: claim.patient,
        not_found_message="No such claim, or the patient is not in your reach.",
        view_summary=lambda claim: f"Claim {claim.claim_number} viewed",
        denial_names_patient=True,
    )


def claims_of_charge(*, actor: User, charge: Charge) -> list[Claim]:
    if not actor.can(Capability.CHARGE_VIEW):
        return []
    return list(Claim.objects.filter(charge=charge).order_by("created_at", "id"))


@dataclass
class ClaimQueue:
    ready: list[Claim]
    ready_count: int
    answered: list[Claim]  # rejected or denied: billing's next step
    answered_count: int
    drafts: list[Claim]
    drafts_count: int
    waiting: list[Claim]  # exported, accepted or appealed: no final answer yet, oldest first
    waiting_count: int
    unclaimed: list[Charge]  # coded under a coverage, no original claim yet, oldest first
    unclaimed_count: int


def claim_queue(*, actor: User) -> ClaimQueue:
    """Insured charges with no claim yet, claims ready to export, rejected or denied, and
    drafts with problems: oldest first, bounded, ten queries whatever the clinic's size."""
    require(actor, Capability.CHARGE_VIEW)
    visible = Patient.objects.visible_to(actor).values("pk")
    claims = Claim.objects.filter(patient__in=visible).select_related(
        "patient", "coverage__plan__payer"
    )
    ready = claims.filter(status=ClaimStatus.READY).order_by("created_at", "id")
    answered = claims.filter(status__in=[ClaimStatus.REJECTED, ClaimStatus.DENIED]).order_by(
        "updated_at", "id"
    )
    drafts = claims.filter(status=ClaimStatus.DRAFT).order_by("created_at", "id")
    waiting = claims.filter(
        status__in=[ClaimStatus.EXPORTED, ClaimStatus.ACCEPTED, ClaimStatus.APPEALED]
    ).order_by("updated_at", "id")
    unclaimed = _unclaimed(visible)
    return ClaimQueue(
        unclaimed=list(unclaimed[:QUEUE_ROWS]),
        unclaimed_count=unclaimed.count(),
        ready=list(ready[:QUEUE_ROWS]),
        ready_count=ready.count(),
        answered=list(answered[:QUEUE_ROWS]),
        answered_count=answered.count(),
        drafts=list(drafts[:QUEUE_ROWS]),
        drafts_count=drafts.count(),
        waiting=list(waiting[:QUEUE_ROWS]),
        waiting_count=waiting.count(),
    )


def _unclaimed(visible):
    original = Claim.objects.filter(charge_id=OuterRef("pk"), frequency_code="1")
    return (
        Charge.objects.filter(patient__in=visible, coverage__isnull=False, coding_problem="")
        .filter(~Exists(original))
        .select_related("patient", "coverage__plan__payer")
        .order_by("date_of_service", "id")
    )


def oldest_unclaimed_charges(*, actor: User) -> list[Charge]:
    """The queue's first page of insured charges without a claim, for making them at once."""
    require(actor, Capability.CHARGE_MANAGE)
    return list(_unclaimed(Patient.objects.visible_to(actor).values("pk"))[:QUEUE_ROWS])


def ready_claims(*, actor: User) -> list[Claim]:
    """Every ready claim, oldest first, for one export (bounded by the export's limit)."""
    require(actor, Capability.CHARGE_MANAGE)
    visible = Patient.objects.visible_to(actor).values("pk")
    return list(
        Claim.objects.filter(status=ClaimStatus.READY, patient__in=visible).order_by(
            "created_at", "id"
        )[:EXPORT_MAX_CLAIMS]
    )


def batch_get(*, actor: User, batch_uuid: uuid.UUID | str) -> ClaimBatch:
    require(actor, Capability.CHARGE_VIEW)
    batch = ClaimBatch.objects.filter(uuid=parse_record_uuid(batch_uuid)).first()
    if batch is None:
        raise NotFound("No such 837P file.")
    return batch
