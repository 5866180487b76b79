"""Two worker processes on one queue (docs/production.md): every queued delivery runs exactly
once, and both workers share the work.

The worker is django-tasks-db's `manage.py db_worker`: it claims one task at a time with
`SELECT ... FOR UPDATE SKIP LOCKED` in a short transaction that marks it running under its
worker id, and runs it after that commit; the delivery then locks its notification row the
same way (clinic/notifications/delivery.py). Here two real processes, started as production
starts them (the production settings module, DEBUG only to spare the secrets), work the queue
of this test's committed PostgreSQL database; each e-mail is printed by the console mail
backend on its worker's output, so a message sent twice would be seen twice.
"""

from __future__ import annotations

import collections
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection, transaction
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from clinic.notifications.choices import NotificationStatus
from clinic.notifications.models import Notification
from clinic.notifications.services import notification_queue

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]
MESSAGES = 200
SUBJECT = re.compile(r"^Subject: (Scale-out test message \d{3})$", re.MULTILINE)


def _test_database_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """`manage.py db_worker` in its own process; its output collected as it comes."""

    def __init__(self, worker_id: str, env: dict[str, str]):
        self.worker_id = worker_id
        self.started = threading.Event()
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and manage.py)
            [
                sys.executable,
                "manage.py",
                "db_worker",
                "--no-reload",
                "--no-startup-delay",
                "--interval",
                "0.05",
                "--worker-id",
                worker_id,
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._readers = [
            threading.Thread(target=self._read, args=(self.process.stdout, self.stdout)),
            threading.Thread(target=self._read, args=(self.process.stderr, self.stderr)),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream, lines: list[str]) -> None:
        for line in stream:
            lines.append(line)
            if "Starting worker" in line:
                self.started.set()

    def stop(self) -> int:
        """SIGTERM, as a supervisor stops it: it finishes the task in hand and exits 0."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        for reader in self._readers:
            reader.join(timeout=5)
        return code

    def subjects(self) -> list[str]:
        return SUBJECT.findall("".join(self.stdout))


def test_two_worker_processes_deliver_every_message_exactly_once(settings, tmp_path):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "EMAIL_", "DJANGO_", "REDIS_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="1",
        DATABASE_URL=_test_database_url(),
        EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
        KETACARE_VAR_DIR=str(tmp_path),
        PYTHONUNBUFFERED="1",
    )
    workers = [Worker(f"worker-{n}", env) for n in (1, 2)]
    try:
        # Start-up is Django's (a second or two; far longer on a loaded machine): generous, as
        # it is not what the test measures.
        for worker in workers:
            assert worker.started.wait(timeout=90), "".join(worker.stderr)

        # Queued as the application queues them: the row and, once committed, its task.
        with transaction.atomic():
            for n in range(MESSAGES):
                notification_queue(
                    to_email=f"patient{n}@example.org",
                    subject=f"Scale-out test message {n:03d}",
                    body="Hello.",
                )
        assert DBTaskResult.objects.count() == MESSAGES

        deadline = time.monotonic() + 60
        while DBTaskResult.objects.exclude(status=TaskResultStatus.SUCCESSFUL).exists():
            assert time.monotonic() < deadline, "the workers did not empty the queue in 60 s"
            assert all(w.process.poll() is None for w in workers), "a worker stopped early"
            time.sleep(0.1)
    finally:
        exit_codes = [worker.stop() for worker in workers]

    assert exit_codes == [0, 0], [w.stderr for w in workers]
    # Each task was claimed by exactly one worker, once.
    claims = list(DBTaskResult.objects.values_list("worker_ids", flat=True))
    assert len(claims) == MESSAGES and all(len(ids) == 1 for ids in claims)
    per_worker = collections.Counter(ids[0] for ids in claims)
    assert set(per_worker) == {"worker-1", "worker-2"}, per_worker
    # Each message was sent exactly once, by the worker that claimed its task.
    sent = collections.Counter(s for worker in workers for s in worker.subjects())
    assert sent == collections.Counter(f"Scale-out test message {n:03d}" for n in range(MESSAGES))
    assert {w.worker_id: len(w.subjects()) for w in workers} == dict(per_worker)
    assert Notification.objects.count() == MESSAGES
    assert set(Notification.objects.values_list("status", "attempts")) == {
        (NotificationStatus.SENT, 1)
    }
