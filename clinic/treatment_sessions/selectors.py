"""Reads of treatment sessions, each checked against the actor (role and care team) and
audited. A session the actor may not see answers like one that does not exist."""

from __future__ import annotations

import uuid

from django.db.models import Prefetch

from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import NotFound
from clinic.patients.models import Patient
from clinic.treatment_sessions.models import (
    DoseAdministration,
    SessionScore,
    TreatmentSession,
)


def _key(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as error:
        raise NotFound() from error


def session_queryset():
    """A session with everything its page and rules read, in a fixed number of queries."""
    return TreatmentSession.objects.select_related(
        "patient",
        "appointment__chair__room",
        "appointment__nurse",
        "planned_session__plan",
        "checked_in_by",
        "discharged_by",
        "stopped_by",
        "nurse_note_by",
        "signed_by",
        "rems_submitted_by",
        "infusion_container__lot__product",
    ).prefetch_related(
        "vitals__recorded_by",
        "vitals__entered_in_error_by",
        "alerts__acknowledged_by",
        "overrides__prescriber",
        "infusion_events__recorded_by",
        Prefetch(
            "administrations",
            queryset=DoseAdministration.objects.select_related(
                "container__lot__product", "ledger_entry", "recorded_by"
            ),
        ),
        Prefetch(
            "scores",
            queryset=SessionScore.objects.select_related("response__recorded_by"),
        ),
        "side_effects__recorded_by",
        "adverse_events__recorded_by",
        "addenda__author",
        "integration_notes__author",
    )


def session_get(*, actor, session_uuid, audit: bool = True) -> TreatmentSession:
    """A session of a patient on the actor's care team (clinical roles and the clinic
    administrator); otherwise NotFound, audited as denied."""
    require(actor, Capability.PATIENT_VIEW_CLINICAL)
    key = _key(session_uuid)
    session = session_queryset().filter(uuid=key).first()
    if (
        session is None
        or not Patient.objects.visible_to(actor).filter(pk=session.patient_id).exists()
    ):
        audit_record(
            actor=actor,
            action=AuditAction.DENIED,
            object_type="treatment_session",
            object_id=key,
            summary="Session not found or patient not visible",
        )
        raise NotFound("No such session, or the patient is not on your care team.")
    if audit:
        audit_record(
            actor=actor,
            action=AuditAction.VIEW,
            object_type="treatment_session",
            object_id=session.uuid,
            patient=session.patient,
            summary="Treatment session",
        )
    return session
