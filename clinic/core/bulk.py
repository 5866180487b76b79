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

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connections, models, router, transaction
from django.utils import timezone

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
    statements = connection.ops.sequence_reset_sql(_NoStyle(), [model])  # type: ignore[arg-type]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


class _NoStyle:
    """`sequence_reset_sql` wants a colour style; plain text is enough."""

    def __getattr__(self, name):
        return lambda text: text


Row = models.Model | Mapping[str, Any]


def bulk_insert(
    model: type[models.Model],
    rows: Sequence[Row],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    using: str | None = None,
) -> int:
    """Insert rows that carry their own primary keys; returns how many.

    A row is a model instance, or a dict of column values by attribute name (`session_id`,
    not `session`) for the largest tables, where building instances costs more than the
    insert: a field left out takes its default (an `auto_now` field: now). On PostgreSQL the
    rows go in with COPY; elsewhere through `bulk_create` in batches."""
    if not rows:
        return 0
    using = using or router.db_for_write(model)
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("bulk_insert runs inside a transaction.")
    if connection.vendor == "postgresql":
        _copy(model, rows, connection)
    else:
        instances = [row if isinstance(row, models.Model) else model(**row) for row in rows]
        # The plain queryset: a model's own manager may refuse bulk_create for one-by-one
        # paths.
        queryset: models.QuerySet = models.QuerySet(model=model, using=using)
        for start in range(0, len(instances), batch_size):
            queryset.bulk_create(instances[start : start + batch_size], batch_size=batch_size)
    _sequence_catch_up(model, using)
    return len(rows)


def _copy(model: type[models.Model], rows: Sequence[Row], connection) -> None:
    from psycopg.types.json import Jsonb

    fields = list(model._meta.concrete_fields)
    now = timezone.now()
    first = rows[0]
    given = {field.attname for field in fields} if isinstance(first, models.Model) else set(first)
    defaults: dict[str, Any] = {}
    for field in fields:
        if field.attname in given:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            defaults[field.attname] = now
        elif field.has_default() and callable(field.default):
            raise ValueError(f"{model.__name__}.{field.name} must be given (its default varies).")
        else:
            defaults[field.attname] = field.get_default()
    json_fields = {field.attname for field in fields if isinstance(field, models.JSONField)}
    auto_now = {field.attname for field in fields if getattr(field, "auto_now", False)} & given
    names = [field.attname for field in fields]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    # The table and column names are the model's own, quoted; the values go by COPY.
    statement = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"

    def values(row: Row) -> tuple:
        if isinstance(row, models.Model):
            out = [getattr(row, name) for name in names]
        else:
            out = [row[name] if name in row else defaults[name] for name in names]
        for position, name in enumerate(names):
            if name in json_fields and out[position] is not None:
                out[position] = Jsonb(out[position])
            elif name in auto_now:
                out[position] = now
        return tuple(out)

    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(values(row))


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
