"""No main page reads a large table by scanning it whole (issue 14, "Fast at that size").

Each page in PAGES is loaded once with the test client over a small demo clinic
(`seed_demo --patients 3`: staff, care teams, screening, questionnaires, today's appointments,
stock); every SELECT it makes is captured and planned again with
`EXPLAIN (FORMAT JSON)` under `SET LOCAL enable_seqscan = off`. With sequential scans
discouraged the planner takes any index that can serve the query, so a Seq Scan that remains
on a table in LARGE_TABLES means that no index can: at 10,000 patients and a million vitals
that query reads the whole table on every page load. The failure names the page, the table
and the query.

PostgreSQL only (plans are PostgreSQL's): skipped on SQLite. To cover another page, add a
line to PAGES; to watch another table, add its model to LARGE_TABLES.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db]

# Tables that grow with the clinic's size or with its years of history.
LARGE_TABLES = (
    "patients.Patient",
    "patients.CareTeamMember",
    "patients.BodyMeasurement",
    "scheduling.Appointment",
    "scheduling.AppointmentReminder",
    "treatment_sessions.TreatmentSession",
    "treatment_sessions.VitalsEntry",
    "treatment_sessions.DoseAdministration",
    "treatment_sessions.InfusionEvent",
    "treatment_sessions.SessionAlert",
    "treatment_sessions.SessionScore",
    "treatment_sessions.SideEffect",
    "treatment_sessions.PrescriberRequest",
    "assessments.AssessmentResponse",
    "assessments.SuicidalityAlert",
    "assessments.QuestionnaireLink",
    "controlled_substances.LedgerEntry",
    "controlled_substances.Container",
    "core.AuditEvent",
    "journal.JournalEntry",
    "home_program.HomeSessionLog",
    "protocols.TreatmentPlan",
    "protocols.PlannedSession",
    "screening.ConsultationRequest",
    "screening.Intake",
    "screening.EligibilityDecision",
    "notifications.Notification",
    "billing.Charge",
    "billing.ChargeLine",
)


@dataclass(frozen=True)
class Page:
    name: str
    username: str  # a seed_demo staff account
    path: Callable[[dict], str]  # from the demo's objects (see `demo_objects`)


# The main pages: the one list to extend (scripts/explain_pages.py reads it too).
PAGES = (
    Page("prescriber's home (my patients, due questionnaires)", "prescriber", lambda o: "/"),
    Page("nurse's home", "nurse", lambda o: "/"),
    Page("clinic admin's home", "admin", lambda o: "/"),
    Page("front desk's home", "frontdesk", lambda o: "/"),
    Page("billing's home (the queue)", "billing", lambda o: "/"),
    Page("therapist's home", "therapist", lambda o: "/"),
    Page("patient list (care team)", "prescriber", lambda o: "/patients/"),
    Page("patient list (directory)", "frontdesk", lambda o: "/patients/"),
    Page("patient search", "frontdesk", lambda o: "/patients/?q=" + o["patient"].legal_family_name),
    Page("patient chart", "prescriber", lambda o: f"/patients/{o['patient'].uuid}/"),
    Page("in-basket", "prescriber", lambda o: "/in-basket/"),
    Page("in-basket badge (polled)", "nurse", lambda o: "/in-basket/count/"),
    Page("chair board", "nurse", lambda o: "/sessions/board/"),
    Page("day list", "nurse", lambda o: "/sessions/"),
    Page("REMS due list", "nurse", lambda o: "/sessions/rems/"),
    Page("calendar", "frontdesk", lambda o: "/schedule/"),
    Page("controlled-substance inventory (balances)", "admin", lambda o: "/controlled-substances/"),
    Page("controlled-substance ledger", "admin", lambda o: "/controlled-substances/ledger/"),
    Page("API: patient list", "prescriber", lambda o: "/api/v1/patients"),
    Page("API: a patient", "prescriber", lambda o: f"/api/v1/patients/{o['patient'].uuid}"),
    Page(
        "API: a patient's assessments",
        "prescriber",
        lambda o: f"/api/v1/patients/{o['patient'].uuid}/assessments",
    ),
)


def large_tables() -> set[str]:
    return {apps.get_model(label)._meta.db_table for label in LARGE_TABLES}


def seq_scans(plan: dict) -> list[str]:
    """The relations a plan (EXPLAIN FORMAT JSON, one node) reads with a Seq Scan."""
    found = []
    if plan.get("Node Type") == "Seq Scan":
        found.append(plan["Relation Name"])
    for child in plan.get("Plans", []):
        found.extend(seq_scans(child))
    return found


def explain(sql: str) -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        try:
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
            raw = cursor.fetchone()[0]
        finally:
            cursor.execute("SET LOCAL enable_seqscan = on")
    document = json.loads(raw) if isinstance(raw, str) else raw
    return document[0]["Plan"]


@pytest.fixture
def demo_objects(db):
    from clinic.patients.models import Patient

    call_command("seed_demo", patients=3, stdout=StringIO(), stderr=StringIO())
    patient = (
        Patient.objects.filter(care_team_members__staff__username="prescriber")
        .order_by("pk")
        .first()
    )
    assert patient is not None, "seed_demo gives the prescriber a care team"
    return {"patient": patient}


def test_main_pages_read_large_tables_through_indexes(client, demo_objects):
    from clinic.accounts.models import User

    large = large_tables()
    problems = []
    for page in PAGES:
        client.force_login(User.objects.get(username=page.username))
        path = page.path(demo_objects)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        assert response.status_code == 200, f"{page.name}: {path} answered {response.status_code}"
        for query in captured.captured_queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            for table in seq_scans(explain(sql)):
                if table in large:
                    problems.append(f"{page.name} ({path}): Seq Scan on {table}\n    {sql}")
    assert not problems, (
        "Main pages read large tables with no usable index (add the index, or bound the "
        "query):\n" + "\n".join(problems)
    )
