"""Form data and state snapshots shared by the assessments pages' tests (test_views.py,
test_views_alerts.py)."""

from __future__ import annotations

import datetime

from django.utils import timezone

from clinic.assessments.models import AssessmentResponse, QuestionnaireLink, SuicidalityAlert
from clinic.notifications.models import Notification

N = None
PHQ9_MODERATE = [2, 2, 2, 2, 1, 1, 2, 0, 0]  # total 12, moderate (US Core example)
PHQ9_ITEM9 = [2, 2, 2, 2, 1, 1, 2, 0, 1]  # total 13, moderate, item 9 positive
# C-SSRS: Q1 yes, Q2 yes, Q3 no, Q4 yes (intent) → high risk; Q6 no, so Q6-recent is skipped.
CSSRS_HIGH = [1, 1, 0, 1, 0, 0, N]


def taken_at(minutes_ago: int = 5) -> str:
    moment = timezone.localtime() - datetime.timedelta(minutes=minutes_ago)
    return moment.strftime("%Y-%m-%dT%H:%M")


def items(answers) -> dict[str, str]:
    """Form data for an instrument's radio groups; None is left out (a blank item)."""
    return {f"item_{n}": str(a) for n, a in enumerate(answers, start=1) if a is not None}


def staff_form(answers, timepoint="unscheduled") -> dict[str, str]:
    return {**items(answers), "timepoint": timepoint, "taken_at": taken_at()}


def patient_form(code, answers) -> dict[str, str]:
    return {**items(answers), "instrument": code}


def state():
    """Every row an assessments page may write (the audit trail aside)."""
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (AssessmentResponse, SuicidalityAlert, QuestionnaireLink, Notification)
    }
