"""The read replica (clinic/core/db_router.py): what reads from it, and that writes never do.

The settings that build the "replica" alias from DATABASE_REPLICA_URL are tested by starting
the settings module with and without it (clinic/core/tests/test_settings_scale_out.py).
"""

from __future__ import annotations

import pytest
from django.db import DEFAULT_DB_ALIAS
from django.db.utils import ConnectionDoesNotExist
from django.urls import reverse

from clinic.accounts.models import User
from clinic.controlled_substances import selectors as ledger
from clinic.controlled_substances.selectors import Period
from clinic.core.db_router import PrimaryReplicaRouter, reporting_database
from clinic.locations.models import default_location

ROUTER = PrimaryReplicaRouter()


def _read_from(alias: str) -> User:
    user = User(username="someone")
    user._state.db = alias
    user._state.adding = False
    return user


def test_without_a_replica_reports_read_the_primary():
    # The test settings, like the demo, configure no DATABASE_REPLICA_URL.
    assert reporting_database() == DEFAULT_DB_ALIAS


def test_reports_read_the_replica_when_one_is_configured(settings):
    settings.REPORTING_DATABASE = "replica"
    assert reporting_database() == "replica"


def test_every_write_goes_to_the_primary_even_for_a_row_read_from_the_replica():
    assert ROUTER.db_for_write(User) == DEFAULT_DB_ALIAS
    assert ROUTER.db_for_write(User, instance=_read_from("replica")) == DEFAULT_DB_ALIAS


def test_reads_go_where_the_query_says_and_otherwise_to_the_primary():
    # No opinion: Django reads related rows from the database the object came from (so a
    # report's related rows come from the replica) and everything else from the primary.
    assert ROUTER.db_for_read(User) is None
    assert ROUTER.db_for_read(User, instance=_read_from("replica")) is None


def test_migrations_run_on_the_primary_only():
    assert ROUTER.allow_migrate(DEFAULT_DB_ALIAS, "patients") is True
    assert ROUTER.allow_migrate("replica", "patients") is False


def test_rows_from_the_primary_and_the_replica_may_be_related():
    assert ROUTER.allow_relation(_read_from("default"), _read_from("replica")) is True
    assert ROUTER.allow_relation(_read_from("default"), _read_from("elsewhere")) is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "selector",
    [
        ledger.receipts_for_export,
        ledger.administration_log_for_export,
        ledger.administration_log_for_export_named,
        ledger.counts_for_export,
    ],
)
def test_the_controlled_substance_exports_read_the_reporting_database(
    selector, clinic_admin, settings
):
    here = default_location()
    assert selector(actor=clinic_admin, period=Period(), location=here).db == DEFAULT_DB_ALIAS
    settings.REPORTING_DATABASE = "replica"
    assert selector(actor=clinic_admin, period=Period(), location=here).db == "replica"


@pytest.mark.django_db
def test_the_audit_trail_export_reads_the_reporting_database(client, clinic_admin, settings):
    # Named an alias that does not exist, the export fails to find it: it reads through the
    # reporting database (with the primary, test_views.py has it download; on PostgreSQL,
    # test_db_replica.py streams it from a real read-only replica connection).
    client.force_login(clinic_admin)
    settings.REPORTING_DATABASE = "nowhere"
    with pytest.raises(ConnectionDoesNotExist):
        b"".join(client.post(reverse("core:audit_export")).streaming_content)
