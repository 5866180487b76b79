"""`manage.py backup [--output FILE]`: the whole database to one owner-only file (see
docs/operations.md for where to keep it and for how long)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from clinic.core.backup import database_backup
from clinic.core.exceptions import Conflict
from clinic.core.request_context import RequestContext, request_context


class Command(BaseCommand):
    help = "Back up the database (pg_dump, or SQLite's online backup) to an owner-only file."

    def add_arguments(self, parser):
        parser.add_argument("--output", help="The backup file (default: in BACKUP_DIR).")
        parser.add_argument("--database", default="default", help="Database alias.")

    def handle(self, *args, **options):
        using = options["database"]
        path = options["output"]
        if not path:
            suffix = (
                "dump" if settings.DATABASES[using]["ENGINE"].endswith("postgresql") else "sqlite3"
            )
            stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
            path = Path(settings.BACKUP_DIR) / f"ketacare-{stamp}.{suffix}"
        with request_context(RequestContext(channel="command")):
            try:
                backup = database_backup(path=Path(path), using=using)
            except Conflict as error:
                raise CommandError(error.message) from error
        self.stdout.write(f"Backed up to {backup.path} ({backup.size} bytes)")
        self.stdout.write(f"sha256 {backup.sha256}")
