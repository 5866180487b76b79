"""The database triggers that make a table append-only, for the migrations that install them.

UPDATE and DELETE are refused by row triggers on both databases. SQLite has one more way to
rewrite a row: `INSERT OR REPLACE` (and `REPLACE INTO`) deletes the row whose key it collides
with *without* firing delete triggers, then inserts its own. So on SQLite a BEFORE INSERT
trigger refuses an insert whose primary key or any unique key already exists. PostgreSQL has
no REPLACE; its upsert (`INSERT ... ON CONFLICT DO UPDATE`) is an UPDATE, which the update
trigger refuses.
"""

from __future__ import annotations


def sqlite_append_only(table: str, unique_keys: list[str]) -> list[str]:
    """Statements that (re)install the three triggers on `table`. `unique_keys` are SQL
    conditions over NEW, each true when the new row collides with an existing one
    (the primary key's is added here)."""
    message = f"'{table} is append-only'"
    collides = " OR ".join(
        # Table names and conditions are the migrations' own constants, never input.
        f"EXISTS (SELECT 1 FROM {table} WHERE {condition})"  # noqa: S608
        for condition in ["id = NEW.id", *unique_keys]
    )
    return [
        *sqlite_drop(table),
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, {message}); END;",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, {message}); END;",
        f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} WHEN {collides} "
        f"BEGIN SELECT RAISE(ABORT, {message}); END;",
    ]


def sqlite_drop(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_{name};"
        for name in ("no_update", "no_delete", "no_replace")
    ]


def postgres_toggle_update(table: str, *, enable: bool) -> str:
    """Lift (or put back) the update trigger around a data migration's backfill."""
    return f"ALTER TABLE {table} {'ENABLE' if enable else 'DISABLE'} TRIGGER {table}_no_update;"
