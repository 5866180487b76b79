"""Billing's reports: charges and payments over a period, and accounts receivable aged as of a
day, each grouped by payer, rendering clinician, location or month. Summed by the database
(a few queries, whatever the clinic's size); the rows name groups, never patients. The
queue's "past due" card reads the same aging.

Where a charge's money is counted:
- charges by date of service, priced lines only (lines no price covers are counted apart);
- payments by the day received, split by who paid; a payment not applied to a charge has no
  payer, clinician or location and is its own row;
- the open balance of a charge as of a day: its priced lines less what was paid or adjusted
  on it up to that day, aged from the date of service (`ar_aging`). Payments not applied to a
  charge lower accounts but are not aged; the report states their sum."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.billing.ar_aging import AGING_BANDS, band_starts
from clinic.billing.models import Charge, ChargeLine, Payment, PaymentSource
from clinic.core.access import require
from clinic.locations.models import Location
from clinic.patients.models import Patient

KINDS = {
    "charges": "Charges",
    "payments": "Payments",
    "aging": "Accounts receivable aging",
}
GROUPS = {
    "payer": "Payer",
    "provider": "Rendering clinician",
    "location": "Location",
    "month": "Month",
}
NO_COVERAGE = "Self-pay (no coverage on the charge)"
NOT_APPLIED = "Not applied to a charge"
NO_LOCATION = "No location recorded"
PAST_DUE_ROWS = 10


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    money: bool


@dataclass(frozen=True)
class ReportRow:
    label: str
    values: dict[str, int]


@dataclass(frozen=True)
class ReportRequest:
    kind: str = "charges"
    group: str = "payer"
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    as_of: datetime.date | None = None  # aging only; today when empty
    location: Location | None = None

    def describe(self) -> str:
        if self.kind == "aging":
            parts = [f"as of {self.as_of_day():%m/%d/%Y}"]
        else:
            parts = []
            if self.date_from:
                parts.append(f"from {self.date_from:%m/%d/%Y}")
            if self.date_to:
                parts.append(f"to {self.date_to:%m/%d/%Y}")
            parts = parts or ["all dates"]
        parts.append(self.location.name if self.location else "every location")
        return ", ".join(parts)

    def as_of_day(self) -> datetime.date:
        return self.as_of or timezone.localdate()


@dataclass
class Report:
    request: ReportRequest
    title: str
    group_label: str
    columns: list[Column]
    rows: list[ReportRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        return {c.key: sum(r.values.get(c.key, 0) for r in self.rows) for c in self.columns}

    def cells(self, values: dict[str, int]) -> list[tuple[str, int, bool]]:
        """(column label, value, is money) in the columns' order, for the page."""
        return [(c.label, values.get(c.key, 0), c.money) for c in self.columns]

    @property
    def table(self) -> list[tuple[str, list[tuple[str, int, bool]]]]:
        return [(r.label, self.cells(r.values)) for r in self.rows]

    @property
    def total_cells(self) -> list[tuple[str, int, bool]]:
        return self.cells(self.totals)


# --------------------------------------------------------------------------- grouping


def _group_key(group: str, charge_path: str, month_of: str) -> Any:
    """The expression a row is grouped by; `charge_path` leads from the queried model to the
    charge ("" when it is the charge)."""
    if group == "month":
        return TruncMonth(month_of)
    field_of = {
        "payer": "coverage__plan__payer__name",
        "provider": "rendering_provider_id",
        "location": "location__name",
    }[group]
    return F(f"{charge_path}{field_of}")


def _labels(group: str, keys: Iterable[Any]) -> dict[Any, str]:
    keys = list(keys)
    if group == "provider":
        names = {
            u.pk: u.display_name
            for u in User.objects.filter(pk__in=[k for k in keys if k is not None])
        }
        return {k: names.get(k, "Unknown clinician") for k in keys}
    if group == "month":
        return {k: f"{k:%B %Y}" if k else "No date" for k in keys}
    empty = NO_COVERAGE if group == "payer" else NO_LOCATION
    return {k: k or empty for k in keys}


def _sort_key(group: str, key: Any, label: str) -> tuple:
    if group == "month":
        return (key or datetime.date.min, label)
    # Rows without a payer or location come after the named ones, money on no charge last.
    tier = 2 if label == NOT_APPLIED else int(label in (NO_COVERAGE, NO_LOCATION))
    return (tier, label.lower())


def _rows(group: str, sums: dict[Any, dict[str, int]], extra: dict[str, dict[str, int]]):
    labels = _labels(group, sums)
    keyed = [(key, labels[key], values) for key, values in sums.items()]
    keyed += [(None, label, values) for label, values in extra.items()]
    keyed.sort(key=lambda row: _sort_key(group, row[0], row[1]))
    return [ReportRow(label, values) for _, label, values in keyed]


def _visible_charges(actor: User, request: ReportRequest) -> QuerySet[Charge]:
    visible = Patient.objects.visible_to(actor).values("pk")
    charges = Charge.objects.filter(patient__in=visible, coding_problem="")
    if request.location is not None:
        charges = charges.filter(location=request.location)
    return charges


# --------------------------------------------------------------------------- reports


def charges_report(*, actor: User, request: ReportRequest) -> Report:
    require(actor, Capability.CHARGE_VIEW)
    charges = _visible_charges(actor, request)
    if request.date_from:
        charges = charges.filter(date_of_service__gte=request.date_from)
    if request.date_to:
        charges = charges.filter(date_of_service__lte=request.date_to)
    sums: dict[Any, dict[str, int]] = {}
    counted = (
        charges.annotate(key=_group_key(request.group, "", "date_of_service"))
        .values("key")
        .annotate(n=Count("id"))
    )
    for row in counted:
        sums[row["key"]] = {"charges": row["n"], "lines": 0, "charged": 0, "unpriced": 0}
    lines = (
        ChargeLine.objects.filter(entered_in_error_at__isnull=True, charge__in=charges)
        .annotate(key=_group_key(request.group, "charge__", "charge__date_of_service"))
        .values("key")
        .annotate(
            lines=Count("id"),
            charged=Sum("amount_cents"),
            unpriced=Count("id", filter=Q(amount_cents__isnull=True)),
        )
    )
    for line_sums in lines:
        values = sums.setdefault(line_sums["key"], {"charges": 0})
        values.update(
            lines=line_sums["lines"],
            charged=line_sums["charged"] or 0,
            unpriced=line_sums["unpriced"],
        )
    report = Report(
        request=request,
        title="Charges by date of service",
        group_label=GROUPS[request.group],
        columns=[
            Column("charges", "Charges", False),
            Column("lines", "Lines", False),
            Column("charged", "Charged", True),
            Column("unpriced", "Lines without a price", False),
        ],
        rows=_rows(request.group, sums, {}),
    )
    if unpriced := report.totals["unpriced"]:
        report.notes.append(
            f"{unpriced} line{'s' if unpriced != 1 else ''} no price covers "
            f"{'are' if unpriced != 1 else 'is'} not in the amounts charged: set the price in "
            "the fee schedule and code those charges again."
        )
    return report


def payments_report(*, actor: User, request: ReportRequest) -> Report:
    require(actor, Capability.CHARGE_VIEW)
    visible = Patient.objects.visible_to(actor).values("pk")
    payments = Payment.objects.filter(patient__in=visible, entered_in_error_at__isnull=True)
    if request.location is not None:
        payments = payments.filter(charge__location=request.location)
    if request.date_from:
        payments = payments.filter(received_on__gte=request.date_from)
    if request.date_to:
        payments = payments.filter(received_on__lte=request.date_to)
    applied = ExpressionWrapper(Q(charge__isnull=False), output_field=BooleanField())
    grouped = (
        payments.annotate(key=_group_key(request.group, "charge__", "received_on"), applied=applied)
        .values("key", "applied")
        .annotate(
            patient=Sum("amount_cents", filter=Q(source=PaymentSource.PATIENT)),
            insurer=Sum("amount_cents", filter=Q(source=PaymentSource.INSURER)),
            adjusted=Sum("amount_cents", filter=Q(source=PaymentSource.ADJUSTMENT)),
            n=Count("id"),
        )
    )
    sums: dict[Any, dict[str, int]] = {}
    extra: dict[str, dict[str, int]] = {}
    for row in grouped:
        values = {
            "payments": row["n"],
            "patient": row["patient"] or 0,
            "insurer": row["insurer"] or 0,
            "received": (row["patient"] or 0) + (row["insurer"] or 0),
            "adjusted": row["adjusted"] or 0,
        }
        if request.group != "month" and not row["applied"]:
            target = extra.setdefault(NOT_APPLIED, dict.fromkeys(values, 0))
        else:
            target = sums.setdefault(row["key"], dict.fromkeys(values, 0))
        for key, value in values.items():
            target[key] += value
    report = Report(
        request=request,
        title="Payments by day received",
        group_label=GROUPS[request.group],
        columns=[
            Column("payments", "Entries", False),
            Column("patient", "From patients", True),
            Column("insurer", "From insurers", True),
            Column("received", "Received", True),
            Column("adjusted", "Adjustments (write-offs)", True),
        ],
        rows=_rows(request.group, sums, extra),
    )
    if request.location is not None:
        report.notes.append(
            "Only payments applied to a charge given at this location are counted; payments "
            "not applied to a charge belong to no location."
        )
    return report


def _open_charges(charges: QuerySet[Charge], as_of: datetime.date) -> Any:  # annotated
    """Charges given by `as_of` with their open balance that day (`open_cents`) and aging
    band (`band`), the balance summed by the database."""
    priced = (
        ChargeLine.objects.filter(charge=OuterRef("pk"), entered_in_error_at__isnull=True)
        .values("charge")
        .annotate(total=Sum("amount_cents"))
        .values("total")
    )
    paid = (
        Payment.objects.filter(
            charge=OuterRef("pk"), entered_in_error_at__isnull=True, received_on__lte=as_of
        )
        .values("charge")
        .annotate(total=Sum("amount_cents"))
        .values("total")
    )
    band = Case(
        *[When(date_of_service__gte=start, then=Value(b.key)) for b, start in band_starts(as_of)],
        default=Value(AGING_BANDS[-1].key),
    )
    return (
        charges.filter(date_of_service__lte=as_of)
        .annotate(
            open_cents=ExpressionWrapper(
                Coalesce(Subquery(priced, output_field=IntegerField()), 0)
                - Coalesce(Subquery(paid, output_field=IntegerField()), 0),
                output_field=IntegerField(),
            ),
            band=band,
        )
        .exclude(open_cents=0)
    )


def aging_report(*, actor: User, request: ReportRequest) -> Report:
    require(actor, Capability.CHARGE_VIEW)
    as_of = request.as_of_day()
    open_charges = _open_charges(_visible_charges(actor, request), as_of)
    grouped = (
        open_charges.annotate(key=_group_key(request.group, "", "date_of_service"))
        .values("key", "band")
        .annotate(total=Sum("open_cents"), n=Count("id"))
    )
    sums: dict[Any, dict[str, int]] = {}
    for row in grouped:
        values = sums.setdefault(
            row["key"], {"charges": 0, **{b.key: 0 for b in AGING_BANDS}, "total": 0}
        )
        values[row["band"]] += row["total"] or 0
        values["total"] += row["total"] or 0
        values["charges"] += row["n"]
    report = Report(
        request=request,
        title=f"Accounts receivable aging as of {as_of:%m/%d/%Y}",
        group_label=GROUPS[request.group],
        columns=[
            Column("charges", "Open charges", False),
            *[Column(b.key, b.label, True) for b in AGING_BANDS],
            Column("total", "Open balance", True),
        ],
        rows=_rows(request.group, sums, {}),
    )
    report.notes.append(
        "Age runs from the date of service. An open balance is a charge's priced lines less "
        f"what was paid or adjusted on it by {as_of:%m/%d/%Y}; a charge paid beyond its "
        "lines shows as a negative balance."
    )
    if request.location is None:
        unapplied = _unapplied_cents(actor, as_of)
        if unapplied:
            report.notes.append(
                f"Payments not applied to a charge, ${unapplied / 100:,.2f}, lower patients' "
                "balances but are not aged here: apply them on the patient's account."
            )
    return report


def _unapplied_cents(actor: User, as_of: datetime.date) -> int:
    visible = Patient.objects.visible_to(actor).values("pk")
    total = Payment.objects.filter(
        patient__in=visible,
        charge__isnull=True,
        entered_in_error_at__isnull=True,
        received_on__lte=as_of,
    ).aggregate(total=Sum("amount_cents"))["total"]
    return total or 0


REPORTS = {"charges": charges_report, "payments": payments_report, "aging": aging_report}


def report_run(*, actor: User, request: ReportRequest) -> Report:
    return REPORTS[request.kind](actor=actor, request=request)


# --------------------------------------------------------------------------- the queue's card


@dataclass(frozen=True)
class PastDueBand:
    label: str
    cents: int
    charges: int
    patients: int


@dataclass(frozen=True)
class PastDue:
    """Balances owed past 30 days, by band, and the oldest charges still owed."""

    bands: list[PastDueBand]
    oldest: list[Charge]  # each with open_cents
    count: int

    @property
    def cents(self) -> int:
        return sum(b.cents for b in self.bands)


def past_due(*, actor: User, as_of: datetime.date | None = None) -> PastDue:
    """Two queries, whatever the clinic's size."""
    require(actor, Capability.CHARGE_VIEW)
    as_of = as_of or timezone.localdate()
    owed = _open_charges(_visible_charges(actor, ReportRequest()), as_of).filter(open_cents__gt=0)
    past = owed.exclude(band=AGING_BANDS[0].key)
    sums = {
        row["band"]: row
        for row in past.values("band").annotate(
            total=Sum("open_cents"), charges=Count("id"), patients=Count("patient", distinct=True)
        )
    }
    empty = {"total": 0, "charges": 0, "patients": 0}
    bands = [
        PastDueBand(b.label, row["total"] or 0, row["charges"], row["patients"])
        for b in AGING_BANDS[1:]
        for row in [sums.get(b.key, empty)]
    ]
    oldest = list(past.select_related("patient").order_by("date_of_service", "id")[:PAST_DUE_ROWS])
    return PastDue(bands=bands, oldest=oldest, count=sum(b.charges for b in bands))
