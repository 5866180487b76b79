"""The hash chains over the audit trail and the ledger, and `manage.py verify_integrity`
(issue 13): every row links to the one before it, and a row changed, removed or slipped in
round the triggers is named (table, row id, expected against found digest), as is a container
whose balance differs from its ledger. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from contextlib import contextmanager

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from clinic.controlled_substances import services
from clinic.controlled_substances.models import LedgerEntry
from clinic.core.audit import audit_record
from clinic.core.integrity import GENESIS, chain_digest, instance_content
from clinic.core.models import AppendOnlyError, AuditEvent

pytestmark = pytest.mark.django_db


def verify() -> tuple[bool, str]:
    out = io.StringIO()
    try:
        call_command("verify_integrity", stdout=out)
    except CommandError as error:
        return False, out.getvalue() + str(error)
    return True, out.getvalue()


@contextmanager
def triggers_lifted(table: str):
    """What a tamperer with the database's owner rights would do (undone with the test's
    transaction)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Deferred foreign-key checks must run first: ALTER TABLE waits for no pending ones.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            yield cursor
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        else:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE tbl_name = %s", [table])
            triggers = [row for row in cursor.fetchall() if row[1] and "TRIGGER" in row[1]]
            for name, _sql in triggers:
                cursor.execute(f"DROP TRIGGER {name}")
            yield cursor
            for _name, sql in triggers:
                cursor.execute(sql)


@pytest.fixture
def ledger(nurse, patient, vials, prescriber):
    services.administration_record(
        actor=nurse, container=vials[0], patient=patient, drawn_mg="10", given_mg="10"
    )
    services.waste_record(
        actor=nurse, container=vials[1], quantity_mg="2", witness=prescriber, reason="Spilled"
    )
    return list(LedgerEntry.objects.order_by("pk"))


def test_each_row_links_to_the_one_before(ledger):
    for model in (AuditEvent, LedgerEntry):
        previous = GENESIS
        rows = list(model.objects.order_by("pk"))
        assert len(rows) >= 3
        for row in rows:
            assert row.digest == chain_digest(previous, instance_content(row))
            previous = row.digest


def test_a_clean_database_verifies(ledger):
    ok, out = verify()
    assert ok, out
    assert "core_auditevent: hash chain intact" in out
    assert "controlled_substances_ledgerentry: hash chain intact (4 rows)" in out
    assert "OK  ledger balances" in out


def test_a_changed_audit_event_is_named(ledger):
    victim = AuditEvent.objects.order_by("pk")[2]
    with triggers_lifted("core_auditevent") as cursor:
        cursor.execute(
            "UPDATE core_auditevent SET summary = %s WHERE id = %s", ["nothing here", victim.pk]
        )
    ok, out = verify()
    assert not ok
    assert f"BROKEN  core_auditevent: first broken link at row id {victim.pk}" in out
    assert f"found {victim.digest}" in out
    assert "Integrity check failed: 1 problem(s)" in out


def test_a_removed_audit_event_breaks_the_link_of_the_next(ledger):
    victim, following = AuditEvent.objects.order_by("pk")[1:3]
    with triggers_lifted("core_auditevent") as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [victim.pk])
    ok, out = verify()
    assert not ok and f"core_auditevent: first broken link at row id {following.pk}" in out


def test_a_changed_ledger_entry_is_named_with_the_balance_it_breaks(ledger):
    draw = ledger[2]  # the administration
    assert draw.kind == "administration"
    with triggers_lifted("controlled_substances_ledgerentry") as cursor:
        cursor.execute(
            "UPDATE controlled_substances_ledgerentry SET quantity_mg = -1, drawn_mg = 1, "
            "given_mg = 1 WHERE id = %s",
            [draw.pk],
        )
    ok, out = verify()
    assert not ok
    assert f"controlled_substances_ledgerentry: first broken link at row id {draw.pk}" in out
    assert f"balance_after_mg row id {draw.pk}: expected 99.000 mg" in out
    assert "found 90.000 mg" in out


def test_a_container_whose_balance_differs_from_its_ledger_is_named(ledger, vials):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE controlled_substances_container SET balance_mg = 100 WHERE id = %s",
            [vials[0].pk],
        )
    ok, out = verify()
    assert not ok
    assert (
        f"controlled_substances_container balance_mg row id {vials[0].pk}: "
        "expected 90.000 mg (the sum of its ledger entries), found 100.000 mg"
    ) in out
    assert "hash chain intact" in out  # the chains themselves are untouched


def test_rows_are_chained_one_at_a_time(nurse):
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_create([AuditEvent(action="view")])
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.bulk_create([])


def test_an_event_written_outside_a_transaction_is_chained_too(nurse):
    event = audit_record(actor=nurse, action="view", summary="outside", changes={"n": 1.5})
    event.refresh_from_db()
    assert len(event.digest) == 64
    assert verify()[0]
