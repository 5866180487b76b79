"""The due list and the reminder job: what is owed, to whom, and e-mail that is never lost."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from clinic.assessments import services
from clinic.assessments.models import QuestionnaireLink
from clinic.assessments.selectors import due_list
from clinic.notifications.models import Notification
from clinic.patients import services as patient_services
from clinic.patients.tests.factories import register
from clinic.scheduling.selectors import in_clinic_session_bounds

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(front_desk, prescriber, nurse):
    patient = register(front_desk, email="jordan.rivera@example.org")
    patient_services.care_team_set(
        actor=front_desk, patient=patient, primary_prescriber=prescriber, nurses=[nurse]
    )
    return patient


def test_a_new_patient_owes_the_baseline_set(patient, nurse):
    [(who, item, label)] = due_list(
        actor=nurse, now=timezone.now(), session_bounds=in_clinic_session_bounds
    )
    assert who == patient and item.timepoint == "baseline" and label == "Baseline (screening)"
    assert item.missing == ("phq9", "gad7", "cssrs-screen") and not item.overdue


def test_a_baseline_on_record_clears_only_what_was_taken(patient, nurse):
    services.response_record(
        actor=nurse, patient=patient, instrument_code="phq9", answers=[0] * 9, timepoint="baseline"
    )
    [(_, item, _)] = due_list(
        actor=nurse, now=timezone.now(), session_bounds=in_clinic_session_bounds
    )
    assert item.missing == ("gad7", "cssrs-screen")


def test_the_schedule_is_clinic_policy(patient, nurse, settings):
    settings.CLINIC_POLICY = {"schedule": {"baseline_instruments": ["phq9"]}}
    services.response_record(actor=nurse, patient=patient, instrument_code="phq9", answers=[0] * 9)
    assert due_list(actor=nurse, now=timezone.now(), session_bounds=in_clinic_session_bounds) == []


def test_the_due_list_reads_two_queries_and_builds_only_the_patients_who_owe(
    patient, nurse, prescriber, front_desk, settings, django_assert_num_queries
):
    # The schedule's dates for the whole care team in one query; patient rows only for those
    # who owe something (docs/performance.md: most of a care team owes nothing on a day).
    settings.CLINIC_POLICY = {"schedule": {"baseline_instruments": ["phq9"]}}
    done = register(front_desk, legal_family_name="Okafor")
    patient_services.care_team_set(
        actor=front_desk, patient=done, primary_prescriber=prescriber, nurses=[nurse]
    )
    services.response_record(actor=nurse, patient=done, instrument_code="phq9", answers=[0] * 9)
    with django_assert_num_queries(2):
        rows = due_list(actor=nurse, now=timezone.now(), session_bounds=in_clinic_session_bounds)
    assert [(who, item.timepoint) for who, item, _ in rows] == [(patient, "baseline")]
    services.response_record(actor=nurse, patient=patient, instrument_code="phq9", answers=[0] * 9)
    with django_assert_num_queries(1):
        rows = due_list(actor=nurse, now=timezone.now(), session_bounds=in_clinic_session_bounds)
    assert rows == []


def test_the_clinician_home_lists_what_is_due(client, patient, nurse):
    client.force_login(nurse)
    html = client.get(reverse("dashboard:home")).content.decode()
    assert "Assessments due" in html and "Baseline (screening)" in html and "cssrs-screen" in html


def test_reminders_email_the_patient_a_link_once(patient, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert services.assessment_reminders_send(session_bounds=in_clinic_session_bounds) == 1
    link = QuestionnaireLink.objects.get(patient=patient)
    assert link.created_by is None and link.instrument_codes == ["phq9", "gad7", "cssrs-screen"]
    [message] = mail.outbox
    assert message.to == ["jordan.rivera@example.org"] and "/q/" in message.body
    assert Notification.objects.get().status == "sent"
    # A usable link is already out: no second e-mail.
    assert services.assessment_reminders_send(session_bounds=in_clinic_session_bounds) == 0
    # Once it has expired, the next run sends a fresh one.
    QuestionnaireLink.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    assert services.assessment_reminders_send(session_bounds=in_clinic_session_bounds) == 1


def test_patients_without_email_or_care_team_get_no_reminder(front_desk, nurse):
    register(front_desk, email="")
    register(front_desk, email="no.team@example.org")
    assert services.assessment_reminders_send(session_bounds=in_clinic_session_bounds) == 0
    assert not Notification.objects.exists()
