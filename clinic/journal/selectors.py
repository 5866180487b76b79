"""Reads, each audited: the patient's own (portal), and what their care team may see (staff).

Portal reads take the signed-in patient's user as `actor` and their record as `patient`; a
record of someone else's is "not found", exactly like one that does not exist.

Staff see a patient's journal only with `journal.view_shared` and the patient on their care
team, and then only the entries the patient shared: an unshared entry is never read for staff,
not even counted.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.core.api_pages import Keyset, KeysetPage, keyset_page
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import NotFound, PermissionDenied
from clinic.journal import rules
from clinic.journal.access import require_own
from clinic.journal.models import Intention, JournalEntry
from clinic.patients.models import Patient
from clinic.patients.selectors import actor_on_care_team, record_in_reach
from clinic.scheduling.choices import ACTIVE_STATUSES, IN_CLINIC_ROUTES
from clinic.scheduling.models import Appointment

# The journal page offers to write about this many of the latest sessions without an entry.
SESSIONS_TO_OFFER = 5


_DENIED = "Not found or not the patient's own ({purpose})"


def _denied(
    *, actor: User, object_type: str, object_id: uuid.UUID, patient: Patient | None, purpose: str
) -> NotFound:
    audit_record(
        actor=actor,
        action=AuditAction.DENIED,
        object_type=object_type,
        object_id=object_id,
        patient=patient,
        summary=_DENIED.format(purpose=purpose),
    )
    return NotFound()


# --------------------------------------------------------------------------- portal: appointments


def _own_appointments(patient: Patient) -> QuerySet[Appointment]:
    return Appointment.objects.filter(patient=patient, route__in=IN_CLINIC_ROUTES)


def portal_appointment_get(
    *, actor: User, patient: Patient, appointment_uuid: uuid.UUID | str
) -> Appointment:
    """One of the patient's own in-clinic appointments (for its intention page)."""
    require_own(actor=actor, patient=patient)
    return record_in_reach(
        actor=actor,
        queryset=_own_appointments(patient),
        record_uuid=appointment_uuid,
        object_type="appointment",
        patient_of=lambda appointment: patient,
        patient=patient,
        not_found_message=NotFound().message,
        denied_summary=_DENIED.format(purpose="portal intention"),
    )


def portal_past_session_get(
    *,
    actor: User,
    patient: Patient,
    appointment_uuid: uuid.UUID | str,
    now: datetime.datetime | None = None,
) -> Appointment:
    """One of the patient's own past sessions, to write a journal entry about."""
    appointment = portal_appointment_get(
        actor=actor, patient=patient, appointment_uuid=appointment_uuid
    )
    if not rules.is_past_session(appointment, now or timezone.now()):
        raise NotFound("That session has not happened yet.")
    return appointment


# --------------------------------------------------------------------------- portal: intentions


def portal_intention_get(
    *, actor: User, patient: Patient, appointment: Appointment
) -> Intention | None:
    """The patient's intention for their appointment, if they wrote one. Audited."""
    require_own(actor=actor, patient=patient)
    if appointment.patient_id != patient.pk:
        raise _denied(
            actor=actor,
            object_type="appointment",
            object_id=appointment.uuid,
            patient=patient,
            purpose="portal intention",
        )
    intention = Intention.objects.filter(appointment=appointment).first()
    audit_record(
        actor=actor,
        action=AuditAction.VIEW,
        object_type="intention",
        object_id=intention.uuid if intention else appointment.uuid,
        patient=patient,
        summary="Intention read in the portal" if intention else "Intention page (none yet)",
    )
    return intention


# --------------------------------------------------------------------------- portal: journal


@dataclass(frozen=True)
class JournalPage:
    entries: list[JournalEntry]
    # Past sessions without an entry, latest first (at most SESSIONS_TO_OFFER).
    to_write_about: list[Appointment]
    # Coming in-clinic appointments, each with its intention (or None).
    upcoming: list[tuple[Appointment, Intention | None]] = field(default_factory=list)


def portal_journal_get(
    *, actor: User, patient: Patient, now: datetime.datetime | None = None
) -> JournalPage:
    """The patient's journal page: their entries (newest first), the sessions they may write
    about, and their coming sessions with the intention for each. Four queries, audited once."""
    require_own(actor=actor, patient=patient)
    now = now or timezone.now()
    entries = list(JournalEntry.objects.filter(patient=patient).select_related("appointment"))
    written = {e.appointment_id for e in entries if e.appointment_id}
    past = (
        _own_appointments(patient)
        .filter(status__in=rules.PAST_SESSION_STATUSES, starts_at__lte=now)
        .exclude(pk__in=written)
        .order_by("-starts_at")[:SESSIONS_TO_OFFER]
    )
    coming = list(
        _own_appointments(patient)
        .filter(status__in=ACTIVE_STATUSES, starts_at__gt=now)
        .order_by("starts_at")
    )
    intentions = {i.appointment_id: i for i in Intention.objects.filter(appointment__in=coming)}
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="journal_entry",
        patient=patient,
        # No count: the audit trail is read by clinic admins, who never learn of unshared entries.
        summary="Own journal read in the portal",
    )
    return JournalPage(
        entries=entries,
        to_write_about=list(past),
        upcoming=[(a, intentions.get(a.pk)) for a in coming],
    )


def portal_entry_get(*, actor: User, patient: Patient, entry_uuid: uuid.UUID | str) -> JournalEntry:
    """One of the patient's own entries. Audited."""
    require_own(actor=actor, patient=patient)
    return record_in_reach(
        actor=actor,
        queryset=JournalEntry.objects.filter(patient=patient).select_related(
            "appointment", "patient"
        ),
        record_uuid=entry_uuid,
        object_type="journal_entry",
        patient_of=lambda entry: patient,
        patient=patient,
        not_found_message=NotFound().message,
        denied_summary=_DENIED.format(purpose="portal journal"),
        view_summary="Own journal entry read in the portal",
    )


def portal_entry_for_session(*, patient: Patient, appointment: Appointment) -> JournalEntry | None:
    """The entry the patient already wrote about this session of theirs, if any (no audit: the
    caller goes on to read it through `portal_entry_get`)."""
    return JournalEntry.objects.filter(patient=patient, appointment=appointment).first()


# --------------------------------------------------------------------------- the patient's API

# The API's lists, newest first: entries as the journal page lists them, intentions by when the
# patient last wrote them.
ENTRY_KEYSET = Keyset(("-created_at",))
INTENTION_KEYSET = Keyset(("-written_at",))


def own_entry_page(
    *, actor: User, patient: Patient, after: Sequence[Any] | None, limit: int
) -> KeysetPage[JournalEntry]:
    """A page of the patient's own journal entries (the API). One query, audited once, with no
    count, as the journal page is."""
    require_own(actor=actor, patient=patient)
    page = keyset_page(
        JournalEntry.objects.filter(patient=patient).select_related("appointment"),
        keyset=ENTRY_KEYSET,
        after=after,
        limit=limit,
    )
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="journal_entry",
        patient=patient,
        summary="Own journal read (API)",
    )
    return page


def own_intention_page(
    *, actor: User, patient: Patient, after: Sequence[Any] | None, limit: int
) -> KeysetPage[Intention]:
    """A page of the intentions the patient wrote (the API). One query, audited once."""
    require_own(actor=actor, patient=patient)
    page = keyset_page(
        Intention.objects.filter(patient=patient).select_related("appointment"),
        keyset=INTENTION_KEYSET,
        after=after,
        limit=limit,
    )
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="intention",
        patient=patient,
        summary="Own intentions read (API)",
    )
    return page


def own_intention_get(
    *, actor: User, patient: Patient, intention_uuid: uuid.UUID | str
) -> Intention:
    """One of the patient's own intentions. Anyone else's is "not found", audited."""
    require_own(actor=actor, patient=patient)
    return record_in_reach(
        actor=actor,
        queryset=Intention.objects.filter(patient=patient).select_related("appointment"),
        record_uuid=intention_uuid,
        object_type="intention",
        patient_of=lambda intention: patient,
        patient=patient,
        not_found_message=NotFound().message,
        denied_summary=_DENIED.format(purpose="own intention"),
        view_summary="Own intention read (API)",
    )


# --------------------------------------------------------------------------- staff


def can_view_shared(*, actor: User, patient: Patient) -> bool:
    """`journal.view_shared` and the patient on the actor's care team."""
    return bool(
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and actor.can(Capability.JOURNAL_VIEW_SHARED)
        and actor_on_care_team(actor=actor, patient=patient)
    )


def _require_shared_view(*, actor: User, patient: Patient, purpose: str) -> None:
    if can_view_shared(actor=actor, patient=patient):
        return
    audit_record(
        actor=actor,
        action=AuditAction.DENIED,
        object_type="patient",
        object_id=patient.uuid,
        patient=patient,
        summary=f"Journal refused ({purpose})",
    )
    raise PermissionDenied(
        "The journal a patient shares is for their care team's clinicians.", audited=True
    )


def shared_entry_list(
    *, actor: User, patient: Patient, purpose: str = "chart"
) -> list[JournalEntry]:
    """The entries the patient chose to share, newest first. Audited."""
    _require_shared_view(actor=actor, patient=patient, purpose=purpose)
    entries = list(
        JournalEntry.objects.shared().filter(patient=patient).select_related("appointment")
    )
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="journal_entry",
        patient=patient,
        summary=f"{len(entries)} shared journal entr{'y' if len(entries) == 1 else 'ies'}"
        f" ({purpose})",
    )
    return entries


def upcoming_intention_list(
    *, actor: User, patient: Patient, now: datetime.datetime | None = None, purpose: str = "chart"
) -> list[Intention]:
    """The intentions the patient wrote for sessions still to come (today's included until
    they end), soonest first. Audited."""
    _require_shared_view(actor=actor, patient=patient, purpose=purpose)
    now = now or timezone.now()
    intentions = list(
        Intention.objects.filter(
            patient=patient,
            appointment__status__in=ACTIVE_STATUSES,
            appointment__ends_at__gt=now,
        )
        .select_related("appointment")
        .order_by("appointment__starts_at")
    )
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="intention",
        patient=patient,
        summary=f"{len(intentions)} intention(s) for coming sessions ({purpose})",
    )
    return intentions


def session_intention(*, actor: User, appointment: Appointment) -> Intention | None:
    """The intention the patient wrote in the portal for this appointment, for the chair-side
    session page. The caller has already read the session through its own audited selector
    (`treatment_sessions.selectors.session_get`), which decides who may see it."""
    if actor is None or not getattr(actor, "is_clinic_staff", False):
        return None
    return Intention.objects.filter(appointment_id=appointment.pk).first()
