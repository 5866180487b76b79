"""The audit trail's hash chain (clinic/core/integrity.py): a digest on every event, backfilled
in order; and SQLite's INSERT OR REPLACE refused as UPDATE and DELETE are (issue 13)."""

from django.db import migrations, models

from clinic.core.integrity import chain_backfill
from clinic.core.triggers import postgres_toggle_update, sqlite_append_only, sqlite_drop

TABLE = "core_auditevent"
# Frozen here as in AuditEvent.chained_fields when this migration was written.
CHAINED = [
    "occurred_at",
    "actor",
    "actor_username",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "patient",
    "summary",
    "changes",
    "ip_address",
    "user_agent",
    "request_id",
    "channel",
]
SQLITE_0002 = [
    f"CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only'); END;",
    f"CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only'); END;",
]


def forward(apps, schema_editor):
    vendor, using = schema_editor.connection.vendor, schema_editor.connection.alias
    model = apps.get_model("core", "AuditEvent")
    if vendor == "postgresql":
        schema_editor.execute(postgres_toggle_update(TABLE, enable=False))
        chain_backfill(model, CHAINED, using)
        schema_editor.execute(postgres_toggle_update(TABLE, enable=True))
    elif vendor == "sqlite":
        # Adding the column rebuilt the table on SQLite, and its triggers went with it.
        for statement in sqlite_drop(TABLE):
            schema_editor.execute(statement)
        chain_backfill(model, CHAINED, using)
        for statement in sqlite_append_only(TABLE, []):
            schema_editor.execute(statement)


def reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in sqlite_drop(TABLE):
            schema_editor.execute(statement)


def reverse_after_rebuild(apps, schema_editor):
    """Removing the column rebuilds the table on SQLite: put migration 0002's triggers back."""
    if schema_editor.connection.vendor == "sqlite":
        for statement in [*sqlite_drop(TABLE), *SQLITE_0002]:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_audit_append_only")]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, reverse_after_rebuild),
        migrations.AddField(
            model_name="auditevent",
            name="digest",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
        migrations.RunPython(forward, reverse),
    ]
