"""Stock for the controlled-substance tests.

`vial_product` is a racemic ketamine vial of 10 mg/mL × 10 mL (100 mg per container: test
figures chosen for easy arithmetic, not a product's label). `device_product` is an esketamine
nasal device of 28 mg (label [C1], [C2]). `vials` are two sealed vials of one lot received by the
root conftest's `prescriber`; `vial` is the first. The root `nurse` (on `patient`'s care team)
administers and the `prescriber` witnesses.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.conf import settings

from clinic.controlled_substances import services
from clinic.locations.models import Location

# Within the clinic's expiry horizon (CLINIC_POLICY["dates"]["expiry_days_ahead"], 10 years).
EXPIRY = datetime.date(datetime.date.today().year + 8, 12, 31)


def receive(actor, product, *, containers=2, lot_number="L100", expiry=EXPIRY, **extra):
    values = {
        "supplier": "Acme Pharma Distribution",
        "supplier_address": "1 Warehouse Way, Newark, NJ",
        "supplier_dea_number": "RA1234567",
        "invoice": "INV-001",
    }
    values.update(extra)
    return services.receipt_record(
        actor=actor,
        product=product,
        lot_number=lot_number,
        expiry=expiry,
        containers=containers,
        **values,
    )


@pytest.fixture(autouse=True)
def _default_location_after_flush(request):
    """A transactional test's flush empties the locations table too: the default location
    (locations migration 0002) is put back, as stock is received there by default."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    request.getfixturevalue("transactional_db")
    Location.objects.get_or_create(
        is_default=True,
        defaults={"name": "Main location", "code": "MAIN", "time_zone": settings.TIME_ZONE},
    )


@pytest.fixture
def vial_product(prescriber):
    return services.product_create(
        actor=prescriber,
        name="Ketamine HCl 10 mg/mL, 10 mL vial",
        kind="racemic_ketamine_vial",
        strength_mg_per_ml=Decimal("10"),
        volume_ml=Decimal("10"),
        ndc="00000-0000-00",
    )


@pytest.fixture
def device_product(prescriber):
    return services.product_create(
        actor=prescriber,
        name="Spravato 28 mg device",
        kind="esketamine_device",
        mg_per_device=Decimal("28"),
    )


@pytest.fixture
def vials(prescriber, vial_product):
    receipt = receive(prescriber, vial_product)
    return list(receipt.containers.order_by("pk"))


@pytest.fixture
def vial(vials):
    return vials[0]
