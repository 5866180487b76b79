# The outbox moves from the assessments app to its own (issue 12). The table, its rows and its
# index keep their names: only Django's idea of which app owns the model changes here, so the
# database is not touched. The link to a suicidality alert comes along for now; 0002 drops it
# once assessments has copied it to the alert's side.

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("assessments", "0004_alert_follow_ups_and_escalation"),
        ("patients", "0002_portal_invitation"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Notification",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("uuid", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        (
                            "created_at",
                            models.DateTimeField(
                                default=django.utils.timezone.now, editable=False
                            ),
                        ),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("to_email", models.EmailField(blank=True, max_length=254)),
                        ("subject", models.CharField(max_length=200)),
                        ("body", models.TextField()),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("pending", "Waiting to send"),
                                    ("sent", "Sent"),
                                    ("failed", "Failed; will retry"),
                                    ("gave_up", "Failed; needs attention"),
                                ],
                                default="pending",
                                max_length=16,
                            ),
                        ),
                        ("attempts", models.PositiveSmallIntegerField(default=0)),
                        ("last_error", models.CharField(blank=True, max_length=300)),
                        (
                            "next_attempt_at",
                            models.DateTimeField(default=django.utils.timezone.now),
                        ),
                        ("sent_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "patient",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="patients.patient",
                            ),
                        ),
                        (
                            "recipient",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="notifications",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "alert",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="assessments.suicidalityalert",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "assessments_notification",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [
                            models.Index(
                                fields=["status", "next_attempt_at"],
                                name="assessments_status_e37df5_idx",
                            )
                        ],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("recipient__isnull", False),
                                    models.Q(("to_email", ""), _negated=True),
                                    _connector="OR",
                                ),
                                name="notification_has_an_addressee",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
