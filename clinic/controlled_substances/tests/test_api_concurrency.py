"""Two wastes from one 100 mg vial sent through the API at the same moment, on PostgreSQL
(SQLite serialises all writers, so it cannot race): the vial's row lock queues them, the second
sees the first, and the balance never goes below zero. And two devices resolving one
discrepancy with the same ETag: exactly one succeeds, the other is 412. PostgreSQL only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from clinic.accounts.services import api_token_create
from clinic.controlled_substances import services
from clinic.controlled_substances.models import Container, LedgerEntry
from conftest import TEST_PASSWORD
from tests.concurrency import in_threads

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _bearer(user) -> str:
    return f"Bearer {api_token_create(actor=None, user=user, name='race')[1]}"


def test_two_wastes_at_once_never_drive_the_balance_negative(vial, nurse, prescriber):
    # Each 60 mg: the vial holds 100, so exactly one fits.
    senders = [(nurse, prescriber), (prescriber, nurse)]
    tokens = [_bearer(actor) for actor, _ in senders]

    def work(i):
        witness = senders[i][1]
        return Client().post(
            f"/api/v1/ledger/containers/{vial.uuid}/waste",
            {
                "quantity_mg": "60",
                "reason": "Contaminated",
                "witness": str(witness.uuid),
                "witness_password": TEST_PASSWORD,
            },
            content_type="application/json",
            HTTP_AUTHORIZATION=tokens[i],
        )

    responses = in_threads(2, work)
    assert sorted(r.status_code for r in responses) == [201, 409], [r.content for r in responses]
    refused = next(r for r in responses if r.status_code == 409)
    assert refused.json()["code"] == "insufficient_balance"
    assert Container.objects.get(pk=vial.pk).balance_mg == Decimal("40.000")
    assert vial.entries.filter(kind="waste").count() == 1


def test_one_etag_resolves_a_discrepancy_once(vials, nurse, prescriber, clinic_admin):
    count = services.count_record(
        actor=nurse, kind="daily", lines={vials[0]: "100", vials[1]: "90"}
    )
    discrepancy = count.lines.get(container=vials[1]).discrepancy
    url = f"/api/v1/ledger/discrepancies/{discrepancy.uuid}"
    tokens = [_bearer(prescriber), _bearer(clinic_admin)]
    tag = Client().get(url, HTTP_AUTHORIZATION=tokens[0])["ETag"]

    def work(i):
        return Client().post(
            f"{url}/resolve",
            {"reason": "Spilled", "adjust_balance": True},
            content_type="application/json",
            HTTP_AUTHORIZATION=tokens[i],
            HTTP_IF_MATCH=tag,
        )

    responses = in_threads(2, work)
    assert sorted(r.status_code for r in responses) == [200, 412], [r.content for r in responses]
    assert LedgerEntry.objects.filter(kind="adjustment").count() == 1
    assert Container.objects.get(pk=vials[1].pk).balance_mg == Decimal("90.000")
