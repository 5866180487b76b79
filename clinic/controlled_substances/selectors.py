"""Reads of the controlled-substance records. Each takes the actor, checks the capability and
writes one audit event per page (not per row). Pages load a fixed number of queries however
long the ledger grows (and however many locations there are). Administrations show the
patient's MRN, never a name.

Each location is its own DEA registrant with its own ledger (ADR 0007, "Locations"): every
list takes the `location` (by default the actor's current one, `ledger_location`), and one
record kept at a location out of the actor's reach reads as not found
(clinic/controlled_substances/registrants.py).

Long because: every read of the ledger checks the same three things (capability, location,
audit) and the inspector's exports read the same rows as the pages; splitting the exports' four
selectors out is the next step when this grows (issue 14 note).
"""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.controlled_substances.choices import (
    INVENTORY_KINDS,
    ON_HAND_STATUSES,
    CountKind,
    DeadlineState,
    DiscrepancyStatus,
    EntryKind,
)
from clinic.controlled_substances.models import (
    Container,
    Discrepancy,
    InventoryCount,
    InventoryCountLine,
    LedgerEntry,
    LossReport,
    Product,
    Receipt,
)
from clinic.controlled_substances.policy import (
    ControlledSubstancePolicy,
    controlled_substance_policy,
)
from clinic.controlled_substances.registrants import (
    ledger_location,
    ledger_locations,
    reaches,
    registrant_dea_number,
)
from clinic.controlled_substances.wording import refers_to_words, session_uuid, session_words
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.db_router import reporting_database
from clinic.core.exceptions import NotFound, PermissionDenied
from clinic.core.parsing import record_uuid
from clinic.locations.models import Location
from clinic.locations.selectors import sees_network, working_at
from clinic.patients.models import Patient

__all__ = ["ledger_location", "ledger_locations", "registrant_dea_number"]

LEDGER_PAGE_SIZE = 50
RECENT_COUNTS = 20


def day_start(day: datetime.date) -> datetime.datetime:
    """The first moment of a calendar day in the clinic's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _entries(queryset: QuerySet) -> QuerySet:
    # With what a reversal or a residual waste refers to, so that each is said in words
    # (clinic/controlled_substances/wording.py) without a query per row.
    return queryset.select_related(
        "container__lot__product",
        "actor",
        "witness",
        "patient",
        "reverses__container",
        "reverses__patient",
        "administration__patient",
    )


# --------------------------------------------------------------------------- filters


@dataclass(frozen=True)
class Period:
    """Calendar days in the clinic's time zone (either end open) and optionally one product."""

    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    product: Product | None = None

    def apply(self, queryset: QuerySet, moment: str, product_path: str) -> QuerySet:
        if self.date_from:
            queryset = queryset.filter(**{f"{moment}__gte": day_start(self.date_from)})
        if self.date_to:
            end = day_start(self.date_to + datetime.timedelta(days=1))
            queryset = queryset.filter(**{f"{moment}__lt": end})
        if self.product is not None:
            queryset = queryset.filter(**{product_path: self.product})
        return queryset

    def describe(self) -> str:
        parts = []
        if self.date_from:
            parts.append(f"from {self.date_from:%m/%d/%Y}")
        if self.date_to:
            parts.append(f"to {self.date_to:%m/%d/%Y}")
        if self.product is not None:
            parts.append(self.product.name)
        return ", ".join(parts) or "all dates, all products"


def products_for_choice() -> QuerySet:
    return Product.objects.order_by("name", "id")


# --------------------------------------------------------------------------- inventory


@dataclass
class ProductStock:
    product: Product
    containers: list[Container]

    @property
    def on_hand(self) -> list[Container]:
        return [c for c in self.containers if c.status in ON_HAND_STATUSES]

    @property
    def on_hand_mg(self) -> Decimal:
        return sum((c.balance_mg for c in self.on_hand), Decimal(0))


@dataclass
class Inventory:
    location: Location
    stock: list[ProductStock]
    open_discrepancies: int
    last_daily_count: InventoryCount | None
    last_inventory: InventoryCount | None
    next_inventory_due_on: datetime.date | None
    policy: ControlledSubstancePolicy
    today: datetime.date
    overdue_loss_reports: int

    @property
    def daily_count_done_today(self) -> bool:
        last = self.last_daily_count
        return last is not None and timezone.localdate(last.counted_at) == self.today

    @property
    def inventory_overdue(self) -> bool:
        return self.next_inventory_due_on is not None and self.today > self.next_inventory_due_on


def _last_inventory(location: Location) -> InventoryCount | None:
    return (
        InventoryCount.objects.filter(location=location, kind__in=INVENTORY_KINDS)
        .order_by("-counted_at", "-id")
        .first()
    )


def inventory_get(
    *, actor: User, include_finished: bool = False, location: Location | None = None
) -> Inventory:
    """One location's products with their containers (on hand, or all with
    `include_finished`) and the state of its counts, inventories and theft or loss reports."""
    require(actor, Capability.LEDGER_VIEW)
    location = ledger_location(actor, location)
    policy = controlled_substance_policy()
    today = timezone.localdate()
    containers = (
        Container.objects.filter(location=location)
        .select_related("lot__product")
        .order_by("lot__expiry", "label", "id")
    )
    if not include_finished:
        containers = containers.filter(status__in=ON_HAND_STATUSES)
    by_product: dict[int, list[Container]] = defaultdict(list)
    for container in containers:
        by_product[container.lot.product_id].append(container)
    stock = [ProductStock(p, by_product.get(p.pk, [])) for p in Product.objects.order_by("name")]
    last_inventory = _last_inventory(location)
    inventory = Inventory(
        location=location,
        stock=stock,
        open_discrepancies=Discrepancy.objects.filter(
            status=DiscrepancyStatus.OPEN, line__count__location=location
        ).count(),
        last_daily_count=InventoryCount.objects.filter(location=location, kind=CountKind.DAILY)
        .order_by("-counted_at", "-id")
        .first(),
        last_inventory=last_inventory,
        next_inventory_due_on=(
            policy.next_inventory_due_on(timezone.localdate(last_inventory.counted_at))
            if last_inventory
            else None
        ),
        policy=policy,
        today=today,
        overdue_loss_reports=sum(
            1
            for row in _loss_rows(LossReport.objects.filter(location=location), today)
            if row.overdue
        ),
    )
    audit_record(
        actor=actor,
        action=AuditAction.VIEW,
        object_type="cs_inventory",
        summary=f"Controlled-substance inventory of {location.name}",
    )
    return inventory


@dataclass(frozen=True)
class LocationBalance:
    location: Location
    product: Product | None
    containers: int
    on_hand_mg: Decimal


def network_summary(*, actor: User) -> list[LocationBalance]:
    """The clinic administrator's view of the network: each location's stock on hand, by
    product (a location with none on hand has one row with no product). Two queries however
    many locations and containers."""
    require(actor, Capability.LEDGER_VIEW)
    if not sees_network(actor):
        raise PermissionDenied(capability=Capability.LOCATION_NETWORK)
    locations = list(Location.objects.order_by("-active", "name", "id"))
    products = {p.pk: p for p in Product.objects.all()}
    totals: dict[int, list[tuple[int, int, Decimal]]] = defaultdict(list)
    for location_id, product_id, count, mg in (
        Container.objects.filter(status__in=ON_HAND_STATUSES)
        .values("location", "lot__product")
        .annotate(count=Count("id"), mg=Sum("balance_mg"))
        .values_list("location", "lot__product", "count", "mg")
        .order_by("location", "lot__product")
    ):
        totals[location_id].append((product_id, count, mg or Decimal(0)))
    rows = []
    for location in locations:
        found = totals.get(location.pk)
        if not found:
            rows.append(LocationBalance(location, None, 0, Decimal(0)))
            continue
        rows.extend(
            LocationBalance(location, products[product_id], count, mg)
            for product_id, count, mg in sorted(found, key=lambda t: products[t[0]].name)
        )
    audit_record(
        actor=actor,
        action=AuditAction.VIEW,
        object_type="cs_inventory",
        summary=f"Controlled-substance stock of the network ({len(locations)} locations)",
    )
    return rows


def on_hand_containers(location: Location | None = None) -> list[Container]:
    """Containers on hand, at `location` when one is given (a dose is drawn only from the
    stock of the location where it is given)."""
    containers = Container.objects.filter(status__in=ON_HAND_STATUSES)
    if location is not None:
        containers = containers.filter(location=location)
    return list(
        containers.select_related("lot__product").order_by(
            "lot__product__name", "lot__expiry", "label", "id"
        )
    )


def witness_candidates(*, actor: User, location: Location | None = None) -> QuerySet:
    """Active licensed staff (clinic policy) other than the actor; with `location`, those who
    work there (in a network of one open location, everyone does)."""
    policy = controlled_substance_policy()
    candidates = User.objects.filter(is_active=True, role__in=policy.witness_roles).exclude(
        pk=actor.pk
    )
    if location is not None:
        candidates = working_at(candidates, location)
    return candidates.order_by("last_name", "first_name", "username")


# --------------------------------------------------------------------------- ledger


@dataclass
class EntryRow:
    entry: LedgerEntry
    reversed: bool
    residual_outstanding_mg: Decimal | None = None
    # The chair-side session the entry was recorded in, in words; its UUID only when the actor
    # may open that session (the patient's care team, with clinical access), for a link.
    session_label: str = ""
    session_uuid: uuid.UUID | None = None
    # What a reversal undoes or a residual waste comes from, in words.
    refers_to: str = ""

    @property
    def awaiting_waste(self) -> bool:
        return bool(self.residual_outstanding_mg) and not self.reversed


def _openable_patient_ids(actor: User | None, entries: list[LedgerEntry]) -> set[int]:
    """Patients of these entries' chair-side sessions whose session the actor may open: one
    query, and none when there is no such session or the actor has no clinical access."""
    ids = {e.patient_id for e in entries if e.patient_id and session_uuid(e) is not None}
    if actor is None or not ids or not actor.can(Capability.PATIENT_VIEW_CLINICAL):
        return set()
    return set(Patient.objects.visible_to(actor).filter(pk__in=ids).values_list("pk", flat=True))


def _rows(entries: list[LedgerEntry], *, actor: User | None = None) -> list[EntryRow]:
    """Each entry with whether it was reversed, for administrations the residual still
    awaiting waste, and its session in words: at most three queries, however many entries."""
    openable = _openable_patient_ids(actor, entries)
    ids = [e.pk for e in entries]
    reversed_ids = set(
        LedgerEntry.objects.filter(reverses_id__in=ids).values_list("reverses_id", flat=True)
    )
    admin_ids = [e.pk for e in entries if e.kind == EntryKind.ADMINISTRATION]
    wasted: dict[int, Decimal] = {}
    if admin_ids:
        wasted = dict(
            LedgerEntry.objects.filter(administration_id__in=admin_ids, reversed_by__isnull=True)
            .values("administration_id")
            .annotate(total=Sum("wasted_mg"))
            .values_list("administration_id", "total")
        )
    rows = []
    for entry in entries:
        outstanding = None
        if entry.kind == EntryKind.ADMINISTRATION:
            residual = entry.residual_mg
            assert residual is not None  # an administration records what was drawn and given
            outstanding = residual - wasted.get(entry.pk, Decimal(0))
        session = session_uuid(entry)
        rows.append(
            EntryRow(
                entry,
                entry.pk in reversed_ids,
                outstanding,
                session_label=session_words(entry),
                session_uuid=session if entry.patient_id in openable else None,
                refers_to=refers_to_words(entry),
            )
        )
    return rows


@dataclass
class ContainerLedger:
    container: Container
    rows: list[EntryRow]

    @property
    def awaiting_waste(self) -> list[EntryRow]:
        return [row for row in self.rows if row.awaiting_waste]


def container_get(*, actor: User, container_uuid: uuid.UUID | str) -> Container:
    require(actor, Capability.LEDGER_VIEW)
    container = (
        Container.objects.select_related("lot__product", "receipt", "location")
        .filter(uuid=record_uuid(container_uuid))
        .first()
    )
    if container is None or not reaches(actor, container.location_id):
        raise NotFound("No such container.")
    return container


def awaiting_waste(*, actor: User, container: Container) -> list[EntryRow]:
    """The container's administrations with a residual not yet wasted (for the waste form)."""
    require(actor, Capability.LEDGER_VIEW)
    entries = list(
        _entries(
            container.entries.filter(kind=EntryKind.ADMINISTRATION, reversed_by__isnull=True)
        ).order_by("id")
    )
    return [row for row in _rows(entries) if row.awaiting_waste]


def container_ledger(*, actor: User, container: Container) -> ContainerLedger:
    require(actor, Capability.LEDGER_VIEW)
    entries = list(_entries(container.entries.all()).order_by("id"))
    audit_record(
        actor=actor,
        action=AuditAction.VIEW,
        object_type="cs_container",
        object_id=container.uuid,
        summary=f"Ledger of {container.label}",
    )
    return ContainerLedger(container, _rows(entries, actor=actor))


def entry_get(*, actor: User, entry_uuid: uuid.UUID | str) -> LedgerEntry:
    require(actor, Capability.LEDGER_VIEW)
    entry = _entries(LedgerEntry.objects.filter(uuid=record_uuid(entry_uuid))).first()
    if entry is None or not reaches(actor, entry.container.location_id):
        raise NotFound("No such ledger entry.")
    return entry


@dataclass
class LedgerPage:
    page: Page
    rows: list[EntryRow] = field(default_factory=list)
    location: Location | None = None


def ledger_page(
    *,
    actor: User,
    period: Period,
    kind: str = "",
    page_number: int | str = 1,
    page_size: int = LEDGER_PAGE_SIZE,
    location: Location | None = None,
) -> LedgerPage:
    """One location's ledger (by default the actor's current location's), newest first, by
    date and product (and kind)."""
    require(actor, Capability.LEDGER_VIEW)
    location = ledger_location(actor, location)
    entries = period.apply(
        LedgerEntry.objects.filter(container__location=location),
        "occurred_at",
        "container__lot__product",
    ).order_by("-occurred_at", "-id")
    if kind in EntryKind.values:
        entries = entries.filter(kind=kind)
    page = Paginator(_entries(entries), page_size).get_page(page_number)
    audit_record(
        actor=actor,
        action=AuditAction.VIEW,
        object_type="cs_ledger",
        summary=(
            f"Controlled-substance ledger of {location.name} page {page.number} "
            f"({period.describe()})"
        )[:300],
    )
    return LedgerPage(page, _rows(list(page.object_list), actor=actor), location)


# --------------------------------------------------------------------------- counts


@dataclass
class CountOverview:
    location: Location
    counts: list[InventoryCount]
    open_discrepancies: list[Discrepancy]
    containers: list[Container]
    initial_taken: bool
    next_inventory_due_on: datetime.date | None
    today: datetime.date


def _discrepancies(queryset: QuerySet) -> QuerySet:
    return queryset.select_related(
        "line__container__lot__product", "line__count", "resolved_by", "adjustment"
    )


def count_overview(*, actor: User, location: Location | None = None) -> CountOverview:
    """One location's recent counts, open discrepancies and containers to count."""
    require(actor, Capability.LEDGER_VIEW)
    location = ledger_location(actor, location)
    policy = controlled_substance_policy()
    last_inventory = _last_inventory(location)
    overview = CountOverview(
        location=location,
        counts=list(
            InventoryCount.objects.filter(location=location)
            .select_related("counted_by", "witness")
            .order_by("-counted_at", "-id")[:RECENT_COUNTS]
        ),
        open_discrepancies=list(
            _discrepancies(
                Discrepancy.objects.filter(
                    status=DiscrepancyStatus.OPEN, line__count__location=location
                )
            ).order_by("created_at", "id")
        ),
        containers=on_hand_containers(location),
        initial_taken=InventoryCount.objects.filter(
            location=location, kind=CountKind.INITIAL
        ).exists(),
        next_inventory_due_on=(
            policy.next_inventory_due_on(timezone.localdate(last_inventory.counted_at))
            if last_inventory
            else None
        ),
        today=timezone.localdate(),
    )
    audit_record(
        actor=actor,
        action=AuditAction.VIEW,
        object_type="cs_count",
        summary=f"Counts overview of {location.name}",
    )
    return overview


def count_get(
    *, actor: User, count_uuid: uuid.UUID | str
) -> tuple[InventoryCount, list[InventoryCountLine]]:
    require(actor, Capability.LEDGER_VIEW)
    count = (
        InventoryCount.objects.select_related("counted_by", "witness", "location")
        .filter(uuid=record_uuid(count_uuid))
        .first()
    )
    if count is None or not reaches(actor, count.location_id):
        raise NotFound("No such count.")
    lines = list(
        count.lines.select_related(
            "container__lot__product",
            "discrepancy__resolved_by",
            "discrepancy__adjustment",
        ).order_by("container__lot__product__name", "container__label", "id")
    )
    audit_record(
        actor=actor,
        action=AuditAction.VIEW,
        object_type="cs_count",
        object_id=count.uuid,
        summary=f"{count.get_kind_display()} of {count.counted_at:%Y-%m-%d}",
    )
    return count, lines


def discrepancy_get(*, actor: User, discrepancy_uuid: uuid.UUID | str) -> Discrepancy:
    require(actor, Capability.LEDGER_VIEW)
    discrepancy = _discrepancies(
        Discrepancy.objects.filter(uuid=record_uuid(discrepancy_uuid))
    ).first()
    if discrepancy is None or not reaches(actor, discrepancy.line.count.location_id):
        raise NotFound("No such discrepancy.")
    return discrepancy


# --------------------------------------------------------------------------- theft and loss


def deadline_state(
    due_on: datetime.date, done_at: datetime.datetime | None, today: datetime.date
) -> DeadlineState:
    if done_at is not None:
        on_time = timezone.localdate(done_at) <= due_on
        return DeadlineState.DONE if on_time else DeadlineState.DONE_LATE
    return DeadlineState.OVERDUE if today > due_on else DeadlineState.DUE


@dataclass(frozen=True)
class LossReportRow:
    report: LossReport
    notice: DeadlineState
    form106: DeadlineState

    @property
    def overdue(self) -> bool:
        return DeadlineState.OVERDUE in (self.notice, self.form106)


def _loss_rows(queryset: QuerySet, today: datetime.date) -> list[LossReportRow]:
    return [
        LossReportRow(
            report,
            deadline_state(report.dea_notice_due_on, report.dea_notified_at, today),
            deadline_state(report.form106_due_on, report.form106_submitted_at, today),
        )
        for report in queryset
    ]


def loss_report_list(*, actor: User, location: Location | None = None) -> list[LossReportRow]:
    """One location's theft and loss reports (by default the actor's current location's)."""
    require(actor, Capability.LEDGER_VIEW)
    location = ledger_location(actor, location)
    reports = (
        LossReport.objects.filter(location=location)
        .select_related("product", "reported_by", "dea_notified_by", "form106_submitted_by")
        .order_by("-discovered_at", "-id")
    )
    rows = _loss_rows(reports, timezone.localdate())
    audit_record(
        actor=actor,
        action=AuditAction.VIEW,
        object_type="cs_loss_report",
        summary=f"Theft and loss reports of {location.name}: {len(rows)}",
    )
    return rows


def loss_report_get(*, actor: User, report_uuid: uuid.UUID | str) -> LossReport:
    require(actor, Capability.LEDGER_VIEW)
    report = LossReport.objects.filter(uuid=record_uuid(report_uuid)).first()
    if report is None or not reaches(actor, report.location_id):
        raise NotFound("No such report.")
    return report


# --------------------------------------------------------------------------- exports
# Read from the reporting database (the read replica where one is configured: an export may
# lag the ledger by the replica's delay; clinic/core/db_router.py).


def receipts_for_export(*, actor: User, period: Period, location: Location) -> QuerySet:
    """The receipts of one location (the registrant whose records these are)."""
    require(actor, Capability.LEDGER_EXPORT)
    location = ledger_location(actor, location)
    return (
        period.apply(
            Receipt.objects.using(reporting_database()).filter(location=location),
            "received_at",
            "product",
        )
        .select_related("product", "lot", "received_by", "witness")
        .order_by("received_at", "id")
    )


ADMINISTRATION_LOG_KINDS = (EntryKind.ADMINISTRATION, EntryKind.WASTE)


def administration_log_for_export(*, actor: User, period: Period, location: Location) -> QuerySet:
    """One location's administrations and wastes, and the reversals of either, in date
    order."""
    require(actor, Capability.LEDGER_EXPORT)
    location = ledger_location(actor, location)
    entries = LedgerEntry.objects.using(reporting_database()).filter(
        Q(kind__in=ADMINISTRATION_LOG_KINDS)
        | Q(kind=EntryKind.REVERSAL, reverses__kind__in=ADMINISTRATION_LOG_KINDS),
        container__location=location,
    )
    return _entries(period.apply(entries, "occurred_at", "container__lot__product")).order_by(
        "occurred_at", "id"
    )


def administration_log_for_export_named(
    *, actor: User, period: Period, location: Location
) -> QuerySet:
    """The administration log with the patients' identities: the clinic administrator's."""
    require(actor, Capability.LEDGER_EXPORT_NAMED)
    return administration_log_for_export(actor=actor, period=period, location=location)


def counts_for_export(*, actor: User, period: Period, location: Location) -> QuerySet:
    """One location's counts and inventories with their lines; one with no lines recorded
    zero stock."""
    require(actor, Capability.LEDGER_EXPORT)
    location = ledger_location(actor, location)
    lines = InventoryCountLine.objects.select_related(
        "container__lot__product", "discrepancy__resolved_by"
    ).order_by("container__lot__product__name", "container__label", "id")
    counts = InventoryCount.objects.using(reporting_database()).filter(location=location)
    if period.product is not None:
        lines = lines.filter(container__lot__product=period.product)
    return (
        Period(period.date_from, period.date_to)
        .apply(counts, "counted_at", "")
        .select_related("counted_by", "witness")
        .prefetch_related(Prefetch("lines", queryset=lines))
        .order_by("counted_at", "id")
    )
