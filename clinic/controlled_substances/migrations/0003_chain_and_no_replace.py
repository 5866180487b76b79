"""The ledger's hash chain (clinic/core/integrity.py): a digest on every entry, backfilled in
order; and SQLite's INSERT OR REPLACE refused on every append-only table, as UPDATE and DELETE
are (issue 13). A REPLACE that collides on any unique key would delete the row it collides
with, so each table's unique keys are listed."""

from django.db import migrations, models

from clinic.core.integrity import chain_backfill
from clinic.core.triggers import postgres_toggle_update, sqlite_append_only, sqlite_drop

LEDGER = "controlled_substances_ledgerentry"
UNIQUE_KEYS = {
    LEDGER: ["uuid = NEW.uuid", "reverses_id = NEW.reverses_id"],
    "controlled_substances_receipt": ["uuid = NEW.uuid"],
    "controlled_substances_inventorycount": [
        "uuid = NEW.uuid",
        "(kind = 'initial' AND NEW.kind = 'initial')",
    ],
    "controlled_substances_inventorycountline": [
        "uuid = NEW.uuid",
        "(count_id = NEW.count_id AND container_id = NEW.container_id)",
    ],
}
# Frozen here as in LedgerEntry.chained_fields when this migration was written.
CHAINED = [
    "uuid",
    "recorded_at",
    "kind",
    "container",
    "occurred_at",
    "quantity_mg",
    "balance_after_mg",
    "drawn_mg",
    "given_mg",
    "wasted_mg",
    "administration",
    "reverses",
    "actor",
    "witness",
    "patient",
    "session_ref",
    "counterparty",
    "counterparty_dea_number",
    "reason",
]


def _sqlite_0002(table):
    return [
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;",
    ]


def forward(apps, schema_editor):
    vendor, using = schema_editor.connection.vendor, schema_editor.connection.alias
    model = apps.get_model("controlled_substances", "LedgerEntry")
    if vendor == "postgresql":
        schema_editor.execute(postgres_toggle_update(LEDGER, enable=False))
        chain_backfill(model, CHAINED, using)
        schema_editor.execute(postgres_toggle_update(LEDGER, enable=True))
    elif vendor == "sqlite":
        # Adding the column rebuilt the ledger's table on SQLite, and its triggers went with it.
        for statement in sqlite_drop(LEDGER):
            schema_editor.execute(statement)
        chain_backfill(model, CHAINED, using)
        for table, keys in UNIQUE_KEYS.items():
            for statement in sqlite_append_only(table, keys):
                schema_editor.execute(statement)


def reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for table in UNIQUE_KEYS:
            for statement in [*sqlite_drop(table), *_sqlite_0002(table)]:
                schema_editor.execute(statement)


def reverse_after_rebuild(apps, schema_editor):
    """Removing the column rebuilds the ledger's table on SQLite: put 0002's triggers back."""
    if schema_editor.connection.vendor == "sqlite":
        for statement in [*sqlite_drop(LEDGER), *_sqlite_0002(LEDGER)]:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("controlled_substances", "0002_append_only_triggers")]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, reverse_after_rebuild),
        migrations.AddField(
            model_name="ledgerentry",
            name="digest",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
        migrations.RunPython(forward, reverse),
    ]
