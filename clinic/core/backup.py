"""Backing up and restoring the whole database (`manage.py backup`, `manage.py restore`).

PostgreSQL goes through `pg_dump --format=custom` and `pg_restore`; SQLite through Python's
sqlite3 online backup API, which copies a consistent snapshot while the clinic keeps working.
A backup holds every patient's record: it is written readable by its owner only. A restore
refuses a database that already has tables unless forced, and is itself audited: the event is
written after the restore, so it is chained onto the restored trail.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess  # noqa: S404 — pg_dump and pg_restore, by absolute path, no shell
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connections

from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict

PG_DUMP = "/usr/bin/pg_dump"
PG_RESTORE = "/usr/bin/pg_restore"


@dataclass(frozen=True)
class BackupFile:
    path: Path
    sha256: str
    size: int


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def _owner_only():
    """Files created inside are readable by their owner only, from the first byte."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def _pg_env(settings: dict[str, Any]) -> dict[str, str]:
    env = {**os.environ}
    for key, name in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER")):
        if settings.get(key):
            env[name] = str(settings[key])
    if settings.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings["PASSWORD"])
    return env


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise Conflict(f"{Path(command[0]).name} failed: {result.stderr.strip()}", code="backup")


def database_backup(*, path: Path, using: str = "default") -> BackupFile:
    """Write a backup of the database to `path` (which must not exist), owner-only."""
    connection = connections[using]
    if path.exists():
        raise Conflict(f"{path} exists already: a backup never overwrites one.", code="backup")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with _owner_only():
        if connection.vendor == "postgresql":
            settings = connection.settings_dict
            _run(
                [PG_DUMP, "--format=custom", f"--file={path}", f"--dbname={settings['NAME']}"],
                _pg_env(settings),
            )
        elif connection.vendor == "sqlite":
            connection.ensure_connection()
            target = sqlite3.connect(path)
            try:
                connection.connection.backup(target)
                # A self-contained file: no write-ahead log beside it.
                target.execute("PRAGMA journal_mode=DELETE")
            finally:
                target.close()
        else:
            raise Conflict(f"No backup for a {connection.vendor} database.", code="backup")
    path.chmod(0o600)
    backup = BackupFile(path, file_sha256(path), path.stat().st_size)
    audit_record(
        actor=None,
        action=AuditAction.EXPORT,
        object_type="database_backup",
        summary=f"Database backed up to {path.name}",
        changes={"file": path.name, "sha256": backup.sha256, "bytes": backup.size},
    )
    return backup


def database_is_empty(using: str = "default") -> bool:
    connection = connections[using]
    with connection.cursor() as cursor:
        return not connection.introspection.table_names(cursor)


def database_restore(*, path: Path, force: bool = False, using: str = "default") -> BackupFile:
    """Restore the backup at `path` into the database, then audit the restore (chained)."""
    connection = connections[using]
    if not path.is_file():
        raise Conflict(f"No backup file at {path}.", code="restore")
    if not force and not database_is_empty(using):
        raise Conflict(
            "The database already has tables: restore into an empty database, or pass "
            "--force to replace what is there.",
            code="restore_not_empty",
        )
    backup = BackupFile(path, file_sha256(path), path.stat().st_size)
    if connection.vendor == "postgresql":
        settings = connection.settings_dict
        connection.close()  # pg_restore works in its own session
        command = [
            PG_RESTORE,
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={settings['NAME']}",
        ]
        if force:
            command += ["--clean", "--if-exists"]
        _run([*command, str(path)], _pg_env(settings))
    elif connection.vendor == "sqlite":
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            if source.execute("PRAGMA quick_check").fetchone() != ("ok",):
                raise Conflict(f"{path} is not a sound SQLite database.", code="restore")
            connection.ensure_connection()
            source.backup(connection.connection)
        except sqlite3.DatabaseError as error:
            raise Conflict(f"{path} is not an SQLite backup: {error}", code="restore") from error
        finally:
            source.close()
    else:
        raise Conflict(f"No restore for a {connection.vendor} database.", code="restore")
    audit_record(
        actor=None,
        action=AuditAction.UPDATE,
        object_type="database_restore",
        summary=f"Database restored from backup {path.name}" + (" (forced)" if force else ""),
        changes={"file": path.name, "sha256": backup.sha256, "bytes": backup.size, "forced": force},
    )
    return backup
