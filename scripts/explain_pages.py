"""EXPLAIN ANALYZE the queries of the main pages against a real (large) database.

    DATABASE_URL=postgres://…/ketacare_bench DEBUG=1 REQUIRE_STAFF_2FA=0 \
        .venv/bin/python scripts/explain_pages.py [--top 3] [--page "chart"]

Loads each page of tests/test_query_plans.py's PAGES (the one list of main pages) once as
its user with Django's test client, captures its SELECTs and runs each with
`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`: prints per page the number of queries, their total
execution time and the slowest ones with every Seq Scan (table, rows) in their plans. This is
how the indexes of issue 14 were found; rerun it after a change to see the effect. It reads
only (a SELECT under EXPLAIN ANALYZE runs, but changes nothing) — though loading a page writes
its audit events, as any page load does.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--top", type=int, default=3, help="slowest queries shown per page")
    parser.add_argument("--page", default="", help="only pages whose name contains this")
    parser.add_argument("--sql", action="store_true", help="print the SQL of the slowest queries")
    options = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from clinic.accounts.models import User
    from clinic.patients.models import Patient
    from tests.test_query_plans import PAGES

    setup_test_environment()  # the test client's host, "testserver", is allowed
    prescriber = User.objects.get(username="prescriber")
    patient = Patient.objects.filter(care_team_members__staff=prescriber).order_by("-pk").first()
    objects = {"patient": patient}
    for page in PAGES:
        if options.page and options.page not in page.name:
            continue
        client = Client()
        client.force_login(User.objects.get(username=page.username))
        path = page.path(objects)
        client.get(path, secure=True)  # warm-up
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path, secure=True)
        timings = []
        for query in captured.captured_queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql)
                raw = cursor.fetchone()[0]
            document = (json.loads(raw) if isinstance(raw, str) else raw)[0]
            scans = [
                f"Seq Scan {node['Relation Name']} ({node.get('Actual Rows', 0)} rows "
                f"of {node.get('Plan Rows', 0)} est., removed "
                f"{node.get('Rows Removed by Filter', 0)})"
                for node in _nodes(document["Plan"])
                if node["Node Type"] == "Seq Scan"
            ]
            timings.append((document["Execution Time"], sql, scans))
        total = sum(t for t, _, _ in timings)
        print(
            f"\n## {page.name}  {path}  status {response.status_code}  "
            f"{len(captured.captured_queries)} queries, {total:.1f} ms in SELECTs"
        )
        for took, sql, scans in sorted(timings, key=lambda item: -item[0])[: options.top]:
            print(f"  {took:8.2f} ms  {sql[:160] if not options.sql else sql}")
            for scan in scans:
                print(f"             {scan}")


if __name__ == "__main__":
    main()
