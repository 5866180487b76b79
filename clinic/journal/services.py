"""Writes: the patient's intention before a session, their journal entries after one, and the
"remind me to reflect later" e-mail.

Every write is the patient's own (the portal passes the signed-in patient's user as `actor` and
their record as `patient`), atomic and audited. The patient's free text stays out of the audit
trail, which clinic admins can read: an unshared journal entry is never shown to staff, so an
edit to reflections or insights is recorded as the SHA-256 digests and lengths of the text
before and after (proof of what changed, without the words). Intentions are written for the
care team, and their text is audited as it is.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from clinic.accounts.models import User
from clinic.core.audit import audit_record, diff, snapshot
from clinic.core.choices import AuditAction
from clinic.core.clinic_phone import call_the_clinic
from clinic.core.exceptions import Conflict, InvalidInput, NotFound
from clinic.core.parsing import trimmed_text
from clinic.journal import rules
from clinic.journal.access import require_own
from clinic.journal.models import MOOD_MAX, MOOD_MIN, Intention, JournalEntry
from clinic.notifications.services import notification_queue
from clinic.patients.models import Patient
from clinic.scheduling.choices import IN_CLINIC_ROUTES
from clinic.scheduling.models import Appointment
from clinic.scheduling.services import appointment_lock

ENTRY_FIELDS = (
    "mood_before",
    "mood_after",
    "reflections",
    "insights",
    "shared_with_care_team",
    "remind_at",
)
PRIVATE_TEXT_FIELDS = ("reflections", "insights")


# --------------------------------------------------------------------------- helpers


def patient_email(patient: Patient) -> str:
    """Where the patient is reached: the address on their record, else their account's."""
    if patient.email:
        return patient.email
    user = patient.user  # None, without a query, for a patient with no account
    return user.email if user is not None else ""


def _digest(text: str) -> str:
    if not text:
        return ""
    return f"sha256:{hashlib.sha256(text.encode()).hexdigest()[:16]} ({len(text)} characters)"


def _entry_snapshot(entry: JournalEntry) -> dict[str, Any]:
    values = snapshot(entry, list(ENTRY_FIELDS))
    for name in PRIVATE_TEXT_FIELDS:
        values[name] = _digest(getattr(entry, name))
    return values


def _text(value: str | None, *, field: str, max_chars: int, errors: dict[str, list[str]]) -> str:
    """Trimmed text; a too-long value joins the form's other problems instead of raising."""
    text = trimmed_text(value)
    if len(text) > max_chars:
        errors.setdefault(field, []).append(
            f"Please keep this under {max_chars:,} characters (it has {len(text):,})."
        )
    return text


def _mood(value: object, *, field: str, errors: dict[str, list[str]]) -> int | None:
    """A whole number from 1 to 10 (an int, or its digits as text)."""
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    if number is None or not MOOD_MIN <= number <= MOOD_MAX:
        errors.setdefault(field, []).append(f"Choose a whole number from {MOOD_MIN} to {MOOD_MAX}.")
        return None
    return number


def _remind_at(
    value: datetime.datetime | None,
    *,
    patient: Patient,
    now: datetime.datetime,
    errors: dict[str, list[str]],
) -> datetime.datetime | None:
    if value is None:
        return None
    if timezone.is_naive(value):
        errors.setdefault("remind_at", []).append("Give a date and time.")
        return None
    latest = now + datetime.timedelta(days=rules.REMIND_LATER_MAX_DAYS)
    if value <= now:
        errors.setdefault("remind_at", []).append("Choose a time in the future.")
    elif value > latest:
        errors.setdefault("remind_at", []).append(
            f"Choose a time within the next {rules.REMIND_LATER_MAX_DAYS} days."
        )
    elif not patient_email(patient):
        errors.setdefault("remind_at", []).append(
            "We have no e-mail address for you, so we cannot send a reminder. "
            f"Please {call_the_clinic()} to add one."
        )
    return value


# --------------------------------------------------------------------------- intentions


@transaction.atomic
def intention_save(
    *,
    actor: User,
    patient: Patient,
    appointment: Appointment,
    text: str,
    now: datetime.datetime | None = None,
    precondition: Callable[[Intention | None], None] | None = None,
) -> Intention:
    """Write or change the patient's intention for one of their in-clinic appointments, until
    it starts. Someone else's appointment is "not found". `precondition` (the API's If-Match,
    or its refusal to create one twice) sees the intention as it stands, under its row lock."""
    require_own(actor=actor, patient=patient)
    now = now or timezone.now()
    locked = appointment_lock(appointment_id=appointment.pk)
    if locked is None or locked.patient_id != patient.pk or locked.route not in IN_CLINIC_ROUTES:
        raise NotFound()
    if not rules.intention_open(locked, now):
        raise Conflict(
            "This session has started, so its intention can no longer be changed.",
            code="intention_locked",
            field="text",
        )
    errors: dict[str, list[str]] = {}
    clean = _text(text, field="text", max_chars=rules.INTENTION_MAX_CHARS, errors=errors)
    if not clean and "text" not in errors:
        errors["text"] = ["Write your intention in a few words."]
    if errors:
        raise InvalidInput(errors)

    intention = Intention.objects.select_for_update().filter(appointment=locked).first()
    if precondition is not None:
        precondition(intention)
    if intention is None:
        intention = Intention.objects.create(
            patient=patient, appointment=locked, text=clean, written_at=now
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type="intention",
            object_id=intention.uuid,
            patient=patient,
            summary="Intention written in the portal",
            changes={"text": {"before": None, "after": clean}},
        )
        return intention
    before = snapshot(intention, ["text"])
    if clean == intention.text:
        return intention
    intention.text = clean
    intention.written_at = now
    intention.save(update_fields=["text", "written_at", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="intention",
        object_id=intention.uuid,
        patient=patient,
        summary="Intention changed in the portal",
        changes=diff(before, snapshot(intention, ["text"])),
    )
    return intention


# --------------------------------------------------------------------------- journal entries


def _clean_entry(
    data: dict[str, Any], *, patient: Patient, now: datetime.datetime, current: JournalEntry | None
) -> dict[str, Any]:
    """Validated values for the fields given in `data`; every problem at once (InvalidInput)."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for field in ("mood_before", "mood_after"):
        if field in data:
            clean[field] = _mood(data[field], field=field, errors=errors)
    for field in PRIVATE_TEXT_FIELDS:
        if field in data:
            clean[field] = _text(
                data[field], field=field, max_chars=rules.JOURNAL_TEXT_MAX_CHARS, errors=errors
            )
    if "shared_with_care_team" in data:
        clean["shared_with_care_team"] = bool(data["shared_with_care_team"])
    if "remind_at" in data:
        value = data["remind_at"]
        if current is not None and value == current.remind_at:
            clean["remind_at"] = value  # unchanged (perhaps already past): nothing to check
        else:
            clean["remind_at"] = _remind_at(value, patient=patient, now=now, errors=errors)
    if errors:
        raise InvalidInput(errors)
    return clean


def _session_of(
    patient: Patient, appointment: Appointment | None, now: datetime.datetime
) -> Appointment | None:
    if appointment is None:
        return None
    if appointment.patient_id != patient.pk:
        raise NotFound()
    if not rules.is_past_session(appointment, now):
        raise Conflict("You can write about a session once it has begun.", code="session_not_past")
    return appointment


@transaction.atomic
def journal_entry_create(
    *,
    actor: User,
    patient: Patient,
    appointment: Appointment | None = None,
    mood_before: object,
    mood_after: object,
    reflections: str = "",
    insights: str = "",
    shared_with_care_team: bool = False,
    remind_at: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
) -> JournalEntry:
    """A new journal entry, about one of the patient's past sessions or none. Private unless
    `shared_with_care_team`. Someone else's appointment is "not found"."""
    require_own(actor=actor, patient=patient)
    now = now or timezone.now()
    appointment = _session_of(patient, appointment, now)
    clean = _clean_entry(
        {
            "mood_before": mood_before,
            "mood_after": mood_after,
            "reflections": reflections,
            "insights": insights,
            "shared_with_care_team": shared_with_care_team,
            "remind_at": remind_at,
        },
        patient=patient,
        now=now,
        current=None,
    )
    if appointment is not None and JournalEntry.objects.filter(appointment=appointment).exists():
        raise Conflict(
            "You have already written about this session: add to that entry instead.",
            code="entry_exists",
        )
    try:
        with transaction.atomic():
            entry = JournalEntry.objects.create(
                patient=patient,
                appointment=appointment,
                shared_at=now if clean["shared_with_care_team"] else None,
                **clean,
            )
    except IntegrityError as error:  # another tab wrote about the same session first
        raise Conflict(
            "You have already written about this session: add to that entry instead.",
            code="entry_exists",
        ) from error
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="journal_entry",
        object_id=entry.uuid,
        patient=patient,
        summary="Journal entry written in the portal"
        + (" (shared with the care team)" if entry.shared_with_care_team else " (private)"),
        changes=diff({}, _entry_snapshot(entry)),
    )
    return entry


@transaction.atomic
def journal_entry_update(
    *,
    actor: User,
    entry: JournalEntry,
    data: dict[str, Any],
    now: datetime.datetime | None = None,
    precondition: Callable[[JournalEntry], None] | None = None,
) -> JournalEntry:
    """Change the fields in `data` (any of ENTRY_FIELDS). Changing the reminder time asks for a
    new reminder; sharing can be turned on and off. Audited with before and after.
    `precondition` (the API's If-Match) is checked on the entry under its row lock."""
    patient = entry.patient
    require_own(actor=actor, patient=patient)
    now = now or timezone.now()
    entry = JournalEntry.objects.select_for_update().get(pk=entry.pk)
    if precondition is not None:
        precondition(entry)
    unknown = set(data) - set(ENTRY_FIELDS)
    if unknown:
        raise InvalidInput({name: ["This cannot be changed."] for name in sorted(unknown)})
    clean = _clean_entry(data, patient=patient, now=now, current=entry)
    before = _entry_snapshot(entry)
    changed = [name for name, value in clean.items() if getattr(entry, name) != value]
    if not changed:
        return entry
    for name in changed:
        setattr(entry, name, clean[name])
    fields = set(changed)
    if "shared_with_care_team" in changed:
        entry.shared_at = now if entry.shared_with_care_team else None
        fields.add("shared_at")
    if "remind_at" in changed:
        # A new time is a new reminder (one e-mail at that time); no time, no reminder.
        entry.reminder_sent_at = None
        entry.reminder_notification = None
        fields |= {"reminder_sent_at", "reminder_notification"}
    entry.save(update_fields=[*sorted(fields), "updated_at"])
    what = []
    if "shared_with_care_team" in changed:
        what.append("shared with the care team" if entry.shared_with_care_team else "unshared")
    if set(changed) - {"shared_with_care_team"}:
        what.append("edited")
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="journal_entry",
        object_id=entry.uuid,
        patient=patient,
        summary="Journal entry " + " and ".join(what) + " in the portal",
        changes=diff(before, _entry_snapshot(entry)),
    )
    return entry


# --------------------------------------------------------------------------- reminders


def reminder_text(entry: JournalEntry) -> tuple[str, str]:
    """The reminder e-mail. No health information: neither the entry's words nor the session;
    only a link to the entry in the portal, behind the patient's sign-in."""
    url = settings.SITE_URL + reverse("portal:journal_entry", args=[entry.uuid])
    subject = f"{settings.CLINIC_NAME}: the reminder you asked for"
    body = (
        "Hello,\n\n"
        "You asked us to remind you to come back to your journal. Whenever you are ready, "
        f"you can sign in and continue here:\n\n{url}\n\n"
        "If you did not expect this e-mail, you can ignore it. Please do not reply with "
        "anything personal: this mailbox is not watched around the clock.\n"
    )
    return subject, body


def journal_reminders_send(*, now: datetime.datetime | None = None) -> int:
    """Queue the "remind me to reflect later" e-mails that are due: each entry's reminder once
    at its `remind_at`. Returns how many were queued. Safe to run twice at once: a reminder is
    claimed by a conditional update before its e-mail is written, in one transaction. Run every
    15 minutes (`manage.py send_journal_reminders`); the worker delivers through the outbox."""
    now = now or timezone.now()
    due = list(
        JournalEntry.objects.filter(
            remind_at__isnull=False, remind_at__lte=now, reminder_sent_at__isnull=True
        ).values_list("pk", "remind_at")
    )
    queued = 0
    for pk, remind_at in due:
        with transaction.atomic():
            claimed = JournalEntry.objects.filter(
                pk=pk, remind_at=remind_at, reminder_sent_at__isnull=True
            ).update(reminder_sent_at=now)
            if not claimed:
                continue  # another run sent it, or the patient changed the time meanwhile
            entry = JournalEntry.objects.select_related("patient__user").get(pk=pk)
            patient = entry.patient
            address = patient_email(patient) if patient.is_active else ""
            notification = None
            if address:
                subject, body = reminder_text(entry)
                notification = notification_queue(
                    to_email=address, patient_id=patient.pk, subject=subject, body=body
                )
                JournalEntry.objects.filter(pk=pk).update(reminder_notification=notification)
                queued += 1
            audit_record(
                actor=None,
                action=AuditAction.CREATE,
                object_type="journal_reminder",
                object_id=entry.uuid,
                patient=patient,
                summary="Journal reminder "
                + ("queued" if notification else "not sent: no e-mail address or inactive record"),
            )
    return queued
