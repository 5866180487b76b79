"""Writes of the suicidality alert: raised (or joined, or escalated) by positive answers in
the transaction that saves them, e-mailed to the clinicians through the outbox, acknowledged
and resolved by a clinician with a note (ADR 0004). Split from services.py, which records the
answers and calls `suicidality_record`."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from clinic.accounts.permissions import Capability
from clinic.assessments.choices import AlertKind, AlertStatus, alert_level
from clinic.assessments.instruments.base import Instrument
from clinic.assessments.models import (
    AlertFollowUp,
    AlertNotification,
    AssessmentResponse,
    SuicidalityAlert,
)
from clinic.assessments.suicidality import Trigger
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, PermissionDenied
from clinic.core.records import required_text
from clinic.notifications.services import notification_queue
from clinic.patients.models import Patient
from clinic.patients.selectors import can_act_clinically
from clinic.patients.services import patient_row_lock

WRITE_A_NOTE = "Write a short note: what you did or decided."

# Each kind in a sentence ("the alert is now ...").
KIND_WORDS: dict[str, str] = {
    AlertKind.SUICIDAL_IDEATION: "suicidal ideation",
    AlertKind.HIGH_SUICIDE_RISK: "a high suicide risk (C-SSRS)",
}


def suicidality_record(
    *,
    patient: Patient,
    response: AssessmentResponse,
    instrument: Instrument,
    triggers: Sequence[Trigger],
) -> None:
    """One alert per positive response, at the highest level its answers show; or, while the
    patient has an alert still waiting for a clinician (open, not acknowledged), the answers
    join that alert as a follow-up, escalating it when they show a higher risk (ADR 0004).

    Every decision for a patient is taken under a lock on the patient's row, so two responses
    saved at once queue here: the second sees the first's alert and joins it, and a patient
    never has two alerts waiting side by side from this path.
    """
    kind = max((t.kind for t in triggers), key=alert_level)
    text = "; ".join(t.text for t in sorted(triggers, key=lambda t: -alert_level(t.kind)))
    # The lock is on the patient, not on the alerts: with no alert waiting there is no alert
    # row to lock, and two first alerts must not be raised side by side. Existing alerts may
    # already include several open ones per patient (raised before follow-ups attached), so a
    # unique index on open alerts cannot be added without rewriting them.
    patient_row_lock(patient_id=patient.pk)
    waiting = list(
        SuicidalityAlert.objects.select_for_update().filter(
            patient=patient, status=AlertStatus.OPEN
        )
    )
    if not waiting:
        _alert_raise(patient=patient, response=response, kind=kind, text=text)
        return
    # With several waiting (possible only among alerts raised before follow-ups attached), the
    # most serious, then the newest, gathers the follow-ups.
    alert = max(waiting, key=lambda a: (alert_level(a.kind), a.created_at, a.pk))
    follow_up = AlertFollowUp.objects.create(
        alert=alert, response=response, kind=kind, trigger=text[:200]
    )
    audit_record(
        actor=None,
        action=AuditAction.UPDATE,
        object_type="suicidality_alert",
        object_id=alert.uuid,
        patient=patient,
        summary=f"Follow-up answers added ({instrument.name}): {text}"[:300],
        changes={"follow_up": {"before": None, "after": str(follow_up.uuid)}},
    )
    if alert_level(kind) <= alert_level(alert.kind):
        # The clinician who opens the alert reads these answers there: no second e-mail.
        return
    before = alert.kind
    alert.escalated_from_kind = before
    alert.kind = kind
    alert.escalated_at = timezone.now()
    alert.escalated_by_response = response
    alert.save(
        update_fields=[
            "kind",
            "escalated_from_kind",
            "escalated_at",
            "escalated_by_response",
            "updated_at",
        ]
    )
    audit_record(
        actor=None,
        action=AuditAction.UPDATE,
        object_type="suicidality_alert",
        object_id=alert.uuid,
        patient=patient,
        summary=(
            f"Suicidality alert escalated to {KIND_WORDS[kind]} by the answers of the "
            f"{instrument.name}: {text}"
        )[:300],
        changes={
            "kind": {"before": before, "after": kind},
            "escalated_by_response": {"before": None, "after": str(response.uuid)},
        },
    )
    _alert_notify(
        alert=alert,
        patient=patient,
        subject=f"{settings.CLINIC_NAME}: a suicidality alert was escalated",
        what=(
            "A follow-up answer from a patient on your care team showed a higher risk, and "
            f"the suicidality alert waiting for you is now {KIND_WORDS[kind]}."
        ),
    )


def _alert_raise(*, patient: Patient, response: AssessmentResponse, kind: str, text: str) -> None:
    members = list(patient.care_team_members.select_related("staff"))
    primary = next((m.staff for m in members if m.team_role == "primary_prescriber"), None)
    alert = SuicidalityAlert.objects.create(
        patient=patient, response=response, kind=kind, trigger=text[:200], assigned_to=primary
    )
    audit_record(
        actor=None,
        action=AuditAction.CREATE,
        object_type="suicidality_alert",
        object_id=alert.uuid,
        patient=patient,
        summary=f"{AlertKind(kind).label}: {text}"[:300],
    )
    _alert_notify(
        alert=alert,
        patient=patient,
        subject=f"{settings.CLINIC_NAME}: a patient's answers need your attention",
        what=(
            "A patient on your care team gave an answer that raised a suicidality alert "
            f"({AlertKind(kind).label.lower()})."
        ),
    )


def _alert_notify(*, alert: SuicidalityAlert, patient: Patient, subject: str, what: str) -> None:
    """E-mail the alert's clinicians through the outbox: the prescriber it is assigned to, or,
    with none (or one no longer on the care team), every prescriber on the care team now."""
    members = list(patient.care_team_members.select_related("staff"))
    if any(m.staff_id == alert.assigned_to_id for m in members):
        recipients = [alert.assigned_to]
    else:
        recipients = [m.staff for m in members if m.staff.role == "prescriber"]
    for recipient in recipients:
        notification = notification_queue(
            recipient=recipient,
            subject=subject,
            # No PHI in e-mail: the message says where to look, the chart says who.
            body=(
                f"{what}\n\n"
                "Open KetaCare to review and acknowledge it: "
                f"{settings.SITE_URL}{reverse('assessments:alert_detail', args=[alert.uuid])}\n"
            ),
        )
        AlertNotification.objects.create(alert=alert, notification=notification)


# A check of the locked alert before it changes (the API's If-Match, core/api_versions.py).
Precondition = Callable[[SuicidalityAlert], None]


def _alert_for_update(
    actor, alert: SuicidalityAlert, capability: str, precondition: Precondition | None = None
) -> SuicidalityAlert:
    locked = SuicidalityAlert.objects.select_for_update().select_related("patient").get(pk=alert.pk)
    patient = Patient.objects.prefetch_related("care_team_members").get(pk=locked.patient_id)
    if not can_act_clinically(actor=actor, patient=patient, capability=capability):
        raise PermissionDenied("Only clinicians on the patient's care team handle this alert.")
    if precondition is not None:
        # Under the alert's lock, which a follow-up answer takes too (suicidality_record).
        precondition(locked)
    return locked


def _unread_answers_refuse(locked: SuicidalityAlert, seen_follow_ups: int | None) -> None:
    """A clinician acts on the answers they read: follow-ups that arrived after they opened
    the alert (perhaps escalating it) must be read first."""
    if seen_follow_ups is not None and locked.follow_ups.count() != seen_follow_ups:
        raise Conflict(
            "New answers were added to this alert since you opened it"
            + (f" and it is now {KIND_WORDS[locked.kind]}" if locked.escalated_at else "")
            + ". Read them, then acknowledge.",
            code="alert_has_new_answers",
        )


@transaction.atomic
def alert_acknowledge(
    *,
    actor,
    alert: SuicidalityAlert,
    note: str,
    seen_follow_ups: int | None = None,
    precondition: Precondition | None = None,
) -> SuicidalityAlert:
    """`seen_follow_ups`: how many follow-ups the page showed (None from callers that show
    none, e.g. tests of the lifecycle alone)."""
    note = required_text("note", note, WRITE_A_NOTE)
    locked = _alert_for_update(actor, alert, Capability.ALERT_ACKNOWLEDGE, precondition)
    if locked.status != AlertStatus.OPEN:
        raise Conflict("This alert was already acknowledged.", code="alert_not_open")
    _unread_answers_refuse(locked, seen_follow_ups)
    locked.status = AlertStatus.ACKNOWLEDGED
    locked.acknowledged_at = timezone.now()
    locked.acknowledged_by = actor
    locked.acknowledgement_note = note
    # An ideation alert is done once acknowledged; a high risk stays until it is resolved.
    if locked.kind == AlertKind.SUICIDAL_IDEATION:
        locked.status = AlertStatus.RESOLVED
        locked.resolved_at = locked.acknowledged_at
        locked.resolved_by = actor
        locked.resolution_note = note
    locked.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="suicidality_alert",
        object_id=locked.uuid,
        patient=locked.patient,
        summary="Suicidality alert acknowledged",
        changes={
            "status": {"before": "open", "after": locked.status},
            "note": {"before": "", "after": note},
        },
    )
    return locked


@transaction.atomic
def alert_resolve(
    *,
    actor,
    alert: SuicidalityAlert,
    note: str,
    seen_follow_ups: int | None = None,
    precondition: Precondition | None = None,
) -> SuicidalityAlert:
    note = required_text("note", note, WRITE_A_NOTE)
    locked = _alert_for_update(actor, alert, Capability.ALERT_RESOLVE, precondition)
    if locked.kind != AlertKind.HIGH_SUICIDE_RISK:
        raise Conflict(
            "Only a high-risk alert is resolved; acknowledge this one.", code="not_high_risk"
        )
    if locked.status == AlertStatus.RESOLVED:
        raise Conflict("This alert is already resolved.", code="alert_resolved")
    _unread_answers_refuse(locked, seen_follow_ups)
    before = locked.status
    now = timezone.now()
    if locked.status == AlertStatus.OPEN:
        locked.acknowledged_at, locked.acknowledged_by = now, actor
        locked.acknowledgement_note = note
    locked.status = AlertStatus.RESOLVED
    locked.resolved_at, locked.resolved_by, locked.resolution_note = now, actor, note
    locked.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="suicidality_alert",
        object_id=locked.uuid,
        patient=locked.patient,
        summary="High suicide risk resolved",
        changes={
            "status": {"before": before, "after": "resolved"},
            "note": {"before": "", "after": note},
        },
    )
    return locked
