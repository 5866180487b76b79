"""/healthz (clinic/core/views_health.py): open to the load balancer, says only "ok" or
"unavailable", sets no cookie and writes nothing."""

from __future__ import annotations

import json

import pytest
from django.db import OperationalError
from django.test import Client

from clinic.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_an_anonymous_probe_hears_ok_and_nothing_else():
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok"}
    assert not response.cookies
    assert "no-cache" in response["Cache-Control"]
    assert not AuditEvent.objects.exists()


def test_a_database_that_does_not_answer_is_a_503(monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("clinic.core.views_health.connection.cursor", refuse)
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert json.loads(response.content) == {"status": "unavailable"}


def test_only_get_and_head():
    assert Client().head("/healthz").status_code == 200
    assert Client().post("/healthz").status_code == 405
