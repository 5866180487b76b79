# The outbox no longer points up at assessments: assessments 0005 copied every alert link to
# its own table (`AlertNotification`), so the column goes. Unapplied, the column comes back
# empty and assessments 0005's reverse step fills it again from that table.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0005_outbox_moved_to_notifications"),
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.RemoveField(model_name="notification", name="alert"),
    ]
