"""Writers racing to append to the audit trail and the ledger never fork either hash chain:
each append takes the chain lock (clinic/core/integrity.py), so every row links to the row
committed just before it. `in_threads` runs `verify_integrity` after the threads; this test
also checks the chain by hand. PostgreSQL only (SQLite serialises all writers)."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import transaction

from clinic.controlled_substances import services
from clinic.controlled_substances.models import LedgerEntry
from clinic.core.audit import audit_record
from clinic.core.integrity import GENESIS, chain_digest, instance_content
from clinic.core.models import AuditEvent
from clinic.patients.services import care_team_set
from tests.concurrency import in_threads

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _links_in_order(model) -> None:
    rows = list(model.objects.order_by("pk"))
    previous = GENESIS
    for row in rows:
        assert row.digest == chain_digest(previous, instance_content(row)), row.pk
        previous = row.digest
    assert len({row.digest for row in rows}) == len(rows)


def test_eight_writers_at_once_keep_both_chains_whole(
    make_staff, front_desk, prescriber, nurse, patient, vials
):
    nurses = [nurse, *(make_staff("nurse", username=f"racer{i}") for i in range(7))]
    care_team_set(actor=front_desk, patient=patient, primary_prescriber=prescriber, nurses=nurses)
    before = Counter(AuditEvent.objects.values_list("action", flat=True))

    def work(i):
        # Half draw from a vial (a ledger entry and its audit event in one transaction); the
        # other half write two audit events in one transaction.
        if i % 2 == 0:
            return services.administration_record(
                actor=nurses[i],
                container=vials[i % 4 // 2],
                patient=patient,
                drawn_mg="5",
                given_mg="5",
            )
        with transaction.atomic():
            audit_record(actor=nurses[i], action="view", summary=f"read {i}")
            return audit_record(actor=nurses[i], action="view", summary=f"read {i} again")

    results = in_threads(8, work)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert LedgerEntry.objects.filter(kind="administration").count() == 4
    after = Counter(AuditEvent.objects.values_list("action", flat=True))
    assert after["view"] - before["view"] >= 8
    _links_in_order(AuditEvent)
    _links_in_order(LedgerEntry)
