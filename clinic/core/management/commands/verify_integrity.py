"""`manage.py verify_integrity`: walk every hash chain (the audit trail, the controlled-substance
ledger) and every registered invariant (each container's balance against its ledger), name the
first broken link of each, and exit non-zero on any problem. Run it nightly (docs/operations.md).
It only reads: nothing it finds is repaired, and it writes no audit event."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from clinic.core.integrity import chain_verify, chained_models, integrity_checks


class Command(BaseCommand):
    help = "Verify the audit trail's and the ledger's hash chains and the ledger's balances."

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default", help="Database alias to check.")

    def handle(self, *args, **options):
        using = options["database"]
        problems = 0
        for model in chained_models():
            rows, problem = chain_verify(model, using)
            table = model._meta.db_table
            if problem is None:
                self.stdout.write(f"OK  {table}: hash chain intact ({rows} rows)")
            else:
                problems += 1
                self.stdout.write(
                    f"BROKEN  {table}: first broken link at row id {problem.row_id}: "
                    f"expected digest {problem.expected}, found {problem.found}"
                )
        for name, check in integrity_checks().items():
            found = list(check(using))
            if not found:
                self.stdout.write(f"OK  {name}")
            for problem in found:
                problems += 1
                self.stdout.write(
                    f"BROKEN  {name}: {problem.check} row id {problem.row_id}: "
                    f"expected {problem.expected}, found {problem.found}"
                )
        if problems:
            raise CommandError(f"Integrity check failed: {problems} problem(s), listed above.")
        self.stdout.write("Integrity verified.")
