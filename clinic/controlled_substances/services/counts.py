"""Counts and reconciliation: daily counts and the initial and biennial inventories [J7], the
discrepancies they open, and their resolution (with an adjustment when the count is right)."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.controlled_substances.choices import (
    INVENTORY_KINDS,
    ON_HAND_STATUSES,
    BusinessTime,
    CountKind,
    DiscrepancyStatus,
    EntryKind,
)
from clinic.controlled_substances.models import (
    Container,
    Discrepancy,
    InventoryCount,
    InventoryCountLine,
)
from clinic.controlled_substances.registrants import ledger_location
from clinic.controlled_substances.services.checks import (
    event_time,
    licensed_witness,
    mg_amount,
    reach_location_of,
    reason_text,
    text_field,
    witness_at,
)
from clinic.controlled_substances.services.moves import (
    balance_move,
    container_lock,
    mg_text,
)
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, InvalidInput, NotFound
from clinic.locations.models import Location


def _counted_lines(lines: Mapping[Container, object]) -> dict[int, Decimal]:
    counted: dict[int, Decimal] = {}
    errors: dict[str, list[str]] = {}
    for container, value in lines.items():
        try:
            counted[container.pk] = mg_amount(f"container_{container.uuid}", value, allow_zero=True)
        except InvalidInput as error:
            errors.update(error.errors)
    if errors:
        raise InvalidInput(errors)
    return counted


@transaction.atomic
def count_record(
    *,
    actor: User,
    kind: str,
    lines: Mapping[Container, object],
    witness: User | None = None,
    counted_at: datetime.datetime | None = None,
    taken_at: str = "",
    note: str = "",
    location: Location | None = None,
) -> InventoryCount:
    """Count every container on hand (mg left in each; an open Schedule III container may be
    estimated [J7]). Each line keeps the book balance found under lock; each difference opens a
    discrepancy. Initial and biennial inventories say whether they were taken at the opening or
    the close of business [J7]; an initial inventory with no stock records zero.

    A count covers exactly one location's stock (`location`, by default the actor's current
    one): each location is its own registrant and keeps its own inventories, the initial one
    once per location."""
    require(actor, Capability.LEDGER_COUNT)
    location = ledger_location(actor, location)
    if kind not in CountKind.values:
        raise InvalidInput({"kind": ["Choose a daily count, the initial or a biennial inventory."]})
    if kind in INVENTORY_KINDS:
        if taken_at not in BusinessTime.values:
            raise InvalidInput(
                {"taken_at": ["Say whether it was taken at the opening or close of business."]}
            )
    else:
        taken_at = taken_at if taken_at in BusinessTime.values else ""
    note = text_field("note", note, max_length=300, required=False, what="note")
    counted_at = event_time("counted_at", counted_at)
    witness = licensed_witness(actor=actor, witness=witness, required=False)
    witness_at(witness, location)
    counted = _counted_lines(lines)
    if (
        kind == CountKind.INITIAL
        and InventoryCount.objects.filter(kind=kind, location=location).exists()
    ):
        raise Conflict("The initial inventory was taken already.", code="initial_inventory_exists")
    # Lock every container on hand at the location and every one counted, in primary-key
    # order.
    on_hand = Container.objects.filter(location=location, status__in=ON_HAND_STATUSES)
    locked = list(
        Container.objects.select_for_update(of=("self",))
        .select_related("lot__product")
        .filter(pk__in=set(counted) | set(on_hand.values_list("pk", flat=True)))
        .order_by("pk")
    )
    missing = [c.label for c in locked if c.status in ON_HAND_STATUSES and c.pk not in counted]
    if missing:
        raise InvalidInput(
            {"lines": [f"Count every container on hand; missing: {', '.join(missing)}."]}
        )
    unknown = set(counted) - {c.pk for c in locked if c.location_id == location.pk}
    if unknown:
        # A container of another location reads like one that does not exist.
        raise InvalidInput({"lines": ["A counted container does not exist."]})
    try:
        with transaction.atomic():
            count = InventoryCount.objects.create(
                location=location,
                kind=kind,
                counted_at=counted_at,
                taken_at=taken_at,
                counted_by=actor,
                witness=witness,
                note=note,
            )
    except IntegrityError as error:
        raise Conflict(
            "The initial inventory was taken already.", code="initial_inventory_exists"
        ) from error
    discrepancies = 0
    for container in locked:
        if container.pk not in counted:
            continue
        line = InventoryCountLine.objects.create(
            count=count,
            container=container,
            expected_mg=container.balance_mg,
            counted_mg=counted[container.pk],
        )
        if line.difference_mg != 0:
            Discrepancy.objects.create(line=line, difference_mg=line.difference_mg)
            discrepancies += 1
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="cs_count",
        object_id=count.uuid,
        summary=(
            f"{count.get_kind_display()} at {location.name}: {len(counted)} container(s) "
            f"counted, {discrepancies} discrepancy(ies)"
        )[:300],
        changes={"witness": witness.username if witness else "", "location": location.code},
    )
    return count


@transaction.atomic
def discrepancy_resolve(
    *,
    actor: User,
    discrepancy: Discrepancy,
    reason: str,
    adjust_balance: bool = False,
    precondition: Callable[[Discrepancy], None] | None = None,
) -> Discrepancy:
    """Close a discrepancy with a reason (e.g. the late entry that explains it). With
    `adjust_balance`, an adjustment entry moves the book balance by the difference, to the
    count; an unexplained shortfall may also be a significant loss (`loss_report_create`).
    `precondition` (the API's If-Match) is checked on the discrepancy under its row lock."""
    require(actor, Capability.LEDGER_RECONCILE)
    reason = reason_text(reason)
    current = (
        Discrepancy.objects.select_related("line__container", "line__count")
        .filter(pk=discrepancy.pk)
        .first()
    )
    if current is None:
        raise NotFound("No such discrepancy.")
    # The discrepancy belongs to its count's location.
    reach_location_of(actor, current.line.count.location_id, what="discrepancy")
    locked_container = container_lock(current.line.container)
    locked = Discrepancy.objects.select_for_update().get(pk=current.pk)
    if precondition is not None:
        precondition(locked)
    if locked.status != DiscrepancyStatus.OPEN:
        raise Conflict("That discrepancy was resolved already.", code="already_resolved")
    adjustment = None
    if adjust_balance:
        adjustment = balance_move(
            locked_container,
            kind=EntryKind.ADJUSTMENT,
            quantity=locked.difference_mg,
            actor=actor,
            reason=reason,
        )
    locked.status = DiscrepancyStatus.RESOLVED
    locked.resolution_reason = reason
    locked.resolved_by = actor
    locked.resolved_at = timezone.now()
    locked.adjustment = adjustment
    locked.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="cs_discrepancy",
        object_id=locked.uuid,
        summary=(
            f"Discrepancy of {mg_text(locked.difference_mg)} mg on {locked_container.label} "
            f"resolved{' with an adjustment' if adjustment else ''}: {reason}"
        )[:300],
        changes={"status": {"before": DiscrepancyStatus.OPEN, "after": locked.status}},
    )
    return locked
