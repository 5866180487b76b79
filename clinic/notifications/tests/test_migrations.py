"""The outbox's move out of assessments (issue 12): the table keeps every row, and each
e-mail's link to the suicidality alert it was about moves to the alert's side
(`assessments.AlertNotification`) without losing one. Going back restores the old column.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("assessments", "0004_alert_follow_ups_and_escalation"),
    ("journal", "0001_initial"),
    ("scheduling", "0003_nurse_runs_several_chairs"),
]
AFTER = [("notifications", "0002_alert_link_on_the_alert_side")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _latest():
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return executor.loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_the_outbox_keeps_its_rows_and_every_alert_link():
    apps = _migrate(BEFORE)
    User = apps.get_model("accounts", "User")
    Patient = apps.get_model("patients", "Patient")
    Response = apps.get_model("assessments", "AssessmentResponse")
    Alert = apps.get_model("assessments", "SuicidalityAlert")
    Notification = apps.get_model("assessments", "Notification")
    prescriber = User.objects.create(username="rx", email="rx@clinic.example", role="prescriber")
    patient = Patient.objects.create(
        mrn="00009002",
        legal_given_name="Ada",
        legal_family_name="Quist",
        date_of_birth=datetime.date(1980, 3, 1),
        sex="female",
    )
    response = Response.objects.create(
        patient=patient,
        instrument_code="phq9",
        instrument_version="1",
        answers=[0, 0, 0, 0, 0, 0, 0, 0, 1],
        complete=True,
        source="staff",
    )
    alert = Alert.objects.create(
        patient=patient, response=response, kind="suicidal_ideation", trigger="item 9"
    )
    about_alert = Notification.objects.create(
        recipient=prescriber, subject="An alert", body="Open KetaCare.", alert=alert
    )
    reminder = Notification.objects.create(
        to_email="ada@example.org", patient=patient, subject="A questionnaire", body="Answer."
    )
    rows = list(Notification.objects.order_by("pk").values("pk", "subject", "status"))

    apps = _migrate(AFTER)
    Notification = apps.get_model("notifications", "Notification")
    AlertNotification = apps.get_model("assessments", "AlertNotification")
    assert list(Notification.objects.order_by("pk").values("pk", "subject", "status")) == rows
    assert list(AlertNotification.objects.values_list("notification_id", "alert_id")) == [
        (about_alert.pk, alert.pk)
    ]
    assert list(Notification.objects.filter(alert=alert.pk).values_list("pk", flat=True)) == [
        about_alert.pk
    ]

    apps = _migrate(BEFORE)
    Notification = apps.get_model("assessments", "Notification")
    assert dict(Notification.objects.values_list("pk", "alert_id")) == {
        about_alert.pk: alert.pk,
        reminder.pk: None,
    }
    _migrate(_latest())
