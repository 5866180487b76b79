"""What the bulk export tests share: a kick-off with the worker run on commit, a poll, and a
file's download read as NDJSON."""

from __future__ import annotations

import json

from clinic.fhir.tests.helpers import bearer

ASYNC = {"HTTP_PREFER": "respond-async", "HTTP_ACCEPT": "application/fhir+json"}
BASE = "http://testserver/fhir/R4/"


def kick_off(client, capture, user, path="Patient/$export", headers=ASYNC, **params):
    """The kick-off, with the worker's task run once the request's transaction commits."""
    with capture(execute=True):
        return client.get(BASE + path, params, **headers, **bearer(user))


def poll(client, user, response):
    return client.get(response["Content-Location"], **bearer(user))


def download(client, user, url):
    response = client.get(url, **bearer(user))
    assert response.status_code == 200, response
    assert response["Content-Type"] == "application/fhir+ndjson"
    assert "no-store" in response["Cache-Control"]
    text = b"".join(response.streaming_content).decode()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]
