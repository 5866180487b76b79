"""Running the same work in several threads at once, for the PostgreSQL race tests."""

from __future__ import annotations

import threading

from django.db import connection


def in_threads(count, work):
    """`work(index)` in `count` threads released together; the results (or the exceptions
    raised) in index order, for the test to assert. Each thread closes its own connection."""
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
    return results
