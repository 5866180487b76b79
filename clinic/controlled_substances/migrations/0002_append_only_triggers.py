"""The ledger and the records an inspector relies on refuse UPDATE and DELETE in the database
itself (ADR 0007, as ADR 0002 does for the audit trail)."""

from django.db import migrations

TABLES = [
    "controlled_substances_ledgerentry",
    "controlled_substances_receipt",
    "controlled_substances_inventorycount",
    "controlled_substances_inventorycountline",
]
FUNCTION = "controlled_substances_append_only"

POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is append-only';
END;
$$ LANGUAGE plpgsql;
"""


def _postgres_forward(table):
    return [
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}();",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}();",
    ]


def _postgres_reverse(table):
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_update ON {table};",
        f"DROP TRIGGER IF EXISTS {table}_no_delete ON {table};",
    ]


def _sqlite_forward(table):
    return [
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;",
    ]


def _sqlite_reverse(table):
    return [f"DROP TRIGGER IF EXISTS {table}_no_update;", f"DROP TRIGGER IF EXISTS {table}_no_delete;"]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_FUNCTION)
        for table in TABLES:
            for statement in _postgres_forward(table):
                schema_editor.execute(statement)
    elif vendor == "sqlite":
        for table in TABLES:
            for statement in _sqlite_forward(table):
                schema_editor.execute(statement)


def reverse(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for table in TABLES:
            for statement in _postgres_reverse(table):
                schema_editor.execute(statement)
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}();")
    elif vendor == "sqlite":
        for table in TABLES:
            for statement in _sqlite_reverse(table):
                schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("controlled_substances", "0001_initial")]
    operations = [migrations.RunPython(forward, reverse)]
