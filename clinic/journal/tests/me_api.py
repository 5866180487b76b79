"""Helpers for the tests of the patient's own API (/api/v1/me): a patient's token as the
portal's account page makes it, and one call with its bearer header and If-Match."""

from __future__ import annotations

import json

from django.test import Client

from clinic.accounts.services import api_token_create, patient_api_token_create

ME = "/api/v1/me"
ENVELOPE = {"$ref": "#/components/schemas/ApiError"}


def patient_bearer(user) -> dict[str, str]:
    """The header of a new token of this patient (made as on the portal's account page)."""
    _token, plain = patient_api_token_create(actor=user, name="My journal app")
    return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}


def staff_bearer(user) -> dict[str, str]:
    _token, plain = api_token_create(actor=user, user=user, name="Script")
    return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}


def call(
    client: Client,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: dict | None = None,
    if_match: str | None = None,
):
    extra = dict(headers or {})
    if if_match is not None:
        extra["HTTP_IF_MATCH"] = if_match
    if method == "get":
        return client.get(path, **extra)
    return getattr(client, method)(
        path, json.dumps(body or {}), content_type="application/json", **extra
    )
