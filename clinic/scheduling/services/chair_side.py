"""The steps the chair side (treatment_sessions) takes on an appointment, in its own
transaction, as it moves the appointment through check-in and completion."""

from __future__ import annotations

from django.utils import timezone

from clinic.accounts.models import User
from clinic.core.audit import audit_record, diff, snapshot
from clinic.core.choices import AuditAction
from clinic.scheduling.choices import AppointmentStatus
from clinic.scheduling.models import Appointment


def appointment_lock(*, appointment_id: int) -> Appointment | None:
    """Lock one appointment's row (for another app's step that must see its status and start
    unchanged until it commits, such as the patient's intention for the visit)."""
    return Appointment.objects.select_for_update(of=("self",)).filter(pk=appointment_id).first()


def appointment_lock_for_check_in(*, appointment_id: int) -> Appointment | None:
    """Lock the appointment (with its patient, planned session and chair's location) for a
    check-in."""
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("patient", "planned_session__plan", "chair__room__location")
        .filter(pk=appointment_id)
        .first()
    )


def appointment_status_from_chair(
    *, actor: User, appointment_id: int, status: AppointmentStatus
) -> Appointment:
    """Checked in, or completed: the appointment follows its session. The caller holds the
    session's lock and has checked the actor's reach; this writes and audits the status."""
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("patient")
        .get(pk=appointment_id)
    )
    before = snapshot(appointment, ["status"])
    appointment.status = status
    appointment.status_changed_at = timezone.now()
    appointment.status_changed_by = actor
    appointment.save(
        update_fields=["status", "status_changed_at", "status_changed_by", "updated_at"]
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="appointment",
        object_id=appointment.uuid,
        patient=appointment.patient,
        summary=AppointmentStatus(status).label,
        changes=diff(before, snapshot(appointment, ["status"])),
    )
    return appointment
