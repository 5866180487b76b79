"""Background work that spans stages of care, run by the database-backed worker
(`manage.py db_worker`, from django-tasks-db)."""

from __future__ import annotations

from django.tasks import task

from clinic.assessments.services import assessment_reminders_send
from clinic.scheduling.selectors import in_clinic_session_bounds


@task
def send_assessment_reminders() -> int:
    """Questionnaire links for what is due: assessments' schedule, over scheduling's sessions."""
    return assessment_reminders_send(session_bounds=in_clinic_session_bounds)
