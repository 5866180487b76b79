# The outbox moves to `clinic.notifications` (issue 12), which sits below this app, so the
# link from an e-mail to the alert it is about moves to this side: every existing link is
# copied into `AlertNotification` before notifications 0002 drops the old column, and copied
# back when unapplied. The outbox's table and rows stay where they are; this app only stops
# claiming the model.

import django.db.models.deletion
from django.db import migrations, models


def links_to_the_alert_side(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    AlertNotification = apps.get_model("assessments", "AlertNotification")
    AlertNotification.objects.bulk_create(
        AlertNotification(notification_id=notification_id, alert_id=alert_id)
        for notification_id, alert_id in Notification.objects.filter(
            alert_id__isnull=False
        ).values_list("pk", "alert_id")
    )


def links_back_to_the_outbox(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    AlertNotification = apps.get_model("assessments", "AlertNotification")
    for notification_id, alert_id in AlertNotification.objects.values_list(
        "notification_id", "alert_id"
    ):
        Notification.objects.filter(pk=notification_id).update(alert_id=alert_id)


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0004_alert_follow_ups_and_escalation"),
        ("journal", "0002_notification_moved_to_notifications"),
        ("notifications", "0001_initial"),
        ("scheduling", "0004_notification_moved_to_notifications"),
    ]

    operations = [
        migrations.CreateModel(
            name="AlertNotification",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "alert",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="notification_links",
                        to="assessments.suicidalityalert",
                    ),
                ),
                (
                    "notification",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="alert_link",
                        to="notifications.notification",
                    ),
                ),
            ],
        ),
        migrations.RunPython(links_to_the_alert_side, links_back_to_the_outbox),
        migrations.AddField(
            model_name="suicidalityalert",
            name="notifications",
            field=models.ManyToManyField(
                blank=True,
                related_name="alerts",
                related_query_name="alert",
                through="assessments.AlertNotification",
                to="notifications.notification",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Notification")],
            database_operations=[],
        ),
    ]
