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


@pytest.mark.parametrize("raw", ['{"unexpected": "x"}', "[1, 2, 3]", '"x"', "null"])
def test_every_patient_body_refuses_an_unknown_field_or_a_non_object(client, patient, raw):
    """As clinic/api/tests/test_contract.py proves for the staff operations (whose run sends a
    staff token, which /me refuses before reading a body): with the patient's token, a body
    with a field it does not know, or no object at all, is a 422, before anything is looked
    up (the ids here name nothing)."""
    from clinic.accounts.models import User
    from clinic.journal.tests.me_api import patient_bearer
    from clinic.patients.models import Patient

    user = User.objects.create_user(username="jordan", password="x" * 12, role="patient")
    Patient.objects.filter(pk=patient.pk).update(user=user)
    headers = patient_bearer(user)
    document = client.get("/api/v1/openapi.json").json()
    bodies = 0
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if not path.startswith(f"{ME}/") or "requestBody" not in operation:
                continue
            bodies += 1
            concrete = path.replace("{", "").replace("}", "")
            for name in ("entry_uuid", "intention_uuid", "log_uuid"):
                concrete = concrete.replace(name, "5d1d8a9c-0000-4000-8000-000000000001")
            response = getattr(client, method)(
                concrete, raw, content_type="application/json", **headers
            )
            assert response.status_code == 422, (method, path, response.content)
            assert response.json()["code"], (method, path)
    assert bodies == 8  # four journal, four at-home
