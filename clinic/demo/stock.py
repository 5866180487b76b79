"""Each location's controlled-substance stock for the history seeder: receipts as stock runs
out, containers drawn for doses and wasted with a witness, every movement a ledger entry in the
order it happened, written at the end in chain order under the chain lock."""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING

from clinic.controlled_substances.choices import ContainerStatus, EntryKind, ProductKind
from clinic.controlled_substances.models import Container, LedgerEntry, Lot, Product, Receipt
from clinic.core.bulk import bulk_insert, chain_bulk_insert, reserve_ids
from clinic.demo.history_common import BATCH, Site, local_moment, seeded_uuid

if TYPE_CHECKING:
    from clinic.demo.history import HistoryBuilder

SUPPLIER = ("Example Pharma Distribution (demo)", "100 Demo Way, Newark, NJ 07102", "RX0000000")
VIAL_NAME = "Ketamine HCl injection 50 mg/mL, 10 mL vial"
DEVICE_NAME = "Spravato (esketamine) 28 mg nasal spray device"
VIALS_PER_RECEIPT = 10
DEVICES_PER_RECEIPT = 30
SHELF_LIFE_DAYS = 730


class Stock:
    """Each location's stock: sealed and opened containers, received as they run out, every
    movement a ledger entry in the order it happened (the chain's order)."""

    def __init__(self, builder: HistoryBuilder):
        self.b = builder
        self.rng = random.Random(f"{builder.o.seed}:stock")
        self.vial, _ = Product.objects.get_or_create(
            name=VIAL_NAME,
            defaults={
                "kind": ProductKind.RACEMIC_KETAMINE_VIAL,
                "strength_mg_per_ml": Decimal("50"),
                "volume_ml": Decimal("10"),
            },
        )
        self.device_product, _ = Product.objects.get_or_create(
            name=DEVICE_NAME,
            defaults={"kind": ProductKind.ESKETAMINE_DEVICE, "mg_per_device": Decimal("28")},
        )
        self.open_vial: dict[int, Container] = {}
        self.sealed: dict[tuple[int, int], list[Container]] = defaultdict(list)
        self.lots = 0
        self.entries: list[LedgerEntry] = []
        self.containers: list[Container] = []
        self.receipts: list[Receipt] = []
        self.lot_rows: list[Lot] = []
        self.ledger_start = reserve_ids(LedgerEntry, 0)
        self.next_entry = self.ledger_start

    def _entry(self, **values) -> LedgerEntry:
        container: Container = values["container"]
        quantity = values["quantity_mg"]
        container.balance_mg = container.balance_mg + quantity
        entry = LedgerEntry(
            pk=self.next_entry,
            uuid=seeded_uuid(self.rng),
            recorded_at=values["occurred_at"],
            balance_after_mg=container.balance_mg,
            **values,
        )
        self.next_entry += 1
        self.entries.append(entry)
        return entry

    def _receive(self, site: Site, product: Product, at: datetime.datetime) -> None:
        b = self.b
        self.lots += 1
        day = at.astimezone(site.zone).date()
        received = local_moment(day, datetime.time(7, 30), site.zone)
        if received > at:
            received = at - datetime.timedelta(minutes=30)
        lot = Lot(
            pk=b.ids.take(Lot),
            uuid=seeded_uuid(self.rng),
            product=product,
            lot_number=f"{site.location.code}-{'E' if product.is_device else 'K'}{self.lots:05d}",
            expiry=day + datetime.timedelta(days=SHELF_LIFE_DAYS),
        )
        count = DEVICES_PER_RECEIPT if product.is_device else VIALS_PER_RECEIPT
        receiver = site.prescribers[0]
        witness = next((n for n in site.nurses if n.pk != receiver.pk), None)
        receipt = Receipt(
            pk=b.ids.take(Receipt),
            uuid=seeded_uuid(self.rng),
            recorded_at=received,
            location=site.location,
            product=product,
            lot=lot,
            supplier_name=SUPPLIER[0],
            supplier_address=SUPPLIER[1],
            supplier_dea_number=SUPPLIER[2],
            invoice_number=f"INV-{site.location.code}-{self.lots:05d}",
            received_at=received,
            received_by=receiver,
            witness=witness,
            container_count=count,
            content_mg_per_container=product.content_mg,
        )
        self.lot_rows.append(lot)
        self.receipts.append(receipt)
        for number in range(1, count + 1):
            container = Container(
                pk=b.ids.take(Container),
                uuid=seeded_uuid(self.rng),
                created_at=received,
                location=site.location,
                lot=lot,
                receipt=receipt,
                label=f"{lot.lot_number}-{number:03d}",
                content_mg=product.content_mg,
                balance_mg=Decimal(0),
                status=ContainerStatus.IN_STOCK,
            )
            self.containers.append(container)
            self._entry(
                kind=EntryKind.RECEIPT,
                container=container,
                occurred_at=received,
                quantity_mg=product.content_mg,
                actor=receiver,
                witness=witness,
                counterparty=SUPPLIER[0],
                counterparty_dea_number=SUPPLIER[2],
                reason=f"Invoice {receipt.invoice_number}",
            )
            self.sealed[(site.location.pk, product.pk)].append(container)

    def _next_sealed(self, site: Site, product: Product, at: datetime.datetime) -> Container:
        key = (site.location.pk, product.pk)
        if not self.sealed[key]:
            self._receive(site, product, at)
        return self.sealed[key].pop(0)

    def draw_iv(self, site, dose: Decimal, *, at, actor, witness):
        """The vial in use at the location, or a new one: an opened vial whose rest is too
        little for this dose is wasted (witnessed) and set aside as empty."""
        container = self.open_vial.get(site.location.pk)
        if container is not None and container.balance_mg == 0:
            container = None  # used to the last drop: already empty
        elif container is not None and container.balance_mg < dose:
            self._entry(
                kind=EntryKind.WASTE,
                container=container,
                occurred_at=at,
                quantity_mg=-container.balance_mg,
                wasted_mg=container.balance_mg,
                actor=actor,
                witness=witness,
                reason="Rest of an opened vial, too little for the next dose",
            )
            container.status = ContainerStatus.EMPTY
            container = None
        if container is None:
            container = self._next_sealed(site, self.vial, at)
            container.status = ContainerStatus.IN_USE
            self.open_vial[site.location.pk] = container
        return container, None

    def device(self, site, *, at, actor, witness) -> Container:
        container = self._next_sealed(site, self.device_product, at)
        return container

    def administer(self, container, *, drawn, given, at, actor, patient, session, witness):
        entry = self._entry(
            kind=EntryKind.ADMINISTRATION,
            container=container,
            occurred_at=at,
            quantity_mg=-drawn,
            drawn_mg=drawn,
            given_mg=given,
            actor=actor,
            patient=patient,
            session_ref=str(session.uuid),
        )
        if container.balance_mg == 0:
            container.status = ContainerStatus.EMPTY
        if given < drawn:
            self._entry(
                kind=EntryKind.WASTE,
                container=container,
                occurred_at=at + datetime.timedelta(minutes=2),
                quantity_mg=Decimal(0),
                wasted_mg=drawn - given,
                administration=entry,
                actor=actor,
                witness=witness,
                patient=patient,
                session_ref=str(session.uuid),
                reason="Residual of the infusion bag, wasted at the chair",
            )
        return entry

    def finish(self) -> None:
        bulk_insert(Lot, self.lot_rows)
        bulk_insert(Receipt, self.receipts)
        bulk_insert(Container, self.containers, batch_size=BATCH)
        chain_bulk_insert(LedgerEntry, self.entries, batch_size=BATCH)
        self.b.counts["containers"] = len(self.containers)
        self.b.counts["ledger_entries"] = len(self.entries)
        self.b.counts["receipts"] = len(self.receipts)


# --------------------------------------------------------------------------- pure helpers
