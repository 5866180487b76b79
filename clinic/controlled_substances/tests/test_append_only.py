"""The ledger, receipts and counts are append-only in the model, the queryset and the database
itself (ADR 0007): raw SQL UPDATE and DELETE are refused on SQLite and PostgreSQL alike."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from clinic.controlled_substances import services
from clinic.controlled_substances.models import (
    InventoryCount,
    InventoryCountLine,
    LedgerEntry,
    Receipt,
)
from clinic.core.models import AppendOnlyError

pytestmark = pytest.mark.django_db

MODELS = [LedgerEntry, Receipt, InventoryCount, InventoryCountLine]


@pytest.fixture
def records(nurse, patient, vials):
    services.administration_record(
        actor=nurse, container=vials[0], patient=patient, drawn_mg="10", given_mg="10"
    )
    services.count_record(actor=nurse, kind="daily", lines={vials[0]: "90", vials[1]: "100"})
    return {model: model.objects.order_by("pk").first() for model in MODELS}


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_a_row_cannot_be_changed_or_deleted_through_the_model(records, model):
    row = records[model]
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        row.delete()


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_rows_cannot_be_changed_or_deleted_through_a_queryset(records, model):
    with pytest.raises(AppendOnlyError):
        model.objects.all().update(recorded_at=records[model].recorded_at)
    with pytest.raises(AppendOnlyError):
        model.objects.all().delete()
    assert model.objects.filter(pk=records[model].pk).exists()


def test_a_ledger_entry_cannot_be_edited_to_change_its_quantity(records):
    entry = LedgerEntry.objects.get(kind="administration")
    entry.quantity_mg = Decimal("-1")
    with pytest.raises(AppendOnlyError):
        entry.save()
    assert LedgerEntry.objects.get(pk=entry.pk).quantity_mg == Decimal("-10.000")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE controlled_substances_ledgerentry SET quantity_mg = 0",
        "DELETE FROM controlled_substances_ledgerentry",
        "UPDATE controlled_substances_receipt SET supplier_name = 'tampered'",
        "DELETE FROM controlled_substances_receipt",
        "UPDATE controlled_substances_inventorycount SET note = 'tampered'",
        "DELETE FROM controlled_substances_inventorycount",
        "UPDATE controlled_substances_inventorycountline SET counted_mg = 0",
        "DELETE FROM controlled_substances_inventorycountline",
    ],
)
def test_the_database_itself_refuses_update_and_delete(records, statement):
    before = {model: model.objects.count() for model in MODELS}
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert {model: model.objects.count() for model in MODELS} == before
    assert LedgerEntry.objects.get(kind="administration").quantity_mg == Decimal("-10.000")
    assert Receipt.objects.get().supplier_name == "Acme Pharma Distribution"
