"""The seeded history's session records, signed as a clinic signs them: every session that
ended more than `UNSIGNED_DAYS` before the seed's day carries its prescriber's signature over
the record `session_content` builds (the signing service's own content and digest), so the
prescribers' "sessions to sign" holds the last days' sessions, as in a working clinic, not
three years of them.

Sessions are read back a thousand at a time with everything the record names prefetched,
then written in one bulk update per batch: the service's lock and audit event per signature
belong to a person signing, not to a bulk load (the seed's one summary audit event says so).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db.models import Prefetch

from clinic.treatment_sessions.models import TreatmentSession
from clinic.treatment_sessions.services.signature import content_sha256
from clinic.treatment_sessions.state import SIGNED_RECORD_PREFETCH, session_content

# Sessions that ended within this many days of the seed's day are left for the prescriber.
UNSIGNED_DAYS = 2
BATCH = 1000


@dataclass(frozen=True)
class Signature:
    session_id: int
    prescriber_id: int
    signed_at: datetime.datetime


def _prefetches() -> list[Prefetch]:
    prefetches = []
    for name, joined in SIGNED_RECORD_PREFETCH:
        related = TreatmentSession._meta.get_field(name).related_model
        prefetches.append(Prefetch(name, queryset=related.objects.select_related(*joined)))  # type: ignore[union-attr]
    return prefetches


def sign_sessions(
    signatures: Sequence[Signature], progress: Callable[[str, int], None] | None = None
) -> int:
    """Sign these sessions; returns how many were signed."""
    by_session = {s.session_id: s for s in signatures}
    ids = sorted(by_session)
    prefetches = _prefetches()
    done = 0
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        sessions = list(
            TreatmentSession.objects.filter(pk__in=batch)
            .select_related("patient")
            .prefetch_related(*prefetches)
        )
        for session in sessions:
            signature = by_session[session.pk]
            content = session_content(session)
            session.signed_content = content
            session.signed_sha256 = content_sha256(content)
            session.signed_at = signature.signed_at
            session.signed_by_id = signature.prescriber_id
        TreatmentSession.objects.bulk_update(
            sessions, ["signed_content", "signed_sha256", "signed_at", "signed_by"], batch_size=250
        )
        done += len(sessions)
        if progress and (done % 10_000 < BATCH or done == len(ids)):
            progress("session records signed", done)
    return done
