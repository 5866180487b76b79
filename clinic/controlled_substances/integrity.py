"""The ledger's own invariant for `manage.py verify_integrity`: every container's balance is
the sum of its entries, and each entry's `balance_after_mg` is the running sum at that entry
(clinic/core/integrity.py walks the hash chain itself)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

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
