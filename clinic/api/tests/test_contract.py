"""The API contract is complete (issue 13): every operation's request body refuses fields the
contract does not have, and every operation declares the error statuses it can answer with.

Introspected from the NinjaAPI itself, so an operation added later is covered without a test
of its own.
"""

from __future__ import annotations

import json
import typing

import pytest
from pydantic import BaseModel

from clinic.accounts.services import api_token_create
from clinic.api.api import api
from clinic.core.api_schemas import RequestBody, forbids_unknown_fields

# Operations that read their body themselves and refuse unknown fields there, each with why.
SELF_CHECKED = {
    # Names every problem of the intake at once, an unknown field with the rest
    # (calculators.md §3), so the schema cannot refuse unknown fields before the others.
    "screening_evaluate",
    # A protocol's options are the protocol's: the body is read by hand (its declared schema
    # says additionalProperties: false) and an option the protocol does not take is refused.
    "protocol_schedule",
}


def operations():
    for bound_router in api._get_bound_routers():
        for path, path_view in bound_router.path_operations.items():
            for operation in path_view.operations:
                yield bound_router.prefix + path, operation


def operation_id(operation) -> str:
    return operation.operation_id or api.get_openapi_operation_id(operation)


def nested_models(annotation, seen: set) -> typing.Iterator[type[BaseModel]]:
    """Every pydantic model reachable from a field's annotation (lists, unions, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return
        seen.add(annotation)
        yield annotation
        for field in annotation.model_fields.values():
            yield from nested_models(field.annotation, seen)
        return
    for argument in typing.get_args(annotation):
        yield from nested_models(argument, seen)


ALL = [pytest.param(path, op, id=operation_id(op)) for path, op in operations()]
WITH_BODY = [
    pytest.param(path, op, id=operation_id(op))
    for path, op in operations()
    if any(m.__ninja_param_source__ == "body" for m in op.models)
    or (op.openapi_extra or {}).get("requestBody")
]


def test_every_operation_is_seen():
    assert len(ALL) >= 15
    assert {operation_id(op) for _, op in operations()} >= SELF_CHECKED


@pytest.mark.parametrize(("path", "operation"), WITH_BODY)
def test_every_body_schema_forbids_unknown_fields(path, operation):
    if operation_id(operation) in SELF_CHECKED:
        return  # proved by the request below
    bodies = [m for m in operation.models if m.__ninja_param_source__ == "body"]
    assert bodies, f"{path}: a body no model describes"
    for body in bodies:
        single = getattr(body, "__read_from_single_attr__", None)
        if single:
            schema = body.model_fields[single].annotation
            assert isinstance(schema, type) and issubclass(schema, RequestBody), (
                f"{path}: body schema {schema} is not a clinic.core.api_schemas.RequestBody"
            )
        else:
            assert forbids_unknown_fields(body), f"{path}: body fields are not StrictBody[...]"
        for model in nested_models(body, set()):
            if model is not body:
                assert forbids_unknown_fields(model), f"{path}: {model.__name__} allows extras"


@pytest.fixture
def bearer(db, make_staff):
    admin = make_staff("clinic_admin", username="contract_admin")
    plain = api_token_create(actor=None, user=admin, name="contract")[1]
    return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}


def concrete(path: str) -> str:
    path = path.replace("{patient_uuid}", "5d1d8a9c-0000-4000-8000-000000000001")
    path = path.replace("{measurement_uuid}", "5d1d8a9c-0000-4000-8000-000000000002")
    path = path.replace("{appointment_uuid}", "5d1d8a9c-0000-4000-8000-000000000003")
    path = path.replace("{plan_uuid}", "5d1d8a9c-0000-4000-8000-000000000004")
    path = path.replace("{session_uuid}", "5d1d8a9c-0000-4000-8000-000000000005")
    path = path.replace("{alert_uuid}", "5d1d8a9c-0000-4000-8000-000000000006")
    path = path.replace("{administration_uuid}", "5d1d8a9c-0000-4000-8000-000000000007")
    path = path.replace("{container_uuid}", "5d1d8a9c-0000-4000-8000-000000000011")
    path = path.replace("{discrepancy_uuid}", "5d1d8a9c-0000-4000-8000-000000000012")
    path = path.replace("{report_uuid}", "5d1d8a9c-0000-4000-8000-000000000013")
    path = path.replace("{code}", "phq9" if "instruments" in path else "iv-induction-3x-weekly")
    return "/api/v1" + path


# A staff token opens every operation but the patient's own (/me), which refuses it with 401
# before reading a body: those are proved with a patient's token in
# clinic/journal/tests/test_api_me_openapi.py.
STAFF_WITH_BODY = [param for param in WITH_BODY if not param.values[0].startswith("/me/")]


@pytest.mark.parametrize(("path", "operation"), STAFF_WITH_BODY)
@pytest.mark.parametrize("raw", ['{"unexpected": "x"}', "[1, 2, 3]", '"x"', "null"])
def test_every_body_refuses_an_unknown_field_or_a_non_object(client, bearer, path, operation, raw):
    """Whatever the operation, a body with a field it does not know (or no object at all) is a
    422 in the envelope, before anything is looked up: the patient here does not exist."""
    method = operation.methods[0].lower()
    response = getattr(client, method)(
        concrete(path), raw, content_type="application/json", **bearer
    )
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "invalid_input"
    if raw.startswith("{") and operation_id(operation) != "protocol_schedule":
        assert any(
            item["type"] == "extra_forbidden" and item["loc"][-1] == "unexpected"
            for item in body["detail"]
        ), body


# The one operation that takes no credentials (issue 16): a consultation request. The front
# desk's list on the same path keeps the API's authentication.
PUBLIC = {("post", "/api/v1/consultations")}


def declared(operation_doc: dict) -> set[str]:
    return set(operation_doc["responses"])


@pytest.fixture(scope="module")
def document() -> dict:
    return json.loads(json.dumps(api.get_openapi_schema()))


def test_every_operation_declares_the_errors_it_can_answer_with(document):
    for path, methods in document["paths"].items():
        for method, operation_doc in methods.items():
            codes = declared(operation_doc)
            name = f"{method.upper()} {path}"
            if (method, path) in PUBLIC:
                # No credentials to refuse; its own limit instead.
                assert not {"401", "403"} & codes and "429" in codes, name
            else:
                assert {"401", "403"} <= codes, name
            if operation_doc.get("parameters") or operation_doc.get("requestBody"):
                assert "422" in codes, name
            if "{" in path:
                assert "404" in codes, name
            if operation_doc.get("requestBody"):
                assert "413" in codes, name
            for code in sorted(codes & {"401", "403", "429"}):
                schema = operation_doc["responses"][code]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ApiError"}, name


def test_patient_create_declares_its_duplicate_conflict(document):
    responses = document["paths"]["/api/v1/patients"]["post"]["responses"]
    assert "409" in responses


def test_a_protocol_option_the_protocol_does_not_take_is_refused(client, bearer):
    response = client.post(
        concrete("/protocols/{code}/schedule"),
        {"start_date": "2026-01-05", "unexpected": "x"},
        content_type="application/json",
        **bearer,
    )
    assert response.status_code == 422, response.content
    assert ["body", "unexpected"] in [item["loc"] for item in response.json()["detail"]]
