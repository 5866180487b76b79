"""Tasks a worker claimed and never finished: its process was killed or its host lost power.

django-tasks-db marks a task running when a worker claims it and finished when the worker is
done; a worker that dies in between leaves the row "running" for ever, where
`prune_db_task_results` (which deletes finished rows only) never reaches it. Every task we
queue is a sweep or a delivery that is safe to run again, and the cron sweeps do run it again
(docs/production.md), so nothing is lost: the row only has to say what happened. After
`TASK_ABANDONED_AFTER_MIN` -- far longer than any of our tasks takes -- it is marked failed.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult


class WorkerStopped(Exception):
    """The worker running the task stopped before it finished (recorded, never raised)."""


ABANDONED_TRACEBACK = (
    "The worker that claimed this task stopped before finishing it (killed, or its host went "
    "down). Nothing was lost: the cron sweeps queue the same work again."
)


def abandoned_tasks_fail(*, now: datetime.datetime | None = None) -> int:
    """Mark failed every task still running `TASK_ABANDONED_AFTER_MIN` after it started.
    Returns how many. One conditional UPDATE: a worker that finishes at the same moment wins
    or loses cleanly, never half of each."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(minutes=settings.TASK_ABANDONED_AFTER_MIN)
    return DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=cutoff
    ).update(
        status=TaskResultStatus.FAILED,
        finished_at=now,
        return_value=None,
        exception_class_path=f"{WorkerStopped.__module__}.{WorkerStopped.__qualname__}",
        traceback=ABANDONED_TRACEBACK,
    )
