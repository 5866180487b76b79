# The outbox moved from the assessments app to `clinic.notifications` (issue 12), keeping its
# table: the reminder's foreign key points at the same table, so only the state changes.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("journal", "0001_initial"),
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="journalentry",
                    name="reminder_notification",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="notifications.notification",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
