"""Schedule III stock: products, receipts, lots, containers, the append-only ledger, counts with
their discrepancies, and theft or loss reports (ADR 0007).

The ledger (`LedgerEntry`) and the records an inspector relies on as written (`Receipt`,
`InventoryCount`, `InventoryCountLine`) are append-only: saving an existing row, deleting one,
and `update()` or `delete()` on their querysets raise `AppendOnlyError`, and database triggers
(migration 0002) refuse UPDATE and DELETE as well. A wrong entry is reversed by a new entry.

A container's `balance_mg` changes only through the services, with `F()` updates under a row
lock; check constraints refuse a negative balance (or one above what the container held) even
for a raw UPDATE. Each entry stores the balance it left (`balance_after_mg`), and
`quantity_mg` is always the signed change it made to that balance.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from clinic.controlled_substances.choices import (
    INVENTORY_KINDS,
    BusinessTime,
    ContainerStatus,
    CountKind,
    DiscrepancyStatus,
    EntryKind,
    LossKind,
    ProductKind,
    Schedule,
)
from clinic.core.integrity import chain_seal
from clinic.core.models import AppendOnlyError, ClinicModel
from clinic.locations.models import location_field

# Every amount in mg: up to 9,999,999.999 mg, to the microgram.
MG_DIGITS = 10
MG_DECIMAL_PLACES = 3
MG_PLACES = Decimal("0.001")


def _user(related_name="+", *, null=False):
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=null,
        blank=null,
        on_delete=models.PROTECT,
        related_name=related_name,
    )


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model._meta.verbose_name} rows are append-only.")

    def delete(self):
        raise AppendOnlyError(f"{self.model._meta.verbose_name} rows are append-only.")


class AppendOnlyRecord(models.Model):
    """A record that is only ever inserted (see the module docstring)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError(f"A {self._meta.verbose_name} cannot be changed once written.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"A {self._meta.verbose_name} cannot be deleted.")


class Product(ClinicModel):
    """A stocked form of ketamine: a racemic ketamine vial (strength × volume) or an esketamine
    nasal device (mg per device). One container is one vial or one device."""

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=32, choices=ProductKind.choices)
    strength_mg_per_ml = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    volume_ml = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    mg_per_device = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    ndc = models.CharField("NDC", max_length=20, blank=True)
    schedule = models.CharField(max_length=4, choices=Schedule.choices, default=Schedule.III)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["name"], name="cs_product_name_unique"),
            models.CheckConstraint(
                condition=(
                    Q(
                        kind=ProductKind.RACEMIC_KETAMINE_VIAL,
                        strength_mg_per_ml__gt=0,
                        volume_ml__gt=0,
                        mg_per_device__isnull=True,
                    )
                    | Q(
                        kind=ProductKind.ESKETAMINE_DEVICE,
                        mg_per_device__gt=0,
                        strength_mg_per_ml__isnull=True,
                        volume_ml__isnull=True,
                    )
                ),
                name="cs_product_amount_fits_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_device(self) -> bool:
        return self.kind == ProductKind.ESKETAMINE_DEVICE

    @property
    def content_mg(self) -> Decimal:
        """What one container holds when sealed."""
        # The product's check constraint fills the amounts its kind needs.
        if self.is_device:
            assert self.mg_per_device is not None
            return self.mg_per_device
        assert self.strength_mg_per_ml is not None and self.volume_ml is not None
        return (self.strength_mg_per_ml * self.volume_ml).quantize(MG_PLACES)

    @property
    def form_description(self) -> str:
        """Finished form and units per container, as a receipt record needs them [J6]."""
        if self.is_device:
            assert self.mg_per_device is not None  # the product's check constraint
            return f"nasal spray device, {self.mg_per_device.normalize():f} mg per device"
        assert self.strength_mg_per_ml is not None and self.volume_ml is not None
        return (
            f"vial, {self.strength_mg_per_ml.normalize():f} mg/mL × "
            f"{self.volume_ml.normalize():f} mL"
        )


class Lot(ClinicModel):
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="lots")
    lot_number = models.CharField(max_length=40)
    expiry = models.DateField()

    class Meta:
        ordering = ["product__name", "expiry", "lot_number", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "lot_number"], name="cs_lot_once_per_product"
            )
        ]

    def __str__(self) -> str:
        return f"{self.product.name} lot {self.lot_number}"


class Receipt(AppendOnlyRecord):
    """Containers received from a supplier: the receipt record of 21 CFR 1304.21/1304.22(c)
    [J5], [J6] — the substance, its finished form and units per container, how many
    containers, the date of receipt, and the supplier's name, address and DEA number. Stock is
    received by one location, the registrant (21 CFR 1301.12(a))."""

    location = location_field("receipts")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="receipts")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="receipts")
    supplier_name = models.CharField(max_length=200)
    supplier_address = models.CharField(max_length=300)
    supplier_dea_number = models.CharField("supplier DEA number", max_length=20)
    invoice_number = models.CharField(max_length=60)
    received_at = models.DateTimeField()
    received_by = _user()
    witness = _user(null=True)
    container_count = models.PositiveSmallIntegerField()
    content_mg_per_container = models.DecimalField(
        max_digits=MG_DIGITS, decimal_places=MG_DECIMAL_PLACES
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(container_count__gt=0), name="cs_receipt_some_containers"
            ),
            models.CheckConstraint(
                condition=Q(content_mg_per_container__gt=0), name="cs_receipt_content_positive"
            ),
            models.CheckConstraint(
                condition=Q(witness__isnull=True) | ~Q(witness=F("received_by")),
                name="cs_receipt_witness_not_receiver",
            ),
        ]

    def __str__(self) -> str:
        return f"Receipt {self.invoice_number} ({self.container_count} × {self.product.name})"

    @property
    def total_mg(self) -> Decimal:
        return self.content_mg_per_container * self.container_count


class Container(ClinicModel):
    """One vial or one device, and what is left in it, kept at one location (its receipt's:
    stock moves between registrations only by a transfer out and a receipt)."""

    location = location_field("containers")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="containers")
    receipt = models.ForeignKey(Receipt, on_delete=models.PROTECT, related_name="containers")
    label = models.CharField(max_length=60)
    content_mg = models.DecimalField(max_digits=MG_DIGITS, decimal_places=MG_DECIMAL_PLACES)
    balance_mg = models.DecimalField(max_digits=MG_DIGITS, decimal_places=MG_DECIMAL_PLACES)
    status = models.CharField(
        max_length=16, choices=ContainerStatus.choices, default=ContainerStatus.IN_STOCK
    )

    class Meta:
        ordering = ["lot__product__name", "lot__expiry", "label", "id"]
        indexes = [models.Index(fields=["status"]), models.Index(fields=["location", "status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["lot", "label"], name="cs_container_label_once_per_lot"
            ),
            models.CheckConstraint(
                condition=Q(content_mg__gt=0), name="cs_container_content_positive"
            ),
            # Never below zero, whatever writes the row (ADR 0007).
            models.CheckConstraint(
                condition=Q(balance_mg__gte=0), name="cs_container_balance_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(balance_mg__lte=F("content_mg")),
                name="cs_container_balance_within_content",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.lot.product.name})"

    @property
    def product(self) -> Product:
        return self.lot.product


class LedgerEntryQuerySet(AppendOnlyQuerySet):
    def bulk_create(self, *args, **kwargs):
        # Each entry links to the one before it (clinic/core/integrity.py): one at a time.
        raise AppendOnlyError("Ledger entries are written one at a time.")

    def for_product(self, product):
        return self.filter(container__lot__product=product)

    def administrations(self):
        return self.filter(kind=EntryKind.ADMINISTRATION)


class LedgerEntry(AppendOnlyRecord):
    """One movement of stock in or out of a container. Never edited, never deleted: a wrong
    entry is reversed by a `reversal` entry that points at it (`reverses`).

    `quantity_mg` is the signed change to the container's balance and `balance_after_mg` the
    balance it left, so each container's entries add up: balance_after = previous + quantity.

    - administration: `drawn_mg` comes off the balance; `given_mg` ≤ drawn went to the patient;
      the difference (the syringe residual) must be wasted by a waste entry that names this
      administration (`administration`) and changes no balance, as the draw already did.
    - waste from the container (no `administration`): `wasted_mg` comes off the balance.
    - return / transfer_out: stock leaves the clinic to `counterparty` (with its DEA number).
    - adjustment: brings the balance to a count, when a discrepancy is resolved that way.

    `digest` chains each entry to the one before it, across all containers
    (clinic/core/integrity.py), so a change made round the triggers shows in
    `manage.py verify_integrity`.
    """

    # The chained content, frozen: a field added later is not in older entries' digests.
    chained_fields = (
        "uuid",
        "recorded_at",
        "kind",
        "container",
        "occurred_at",
        "quantity_mg",
        "balance_after_mg",
        "drawn_mg",
        "given_mg",
        "wasted_mg",
        "administration",
        "reverses",
        "actor",
        "witness",
        "patient",
        "session_ref",
        "counterparty",
        "counterparty_dea_number",
        "reason",
    )

    kind = models.CharField(max_length=16, choices=EntryKind.choices)
    container = models.ForeignKey(Container, on_delete=models.PROTECT, related_name="entries")
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    quantity_mg = models.DecimalField(max_digits=MG_DIGITS, decimal_places=MG_DECIMAL_PLACES)
    balance_after_mg = models.DecimalField(max_digits=MG_DIGITS, decimal_places=MG_DECIMAL_PLACES)
    drawn_mg = models.DecimalField(
        max_digits=MG_DIGITS, decimal_places=MG_DECIMAL_PLACES, null=True, blank=True
    )
    given_mg = models.DecimalField(
        max_digits=MG_DIGITS, decimal_places=MG_DECIMAL_PLACES, null=True, blank=True
    )
    wasted_mg = models.DecimalField(
        max_digits=MG_DIGITS, decimal_places=MG_DECIMAL_PLACES, null=True, blank=True
    )
    administration = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="residual_wastes",
    )
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    actor = _user()
    witness = _user(null=True)
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The treatment session this entry belongs to, when there is one. A plain reference: the
    # chair-side sessions app links to the ledger, not the other way round.
    session_ref = models.CharField(max_length=64, blank=True)
    counterparty = models.CharField(max_length=200, blank=True)
    counterparty_dea_number = models.CharField(max_length=20, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    digest = models.CharField(max_length=64, blank=True, default="", editable=False)

    # The ledger's own queryset, append-only too (it extends AppendOnlyQuerySet).
    objects = LedgerEntryQuerySet.as_manager()  # type: ignore[misc]

    class Meta:
        verbose_name_plural = "ledger entries"
        ordering = ["occurred_at", "id"]
        indexes = [
            models.Index(fields=["container", "id"]),
            models.Index(fields=["kind", "occurred_at"]),
            models.Index(fields=["patient", "occurred_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(balance_after_mg__gte=0), name="cs_entry_balance_after_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(witness__isnull=True) | ~Q(witness=F("actor")),
                name="cs_entry_witness_not_actor",
            ),
            models.CheckConstraint(
                condition=~Q(kind=EntryKind.RECEIPT) | Q(quantity_mg__gt=0),
                name="cs_entry_receipt_adds",
            ),
            models.CheckConstraint(
                condition=~Q(kind=EntryKind.ADMINISTRATION)
                | Q(
                    drawn_mg__gt=0,
                    given_mg__gt=0,
                    given_mg__lte=F("drawn_mg"),
                    quantity_mg=-F("drawn_mg"),
                    patient__isnull=False,
                ),
                name="cs_entry_administration_given_within_drawn",
            ),
            models.CheckConstraint(
                condition=~Q(kind=EntryKind.WASTE)
                | (
                    Q(witness__isnull=False, wasted_mg__gt=0)
                    & (
                        Q(administration__isnull=True, quantity_mg=-F("wasted_mg"))
                        | Q(administration__isnull=False, quantity_mg=0)
                    )
                ),
                name="cs_entry_waste_witnessed",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=[EntryKind.RETURN, EntryKind.TRANSFER_OUT])
                | Q(quantity_mg__lt=0),
                name="cs_entry_return_removes",
            ),
            models.CheckConstraint(
                condition=~Q(kind=EntryKind.ADJUSTMENT) | ~Q(quantity_mg=0),
                name="cs_entry_adjustment_changes",
            ),
            models.CheckConstraint(
                condition=Q(kind=EntryKind.REVERSAL, reverses__isnull=False)
                | (~Q(kind=EntryKind.REVERSAL) & Q(reverses__isnull=True)),
                name="cs_entry_reversal_names_entry",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity_mg} mg on {self.container_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("A ledger entry cannot be changed once written.")
        with transaction.atomic(using=kwargs.get("using")):
            chain_seal(self, using=kwargs.get("using"))
            super().save(*args, **kwargs)

    @property
    def residual_mg(self) -> Decimal | None:
        """For an administration: drawn less given (what must be wasted)."""
        if self.kind != EntryKind.ADMINISTRATION:
            return None
        # An administration's check constraint records both amounts.
        assert self.drawn_mg is not None and self.given_mg is not None
        return self.drawn_mg - self.given_mg


class InventoryCount(AppendOnlyRecord):
    """A count of every container on hand: the end-of-day reconciliation (clinic policy), or the
    initial and biennial inventories of 21 CFR 1304.11 [J7], of one location's stock (each
    registered location keeps its own inventory)."""

    location = location_field("inventory_counts")
    kind = models.CharField(max_length=16, choices=CountKind.choices)
    counted_at = models.DateTimeField()
    taken_at = models.CharField(max_length=8, choices=BusinessTime.choices, blank=True)
    counted_by = _user()
    witness = _user(null=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-counted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["location", "kind"],
                condition=Q(kind=CountKind.INITIAL),
                name="cs_one_initial_inventory_per_location",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=list(INVENTORY_KINDS)) | ~Q(taken_at=""),
                name="cs_inventory_opening_or_close",
            ),
            models.CheckConstraint(
                condition=Q(witness__isnull=True) | ~Q(witness=F("counted_by")),
                name="cs_count_witness_not_counter",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.counted_at:%Y-%m-%d %H:%M}"


class InventoryCountLine(AppendOnlyRecord):
    count = models.ForeignKey(InventoryCount, on_delete=models.PROTECT, related_name="lines")
    container = models.ForeignKey(Container, on_delete=models.PROTECT, related_name="count_lines")
    expected_mg = models.DecimalField(max_digits=MG_DIGITS, decimal_places=MG_DECIMAL_PLACES)
    counted_mg = models.DecimalField(max_digits=MG_DIGITS, decimal_places=MG_DECIMAL_PLACES)

    class Meta:
        ordering = ["count", "id"]
        constraints = [
            models.UniqueConstraint(fields=["count", "container"], name="cs_count_line_once"),
            models.CheckConstraint(condition=Q(counted_mg__gte=0), name="cs_count_line_counted"),
        ]

    def __str__(self) -> str:
        return f"{self.container_id}: counted {self.counted_mg} mg, book {self.expected_mg} mg"

    @property
    def difference_mg(self) -> Decimal:
        return self.counted_mg - self.expected_mg


class Discrepancy(ClinicModel):
    """A count that differs from the book balance. Resolved with a reason, and optionally an
    adjustment entry that brings the balance to the count."""

    line = models.OneToOneField(
        InventoryCountLine, on_delete=models.PROTECT, related_name="discrepancy"
    )
    difference_mg = models.DecimalField(max_digits=MG_DIGITS, decimal_places=MG_DECIMAL_PLACES)
    status = models.CharField(
        max_length=16, choices=DiscrepancyStatus.choices, default=DiscrepancyStatus.OPEN
    )
    resolution_reason = models.CharField(max_length=300, blank=True)
    resolved_by = _user(null=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    adjustment = models.OneToOneField(
        LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="discrepancy"
    )

    class Meta:
        verbose_name_plural = "discrepancies"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(difference_mg=0), name="cs_discrepancy_is_a_difference"
            ),
            models.CheckConstraint(
                condition=Q(status=DiscrepancyStatus.OPEN)
                | (
                    ~Q(resolution_reason="")
                    & Q(resolved_by__isnull=False, resolved_at__isnull=False)
                ),
                name="cs_discrepancy_resolved_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Discrepancy {self.difference_mg} mg ({self.get_status_display()})"


class LossReport(ClinicModel):
    """A theft or significant loss (21 CFR 1301.76(b)): the DEA is notified in writing within
    1 business day of discovery [J8], then DEA Form 106 is filed within 45 days [J9]. Both due
    dates are computed from the discovery date, under the clinic policy in force, and stored.
    Reported by the location (registrant) that suffered it."""

    location = location_field("loss_reports")
    kind = models.CharField(max_length=24, choices=LossKind.choices)
    discovered_at = models.DateTimeField()
    description = models.CharField(max_length=1000)
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    quantity_mg = models.DecimalField(
        max_digits=MG_DIGITS, decimal_places=MG_DECIMAL_PLACES, null=True, blank=True
    )
    discrepancy = models.ForeignKey(
        Discrepancy, null=True, blank=True, on_delete=models.PROTECT, related_name="loss_reports"
    )
    reported_by = _user()
    dea_notice_due_on = models.DateField()
    form106_due_on = models.DateField()
    dea_notified_at = models.DateTimeField(null=True, blank=True)
    dea_notified_by = _user(null=True)
    form106_submitted_at = models.DateTimeField(null=True, blank=True)
    form106_submitted_by = _user(null=True)
    form106_reference = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["-discovered_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity_mg__isnull=True) | Q(quantity_mg__gt=0),
                name="cs_loss_quantity_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} discovered {self.discovered_at:%Y-%m-%d}"
