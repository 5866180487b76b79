"""Migration accounts/0005: every token made before patients could hold one stays, unchanged,
a staff token (it still opens the staff API), and going back drops only the new column."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("accounts", "0004_staff_npi")]
AFTER = [("accounts", "0005_api_token_audience")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_every_existing_token_stays_a_staff_token():
    try:
        apps = _migrate(BEFORE)
        User = apps.get_model("accounts", "User")
        ApiToken = apps.get_model("accounts", "ApiToken")
        nurse = User.objects.create(username="rn", role="nurse")
        expires = timezone.now() + datetime.timedelta(days=30)
        digest = hashlib.sha256(b"kc_0badcafe_secret").hexdigest()
        ApiToken.objects.create(
            user=nurse, name="script", prefix="0badcafe", digest_sha256=digest, expires_at=expires
        )

        apps = _migrate(AFTER)
        token = apps.get_model("accounts", "ApiToken").objects.get(prefix="0badcafe")
        assert token.audience == "staff"
        assert (token.name, token.digest_sha256, token.expires_at) == ("script", digest, expires)
        assert token.revoked_at is None

        apps = _migrate(BEFORE)
        assert apps.get_model("accounts", "ApiToken").objects.filter(prefix="0badcafe").exists()
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
