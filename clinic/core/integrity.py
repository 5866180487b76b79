"""Tamper evidence for the append-only tables: a hash chain, and the checks that walk it.

Each chained row stores `digest` = SHA-256(previous row's digest, a line break, the row's
canonical content). Changing, removing or inserting a row anywhere in the past breaks every
later link, and `manage.py verify_integrity` names the first broken one. The triggers stop
UPDATE and DELETE; the chain shows it if someone got round them (a superuser who disabled a
trigger, a file edited on disk, a restore from a doctored backup).

Chain appends are serialised, or two writers would both link to the same previous row and fork
the chain: on PostgreSQL by a transaction-level advisory lock, on SQLite by the database's one
write lock (settings open every transaction IMMEDIATE). One lock serves every chain, so two
chains appended in either order in one transaction cannot deadlock each other. The lock is
held to the end of the writer's transaction: chained writes queue, one at a time.

A model joins by listing `chained_fields` (its canonical content, frozen: a field added later
is not in old rows' digests) and calling `chain_seal(self)` in `save()` for a new row. A model
that appends several rows at once (the audit trail, one batch per request) seals them with
`chain_seal_batch` under the same lock and inserts them in that order in one statement; plain
`bulk_create` stays refused on chained tables. Other
apps add their own checks (the ledger's balances) with `integrity_check_register`.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, models, router

GENESIS = "0" * 64
# pg_advisory_xact_lock takes a bigint: any fixed number that no other lock in the clinic uses.
CHAIN_LOCK_KEY = 7_290_431_117_004_213


def _canonical_value(field: models.Field, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(field, models.DateTimeField):
        return value.astimezone(datetime.UTC).isoformat()
    if isinstance(field, models.DecimalField):
        places = Decimal(1).scaleb(-(field.decimal_places or 0))
        return format(Decimal(str(value)).quantize(places), "f")
    if isinstance(field, models.JSONField):
        # As the database will give it back: JSON in, JSON out.
        return json.loads(json.dumps(value, cls=field.encoder or DjangoJSONEncoder))
    if isinstance(field, models.GenericIPAddressField):
        return field.get_prep_value(value) or None
    if isinstance(field, models.BooleanField):
        return bool(value)
    if isinstance(field, models.IntegerField | models.AutoField | models.ForeignKey):
        return int(value)
    return str(value)


def chained(model: type[models.Model], names: Sequence[str] | None = None) -> list[models.Field]:
    """The fields of a row's chained content (the model's own list unless `names` is given, as
    a migration does with its frozen list)."""
    names = model.chained_fields if names is None else names  # type: ignore[attr-defined]
    return [model._meta.get_field(name) for name in names]  # type: ignore[misc]


def canonical(fields: Sequence[models.Field], values: Callable[[models.Field], Any]) -> str:
    """The row's content as one line of JSON: each chained field by name, normalised so the
    values written and the values read back give the same text."""
    content = {field.name: _canonical_value(field, values(field)) for field in fields}
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def chain_digest(previous: str, content: str) -> str:
    return hashlib.sha256(f"{previous}\n{content}".encode()).hexdigest()


def instance_content(instance: models.Model) -> str:
    return canonical(chained(type(instance)), lambda field: field.value_from_object(instance))


def chain_lock(using: str) -> None:
    """Queue behind any other chain append until this transaction ends."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
    # SQLite: every transaction begins IMMEDIATE and holds the only write lock already.


def chain_seal(instance: models.Model, using: str | None = None) -> None:
    """Set a new row's digest from the chain's last row. Call inside a transaction, just
    before the insert, so that the lock covers both."""
    model = type(instance)
    using = using or router.db_for_write(model, instance=instance)
    chain_lock(using)
    previous = (
        model._base_manager.using(using).order_by("-pk").values_list("digest", flat=True).first()
    )
    instance.digest = chain_digest(previous or GENESIS, instance_content(instance))  # type: ignore[attr-defined]


def chain_seal_batch(instances: Sequence[models.Model], using: str | None = None) -> None:
    """Set the digests of several new rows of one model, linked in the order given (the order
    they must then be inserted in, in one statement), from the chain's last row. The sanctioned
    batch path: call inside a transaction, just before the one multi-row insert, so that the
    lock covers both, exactly as `chain_seal` does for one row."""
    if not instances:
        return
    model = type(instances[0])
    if any(type(instance) is not model for instance in instances):
        raise TypeError("A sealed batch holds rows of one model.")
    using = using or router.db_for_write(model, instance=instances[0])
    chain_lock(using)
    previous = (
        model._base_manager.using(using).order_by("-pk").values_list("digest", flat=True).first()
    ) or GENESIS
    for instance in instances:
        previous = chain_digest(previous, instance_content(instance))
        instance.digest = previous  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class Problem:
    check: str  # the table or check that failed
    row_id: object
    expected: str
    found: str

    def __str__(self) -> str:
        return f"{self.check}: row {self.row_id}: expected {self.expected}, found {self.found}"


def chained_models() -> list[type[models.Model]]:
    return sorted(
        (model for model in apps.get_models() if hasattr(model, "chained_fields")),
        key=lambda model: model._meta.db_table,
    )


def _reader(values: dict[str, Any]) -> Callable[[models.Field], Any]:
    return lambda field: values[field.attname]


def _walk(
    model: type[models.Model], using: str, names: Sequence[str] | None = None
) -> Iterator[tuple[Any, str, str]]:
    """Each row in chain order: its id, the digest it should have, the digest it has."""
    fields = chained(model, names)
    columns = ["pk", "digest", *(field.attname for field in fields)]
    previous = GENESIS
    query = model._base_manager.using(using).order_by("pk").values_list(*columns)
    for row in query.iterator(chunk_size=2000):
        values: dict[str, Any] = dict(zip(columns, row, strict=True))
        expected = chain_digest(previous, canonical(fields, _reader(values)))
        yield values["pk"], expected, values["digest"]
        # Later links are checked against what they should follow, so only the first break
        # is reported, not every row after it.
        previous = expected


def chain_verify(model: type[models.Model], using: str = "default") -> tuple[int, Problem | None]:
    """Walk one chain in row order; the number of rows and the first broken link, if any."""
    rows = 0
    for row_id, expected, found in _walk(model, using):
        rows += 1
        if found != expected:
            return rows, Problem(model._meta.db_table, row_id, expected, found or "(no digest)")
    return rows, None


def chain_backfill(model: type[models.Model], names: Sequence[str], using: str) -> int:
    """Give every row its digest, in order (a data migration, with the triggers lifted)."""
    table = connections[using].ops.quote_name(model._meta.db_table)
    rows = 0
    with connections[using].cursor() as cursor:
        for row_id, expected, found in list(_walk(model, using, names)):
            rows += 1
            if found != expected:
                # The table's name is the model's own, quoted; the values are parameters.
                update = f"UPDATE {table} SET digest = %s WHERE id = %s"  # noqa: S608
                cursor.execute(update, [expected, row_id])
    return rows


IntegrityCheck = Callable[[str], Iterator[Problem]]
_checks: dict[str, IntegrityCheck] = {}


def integrity_check_register(name: str, check: IntegrityCheck) -> None:
    """Another app's invariant for `verify_integrity` (called from its AppConfig.ready)."""
    _checks[name] = check


def integrity_checks() -> dict[str, IntegrityCheck]:
    return dict(_checks)
