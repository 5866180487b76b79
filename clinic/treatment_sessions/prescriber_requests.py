"""Decisions the chair waits for, as records: opened, closed, and who is told when one waits.

A nurse at the chair cannot dose over a high pre-dose blood pressure, go on past unmet
pre-checks, or discharge a patient who does not meet the criteria without a prescriber's
decision (ADR 0008). Each such wait is a `PrescriberRequest`: it shows at once in the care team's
prescribers' in-basket and on the chair board ("awaiting prescriber"), and when it has waited
longer than the clinic's delay (`email_after_min`) the care team's prescribers are e-mailed
through the outbox; a patient whose care team has no prescriber has the clinic administrators
e-mailed instead, so that nobody's request waits silently (ADR 0011).

This module keeps the records; the decisions themselves (confirming, overriding, declining) are
services in `services/` (the conversation in `services/prescriber.py`), which open and close
requests through it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from clinic.accounts.choices import Role
from clinic.accounts.models import User
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.policy import policy_with_overrides
from clinic.notifications.services import notification_queue
from clinic.treatment_sessions.choices import PrescriberRequestKind, PrescriberRequestStatus
from clinic.treatment_sessions.models import PrescriberRequest, TreatmentSession

SECTION = "prescriber_requests"


@dataclass(frozen=True)
class PrescriberRequestPolicy:
    # Minutes a request may wait, shown in the in-basket from its first second, before the
    # care team's prescribers are also e-mailed. KetaCare's default, not a published standard:
    # each clinic sets its own (CLINIC_POLICY["prescriber_requests"]); 0 e-mails at once.
    email_after_min: int = 5


DEFAULT_POLICY = PrescriberRequestPolicy()


def _convert(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 24 * 60:
        raise ImproperlyConfigured(
            f"CLINIC_POLICY[{SECTION!r}][{name!r}] is not valid: {value!r} (a whole number of "
            "minutes from 0 to 1440 is expected)."
        )
    return value


def request_policy() -> PrescriberRequestPolicy:
    return policy_with_overrides(SECTION, DEFAULT_POLICY, _convert)


# --------------------------------------------------------------------------- open and close


def _audit(actor, request: PrescriberRequest, session: TreatmentSession, summary: str) -> None:
    audit_record(
        actor=actor,
        action=(
            AuditAction.UPDATE
            if request.status != PrescriberRequestStatus.OPEN
            else AuditAction.CREATE
        ),
        object_type="prescriber_request",
        object_id=request.uuid,
        patient=session.patient,
        summary=summary,
    )


def request_open(
    *,
    actor,
    session: TreatmentSession,
    kind: str,
    about: Iterable[str],
    note: str = "",
    now: datetime.datetime,
) -> PrescriberRequest:
    """A new open request (the caller holds the session's row lock and has checked the need).
    The reminder is scheduled for when the clinic's delay runs out."""
    request = PrescriberRequest.objects.create(
        session=session,
        kind=kind,
        requested_by=actor,
        note=note,
        about=list(about),
        created_at=now,
    )
    _audit(
        actor,
        request,
        session,
        f"Prescriber asked: {PrescriberRequestKind(kind).label}" + (f" ({note})" if note else ""),
    )
    run_after = now + datetime.timedelta(minutes=request_policy().email_after_min)
    transaction.on_commit(lambda: _schedule_reminders(run_after))
    return request


def open_request(session: TreatmentSession, kind: str) -> PrescriberRequest | None:
    return PrescriberRequest.objects.waiting().filter(session=session, kind=kind).first()


def requests_close(
    *,
    session: TreatmentSession,
    kinds: Iterable[str],
    status: str,
    actor=None,
    note: str = "",
    override=None,
    now: datetime.datetime,
) -> list[PrescriberRequest]:
    """Close the session's open requests of `kinds`: answered (by a prescriber's decision,
    `override`), declined (with the prescriber's note) or withdrawn (no longer needed: by the
    nurse, or by the record itself with `actor` None). Returns those closed."""
    closed = []
    for request in PrescriberRequest.objects.select_for_update().filter(
        session=session, kind__in=list(kinds), status=PrescriberRequestStatus.OPEN
    ):
        request.status = status
        request.closed_at = now
        request.closed_by = actor
        request.closing_note = note[:500]
        request.override = override
        request.save(
            update_fields=[
                "status",
                "closed_at",
                "closed_by",
                "closing_note",
                "override",
                "updated_at",
            ]
        )
        _audit(
            actor,
            request,
            session,
            f"Prescriber request {request.get_status_display().lower()}: "
            f"{request.get_kind_display()}" + (f" ({note})" if note else ""),
        )
        closed.append(request)
    return closed


def bp_request_sync(
    *, actor, session: TreatmentSession, reasons: list[str], now: datetime.datetime
) -> None:
    """Keep the pre-dose BP request in step with the pre-dose reading: open while the latest
    reading needs a prescriber's confirmation (`reasons` not empty), withdrawn when it no
    longer does (a later reading within the limit, or the high one entered in error)."""
    current = open_request(session, PrescriberRequestKind.PRE_DOSE_BP)
    if reasons and current is None:
        request_open(
            actor=actor,
            session=session,
            kind=PrescriberRequestKind.PRE_DOSE_BP,
            about=reasons,
            now=now,
        )
    elif reasons and current is not None and current.about != reasons:
        # A newer reading that also needs confirmation: the request keeps its place in the
        # queue (and its wait) but says what the prescriber now decides on.
        request_about_update(session=session, request=current, about=reasons)
    elif not reasons and current is not None:
        requests_close(
            session=session,
            kinds=[PrescriberRequestKind.PRE_DOSE_BP],
            status=PrescriberRequestStatus.WITHDRAWN,
            note="The latest pre-dose reading needs no confirmation.",
            now=now,
        )


def request_about_update(
    *, session: TreatmentSession, request: PrescriberRequest, about: list[str]
) -> PrescriberRequest:
    """What a waiting request is about, brought up to date (a newer reading, pre-checks that
    changed). Audited; the request keeps its time."""
    request.about = list(about)
    request.save(update_fields=["about", "updated_at"])
    audit_record(
        actor=None,
        action=AuditAction.UPDATE,
        object_type="prescriber_request",
        object_id=request.uuid,
        patient=session.patient,
        summary=f"Prescriber request brought up to date: {request.get_kind_display()}",
        changes={"about": {"before": None, "after": list(about)}},
    )
    return request


# --------------------------------------------------------------------------- reminders


def _schedule_reminders(run_after: datetime.datetime) -> None:
    from clinic.treatment_sessions.tasks import enqueue_prescriber_reminders

    enqueue_prescriber_reminders(run_after=run_after)


def reminder_recipients(session: TreatmentSession) -> list[User]:
    """Who is e-mailed about a request that waits: the active prescribers on the patient's
    care team; with none, the active clinic administrators (who can add one)."""
    prescribers = list(
        User.objects.filter(
            is_active=True,
            role=Role.PRESCRIBER,
            care_team_memberships__patient_id=session.patient_id,
        ).distinct()
    )
    if prescribers:
        return prescribers
    return list(User.objects.filter(is_active=True, role=Role.CLINIC_ADMIN))


def prescriber_reminders_send(now: datetime.datetime | None = None) -> int:
    """E-mail the prescribers of every request that has waited past the clinic's delay and has
    not been e-mailed yet. Safe to run at once from the worker and from cron (rows are locked,
    and each is e-mailed once). Returns how many requests were e-mailed about."""
    now = now or timezone.now()
    due_before = now - datetime.timedelta(minutes=request_policy().email_after_min)
    sent = 0
    with transaction.atomic():
        due = list(
            PrescriberRequest.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                status=PrescriberRequestStatus.OPEN,
                email_queued_at__isnull=True,
                created_at__lte=due_before,
            )
            .select_related("session__patient", "session__appointment__chair__room")
            .order_by("created_at", "id")
        )
        for request in due:
            session = request.session
            chair = session.appointment.chair
            minutes = int((now - request.created_at).total_seconds() // 60)
            for recipient in reminder_recipients(session):
                # No patient information in e-mail: what is asked, where, and for how long.
                notification_queue(
                    recipient=recipient,
                    subject=f"{settings.CLINIC_NAME}: a nurse is waiting for a prescriber",
                    body=(
                        f"A nurse at {chair.name} ({chair.room.name}) has waited {minutes} "
                        f"minutes for a prescriber's decision: {request.get_kind_display()}.\n\n"
                        f"Open your in-basket in KetaCare to answer it: {settings.SITE_URL}/\n"
                    ),
                )
            request.email_queued_at = now
            request.save(update_fields=["email_queued_at", "updated_at"])
            audit_record(
                actor=None,
                action=AuditAction.UPDATE,
                object_type="prescriber_request",
                object_id=request.uuid,
                patient=session.patient,
                summary=f"Prescriber request waited {minutes} min: prescribers e-mailed",
            )
            sent += 1
    return sent
