"""What the FHIR API tests share: a bearer token, and the checks of an OperationOutcome and of
a searchset."""

from __future__ import annotations

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome

from clinic.accounts.services import api_token_create

FHIR_JSON = "application/fhir+json"


def bearer(user) -> dict:
    _, plain = api_token_create(actor=None, user=user, name="fhir tests")
    return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}


def outcome(response, status: int, code: str) -> str:
    assert response.status_code == status
    assert response["Content-Type"].startswith(FHIR_JSON)
    body = OperationOutcome.model_validate(response.json())
    assert body.issue[0].code == code
    return body.issue[0].diagnostics


def entries(response) -> list[dict]:
    assert response.status_code == 200, response.content
    bundle = Bundle.model_validate(response.json())
    assert bundle.type == "searchset"
    return [entry["resource"] for entry in response.json().get("entry", [])]
