"""`manage.py backup` and `manage.py restore` (issue 13), end to end on the database the tests
run on (SQLite, or PostgreSQL with DATABASE_URL): the backup is owner-only; restored into an
empty scratch database (a file, or a PostgreSQL database named after the test database) it has
the same rows in every table, plus the restore's own audit event, chained; the append-only
triggers still refuse UPDATE, DELETE and REPLACE there; `verify_integrity` passes; and a
second restore into the now non-empty database is refused unless forced. The restore runs as
the clinic would run it: `manage.py` in its own process, pointed at the scratch database."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from clinic.controlled_substances import services

pytestmark = pytest.mark.django_db(transaction=True)

MANAGE = str(Path(settings.BASE_DIR) / "manage.py")
APPEND_ONLY = ["core_auditevent", "controlled_substances_ledgerentry"]


def _manage(url: str, *arguments: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1"}
    return subprocess.run(  # noqa: S603 — this repository's manage.py, no shell
        [sys.executable, MANAGE, *arguments], env=env, capture_output=True, text=True, check=False
    )


class Scratch:
    """An empty database beside the test database, reached with the driver itself."""

    def __init__(self, tmp_path: Path):
        self.vendor = connection.vendor
        if self.vendor == "postgresql":
            import psycopg

            source = connection.settings_dict
            self.name = f"{source['NAME']}_restore"
            self.params = {
                "host": source["HOST"] or "127.0.0.1",
                "port": source["PORT"] or 5432,
                "user": source["USER"],
                "password": source["PASSWORD"] or None,
            }
            self._admin = psycopg.connect(dbname="postgres", autocommit=True, **self.params)
            self._admin.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
            self._admin.execute(f'CREATE DATABASE "{self.name}"')
            password = f":{source['PASSWORD']}" if source["PASSWORD"] else ""
            self.url = (
                f"postgres://{source['USER']}{password}@{self.params['host']}:"
                f"{self.params['port']}/{self.name}"
            )
        else:
            self.path = tmp_path / "restored.sqlite3"
            self.url = f"sqlite:///{self.path}"

    def connect(self):
        if self.vendor == "postgresql":
            import psycopg

            return psycopg.connect(dbname=self.name, autocommit=True, **self.params)
        return sqlite3.connect(self.path, isolation_level=None)

    def drop(self) -> None:
        if self.vendor == "postgresql":
            self._admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            self._admin.close()


@pytest.fixture
def scratch(tmp_path):
    database = Scratch(tmp_path)
    yield database
    database.drop()


@pytest.fixture
def clinic_data(nurse, patient, vials, prescriber):
    services.administration_record(
        actor=nurse, container=vials[0], patient=patient, drawn_mg="40", given_mg="35"
    )
    given = services.administration_record(
        actor=nurse, container=vials[1], patient=patient, drawn_mg="10", given_mg="10"
    )
    services.entry_reverse(actor=nurse, entry=given, reason="Recorded twice")


def _counts(cursor, tables: list[str]) -> dict[str, int]:
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608 — introspected names
        counts[table] = cursor.fetchone()[0]
    return counts


def _refuses(target, statement: str) -> bool:
    try:
        target.execute(statement)
    except Exception:  # sqlite3 and psycopg raise their own errors; either means refused
        return True
    return False


def test_a_backup_restores_whole_into_an_empty_database(clinic_data, scratch, tmp_path):
    with connection.cursor() as cursor:
        tables = sorted(connection.introspection.table_names(cursor))
        before = _counts(cursor, tables)
    backup = tmp_path / "backups" / "clinic.backup"

    call_command("backup", output=str(backup), stdout=open(os.devnull, "w"))  # noqa: SIM115

    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    restored = _manage(scratch.url, "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    assert "Integrity verified." in restored.stdout

    verified = _manage(scratch.url, "verify_integrity")
    assert verified.returncode == 0, verified.stdout + verified.stderr

    refused = _manage(scratch.url, "restore", str(backup))
    assert refused.returncode != 0
    assert "already has tables" in refused.stderr
    forced = _manage(scratch.url, "restore", "--force", str(backup))
    assert forced.returncode == 0, forced.stderr
    assert "Integrity verified." in forced.stdout

    target = scratch.connect()
    try:
        cursor = target.cursor()
        after = _counts(cursor, tables)
        # Every table as it was; the audit trail has one event more: the (last) restore itself.
        assert {t: n for t, n in after.items() if t != "core_auditevent"} == {
            t: n for t, n in before.items() if t != "core_auditevent"
        }
        assert after["core_auditevent"] == before["core_auditevent"] + 1
        cursor.execute("SELECT object_type, summary FROM core_auditevent ORDER BY id DESC")
        assert cursor.fetchone() == (
            "database_restore",
            "Database restored from backup clinic.backup (forced)",
        )

        # The append-only triggers came back with the tables.
        for table in APPEND_ONLY:
            assert _refuses(target, f"UPDATE {table} SET digest = 'x'")  # noqa: S608
            assert _refuses(target, f"DELETE FROM {table}")  # noqa: S608
            if scratch.vendor == "sqlite":
                assert _refuses(
                    target,
                    f"INSERT OR REPLACE INTO {table} SELECT * FROM {table} "  # noqa: S608
                    f"WHERE id = (SELECT MIN(id) FROM {table})",
                )
        assert _counts(target.cursor(), APPEND_ONLY) == {t: after[t] for t in APPEND_ONLY}
    finally:
        target.close()


def test_a_backup_never_overwrites_a_file(clinic_data, tmp_path):
    existing = tmp_path / "taken"
    existing.write_text("keep me")
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="exists already"):
        call_command("backup", output=str(existing))
    assert existing.read_text() == "keep me"
