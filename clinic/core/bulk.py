"""The sanctioned bulk path into tables: many rows in one INSERT per batch, for seeding and
imports, never for a clinical workflow (those go through the services, one audited row at a
time).

- `bulk_insert(model, rows)`: plain rows with their primary keys given (see `reserve_ids`),
  so rows in other tables can point at them before anything is written; on PostgreSQL the
  table's id sequence is moved past them afterwards.
- `chain_bulk_insert(model, rows)`: rows of a hash-chained, append-only table
  (clinic/core/integrity.py). Under the chain lock, each row's digest is computed from the
  chain's last row, in order, exactly as `chain_seal` does for one row, and the rows are then
  inserted in batches. The append-only triggers stay in place (they refuse UPDATE and DELETE,
  never INSERT), so nothing is lifted and `manage.py verify_integrity` holds afterwards.

Both must run inside a transaction (`transaction.atomic`), and the caller owns the ids it
reserved: nothing else may insert into those tables with explicit ids meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connections, models, router, transaction

from clinic.core.integrity import GENESIS, chain_digest, chain_lock, instance_content

DEFAULT_BATCH_SIZE = 5000


def reserve_ids(model: type[models.Model], count: int, using: str | None = None) -> int:
    """The first of `count` free ids after the table's highest (the caller numbers its new rows
    from it). Call in the transaction that inserts them."""
    using = using or router.db_for_write(model)
    highest = model._base_manager.using(using).aggregate(m=models.Max("pk"))["m"] or 0
    return highest + 1


def _sequence_catch_up(model: type[models.Model], using: str) -> None:
    connection = connections[using]
    if connection.vendor != "postgresql":
        return  # SQLite's AUTOINCREMENT follows the highest id inserted
    statements = connection.ops.sequence_reset_sql(_NoStyle(), [model])
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


class _NoStyle:
    """`sequence_reset_sql` wants a colour style; plain text is enough."""

    def __getattr__(self, name):
        return lambda text: text


def bulk_insert(
    model: type[models.Model],
    rows: Sequence[models.Model],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    using: str | None = None,
) -> int:
    """Insert rows that carry their own primary keys, in batches; returns how many."""
    if not rows:
        return 0
    using = using or router.db_for_write(model)
    if not connections[using].in_atomic_block:
        raise RuntimeError("bulk_insert runs inside a transaction.")
    # The plain queryset: a model's own manager may refuse bulk_create for one-by-one paths.
    queryset = models.QuerySet(model=model, using=using)
    for start in range(0, len(rows), batch_size):
        queryset.bulk_create(rows[start : start + batch_size], batch_size=batch_size)
    _sequence_catch_up(model, using)
    return len(rows)


def chain_bulk_insert(
    model: type[models.Model],
    rows: Sequence[models.Model],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    using: str | None = None,
) -> int:
    """Seal and insert new rows of a hash-chained table, in the order given, after the chain's
    last row. Each row must carry its primary key, higher than every existing row's and
    increasing in the order given (the chain's order is the id order): `reserve_ids`."""
    if not rows:
        return 0
    if not hasattr(model, "chained_fields"):
        raise TypeError(f"{model.__name__} is not a hash-chained table.")
    using = using or router.db_for_write(model)
    with transaction.atomic(using=using):
        chain_lock(using)
        last = model._base_manager.using(using).order_by("-pk").values_list("pk", "digest").first()
        previous_pk, previous = (last[0], last[1]) if last else (0, GENESIS)
        for row in rows:
            if row.pk is None or row.pk <= previous_pk:
                raise ValueError(
                    "Chained rows need ids above the chain's last row, in increasing order."
                )
            previous_pk = row.pk
            row.digest = chain_digest(previous, instance_content(row))  # type: ignore[attr-defined]
            previous = row.digest  # type: ignore[attr-defined]
        bulk_insert(model, rows, batch_size=batch_size, using=using)
    return len(rows)
