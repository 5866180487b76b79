"""Signed session records with what their signature covers, for the FHIR Provenance read and
search (issue 16): the session, its signer, its doses, its valid readings and its in-session
scales, in a fixed number of queries however many sessions a page holds. Actor-checked and
audited like the session itself (session_get): roles without clinical view are refused, a
session off the actor's care team is not found."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, QuerySet

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.patients.models import Patient
from clinic.patients.selectors import record_in_reach, require_clinical_view
from clinic.treatment_sessions.models import (
    DoseAdministration,
    SessionScore,
    TreatmentSession,
    VitalsEntry,
)


def _with_signed_parts(sessions: QuerySet[TreatmentSession]) -> QuerySet[TreatmentSession]:
    """Each session with its signer and the records a Provenance names: its administrations,
    its readings not marked entered in error (`valid_vitals`) and its valid in-session scales
    (`valid_scores`)."""
    return sessions.select_related("patient", "signed_by").prefetch_related(
        Prefetch("administrations", queryset=DoseAdministration.objects.order_by("given_at", "id")),
        Prefetch(
            "vitals",
            queryset=VitalsEntry.objects.filter(entered_in_error_at__isnull=True).order_by(
                "taken_at", "id"
            ),
            to_attr="valid_vitals",
        ),
        Prefetch(
            "scores",
            queryset=SessionScore.objects.filter(
                response__entered_in_error_at__isnull=True
            ).select_related("response"),
            to_attr="valid_scores",
        ),
    )


def session_signature_get(*, actor: User, session_uuid: object, purpose: str) -> TreatmentSession:
    """A session by its UUID, signed or not (the caller decides what an unsigned one means),
    for the patient's care team and the clinic administrator; otherwise not found, audited as
    a denial. The read is audited as a view."""
    require(actor, Capability.PATIENT_VIEW_CLINICAL)
    return record_in_reach(
        actor=actor,
        queryset=_with_signed_parts(TreatmentSession.objects.all()),
        record_uuid=session_uuid,
        object_type="treatment_session",
        patient_of=lambda found: found.patient,
        not_found_message="No such session, or the patient is not on your care team.",
        view_summary=purpose,
        denied_summary="Session not found or patient not visible",
    )


def signed_session_page(
    *,
    actor: User,
    patient: Patient,
    page_number: int | str = 1,
    page_size: int = 20,
    purpose: str = "signed sessions",
) -> Page:
    """One page of the patient's signed sessions, the latest signed first."""
    require_clinical_view(actor=actor, patient=patient, purpose=purpose)
    sessions = TreatmentSession.objects.filter(patient=patient, signed_at__isnull=False)
    page = Paginator(
        _with_signed_parts(sessions).order_by("-signed_at", "-id"), page_size
    ).get_page(page_number)
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="treatment_session",
        patient=patient,
        summary=f"{len(page.object_list)} of {page.paginator.count} signed sessions ({purpose})",
    )
    return page
