"""A single-location clinic becomes a network of one (issue 14): its settings make the
default location, every staff member works there, and its rooms, opening hours, stock, counts
and receipts move into it without losing a row or breaking the append-only rules."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings

BEFORE = [
    ("scheduling", "0004_notification_moved_to_notifications"),
    ("controlled_substances", "0003_chain_and_no_replace"),
    ("locations", None),
]
AFTER = [("scheduling", "0005_locations"), ("controlled_substances", "0004_locations")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    # ("app", None) unapplies an app; the state is the one at the named migrations.
    return executor.loader.project_state([t for t in targets if t[1]]).apps


def _latest():
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return executor.loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
@override_settings(
    CLINIC_NAME="Lakeside Ketamine Clinic",
    CLINIC_PHONE="555-0100",
    SPRAVATO_REMS_SETTING_ID="REMS-0042",
    TIME_ZONE="America/Chicago",
    CLINIC_POLICY={"controlled_substances": {"registrant_dea_number": "bk1234563"}},
)
def test_existing_rooms_stock_and_staff_move_into_the_default_location():
    try:
        apps = _migrate(BEFORE)
        User = apps.get_model("accounts", "User")
        Room = apps.get_model("scheduling", "Room")
        Chair = apps.get_model("scheduling", "Chair")
        Hours = apps.get_model("scheduling", "OpeningHours")
        Product = apps.get_model("controlled_substances", "Product")
        Lot = apps.get_model("controlled_substances", "Lot")
        Receipt = apps.get_model("controlled_substances", "Receipt")
        Container = apps.get_model("controlled_substances", "Container")
        Count = apps.get_model("controlled_substances", "InventoryCount")
        nurse = User.objects.create(username="n1", role="nurse")
        admin = User.objects.create(username="a1", role="clinic_admin")
        User.objects.create(username="p1", role="patient")
        room = Room.objects.create(name="Room A")
        Chair.objects.create(room=room, name="Chair 1")
        Hours.objects.create(weekday=0, opens=datetime.time(8), closes=datetime.time(17))
        product = Product.objects.create(
            name="Ketamine 50 mg/mL",
            kind="racemic_ketamine_vial",
            strength_mg_per_ml=50,
            volume_ml=10,
        )
        lot = Lot.objects.create(product=product, lot_number="L1", expiry=datetime.date(2030, 1, 1))
        receipt = Receipt.objects.create(
            product=product,
            lot=lot,
            supplier_name="Supplier",
            supplier_address="1 Road",
            supplier_dea_number="RS1234563",
            invoice_number="INV-1",
            received_at=datetime.datetime(2026, 1, 5, 15, tzinfo=datetime.UTC),
            received_by=admin,
            container_count=1,
            content_mg_per_container=Decimal("500"),
        )
        Container.objects.create(
            lot=lot, receipt=receipt, label="V1", content_mg=500, balance_mg=500, status="in_stock"
        )
        Count.objects.create(
            kind="initial",
            counted_at=datetime.datetime(2026, 1, 5, 16, tzinfo=datetime.UTC),
            taken_at="opening",
            counted_by=nurse,
        )

        apps = _migrate(AFTER)
        Location = apps.get_model("locations", "Location")
        (default,) = Location.objects.all()
        assert (default.name, default.code, default.is_default) == (
            "Lakeside Ketamine Clinic",
            "MAIN",
            True,
        )
        assert default.time_zone == "America/Chicago"
        assert default.phone == "555-0100"
        assert default.spravato_rems_setting_id == "REMS-0042"
        assert default.dea_registration_number == "BK1234563"
        members = set(
            apps.get_model("locations", "LocationStaff")
            .objects.filter(location=default)
            .values_list("user__username", flat=True)
        )
        assert members == {"n1", "a1"}  # staff only, never the portal's patients
        for model in ("Room", "OpeningHours"):
            rows = apps.get_model("scheduling", model).objects.all()
            assert [r.location_id for r in rows] == [default.pk]
        for model in ("Receipt", "Container", "InventoryCount"):
            rows = apps.get_model("controlled_substances", model).objects.all()
            assert [r.location_id for r in rows] == [default.pk]
        # The receipt and count tables are still append-only after their tables were rebuilt.
        with pytest.raises(Exception, match="append-only"), connection.cursor() as cursor:
            cursor.execute("UPDATE controlled_substances_receipt SET invoice_number = 'X'")
    finally:
        _migrate(_latest())
