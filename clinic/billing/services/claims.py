"""Claims: one per charge to the patient's payer, checked before export, exported in batches
as an 837P file for the clearinghouse, then moved along as the clearinghouse and the payer
answer.

A claim is built from the record each time it is checked (`claim_data.Claim`: the charge's
lines, the problem list, the coverage, the approved prior authorization covering the date of
service, the location, the clinic's billing settings) and frozen when exported. Every move is a
`ClaimStatusChange` and an audit event, under the claim's row lock; one original claim per
charge is the database's.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.billing import claim_data as data
from clinic.billing import claim_rules, session_codes
from clinic.billing.models import (
    Charge,
    Claim,
    ClaimBatch,
    ClaimStatus,
    ClaimStatusChange,
    Diagnosis,
    DiagnosisStatus,
    PayerKind,
    PriorAuthorization,
    PriorAuthStatus,
)
from clinic.billing.x12_837p import build_837p
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, InvalidInput
from clinic.locations.models import Location

# The patient's relationship to the subscriber (SBR02 / PAT01) and the claim filing indicator
# (SBR09) by payer kind, as the 837P implementation guide codes them [P31].
RELATIONSHIP_CODES = {"self": "18", "spouse": "01", "child": "19", "other": "G8"}
FILING_CODES = {
    PayerKind.MEDICARE: "MB",
    PayerKind.MEDICARE_ADVANTAGE: "16",
    PayerKind.MEDICAID: "MC",
    PayerKind.COMMERCIAL: "CI",
}
SEX_CODES = {"female": "F", "male": "M"}
# What may follow what: the clearinghouse accepts or rejects a file's claim; the payer pays or
# denies an accepted one; a denial is appealed or written off; a rejected claim is corrected
# (back to draft) or written off.
NEXT: dict[str, set[str]] = {
    ClaimStatus.DRAFT: set(),
    ClaimStatus.READY: set(),
    ClaimStatus.EXPORTED: {ClaimStatus.ACCEPTED, ClaimStatus.REJECTED},
    ClaimStatus.ACCEPTED: {ClaimStatus.PAID, ClaimStatus.DENIED},
    ClaimStatus.REJECTED: {ClaimStatus.DRAFT, ClaimStatus.WRITTEN_OFF},
    ClaimStatus.DENIED: {ClaimStatus.APPEALED, ClaimStatus.WRITTEN_OFF},
    ClaimStatus.APPEALED: {ClaimStatus.PAID, ClaimStatus.DENIED},
    ClaimStatus.PAID: set(),
    ClaimStatus.WRITTEN_OFF: set(),
}


def _address(
    line1: str, line2: str, city: str, state: str, postal_code: str
) -> data.Address | None:
    if not (line1 or city):
        return None
    return data.Address(
        line1, line2, city, (state or "").upper(), (postal_code or "").replace("-", "")
    )


def _billing_address() -> data.Address | None:
    location = Location.objects.filter(is_default=True).first()
    if location is None:
        return None
    return _address(
        location.address_line1,
        location.address_line2,
        location.city,
        location.state,
        location.postal_code,
    )


def billed_diagnoses(patient_id: int) -> list[Diagnosis]:
    """The diagnoses a claim or a superbill lists: the active problem list, the primary first,
    up to box 21's twelve."""
    return list(
        Diagnosis.objects.filter(
            patient_id=patient_id,
            status=DiagnosisStatus.ACTIVE,
            entered_in_error_at__isnull=True,
        ).order_by("-is_primary", "created_at", "id")[: claim_rules.MAX_DIAGNOSES]
    )


def _approved_authorization(charge: Charge) -> PriorAuthorization | None:
    return (
        PriorAuthorization.objects.filter(
            patient_id=charge.patient_id,
            route=charge.route,
            status=PriorAuthStatus.APPROVED,
            starts_on__lte=charge.date_of_service,
            ends_on__gte=charge.date_of_service,
        )
        .order_by("-ends_on")
        .first()
    )


def claim_data_for(claim: Claim) -> data.Claim:
    """The claim as plain data, from the record as it stands."""
    charge = claim.charge
    coverage = claim.coverage
    patient = claim.patient
    payer = coverage.plan.payer
    diagnoses = tuple(d.icd10_code for d in billed_diagnoses(charge.patient_id))
    all_pointers = tuple(range(1, min(len(diagnoses), claim_rules.MAX_POINTERS) + 1))
    lines = []
    for line in charge.lines.filter(entered_in_error_at__isnull=True).order_by("position"):
        visit = line.code in session_codes.VISIT_CODES
        lines.append(
            data.ClaimLine(
                code=line.code,
                modifiers=tuple(line.modifier_list),
                units=line.units,
                charge_cents=line.amount_cents or 0,
                # The session's codes point to the primary diagnosis; a clinician's visit
                # code to each listed one (up to four).
                diagnosis_pointers=(all_pointers if visit else all_pointers[:1]),
                date_of_service=charge.date_of_service,
                ndc=line.ndc,
                ndc_quantity="1" if line.ndc else "",
            )
        )
    location = charge.location
    relationship = RELATIONSHIP_CODES.get(coverage.subscriber_relationship, "G8")
    subscriber_is_patient = relationship == "18"
    patient_address = _address(
        patient.address_line1,
        patient.address_line2,
        patient.city,
        patient.region,
        patient.postal_code,
    )
    if subscriber_is_patient:
        sub_last, sub_first = patient.legal_family_name, patient.legal_given_name
        sub_birth, sub_sex = patient.date_of_birth, SEX_CODES.get(patient.sex, "U")
    else:
        parts = coverage.subscriber_name.rsplit(" ", 1)
        sub_first, sub_last = (parts[0], parts[1]) if len(parts) == 2 else ("", parts[0])
        sub_birth = coverage.subscriber_date_of_birth or patient.date_of_birth
        sub_sex = "U"
    rendering = charge.rendering_provider
    uses_g_code = any(line.code in claim_rules.G_CODES for line in lines)
    authorization = claim.prior_authorization
    return data.Claim(
        claim_number=claim.claim_number,
        total_cents=sum(line.charge_cents for line in lines),
        place_of_service=(location.place_of_service_code if location else "") or "",
        frequency_code=claim.frequency_code,
        original_reference=claim.replaces.payer_claim_number if claim.replaces else "",
        diagnosis_codes=diagnoses,
        prior_authorization=authorization.authorization_number if authorization else "",
        billing_provider=data.Party(
            settings.BILLING_PROVIDER_NAME,
            identifier=settings.BILLING_PROVIDER_NPI,
            address=_billing_address(),
        ),
        billing_tax_id=settings.BILLING_TAX_ID,
        rendering_provider=data.Party(
            rendering.last_name or rendering.username,
            first_name=rendering.first_name,
            identifier=rendering.npi,
            is_person=True,
        ),
        service_facility=(
            data.Party(
                location.name,
                identifier=location.service_facility_npi,
                address=_address(
                    location.address_line1,
                    location.address_line2,
                    location.city,
                    location.state,
                    location.postal_code,
                ),
            )
            if location is not None
            else None
        ),
        payer=data.Party(payer.name, identifier=payer.payer_id),
        subscriber=data.Subscriber(
            member_id=coverage.member_id,
            group_number=coverage.group_number,
            payer_filing_code=FILING_CODES.get(PayerKind(payer.kind), "CI"),
            relationship_code=relationship,
            last_name=sub_last,
            first_name=sub_first,
            date_of_birth=sub_birth,
            sex=sub_sex,
            address=patient_address if subscriber_is_patient else None,
        ),
        patient_last_name=patient.legal_family_name,
        patient_first_name=patient.legal_given_name,
        patient_date_of_birth=patient.date_of_birth,
        patient_sex=SEX_CODES.get(patient.sex, "U"),
        patient_address=patient_address,
        lines=tuple(lines),
        # CGS: Medicare esketamine claims name the REMS-certified setting and its ZIP [P2].
        note=(
            f"{location.name} {location.postal_code}".strip()
            if uses_g_code and location is not None
            else ""
        ),
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def claim_from_json(stored: dict[str, Any]) -> data.Claim:
    """A stored claim back into plain data (for the export and the page)."""

    def date(value: str) -> datetime.date:
        return datetime.date.fromisoformat(value)

    def address(value: dict[str, Any] | None) -> data.Address | None:
        return None if value is None else data.Address(**value)

    def party(value: dict[str, Any] | None) -> data.Party | None:
        if value is None:
            return None
        return data.Party(**{**value, "address": address(value["address"])})

    sub = stored["subscriber"]
    return data.Claim(
        **{
            **stored,
            "diagnosis_codes": tuple(stored["diagnosis_codes"]),
            "billing_provider": party(stored["billing_provider"]),
            "rendering_provider": party(stored["rendering_provider"]),
            "service_facility": party(stored["service_facility"]),
            "payer": party(stored["payer"]),
            "subscriber": data.Subscriber(
                **{
                    **sub,
                    "date_of_birth": date(sub["date_of_birth"]),
                    "address": address(sub["address"]),
                }
            ),
            "patient_date_of_birth": date(stored["patient_date_of_birth"]),
            "patient_address": address(stored["patient_address"]),
            "lines": tuple(
                data.ClaimLine(
                    **{
                        **line,
                        "modifiers": tuple(line["modifiers"]),
                        "diagnosis_pointers": tuple(line["diagnosis_pointers"]),
                        "date_of_service": date(line["date_of_service"]),
                    }
                )
                for line in stored["lines"]
            ),
        }
    )


def claim_rebuild(claim: Claim) -> None:
    """Rebuild the claim from the record and check it (draft or ready only)."""
    claim.prior_authorization = _approved_authorization(claim.charge)
    built = claim_data_for(claim)
    claim.data = _jsonable(dataclasses.asdict(built))
    claim.problems = claim_rules.claim_problems(built)
    claim.total_cents = built.total_cents
    claim.status = ClaimStatus.READY if not claim.problems else ClaimStatus.DRAFT


def _audit(actor: User, claim: Claim, summary: str, **changes: Any) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="claim",
        object_id=claim.uuid,
        patient=claim.patient,
        summary=summary[:300],
        changes=changes,
    )


@transaction.atomic
def claim_create(*, actor: User, charge: Charge) -> Claim:
    """The original claim for a coded charge to the primary coverage it was coded under."""
    require(actor, Capability.CHARGE_MANAGE)
    locked = Charge.objects.select_for_update().get(pk=charge.pk)
    if locked.coding_problem:
        raise Conflict("The charge is not coded: correct it first.", code="not_coded")
    if locked.coverage_id is None:
        raise Conflict(
            "Self-pay: no payer to claim from. Give the patient a superbill instead.",
            code="self_pay",
        )
    claim = Claim(
        charge=locked,
        patient_id=locked.patient_id,
        coverage_id=locked.coverage_id,
        created_by=actor,
    )
    claim.claim_number = claim.uuid.hex[:12].upper()
    claim_rebuild(claim)
    try:
        with transaction.atomic():
            claim.save(force_insert=True)
    except IntegrityError as error:
        raise Conflict("This charge already has its claim.", code="claimed") from error
    ClaimStatusChange.objects.create(claim=claim, to_status=claim.status, changed_by=actor)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="claim",
        object_id=claim.uuid,
        patient=claim.patient,
        summary=f"Claim {claim.claim_number} created ({claim.get_status_display().lower()})",
    )
    return claim


@dataclasses.dataclass(frozen=True)
class ClaimBatchResult:
    ready: int
    drafts: int
    not_made: int  # claimed meanwhile, or no longer claimable


def claims_create(*, actor: User, charges: list[Charge]) -> ClaimBatchResult:
    """Claims for a page of insured charges from the queue, each in its own transaction, so a
    charge someone claimed meanwhile does not undo the rest."""
    require(actor, Capability.CHARGE_MANAGE)
    ready = drafts = not_made = 0
    for charge in charges:
        try:
            claim = claim_create(actor=actor, charge=charge)
        except Conflict:
            not_made += 1
            continue
        if claim.problems:
            drafts += 1
        else:
            ready += 1
    return ClaimBatchResult(ready=ready, drafts=drafts, not_made=not_made)


def claim_locked(claim: Claim) -> Claim:
    return (
        Claim.objects.select_for_update(of=("self",))
        .select_related("charge", "coverage__plan__payer", "patient")
        .get(pk=claim.pk)
    )


@transaction.atomic
def claim_check(*, actor: User, claim: Claim) -> Claim:
    """Read the record into the claim again (a price set, an NPI added) and check it."""
    require(actor, Capability.CHARGE_MANAGE)
    locked = claim_locked(claim)
    if locked.status not in (ClaimStatus.DRAFT, ClaimStatus.READY):
        raise Conflict("The claim has been exported: what was sent stays as sent.", code="sent")
    before = locked.status
    claim_rebuild(locked)
    locked.save()
    if locked.status != before:
        ClaimStatusChange.objects.create(
            claim=locked, from_status=before, to_status=locked.status, changed_by=actor
        )
    _audit(actor, locked, f"Claim {locked.claim_number} checked: {len(locked.problems)} problem(s)")
    return locked


def _interchange_settings_problems() -> list[str]:
    missing = [
        name
        for name in (
            "CLEARINGHOUSE_SENDER_ID",
            "CLEARINGHOUSE_RECEIVER_ID",
            "CLEARINGHOUSE_NAME",
            "BILLING_CONTACT_NAME",
            "BILLING_CONTACT_PHONE",
        )
        if not getattr(settings, name)
    ]
    return [f"Set {', '.join(missing)} (docs/configuration.md)."] if missing else []


@transaction.atomic
def claims_export(*, actor: User, claims: list[Claim]) -> ClaimBatch:
    """Write the ready claims into one 837P file and mark them exported. Each is checked again
    first: one that is no longer ready stays behind, with its problems."""
    require(actor, Capability.CHARGE_MANAGE)
    if problems := _interchange_settings_problems():
        raise Conflict(" ".join(problems), code="clearinghouse_not_set")
    ready: list[Claim] = []
    for claim in claims[: claim_rules.EXPORT_MAX_CLAIMS]:
        locked = claim_locked(claim)
        if locked.status != ClaimStatus.READY:
            continue
        claim_rebuild(locked)
        locked.save()
        if locked.status == ClaimStatus.READY:
            ready.append(locked)
    if not ready:
        raise Conflict("No claim is ready to export.", code="nothing_ready")
    # The next control number; the unique key refuses a second file with the same one.
    last = ClaimBatch.objects.aggregate(last=Max("control_number"))["last"] or 0
    control = last + 1
    contact = settings.BILLING_CONTACT_PHONE
    try:
        content = build_837p(
            data.Interchange(
                sender_id=settings.CLEARINGHOUSE_SENDER_ID,
                receiver_id=settings.CLEARINGHOUSE_RECEIVER_ID,
                submitter=data.Party(
                    settings.BILLING_PROVIDER_NAME, identifier=settings.CLEARINGHOUSE_SENDER_ID
                ),
                submitter_contact_name=settings.BILLING_CONTACT_NAME,
                submitter_contact_phone="".join(c for c in contact if c.isdigit()),
                receiver_name=settings.CLEARINGHOUSE_NAME,
                created_at=timezone.localtime(),
                control_number=control,
                production=settings.CLAIMS_PRODUCTION,
                claims=tuple(claim_from_json(c.data) for c in ready),
            )
        )
    except ValueError as error:
        # The checks should have caught it; the writer refuses rather than send a bad file.
        raise Conflict(f"The 837P file was not written: {error}", code="x12") from error
    batch = ClaimBatch.objects.create(
        control_number=control,
        content=content,
        sha256=hashlib.sha256(content.encode()).hexdigest(),
        claim_count=len(ready),
        production=settings.CLAIMS_PRODUCTION,
        created_by=actor,
    )
    for claim in ready:
        ClaimStatusChange.objects.create(
            claim=claim,
            from_status=claim.status,
            to_status=ClaimStatus.EXPORTED,
            note=f"837P file {control}",
            changed_by=actor,
        )
        claim.status = ClaimStatus.EXPORTED
        claim.batch = batch
        claim.save(update_fields=["status", "batch", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type="claim_batch",
        object_id=batch.uuid,
        summary=f"837P file {control} exported with {len(ready)} claim(s)",
    )
    return batch


@transaction.atomic
def claim_record(
    *, actor: User, claim: Claim, to_status: str, note: str = "", payer_claim_number: str = ""
) -> Claim:
    """The clearinghouse's or the payer's answer, or billing's next step (appeal, write off,
    correct a rejected claim)."""
    require(actor, Capability.CHARGE_MANAGE)
    locked = claim_locked(claim)
    if to_status not in NEXT.get(locked.status, set()):
        raise Conflict(
            f"The claim is {locked.get_status_display().lower()}: it cannot become "
            f"{ClaimStatus(to_status).label.lower()} now (someone may have recorded it a "
            "moment ago).",
            code="status",
        )
    note = (note or "").strip()
    needs_reason = to_status in (
        ClaimStatus.REJECTED,
        ClaimStatus.DENIED,
        ClaimStatus.APPEALED,
        ClaimStatus.WRITTEN_OFF,
    )
    if needs_reason and not note:
        raise InvalidInput({"note": ["Give the reason (the payer's words, or why)."]})
    ClaimStatusChange.objects.create(
        claim=locked,
        from_status=locked.status,
        to_status=to_status,
        note=note[:500],
        changed_by=actor,
    )
    locked.status = to_status
    if payer_claim_number.strip():
        locked.payer_claim_number = payer_claim_number.strip()[:50]
    if to_status == ClaimStatus.DRAFT:
        claim_rebuild(locked)  # corrected after a rejection: checked again from the record
    locked.save()
    _audit(actor, locked, f"Claim {locked.claim_number}: {locked.get_status_display().lower()}")
    return locked
