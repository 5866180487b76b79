"""Whose journal this is: the portal's writes and reads are the signed-in patient's own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from clinic.core.exceptions import NotFound

if TYPE_CHECKING:
    from clinic.patients.models import Patient


def require_own(*, actor, patient: Patient) -> None:
    """The actor is the patient's own portal account. Anything else looks like "not found"."""
    if (
        actor is None
        or not getattr(actor, "is_authenticated", False)
        or not actor.is_patient_principal
        or patient.user_id is None
        or patient.user_id != actor.pk
    ):
        raise NotFound()
