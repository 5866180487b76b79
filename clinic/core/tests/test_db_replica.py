"""The exports on a real read replica (PostgreSQL): with `DATABASE_REPLICA_URL` the
controlled-substance exports and the audit-trail export read the ledger and the trail through
the read-only "replica" connection, and their own audit events still reach the primary.

The test settings give PostgreSQL runs a "replica" alias on the test database, opened
read-only as production opens it (config/settings_test.py); rows are committed
(transactional test) so that the second connection sees them.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import InternalError, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.accounts.models import User
from clinic.controlled_substances import services
from clinic.controlled_substances.models import LedgerEntry, Receipt
from clinic.controlled_substances.tests.conftest import receive
from clinic.core.models import AuditEvent

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
]

REPORTS = ["receipts", "administrations", "administrations-named", "inventories"]


@pytest.fixture
def vials(prescriber):
    """Two sealed 100 mg vials (test figures, as in the ledger's own tests)."""
    product = services.product_create(
        actor=prescriber,
        name="Ketamine HCl 10 mg/mL, 10 mL vial",
        kind="racemic_ketamine_vial",
        strength_mg_per_ml=Decimal("10"),
        volume_ml=Decimal("10"),
        ndc="00000-0000-00",
    )
    return list(receive(prescriber, product).containers.order_by("pk"))


@pytest.fixture
def on_the_replica(settings):
    settings.REPORTING_DATABASE = "replica"
    yield
    connections["replica"].close()


def _tables_read(queries) -> str:
    """The SQL of the reads (a streamed export's SELECT sits in a DECLARE ... CURSOR)."""
    writes = ("INSERT", "UPDATE", "DELETE")
    return " ".join(q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith(writes))


@pytest.mark.parametrize("report", REPORTS)
def test_each_export_reads_the_ledger_from_the_replica(
    report, client, clinic_admin, nurse, prescriber, patient, vials, on_the_replica
):
    services.administration_record(
        actor=nurse, container=vials[0], patient=patient, drawn_mg="40", given_mg="40"
    )
    services.count_record(
        actor=prescriber,
        kind="initial",
        taken_at="close",
        lines={vials[0]: "60", vials[1]: "100"},
        witness=nurse,
    )
    client.force_login(clinic_admin)
    table = {
        "receipts": Receipt._meta.db_table,
        "administrations": LedgerEntry._meta.db_table,
        "administrations-named": LedgerEntry._meta.db_table,
        "inventories": "inventorycount",
    }[report]

    with (
        CaptureQueriesContext(connections["replica"]) as replica,
        CaptureQueriesContext(connections["default"]) as primary,
    ):
        response = client.get(reverse("controlled_substances:export", args=[report, "csv"]))

    assert response.status_code == 200
    assert table in _tables_read(replica.captured_queries)
    assert table not in _tables_read(primary.captured_queries)
    lines = response.content.decode().splitlines()
    assert len(lines) > 1  # the heading and the committed rows, read on the replica
    assert AuditEvent.objects.filter(action="export", object_type__startswith="cs_").exists()


def test_the_audit_trail_export_streams_from_the_replica(client, clinic_admin, on_the_replica):
    client.force_login(clinic_admin)
    with CaptureQueriesContext(connections["replica"]) as replica:
        response = client.post(reverse("core:audit_export"))
        body = b"".join(response.streaming_content).decode()
    assert AuditEvent._meta.db_table in _tables_read(replica.captured_queries)
    assert "clinic_admin" in body


def test_the_replica_connection_refuses_writes_and_a_row_read_there_saves_to_the_primary(
    clinic_admin,
):
    with pytest.raises(InternalError, match="read-only transaction"):
        User.objects.using("replica").filter(pk=clinic_admin.pk).update(first_name="Replica")
    connections["replica"].close()

    copy = User.objects.using("replica").get(pk=clinic_admin.pk)
    copy.first_name = "Primary"
    copy.save(update_fields=["first_name"])
    assert User.objects.get(pk=clinic_admin.pk).first_name == "Primary"
    connections["replica"].close()
