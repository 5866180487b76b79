"""No double booking, enforced by PostgreSQL: exclusion constraints refuse two active
(booked or checked-in) appointments whose [starts_at, ends_at) ranges overlap on one chair,
one nurse or one patient. Half-open ranges: an appointment may start when another ends.

SQLite has no exclusion constraints; there the booking service's row locks and overlap
check (clinic/scheduling/services.py) are the guard, and SQLite serialises writers anyway.
btree_gist lets a GiST index compare the integer ids with `=`; it is a trusted extension
(PostgreSQL 13+), so the database owner can create it.
"""

from django.db import migrations

ACTIVE = "status IN ('booked', 'checked_in')"
CONSTRAINTS = {
    "appointment_chair_no_overlap": "chair_id",
    "appointment_nurse_no_overlap": "nurse_id",
    "appointment_patient_no_overlap": "patient_id",
}

FORWARDS = ["CREATE EXTENSION IF NOT EXISTS btree_gist"] + [
    f"ALTER TABLE scheduling_appointment ADD CONSTRAINT {name} EXCLUDE USING gist "
    f"({column} WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) WHERE ({ACTIVE})"
    for name, column in CONSTRAINTS.items()
]
BACKWARDS = [
    f"ALTER TABLE scheduling_appointment DROP CONSTRAINT IF EXISTS {name}" for name in CONSTRAINTS
]


class PostgresOnlyRunSQL(migrations.RunSQL):
    """RunSQL executed only when the database is PostgreSQL."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]

    operations = [PostgresOnlyRunSQL(sql=FORWARDS, reverse_sql=BACKWARDS)]
