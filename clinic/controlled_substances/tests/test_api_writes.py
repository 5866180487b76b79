"""The ledger's write API (issue 16): only the writes the pages allow, to the roles they allow
them to; a witness proves their presence with their own password as on the page, or nothing is
written; the ledger stays append-only; a discrepancy and a loss report change only with the
ETag they were read with.

The scene (conftest): two sealed 100 mg vials (L100-001, L100-002) received by the
prescriber; the nurse records, the prescriber witnesses (both licensed, both at the one
location). Every staff password is conftest's TEST_PASSWORD.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from clinic.controlled_substances import services
from clinic.controlled_substances.models import Container, InventoryCount, LedgerEntry, Receipt
from clinic.core.models import AuditEvent
from conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db

API = "/api/v1/ledger"


def _post(client, url, body, **headers):
    return client.post(url, body, content_type="application/json", **headers)


def _waste(client, vial, **body):
    values = {"quantity_mg": "10", "reason": "Dropped on the floor"}
    values.update(body)
    return _post(client, f"{API}/containers/{vial.uuid}/waste", values)


def _ledger(vial) -> list[tuple]:
    """Every entry as written: the ledger's state, to compare before and after."""
    return list(LedgerEntry.objects.order_by("pk").values_list("pk", "digest", "quantity_mg"))


# --------------------------------------------------------------------------- waste


def test_a_witnessed_waste_comes_off_the_balance(client, vial, nurse, prescriber):
    client.force_login(nurse)
    response = _waste(client, vial, witness=str(prescriber.uuid), witness_password=TEST_PASSWORD)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["witnessed"]) == ("waste", True)
    assert Decimal(body["quantity_mg"]) == Decimal("-10")
    assert Decimal(body["balance_after_mg"]) == Decimal("90")
    entry = LedgerEntry.objects.get(uuid=body["uuid"])
    assert (entry.actor, entry.witness) == (nurse, prescriber)
    assert Container.objects.get(pk=vial.pk).balance_mg == Decimal("90")
    # The password went nowhere it could be read back.
    assert TEST_PASSWORD not in response.content.decode()
    assert not AuditEvent.objects.filter(summary__contains=TEST_PASSWORD).exists()


@pytest.mark.parametrize(
    ("who", "password", "field"),
    [
        (None, "", "witness"),  # no witness at all
        ("prescriber", "", "witness_password"),  # named, not confirmed
        ("prescriber", "not-their-password", "witness_password"),
        ("nurse", TEST_PASSWORD, "witness"),  # oneself
        ("front_desk", TEST_PASSWORD, "witness"),  # not licensed
    ],
)
def test_a_waste_without_a_valid_witness_writes_nothing(
    client, vial, nurse, prescriber, front_desk, who, password, field
):
    people = {"prescriber": prescriber, "nurse": nurse, "front_desk": front_desk}
    body = {"witness_password": password}
    if who:
        body["witness"] = str(people[who].uuid)
    before = _ledger(vial)
    client.force_login(nurse)
    response = _waste(client, vial, **body)
    assert response.status_code == 422, response.content
    assert field in [item["loc"][-1] for item in response.json()["detail"]]
    assert _ledger(vial) == before
    assert Container.objects.get(pk=vial.pk).balance_mg == Decimal("100")
    assert password not in response.content.decode() or not password


def test_a_waste_beyond_the_balance_is_a_conflict(client, vial, nurse, prescriber):
    client.force_login(nurse)
    witness = {"witness": str(prescriber.uuid), "witness_password": TEST_PASSWORD}
    refused = _waste(client, vial, quantity_mg="100.001", **witness)
    assert refused.status_code == 409
    assert refused.json()["code"] == "insufficient_balance"
    assert Container.objects.get(pk=vial.pk).balance_mg == Decimal("100")


def test_who_may_waste(client, vial, actors, prescriber, nurse):
    """ledger.record: prescribers and nurses (not the clinic administrator)."""
    witness_of = {"prescriber": nurse}
    expected = {
        "anonymous": 401,
        "clinic_admin": 403,
        "therapist": 403,
        "front_desk": 403,
        "billing": 403,
        "prescriber": 201,
        "nurse": 201,
    }
    for name, status in expected.items():
        client.logout()
        if actors[name] is not None:
            client.force_login(actors[name])
        witness = witness_of.get(name, prescriber)
        response = _waste(
            client, vial, quantity_mg="1", witness=str(witness.uuid), witness_password=TEST_PASSWORD
        )
        assert response.status_code == status, (name, response.content)
    assert Container.objects.get(pk=vial.pk).balance_mg == Decimal("98")


# --------------------------------------------------------------------------- receiving


def _receipt(vial_product, **extra):
    body = {
        "product": str(vial_product.uuid),
        "lot_number": "L900",
        "expiry": (timezone.localdate() + datetime.timedelta(days=400)).isoformat(),
        "containers": 3,
        "supplier": "Acme Pharma Distribution",
        "supplier_address": "1 Warehouse Way, Newark, NJ",
        "supplier_dea_number": "RA1234567",
        "invoice": "INV-900",
        "received_on": timezone.localdate().isoformat(),
        "received_time": "00:05",
    }
    body.update(extra)
    return body


def test_receiving_stock_as_the_page_does(client, vial_product, actors, prescriber, nurse):
    for name, status in {"nurse": 403, "front_desk": 403, "anonymous": 401}.items():
        client.logout()
        if actors[name] is not None:
            client.force_login(actors[name])
        assert _post(client, f"{API}/receipts", _receipt(vial_product)).status_code == status
    client.force_login(prescriber)
    wrong = _receipt(vial_product, witness=str(nurse.uuid), witness_password="nope")
    assert _post(client, f"{API}/receipts", wrong).status_code == 422
    assert not Receipt.objects.filter(invoice_number="INV-900").exists()
    witnessed = _receipt(vial_product, witness=str(nurse.uuid), witness_password=TEST_PASSWORD)
    response = _post(client, f"{API}/receipts", witnessed)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["witnessed"] is True and body["lot_number"] == "L900"
    assert [(c["label"], Decimal(c["balance_mg"])) for c in body["containers"]] == [
        ("L900-001", 100),
        ("L900-002", 100),
        ("L900-003", 100),
    ]
    assert (
        LedgerEntry.objects.filter(kind="receipt", container__lot__lot_number="L900").count() == 3
    )


# --------------------------------------------------------------------------- counts


def _count(vials, amounts, **extra):
    return {
        "kind": "daily",
        "lines": [
            {"container": str(v.uuid), "counted_mg": a} for v, a in zip(vials, amounts, strict=True)
        ],
        **extra,
    }


def test_a_count_covers_every_container_on_hand_once(client, vials, nurse, front_desk):
    client.force_login(front_desk)
    assert _post(client, f"{API}/counts", _count(vials, ["100", "90"])).status_code == 403
    client.force_login(nurse)
    missing = _post(client, f"{API}/counts", _count(vials[:1], ["100"]))
    assert missing.status_code == 422
    assert ["body", f"lines.{vials[1].uuid}"] in [p["loc"] for p in missing.json()["detail"]]
    twice = _post(client, f"{API}/counts", _count([vials[0], vials[0]], ["100", "100"]))
    assert twice.status_code == 422
    assert not InventoryCount.objects.exists()
    response = _post(client, f"{API}/counts", _count(vials, ["100", "90"]))
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["containers"], body["discrepancies"], body["open_discrepancies"]) == (2, 1, 1)
    # A count changes no balance: the book stays until a discrepancy is resolved.
    assert [c.balance_mg for c in Container.objects.order_by("pk")] == [100, 100]


def test_an_initial_inventory_is_taken_once(client, vials, prescriber):
    client.force_login(prescriber)
    initial = _count(vials, ["100", "100"], kind="initial", taken_at="opening")
    assert _post(client, f"{API}/counts", initial).status_code == 201
    again = _post(client, f"{API}/counts", initial)
    assert again.status_code == 409 and again.json()["code"] == "initial_inventory_exists"


# --------------------------------------------------------------------------- If-Match


@pytest.fixture
def discrepancy(vials, nurse):
    count = services.count_record(
        actor=nurse, kind="daily", lines={vials[0]: "100", vials[1]: "90"}
    )
    return count.lines.get(container=vials[1]).discrepancy


def test_resolving_a_discrepancy_needs_its_current_etag(client, vials, discrepancy, prescriber):
    url = f"{API}/discrepancies/{discrepancy.uuid}"
    client.force_login(prescriber)
    tag = client.get(url)["ETag"]
    body = {"reason": "Spilled while drawing", "adjust_balance": True}
    assert _post(client, f"{url}/resolve", body).status_code == 428
    stale = _post(client, f"{url}/resolve", body, HTTP_IF_MATCH='"0000"')
    assert stale.status_code == 412
    done = _post(client, f"{url}/resolve", body, HTTP_IF_MATCH=tag)
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "resolved" and done.json()["adjusted"] is True
    assert done["ETag"] != tag
    # The adjustment is a new entry; the book now says what was counted.
    assert Container.objects.get(pk=vials[1].pk).balance_mg == Decimal("90")
    assert LedgerEntry.objects.filter(kind="adjustment", quantity_mg=Decimal("-10")).count() == 1
    # A second device with the tag it read before: refused, nothing written twice.
    assert _post(client, f"{url}/resolve", body, HTTP_IF_MATCH=tag).status_code == 412
    assert LedgerEntry.objects.filter(kind="adjustment").count() == 1


def test_who_may_resolve(client, discrepancy, nurse, clinic_admin):
    url = f"{API}/discrepancies/{discrepancy.uuid}"
    client.force_login(nurse)
    tag = client.get(url)["ETag"]
    body = {"reason": "Recount"}
    assert _post(client, f"{url}/resolve", body, HTTP_IF_MATCH=tag).status_code == 403
    client.force_login(clinic_admin)
    assert _post(client, f"{url}/resolve", body, HTTP_IF_MATCH=tag).status_code == 200


def test_a_loss_report_and_its_two_filings(client, prescriber, nurse):
    body = {
        "kind": "theft",
        "discovered_at": (timezone.now() - datetime.timedelta(hours=3)).isoformat(),
        "description": "A vial missing from the safe",
    }
    client.force_login(nurse)
    assert _post(client, f"{API}/losses", body).status_code == 403
    client.force_login(prescriber)
    created = _post(client, f"{API}/losses", body)
    assert created.status_code == 201, created.content
    url = f"{API}/losses/{created.json()['uuid']}"
    tag = created["ETag"]
    early = _post(client, f"{url}/form106", {}, HTTP_IF_MATCH=tag)
    assert early.status_code == 409 and early.json()["code"] == "not_notified"
    assert _post(client, f"{url}/notified", {}).status_code == 428
    notified = _post(client, f"{url}/notified", {}, HTTP_IF_MATCH=tag)
    assert notified.status_code == 200 and notified.json()["dea_notice"] == "done"
    assert _post(client, f"{url}/form106", {}, HTTP_IF_MATCH=tag).status_code == 412
    filed = _post(client, f"{url}/form106", {"reference": "F106-1"}, HTTP_IF_MATCH=notified["ETag"])
    assert filed.status_code == 200
    assert (filed.json()["form106"], filed.json()["form106_reference"]) == ("done", "F106-1")


# --------------------------------------------------------------------------- append-only


def test_no_operation_edits_or_deletes_an_entry(client, vial, nurse, prescriber):
    from clinic.api.api import api

    document = api.get_openapi_schema()
    for path, methods in document["paths"].items():
        if path.startswith("/api/v1/ledger"):
            assert set(methods) <= {"get", "post"}, path
            for method in methods:
                assert not (method == "post" and "/entries" in path), path
    client.force_login(prescriber)
    entry = vial.entries.get()
    before = _ledger(vial)
    for method in ("put", "patch", "delete"):
        response = getattr(client, method)(f"{API}/entries/{entry.uuid}")
        assert response.status_code in (404, 405), method
    client.force_login(nurse)
    witness = {"witness": str(prescriber.uuid), "witness_password": TEST_PASSWORD}
    assert _waste(client, vial, **witness).status_code == 201
    # The waste added an entry; every entry before it is as it was.
    assert _ledger(vial)[: len(before)] == before
