"""Issue 13, defect 7: SQLite's INSERT OR REPLACE deletes the row it collides with without
firing the delete triggers. Every append-only table (the audit trail, the ledger, receipts,
counts and their lines) refuses it, whichever unique key the new row collides on; on
PostgreSQL the equivalent upsert (ON CONFLICT DO UPDATE) is an UPDATE and hits the update
trigger."""

# The SQL is built from the test's own table and column names: raw SQL is the point here.
# ruff: noqa: S608

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from clinic.controlled_substances import services
from clinic.core.audit import audit_record

pytestmark = pytest.mark.django_db

TABLES = [
    "core_auditevent",
    "controlled_substances_ledgerentry",
    "controlled_substances_receipt",
    "controlled_substances_inventorycount",
    "controlled_substances_inventorycountline",
]


@pytest.fixture
def records(nurse, patient, vials):
    services.administration_record(
        actor=nurse, container=vials[0], patient=patient, drawn_mg="10", given_mg="10"
    )
    services.count_record(actor=nurse, kind="daily", lines={vials[0]: "90", vials[1]: "100"})
    audit_record(actor=nurse, action="view", summary="a read")


def _columns(table: str) -> list[str]:
    with connection.cursor() as cursor:
        return [c.name for c in connection.introspection.get_table_description(cursor, table)]


def _snapshot(table: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} ORDER BY id")
        return cursor.fetchall()


def _refused(statement: str, table: str) -> None:
    before = _snapshot(table)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert _snapshot(table) == before


def _copy(table: str, *, new_id: bool) -> str:
    """A copy of the first row, with a changed text column where there is one, keeping its id
    (a collision on the primary key) or with a new id (a collision on its uuid)."""
    columns = _columns(table)
    select = []
    for column in columns:
        if column == "id":
            select.append("id + 100000" if new_id else "id")
        elif column in {"summary", "reason", "supplier_name", "note"}:
            select.append("'tampered'")
        else:
            select.append(column)
    listed = ", ".join(columns)
    first = f"(SELECT MIN(id) FROM {table})"
    return f"({listed}) SELECT {', '.join(select)} FROM {table} WHERE id = {first}"


@pytest.mark.skipif(connection.vendor != "sqlite", reason="INSERT OR REPLACE is SQLite's")
@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("new_id", [False, True], ids=["same id", "same uuid"])
@pytest.mark.parametrize("verb", ["INSERT OR REPLACE INTO", "REPLACE INTO"])
def test_sqlite_refuses_replace_on_every_append_only_table(records, table, new_id, verb):
    if new_id and table == "core_auditevent":
        pytest.skip("the audit trail's only unique key is its id")
    _refused(f"{verb} {table} {_copy(table, new_id=new_id)}", table)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="INSERT OR REPLACE is SQLite's")
def test_sqlite_refuses_replacing_the_initial_inventory_or_a_counted_line(records, nurse, vials):
    services.count_record(
        actor=nurse, kind="initial", taken_at="close", lines={vials[0]: "90", vials[1]: "100"}
    )
    table = "controlled_substances_inventorycount"
    columns = [c for c in _columns(table) if c not in {"id", "uuid"}]
    listed = ", ".join(columns)
    _refused(
        f"INSERT OR REPLACE INTO {table} (uuid, {listed}) SELECT 'x', {listed} FROM {table} "
        "WHERE kind = 'initial'",
        table,
    )
    table = "controlled_substances_inventorycountline"
    columns = [c for c in _columns(table) if c not in {"id", "uuid"}]
    listed = ", ".join(columns)
    _refused(
        f"INSERT OR REPLACE INTO {table} (uuid, {listed}) SELECT 'y', {listed} FROM {table} "
        f"WHERE id = (SELECT MIN(id) FROM {table})",
        table,
    )


@pytest.mark.parametrize("table", TABLES)
def test_an_upsert_is_an_update_and_is_refused(records, table):
    """PostgreSQL's (and SQLite's) ON CONFLICT DO UPDATE hits the update trigger."""
    column = next(
        c
        for c in ("summary", "reason", "supplier_name", "note", "counted_mg")
        if c in _columns(table)
    )
    statement = (
        f"INSERT INTO {table} {_copy(table, new_id=False)} "
        f"ON CONFLICT (id) DO UPDATE SET {column} = EXCLUDED.{column}"
    )
    _refused(statement, table)


@pytest.mark.parametrize("table", TABLES)
def test_a_plain_new_row_is_still_accepted(records, table):
    # The no-replace trigger refuses only a collision: an insert that collides with nothing
    # goes through, as services do (here a copy under a new id and uuid, undone by the test).
    columns = [c for c in _columns(table) if c not in {"id"}]
    select = ["'%s'" % ("0" * 32) if c == "uuid" else c for c in columns]
    if table == "controlled_substances_inventorycountline":
        pytest.skip("a line may be counted once per count: a copy would collide by design")
    if "reverses_id" in columns:
        select[columns.index("reverses_id")] = "NULL"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(select)} "
            f"FROM {table} WHERE id = (SELECT MIN(id) FROM {table})"
        )
        assert cursor.rowcount == 1
