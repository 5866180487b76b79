"""The ledger's own invariants for `manage.py verify_integrity`: every container's balance is
the sum of its entries, and each entry's `balance_after_mg` is the running sum at that entry
(clinic/core/integrity.py walks the hash chain itself); and every container is kept at the
location that received it (its receipt's location: stock moves between locations only by a
transfer out and a new receipt, ADR 0007).

Balances are per container and so hold however many locations there are; each location's
balance is the sum of its containers'."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from django.db.models import F

from clinic.core.integrity import Problem


def ledger_balances_check(using: str) -> Iterator[Problem]:
    from clinic.controlled_substances.models import Container, LedgerEntry

    running: dict[int, Decimal] = {}
    broken: set[int] = set()
    entries = (
        LedgerEntry._base_manager.using(using)
        .order_by("container_id", "id")
        .values_list("id", "container_id", "quantity_mg", "balance_after_mg")
    )
    for entry_id, container_id, quantity, balance_after in entries.iterator(chunk_size=2000):
        total = running.get(container_id, Decimal(0)) + quantity
        running[container_id] = total
        if balance_after != total and container_id not in broken:
            broken.add(container_id)  # the first wrong entry of a container says enough
            yield Problem(
                "controlled_substances_ledgerentry balance_after_mg",
                entry_id,
                f"{total:f} mg (the running sum of container {container_id}'s entries)",
                f"{balance_after:f} mg",
            )
    containers = Container._base_manager.using(using).order_by("id")
    for container_id, balance in containers.values_list("id", "balance_mg").iterator():
        total = running.get(container_id, Decimal(0))
        if balance != total:
            yield Problem(
                "controlled_substances_container balance_mg",
                container_id,
                f"{total:f} mg (the sum of its ledger entries)",
                f"{balance:f} mg",
            )


def ledger_locations_check(using: str) -> Iterator[Problem]:
    """Each container is at its receipt's location."""
    from clinic.controlled_substances.models import Container

    mismatched = (
        Container._base_manager.using(using)
        .exclude(location=F("receipt__location"))
        .order_by("id")
        .values_list("id", "location_id", "receipt__location_id")
    )
    for container_id, location_id, receipt_location_id in mismatched.iterator():
        yield Problem(
            "controlled_substances_container location",
            container_id,
            f"location {receipt_location_id} (its receipt's)",
            f"location {location_id}",
        )
