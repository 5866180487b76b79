"""Settings for several app servers (docs/production.md): REDIS_URL and DATABASE_REPLICA_URL
switch on the shared cache, cached sessions and the read replica; without them the settings
are the single-server ones (`make run`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

_PRINT = """
import json
from config import settings as s
print(json.dumps({
    "databases": sorted(s.DATABASES),
    "replica": s.DATABASES.get("replica"),
    "routers": getattr(s, "DATABASE_ROUTERS", []),
    "reporting": s.REPORTING_DATABASE,
    "cache": s.CACHES["default"],
    "sessions": s.SESSION_ENGINE,
    "axes_handler": s.AXES_HANDLER,
}, default=str))
"""


def _settings(tmp_path, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "DATABASE_REPLICA_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    clean.update({"DEBUG": "1", "KETACARE_VAR_DIR": str(tmp_path), **env})
    return subprocess.run(  # noqa: S603 (our own interpreter)
        [sys.executable, "-c", _PRINT], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_without_the_variables_one_server_needs_no_redis_and_no_replica(tmp_path):
    result = _settings(tmp_path)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["databases"] == ["default"]
    assert values["routers"] == [] and values["reporting"] == "default"
    assert values["cache"] == {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    assert values["sessions"] == "django.contrib.sessions.backends.db"
    # Sign-in lockouts are counted in the database, shared by every server in any case.
    assert values["axes_handler"] == "clinic.accounts.lockout.ClinicLockoutHandler"


def test_redis_url_shares_the_cache_and_caches_the_sessions(tmp_path):
    result = _settings(tmp_path, REDIS_URL="redis://cache.internal:6379/0")
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["cache"] == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://cache.internal:6379/0",
    }
    assert values["sessions"] == "django.contrib.sessions.backends.cached_db"


def test_a_replica_url_adds_a_read_only_replica_for_reports(tmp_path):
    result = _settings(
        tmp_path,
        DATABASE_URL="postgres://app@primary.internal:5432/ketacare",
        DATABASE_REPLICA_URL="postgres://reader@replica.internal:5432/ketacare",
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["databases"] == ["default", "replica"]
    replica = values["replica"]
    assert replica["HOST"] == "replica.internal" and replica["USER"] == "reader"
    assert replica["OPTIONS"]["options"] == "-c default_transaction_read_only=on"
    assert replica["TEST"] == {"MIRROR": "default"}
    assert values["routers"] == ["clinic.core.db_router.PrimaryReplicaRouter"]
    assert values["reporting"] == "replica"


def test_a_replica_that_is_not_postgresql_is_refused(tmp_path):
    result = _settings(tmp_path, DATABASE_REPLICA_URL=f"sqlite:///{tmp_path / 'r.sqlite3'}")
    assert result.returncode != 0
    assert "DATABASE_REPLICA_URL must be a PostgreSQL URL" in result.stderr
