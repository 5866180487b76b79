"""A nurse runs several chairs at once (clinic policy `nurse_max_concurrent_chairs`, 4 by
default): drop the PostgreSQL exclusion constraint that allowed one appointment per nurse at a
time. The booking service's count under the nurse's row lock is now the guard (ADR 0006,
"Amended"); the chair and patient constraints of 0002 stay.

PostgreSQL only, like 0002; nothing to do on SQLite. The reverse re-creates the constraint as
0002 did, and fails if a nurse already has overlapping active appointments.
"""

from django.db import migrations

NAME = "appointment_nurse_no_overlap"
ACTIVE = "status IN ('booked', 'checked_in')"

FORWARDS = [f"ALTER TABLE scheduling_appointment DROP CONSTRAINT IF EXISTS {NAME}"]
BACKWARDS = [
    f"ALTER TABLE scheduling_appointment ADD CONSTRAINT {NAME} EXCLUDE USING gist "
    f"(nurse_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) WHERE ({ACTIVE})"
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
    dependencies = [("scheduling", "0002_no_double_booking")]

    operations = [PostgresOnlyRunSQL(sql=FORWARDS, reverse_sql=BACKWARDS)]
