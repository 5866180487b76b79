"""Reads of billing records, each checked against the actor: the role's capability, then the
patient's reach (the care team for clinicians, the directory for billing and the clinic
administrator)."""

from __future__ import annotations

import uuid

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.billing.models import Diagnosis
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


def primary_diagnosis(*, patient: Patient) -> Diagnosis | None:
    """The primary diagnosis for treatment, if one is chosen (claims list it first)."""
    return Diagnosis.objects.filter(
        patient=patient, is_primary=True, entered_in_error_at__isnull=True
    ).first()
