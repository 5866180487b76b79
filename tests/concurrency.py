"""Running the same work in several threads at once, for the PostgreSQL race tests."""

from __future__ import annotations

import io
import threading

from django.core.management import CommandError, call_command
from django.db import connection


def in_threads(count, work):
    """`work(index)` in `count` threads released together; the results (or the exceptions
    raised) in index order, for the test to assert. Each thread closes its own connection.
    Afterwards `manage.py verify_integrity` must pass: concurrent writers never fork the audit
    trail's or the ledger's hash chain, nor leave a balance that differs from its ledger."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index):
        try:
            barrier.wait(timeout=10)
            results[index] = work(index)
        except Exception as error:  # collected and asserted by the test
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    integrity_verified()
    return results


def integrity_verified() -> None:
    out = io.StringIO()
    try:
        call_command("verify_integrity", stdout=out)
    except CommandError as error:
        raise AssertionError(f"{error}\n{out.getvalue()}") from error
