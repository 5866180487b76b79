"""Positive answers of one patient saved at the same moment, through the service, on
PostgreSQL (SQLite serialises all writers, so it cannot race): the lock on the patient's row
queues them, and the later one joins the alert the first raised (ADR 0004). Never two alerts
waiting side by side. PostgreSQL only."""

from __future__ import annotations

import pytest

from clinic.assessments import services
from clinic.assessments.models import (
    AlertFollowUp,
    AssessmentResponse,
    SuicidalityAlert,
)
from clinic.notifications.models import Notification
from tests.concurrency import in_threads

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

N = None
PHQ9_ITEM9 = [0, 0, 0, 0, 0, 0, 0, 0, 1]  # item 9 ≥ 1: ideation (policy-defaults.md)
CSSRS_HIGH = [1, 1, 0, 1, 0, 0, N]  # Q4 yes: high risk [G13]


def test_a_phq9_and_a_high_risk_cssrs_at_once_make_one_high_risk_alert(patient, nurse, prescriber):
    entries = [("phq9", PHQ9_ITEM9), ("cssrs-screen", CSSRS_HIGH)]

    def work(i):
        code, answers = entries[i]
        return services.response_record(
            actor=nurse, patient=patient, instrument_code=code, answers=answers
        )

    results = in_threads(2, work)

    assert all(isinstance(r, AssessmentResponse) for r in results), results
    alert = SuicidalityAlert.objects.get()
    # Whichever came first, the alert ends at the higher level, with the other as follow-up.
    assert (alert.kind, alert.status, alert.assigned_to) == (
        "high_suicide_risk",
        "open",
        prescriber,
    )
    follow_up = AlertFollowUp.objects.get()
    assert {alert.response, follow_up.response} == set(results)
    # Raised once; e-mailed again only if the PHQ-9 came first and the C-SSRS escalated it.
    expected = 2 if alert.response.instrument_code == "phq9" else 1
    assert Notification.objects.filter(alert=alert).count() == expected


def test_four_positive_answers_at_once_gather_on_one_alert(patient, nurse, prescriber):
    def work(i):
        return services.response_record(
            actor=nurse, patient=patient, instrument_code="phq9", answers=PHQ9_ITEM9
        )

    results = in_threads(4, work)

    assert all(isinstance(r, AssessmentResponse) for r in results), results
    alert = SuicidalityAlert.objects.get()
    assert alert.kind == "suicidal_ideation"
    assert AlertFollowUp.objects.filter(alert=alert).count() == 3
    assert Notification.objects.count() == 1


def test_the_reminder_job_run_twice_at_once_sends_each_patient_one_link(front_desk, prescriber):
    """Cron on two hosts, or cron beside the worker's task: each patient still gets one link
    and one e-mail for the baseline they owe."""
    from clinic.assessments.models import QuestionnaireLink
    from clinic.patients import services as patient_services
    from clinic.patients.tests.factories import register
    from clinic.scheduling.selectors import in_clinic_session_bounds

    patients = []
    for i in range(6):
        patient = register(front_desk, email=f"patient{i}@example.org")
        patient_services.care_team_set(
            actor=front_desk, patient=patient, primary_prescriber=prescriber
        )
        patients.append(patient)

    results = in_threads(
        3, lambda i: services.assessment_reminders_send(session_bounds=in_clinic_session_bounds)
    )

    assert sum(results) == len(patients), results
    for patient in patients:
        assert QuestionnaireLink.objects.filter(patient=patient).count() == 1
    assert Notification.objects.count() == len(patients)
