"""The patient's at-home operations in the OpenAPI document: each declares exactly the statuses
it can answer, every error in the one envelope; the patient's token is their only security; a
log answers with its ETag, and its changes (dose, not taken, check-in) take If-Match, while a
side effect is appended without one."""

from __future__ import annotations

import pytest

from clinic.journal.tests.me_api import ENVELOPE

pytestmark = pytest.mark.django_db

ME = "/api/v1/me"
LOG = f"{ME}/home-sessions/{{log_uuid}}"
# 401: no patient token; 403: declared on every authenticated operation (api/errors.py);
# 404: a log not the patient's own; 409: the service's conflicts (no plan, do not dose, not
# waiting, not dosed); 412/428: If-Match; 400/413/422: a body or parameters.
CHANGE = {"200", "400", "401", "403", "404", "409", "412", "413", "422", "428"}
DECLARED = {
    ("get", f"{ME}/home-program"): {"200", "401", "403"},
    ("get", f"{ME}/home-sessions"): {"200", "401", "403", "422"},
    ("post", f"{ME}/home-sessions"): {"201", "400", "401", "403", "409", "413", "422"},
    ("get", LOG): {"200", "401", "403", "404", "422"},
    ("post", f"{LOG}/dose"): CHANGE,
    ("post", f"{LOG}/not-taken"): CHANGE - {"400", "413"},  # no body
    ("post", f"{LOG}/side-effects"): {"201", "400", "401", "403", "404", "409", "413", "422"},
    ("post", f"{LOG}/check-in"): CHANGE,
}


def test_each_at_home_operation_declares_its_statuses_with_the_envelope(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for (method, path), statuses in DECLARED.items():
        operation = paths[path][method]
        responses = operation["responses"]
        assert set(responses) == statuses, (method, path)
        for status in statuses - {"200", "201"}:
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == ENVELOPE, (method, path, status)
        assert operation["security"] == [{"PatientBearerAuth": []}], (method, path)
        parameters = {p["name"] for p in operation.get("parameters", [])}
        assert ("If-Match" in parameters) == ("428" in statuses), (method, path)
    for method, path, status in (
        ("post", f"{ME}/home-sessions", "201"),
        ("get", LOG, "200"),
        ("post", f"{LOG}/dose", "200"),
        ("post", f"{LOG}/not-taken", "200"),
        ("post", f"{LOG}/side-effects", "201"),
        ("post", f"{LOG}/check-in", "200"),
    ):
        assert "ETag" in paths[path][method]["responses"][status]["headers"], (method, path)
