"""clinic/core/bulk.py, the seeder's sanctioned bulk path: rows carry their own ids, chained rows
are sealed in order after the chain's last row (and refused out of order)."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import pytest
from django.db import transaction

from clinic.controlled_substances.models import Container, LedgerEntry, Lot, Product, Receipt
from clinic.core.bulk import chain_bulk_insert, reserve_ids
from clinic.core.integrity import chain_verify

pytestmark = pytest.mark.django_db

WHEN = datetime.datetime(2026, 1, 5, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def container(make_staff):
    receiver = make_staff("prescriber")
    product = Product.objects.create(
        name="Vial", kind="racemic_ketamine_vial", strength_mg_per_ml=50, volume_ml=10
    )
    lot = Lot.objects.create(product=product, lot_number="L1", expiry=datetime.date(2027, 1, 1))
    receipt = Receipt.objects.create(
        product=product,
        lot=lot,
        supplier_name="Supplier",
        supplier_address="1 Road",
        supplier_dea_number="RX0000000",
        invoice_number="1",
        received_at=WHEN,
        received_by=receiver,
        container_count=1,
        content_mg_per_container=Decimal("500"),
    )
    box = Container.objects.create(
        lot=lot, receipt=receipt, label="L1-001", content_mg=500, balance_mg=0
    )
    return box, receiver


def receipt_entry(pk, box, actor, balance):
    return LedgerEntry(
        pk=pk,
        uuid=uuid.UUID(int=pk, version=4),
        recorded_at=WHEN,
        kind="receipt",
        container=box,
        occurred_at=WHEN,
        quantity_mg=Decimal("500"),
        balance_after_mg=Decimal(balance),
        actor=actor,
    )


def test_chained_rows_follow_the_chain_and_verify(container):
    box, actor = container
    # One entry through the model's own save, then one through the bulk path.
    LedgerEntry(
        kind="receipt",
        container=box,
        occurred_at=WHEN,
        quantity_mg=Decimal("250"),
        balance_after_mg=Decimal("250"),
        actor=actor,
    ).save()
    first = reserve_ids(LedgerEntry, 1)
    with transaction.atomic():
        chain_bulk_insert(LedgerEntry, [receipt_entry(first, box, actor, "750")])

    # The hash chain holds across the row saved one at a time and the row added in bulk.
    assert chain_verify(LedgerEntry) == (2, None)
    assert list(LedgerEntry.objects.order_by("pk").values_list("pk", flat=True)) == [
        first - 1,
        first,
    ]


def test_chained_rows_need_ids_after_the_last_row(container):
    box, actor = container
    first = reserve_ids(LedgerEntry, 2)
    rows = [receipt_entry(first + 1, box, actor, "500"), receipt_entry(first, box, actor, "1000")]
    with pytest.raises(ValueError, match="increasing"), transaction.atomic():
        chain_bulk_insert(LedgerEntry, rows)
    assert not LedgerEntry.objects.exists()
