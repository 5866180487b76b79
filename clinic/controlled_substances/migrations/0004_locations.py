"""Stock, receipts, counts and loss reports belong to a location: each location is its own
DEA registrant (21 CFR 1301.12(a)). Existing rows move into the default location
(locations 0002). The initial inventory is once per location.

Adding a column rebuilds a table on SQLite and its triggers go with it, so the append-only
triggers of the receipt and count tables are put back (with the per-location key) at the end;
on PostgreSQL the column is added by DDL, which no row trigger sees."""

import clinic.locations.models
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from clinic.core.triggers import sqlite_append_only

UNIQUE_KEYS = {
    "controlled_substances_receipt": ["uuid = NEW.uuid"],
    "controlled_substances_inventorycount": [
        "uuid = NEW.uuid",
        "(kind = 'initial' AND NEW.kind = 'initial' AND location_id = NEW.location_id)",
    ],
}
KEYS_BEFORE = {
    "controlled_substances_receipt": ["uuid = NEW.uuid"],
    "controlled_substances_inventorycount": [
        "uuid = NEW.uuid",
        "(kind = 'initial' AND NEW.kind = 'initial')",
    ],
}


def _install(keys):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            for table, conditions in keys.items():
                for statement in sqlite_append_only(table, conditions):
                    schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ('controlled_substances', '0003_chain_and_no_replace'),
        ('locations', '0002_default_location'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, _install(KEYS_BEFORE)),
        migrations.RemoveConstraint(
            model_name='inventorycount',
            name='cs_one_initial_inventory',
        ),
        migrations.AddField(
            model_name='container',
            name='location',
            field=models.ForeignKey(default=clinic.locations.models.default_location_pk, on_delete=django.db.models.deletion.PROTECT, related_name='containers', to='locations.location'),
        ),
        migrations.AddField(
            model_name='inventorycount',
            name='location',
            field=models.ForeignKey(default=clinic.locations.models.default_location_pk, on_delete=django.db.models.deletion.PROTECT, related_name='inventory_counts', to='locations.location'),
        ),
        migrations.AddField(
            model_name='lossreport',
            name='location',
            field=models.ForeignKey(default=clinic.locations.models.default_location_pk, on_delete=django.db.models.deletion.PROTECT, related_name='loss_reports', to='locations.location'),
        ),
        migrations.AddField(
            model_name='receipt',
            name='location',
            field=models.ForeignKey(default=clinic.locations.models.default_location_pk, on_delete=django.db.models.deletion.PROTECT, related_name='receipts', to='locations.location'),
        ),
        migrations.AddIndex(
            model_name='container',
            index=models.Index(fields=['location', 'status'], name='controlled__locatio_004634_idx'),
        ),
        migrations.AddConstraint(
            model_name='inventorycount',
            constraint=models.UniqueConstraint(condition=models.Q(('kind', 'initial')), fields=('location', 'kind'), name='cs_one_initial_inventory_per_location'),
        ),
        migrations.RunPython(_install(UNIQUE_KEYS), migrations.RunPython.noop),
]
