"""The patient's journal operations in the OpenAPI document: each declares exactly the statuses
it can answer, every error in the one envelope; the patient's token is their only security;
records that change answer with an ETag and take If-Match."""

from __future__ import annotations

import pytest

from clinic.journal.tests.me_api import ENVELOPE

pytestmark = pytest.mark.django_db

ME = "/api/v1/me"
ENTRY = f"{ME}/journal/entries/{{entry_uuid}}"
INTENTION = f"{ME}/intentions/{{intention_uuid}}"
# 401: no patient token; 403: declared on every authenticated operation (api/errors.py);
# 404: a record not the patient's own; 409: the service's conflicts; 412/428: If-Match;
# 400/413/422: a body or parameters.
LIST = {"200", "401", "403", "422"}
CREATE = {"201", "400", "401", "403", "404", "409", "413", "422"}
READ = {"200", "401", "403", "404", "422"}
CHANGE = {"200", "400", "401", "403", "404", "409", "412", "413", "422", "428"}
DECLARED = {
    ("get", f"{ME}/journal/entries"): LIST,
    ("post", f"{ME}/journal/entries"): CREATE,
    ("get", ENTRY): READ,
    ("patch", ENTRY): CHANGE,
    ("get", f"{ME}/intentions"): LIST,
    ("post", f"{ME}/intentions"): CREATE,
    ("get", INTENTION): READ,
    ("patch", INTENTION): CHANGE,
}


def test_each_journal_operation_declares_its_statuses_with_the_envelope(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for (method, path), statuses in DECLARED.items():
        operation = paths[path][method]
        responses = operation["responses"]
        assert set(responses) == statuses, (method, path)
        for status in statuses - {"200", "201"}:
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == ENVELOPE, (method, path, status)
        assert operation["security"] == [{"PatientBearerAuth": []}], (method, path)
        success = "201" if "201" in statuses else "200"
        if method != "get" or path in (ENTRY, INTENTION):
            assert "ETag" in responses[success]["headers"], (method, path)
        if "428" in statuses:
            parameters = {p["name"]: p for p in operation["parameters"]}
            assert parameters["If-Match"]["in"] == "header", path
