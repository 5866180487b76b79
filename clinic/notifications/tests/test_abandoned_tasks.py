"""A task whose worker died stays "running" in django-tasks-db's table; the notification sweep
marks it failed once it is far older than any task runs, so the queue says what happened and
`prune_db_task_results` can clear it. A task still within the limit is left alone."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from clinic.notifications.abandoned import abandoned_tasks_fail

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 12, 7, 9, 0, tzinfo=datetime.UTC)


def _claimed(started_at: datetime.datetime, status=TaskResultStatus.RUNNING) -> DBTaskResult:
    return DBTaskResult.objects.create(
        task_path="clinic.notifications.delivery.deliver_notification",
        args_kwargs={"args": [1], "kwargs": {}},
        backend_name="default",
        run_after=started_at,
        status=status,
        started_at=started_at,
        worker_ids=["host-a-1"],
    )


def test_a_task_running_past_the_limit_is_marked_failed_and_others_are_left(settings):
    settings.TASK_ABANDONED_AFTER_MIN = 60
    dead = _claimed(NOW - datetime.timedelta(minutes=61))
    busy = _claimed(NOW - datetime.timedelta(minutes=59))
    done = _claimed(NOW - datetime.timedelta(hours=5), status=TaskResultStatus.SUCCESSFUL)

    assert abandoned_tasks_fail(now=NOW) == 1

    dead.refresh_from_db()
    assert dead.status == TaskResultStatus.FAILED and dead.finished_at == NOW
    assert dead.exception_class_path == "clinic.notifications.abandoned.WorkerStopped"
    assert "stopped before finishing" in dead.traceback
    assert DBTaskResult.objects.get(pk=busy.pk).status == TaskResultStatus.RUNNING
    assert DBTaskResult.objects.get(pk=done.pk).status == TaskResultStatus.SUCCESSFUL
    # Run again: nothing more to do.
    assert abandoned_tasks_fail(now=NOW) == 0


def test_the_cron_sweep_reports_what_it_marked(settings):
    settings.TASK_ABANDONED_AFTER_MIN = 60
    _claimed(timezone.now() - datetime.timedelta(hours=2))
    out = io.StringIO()
    call_command("deliver_due_notifications", stdout=out)
    assert "Marked 1 task(s) failed: their worker stopped." in out.getvalue()
