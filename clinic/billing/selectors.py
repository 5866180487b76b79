"""Reads of billing records, each checked against the actor: the role's capability, then the
patient's reach (the care team for clinicians, the directory for billing and the clinic
administrator)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import Prefetch

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.billing.models import (
    Coverage,
    CoverageCardImage,
    CoveragePriority,
    CoverageStatus,
    Diagnosis,
    EligibilityCheck,
    InsurancePlan,
    Payer,
)
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import NotFound, PermissionDenied
from clinic.core.parsing import record_uuid as parse_record_uuid
from clinic.patients.models import Patient
from clinic.patients.selectors import can_act_clinically, can_view_clinical, record_in_reach


def can_view_diagnoses(*, actor: User, patient: Patient) -> bool:
    """Clinicians: their care team's patients (as the chart's clinical parts). Billing (and the
    clinic administrator): any patient they reach, which the caller's `patient_get` checked."""
    if not actor.can(Capability.DIAGNOSIS_VIEW):
        return False
    if actor.can(Capability.PATIENT_VIEW_CLINICAL) and actor.role != "clinic_admin":
        return can_view_clinical(actor=actor, patient=patient)
    return True


def can_record_diagnoses(*, actor: User, patient: Patient) -> bool:
    return can_act_clinically(actor=actor, patient=patient, capability=Capability.DIAGNOSIS_RECORD)


def diagnosis_list(*, actor: User, patient: Patient) -> list[Diagnosis]:
    """The patient's problem list: current entries first (the primary at the top), then the
    resolved, then those entered in error. Empty for an actor who may not see it."""
    if not can_view_diagnoses(actor=actor, patient=patient):
        return []
    rows = list(
        Diagnosis.objects.filter(patient=patient).select_related(
            "recorded_by", "resolved_by", "entered_in_error_by"
        )
    )
    return sorted(
        rows,
        key=lambda d: (
            d.entered_in_error_at is not None,
            d.status != "active",
            not d.is_primary,
            d.icd10_code,
        ),
    )


def problem_list_read(*, actor: User, patient: Patient, purpose: str) -> list[Diagnosis]:
    """The patient's problem list for reading outside the chart (FHIR Condition): refused, not
    empty, for an actor who may not see it, since an empty list would read as "no problems";
    entries marked entered in error left out; audited."""
    if not can_view_diagnoses(actor=actor, patient=patient):
        raise PermissionDenied("The problem list is for the care team and billing.")
    rows = [
        d for d in diagnosis_list(actor=actor, patient=patient) if d.entered_in_error_at is None
    ]
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="diagnosis",
        patient=patient,
        summary=f"{len(rows)} problem list entries ({purpose})"[:300],
    )
    return rows


def diagnosis_get(*, actor: User, patient: Patient, diagnosis_uuid: uuid.UUID | str) -> Diagnosis:
    """One of this (already reached) patient's diagnoses, for a prescriber who may change it."""
    return record_in_reach(
        actor=actor,
        queryset=Diagnosis.objects.filter(patient=patient).select_related("patient"),
        record_uuid=diagnosis_uuid,
        object_type="diagnosis",
        patient_of=lambda diagnosis: diagnosis.patient,
        not_found_message="No such diagnosis on this patient's problem list.",
        patient=patient,
    )


# --------------------------------------------------------------------------- coverage


@dataclass(frozen=True)
class CoverageLine:
    """The chart header's one line about insurance: no member IDs, for anyone on the chart."""

    coverage: Coverage | None
    last_check: EligibilityCheck | None


def coverage_line(*, patient: Patient) -> CoverageLine:
    """The current primary coverage (or the first current one) and its latest check: two
    queries, whatever the patient's history."""
    coverage = (
        Coverage.objects.filter(
            patient=patient, status=CoverageStatus.ACTIVE, entered_in_error_at__isnull=True
        )
        .select_related("plan__payer")
        .order_by("priority", "id")
        .first()
    )
    if coverage is None:
        return CoverageLine(None, None)
    return CoverageLine(coverage, coverage.checks.order_by("-checked_at", "-id").first())


def coverage_list(*, actor: User, patient: Patient) -> list[Coverage]:
    """Every coverage of the patient, current first, each with its eligibility checks
    (prefetched: three queries however many there are). The caller has reached the patient
    (`patient_get`, which audits the read)."""
    require(actor, Capability.COVERAGE_VIEW)
    coverages = list(
        Coverage.objects.filter(patient=patient)
        .select_related("plan__payer", "recorded_by", "entered_in_error_by")
        .prefetch_related(
            Prefetch(
                "checks",
                queryset=EligibilityCheck.objects.select_related("checked_by").order_by(
                    "-checked_at", "-id"
                ),
            ),
            Prefetch(
                "card_images",
                queryset=CoverageCardImage.objects.filter(entered_in_error_at__isnull=True)
                .select_related("uploaded_by")
                .defer("jpeg")
                .order_by("-side"),  # front, then back
                to_attr="current_card_images",
            ),
        )
    )
    order = {value: index for index, value in enumerate(CoveragePriority.values)}
    return sorted(coverages, key=lambda c: (not c.is_current, order[c.priority], -c.pk))


def current_coverages(*, patient: Patient) -> list[Coverage]:
    """The patient's current coverages, primary first, for a form that names one (a prior
    authorization's); the caller has checked the actor's reach."""
    return list(
        Coverage.objects.filter(
            patient=patient, status=CoverageStatus.ACTIVE, entered_in_error_at__isnull=True
        )
        .select_related("plan__payer")
        .order_by("priority", "id")
    )


def coverage_get(*, actor: User, patient: Patient, coverage_uuid: uuid.UUID | str) -> Coverage:
    require(actor, Capability.COVERAGE_MANAGE)
    return record_in_reach(
        actor=actor,
        queryset=Coverage.objects.filter(patient=patient).select_related("patient", "plan__payer"),
        record_uuid=coverage_uuid,
        object_type="coverage",
        patient_of=lambda coverage: coverage.patient,
        not_found_message="No such coverage for this patient.",
        patient=patient,
    )


def payer_list(*, actor: User) -> list[Payer]:
    """Every payer with its plans (two queries), for the payers page."""
    require(actor, Capability.PAYER_MANAGE)
    return list(Payer.objects.prefetch_related("plans"))


def payer_get(*, actor: User, payer_uuid: uuid.UUID | str) -> Payer:
    require(actor, Capability.PAYER_MANAGE)
    payer = Payer.objects.filter(uuid=parse_record_uuid(payer_uuid)).first()
    if payer is None:
        raise NotFound("No such payer.")
    return payer


def plan_get(*, actor: User, plan_uuid: uuid.UUID | str) -> InsurancePlan:
    require(actor, Capability.PAYER_MANAGE)
    plan = InsurancePlan.objects.filter(uuid=parse_record_uuid(plan_uuid)).first()
    if plan is None:
        raise NotFound("No such plan.")
    return plan


def plans_to_choose() -> list[InsurancePlan]:
    """Plans a new coverage may name: switched on, of a payer switched on."""
    return list(
        InsurancePlan.objects.filter(is_active=True, payer__is_active=True).select_related("payer")
    )


def _current_card_image(
    patient: Patient, coverage_uuid: uuid.UUID | str, image_uuid: uuid.UUID | str
) -> CoverageCardImage:
    image = (
        CoverageCardImage.objects.select_related("coverage")
        .filter(
            coverage__patient=patient,
            coverage__uuid=coverage_uuid,
            uuid=image_uuid,
            entered_in_error_at__isnull=True,
        )
        .first()
    )
    if image is None:
        raise NotFound("No such photo of this patient's card.")
    return image


def card_image_get(
    *, actor: User, patient: Patient, coverage_uuid: uuid.UUID | str, image_uuid: uuid.UUID | str
) -> CoverageCardImage:
    """One current photo of the patient's card; the read is audited (a card shows the member
    ID and, often, the subscriber's name). The caller reached the patient (`patient_get`)."""
    require(actor, Capability.COVERAGE_VIEW)
    image = _current_card_image(patient, coverage_uuid, image_uuid)
    audit_record(
        actor=actor,
        action=AuditAction.VIEW,
        object_type="coverage_card_image",
        object_id=image.uuid,
        patient=patient,
        summary=f"Insurance card photo ({image.side}) viewed",
    )
    return image


def card_image_for_change(
    *, actor: User, patient: Patient, coverage_uuid: uuid.UUID | str, image_uuid: uuid.UUID | str
) -> CoverageCardImage:
    """A current photo to mark entered in error: found, not shown, so no view is audited (the
    marking is)."""
    require(actor, Capability.COVERAGE_MANAGE)
    return _current_card_image(patient, coverage_uuid, image_uuid)
