"""Reads of screening records that other stages of care need (the chair side reads allergies).
The callers check the actor's reach to the patients first; these read no more than asked."""

from __future__ import annotations

from collections.abc import Iterable

from clinic.screening.models import Intake


def allergies_by_patient(patient_ids: Iterable[int]) -> dict[int, str]:
    """Each patient's allergies as their latest intake records them, in one query. A patient
    missing from the result has none recorded: unknown, never "none" (an intake saying "None
    known" says so in words)."""
    found: dict[int, str] = {}
    for patient_id, allergies in (
        Intake.objects.filter(patient_id__in=list(patient_ids))
        .order_by("patient_id", "-created_at", "-id")
        .values_list("patient_id", "allergies")
    ):
        if patient_id not in found:
            found[patient_id] = allergies.strip()
    return {patient_id: text for patient_id, text in found.items() if text}
