"""The session record's notes and signature: the nurse's note, the prescriber's signature
(content hashed and locked), addenda and the therapist's integration notes.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import Any

from django.db import transaction

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.core.audit import diff, snapshot
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, InvalidInput
from clinic.core.records import required_text
from clinic.treatment_sessions.models import (
    IntegrationNote,
    SessionAddendum,
    TreatmentSession,
)
from clinic.treatment_sessions.services._common import (
    ALL_PHASES,
    Precondition,
    _audit,
    _locked,
    _now,
)
from clinic.treatment_sessions.signals import session_signed
from clinic.treatment_sessions.state import session_content, sign_blockers


@transaction.atomic
def nurse_note_save(
    *,
    actor: User,
    session: TreatmentSession,
    text: str,
    now: datetime.datetime | None = None,
    precondition: Precondition | None = None,
) -> TreatmentSession:
    locked = _locked(
        actor, session, Capability.SESSION_RUN, phases=ALL_PHASES, precondition=precondition
    )
    before = snapshot(locked, ["nurse_note"])
    locked.nurse_note = required_text("text", text, "Write the session note.")
    if len(locked.nurse_note) > 20000:
        raise InvalidInput({"text": ["Keep the note under 20,000 characters."]})
    locked.nurse_note_by = actor
    locked.nurse_note_at = _now(now)
    locked.save()
    _audit(actor, locked, "Session note saved", diff(before, snapshot(locked, ["nurse_note"])))
    return locked


def content_sha256(content: Any) -> str:
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@transaction.atomic
def session_sign(
    *,
    actor: User,
    session: TreatmentSession,
    now: datetime.datetime | None = None,
    precondition: Precondition | None = None,
) -> TreatmentSession:
    """The prescriber signs: the record's content is hashed and locked. Refused (`cannot_sign`)
    while anything of `sign_blockers` stands, each said with what to do."""
    locked = _locked(actor, session, Capability.SESSION_SIGN, precondition=precondition)
    problems = sign_blockers(locked)
    if problems:
        raise Conflict(" ".join(problems), code="cannot_sign")
    content = session_content(locked)
    locked.signed_content = content
    locked.signed_sha256 = content_sha256(content)
    locked.signed_at = _now(now)
    locked.signed_by = actor
    locked.save()
    _audit(actor, locked, "Session record signed", {"sha256": locked.signed_sha256})
    session_signed.send(sender=TreatmentSession, session=locked, actor=actor)
    return locked


@transaction.atomic
def session_addendum_add(*, actor: User, session: TreatmentSession, text: str) -> SessionAddendum:
    """Add to a signed record (care-team prescribers and nurses)."""
    locked = _locked(actor, session, Capability.SESSION_RUN, signed_ok=True)
    if not locked.is_signed:
        raise Conflict("The record is not signed yet: edit the note instead.", code="not_signed")
    text = required_text("text", text, "Write the addendum.")
    addendum = SessionAddendum.objects.create(
        session=locked,
        text=text,
        author=actor,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
    )
    _audit(actor, locked, "Addendum added", action=AuditAction.CREATE)
    return addendum


@transaction.atomic
def integration_note_add(*, actor: User, session: TreatmentSession, text: str) -> IntegrationNote:
    """The therapist's integration note (after or around the session); notes are only added."""
    locked = _locked(actor, session, Capability.SESSION_INTEGRATION_NOTE, signed_ok=True)
    text = required_text("text", text, "Write the integration note.")
    if len(text) > 20000:
        raise InvalidInput({"text": ["Keep the note under 20,000 characters."]})
    note = IntegrationNote.objects.create(
        session=locked, text=text, author=actor, sha256=hashlib.sha256(text.encode()).hexdigest()
    )
    _audit(actor, locked, "Integration note added", action=AuditAction.CREATE)
    return note
