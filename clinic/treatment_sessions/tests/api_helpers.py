"""Helpers shared by the session API's tests: paths, the ETag of a session, and every row the
chair side may write (to prove a refusal wrote nothing)."""

from __future__ import annotations

from clinic.controlled_substances.models import LedgerEntry
from clinic.patients.tests.api_helpers import JSON, client_for
from clinic.treatment_sessions.models import (
    AdverseEvent,
    DoseAdministration,
    InfusionEvent,
    SessionAlert,
    SessionOverride,
    SessionScore,
    SideEffect,
    TreatmentSession,
    VitalsEntry,
)

API = "/api/v1/sessions"


def one(session) -> str:
    return f"{API}/{session.uuid}"


def etag_of(session, reader) -> str:
    response = client_for(reader).get(one(session))
    assert response.status_code == 200, response.content
    return response["ETag"]


def post(user, path: str, body: dict | None = None, *, if_match: str | None = None):
    headers = {"HTTP_IF_MATCH": if_match} if if_match is not None else {}
    return client_for(user).post(path, body or {}, content_type=JSON, **headers)


def chair_rows() -> tuple:
    """Every row a chair-side request may write (the audit trail aside)."""
    return (
        list(TreatmentSession.objects.order_by("pk").values()),
        list(VitalsEntry.objects.order_by("pk").values()),
        list(SessionAlert.objects.order_by("pk").values()),
        list(InfusionEvent.objects.order_by("pk").values()),
        list(DoseAdministration.objects.order_by("pk").values()),
        list(LedgerEntry.objects.order_by("pk").values_list("pk", flat=True)),
    )


def record_rows() -> tuple:
    """Every row the session record's operations may write as well (api/record.py): scores,
    side effects, adverse events, a prescriber's overrides (the audit trail aside)."""
    return (
        *chair_rows(),
        list(SessionScore.objects.order_by("pk").values()),
        list(SideEffect.objects.order_by("pk").values()),
        list(AdverseEvent.objects.order_by("pk").values()),
        list(SessionOverride.objects.order_by("pk").values()),
    )


# A reading at the clinic's in-session BP alert (policy-defaults.md: systolic ≥ 180 or
# diastolic ≥ 110), below the very-high limit (≥ 200/120).
HIGH_BP = {"systolic_mmhg": 185, "diastolic_mmhg": 112, "heart_rate_bpm": 80, "spo2_percent": 98}
