"""`manage.py restore FILE [--force]`: a backup into the database, audited, then verified with
`verify_integrity`. An empty database only, unless --force (docs/operations.md)."""

from __future__ import annotations

from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from clinic.core.backup import database_restore
from clinic.core.exceptions import Conflict
from clinic.core.request_context import RequestContext, request_context


class Command(BaseCommand):
    help = "Restore a backup made by `manage.py backup` into an empty database (or --force)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The backup file.")
        parser.add_argument(
            "--force", action="store_true", help="Replace what the database holds already."
        )
        parser.add_argument("--database", default="default", help="Database alias.")

    def handle(self, *args, **options):
        with request_context(RequestContext(channel="command")):
            try:
                backup = database_restore(
                    path=Path(options["file"]), force=options["force"], using=options["database"]
                )
            except Conflict as error:
                raise CommandError(error.message) from error
        self.stdout.write(f"Restored {backup.path} (sha256 {backup.sha256})")
        call_command("verify_integrity", database=options["database"], stdout=self.stdout)
