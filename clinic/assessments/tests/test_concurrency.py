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
