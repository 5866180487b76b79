"""The primary and, where one is configured, a read replica (`DATABASE_REPLICA_URL`).

The primary ("default") is the one source of truth: every write goes there, and so does every
read unless the code asks for the replica by name. Only reads that tolerate a replica's lag
(seconds) and never follow a write of the same request ask: the controlled-substance exports
and the audit-trail export, through `reporting_database()`. A page that shows what its user
has just saved never reads from the replica.

Without `DATABASE_REPLICA_URL` there is no "replica" alias, `reporting_database()` names the
primary and this router is not installed (docs/production.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

REPLICA_DB_ALIAS = "replica"


def reporting_database() -> str:
    """The alias reports and exports read from: the replica if configured, else the primary."""
    return getattr(settings, "REPORTING_DATABASE", DEFAULT_DB_ALIAS)


class PrimaryReplicaRouter:
    """Writes always go to the primary (even for an object that was read from the replica);
    reads go where the query says (`.using(...)`), else to the primary. Django follows an
    object's relations on the database it was read from, so a report's related rows come from
    the replica too. Migrations run on the primary only: the replica copies them."""

    def db_for_read(self, model, **hints) -> str | None:
        # No opinion: Django then reads where the instance came from, else the primary.
        return None

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        both = {obj1._state.db, obj2._state.db}
        if both <= {DEFAULT_DB_ALIAS, REPLICA_DB_ALIAS, None}:
            return True  # the same data: the replica is a copy of the primary
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS
