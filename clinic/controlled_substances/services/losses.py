"""Theft and significant loss: the report, its deadlines, the DEA notice and Form 106 [J8], [J9]."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.controlled_substances.choices import (
    LossKind,
)
from clinic.controlled_substances.models import (
    Discrepancy,
    LossReport,
    Product,
)
from clinic.controlled_substances.policy import (
    controlled_substance_policy,
)
from clinic.controlled_substances.registrants import ledger_location
from clinic.controlled_substances.services.checks import (
    MgInput,
    event_time,
    mg_amount,
    reach_location_of,
    text_field,
)
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, InvalidInput, NotFound
from clinic.locations.models import Location


@transaction.atomic
def loss_report_create(
    *,
    actor: User,
    kind: str,
    discovered_at: datetime.datetime,
    description: str,
    product: Product | None = None,
    quantity_mg: MgInput | None = None,
    discrepancy: Discrepancy | None = None,
    location: Location | None = None,
) -> LossReport:
    """A theft or significant loss, with its deadlines computed from the discovery date (in the
    clinic's time zone): the DEA notified in writing within 1 business day [J8], Form 106 within
    45 days [J9] (clinic policy may only shorten them). Reported by the location that
    suffered it (`location`, by default the actor's current one; a discrepancy's own count's
    location when one is named), the registrant that notifies the DEA."""
    require(actor, Capability.LEDGER_REPORT_LOSS)
    if discrepancy is not None and location is None:
        found = (
            Discrepancy.objects.filter(pk=discrepancy.pk)
            .values_list("line__count__location", flat=True)
            .first()
        )
        if found is None:
            raise NotFound("No such discrepancy.")
        location = Location.objects.get(pk=found)
    location = ledger_location(actor, location)
    if (
        discrepancy is not None
        and not Discrepancy.objects.filter(
            pk=discrepancy.pk, line__count__location=location
        ).exists()
    ):
        raise InvalidInput({"discrepancy": ["That discrepancy is another location's."]})
    if kind not in LossKind.values:
        raise InvalidInput({"kind": ["Choose theft or significant loss."]})
    if discovered_at is None:
        raise InvalidInput({"discovered_at": ["Give the date and time of discovery."]})
    discovered_at = event_time("discovered_at", discovered_at)
    description = text_field(
        "description", description, max_length=1000, required=True, what="description"
    )
    quantity = None
    if quantity_mg not in (None, ""):
        quantity = mg_amount("quantity_mg", quantity_mg)
    policy = controlled_substance_policy()
    discovered_on = timezone.localdate(discovered_at)
    report = LossReport.objects.create(
        location=location,
        kind=kind,
        discovered_at=discovered_at,
        description=description,
        product=product,
        quantity_mg=quantity,
        discrepancy=discrepancy,
        reported_by=actor,
        dea_notice_due_on=policy.dea_notice_due_on(discovered_on),
        form106_due_on=policy.form106_due_on(discovered_on),
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="cs_loss_report",
        object_id=report.uuid,
        summary=(
            f"{report.get_kind_display()} at {location.name} discovered "
            f"{discovered_on:%m/%d/%Y}: DEA notice due {report.dea_notice_due_on:%m/%d/%Y}, "
            f"Form 106 due {report.form106_due_on:%m/%d/%Y}"
        )[:300],
        changes={"location": location.code},
    )
    return report


Precondition = Callable[[LossReport], None]


def _locked_report(
    actor: User, report: LossReport, precondition: Precondition | None = None
) -> LossReport:
    locked = LossReport.objects.select_for_update().filter(pk=report.pk).first()
    if locked is None:
        raise NotFound("No such report.")
    reach_location_of(actor, locked.location_id, what="report")
    # The API's If-Match, compared under the row lock.
    if precondition is not None:
        precondition(locked)
    return locked


def _done_at(field: str, value: datetime.datetime | None, report: LossReport) -> datetime.datetime:
    return event_time(
        field,
        value,
        not_before=report.discovered_at,
        not_before_message="That is before the theft or loss was discovered.",
    )


@transaction.atomic
def loss_report_mark_notified(
    *,
    actor: User,
    report: LossReport,
    notified_at: datetime.datetime | None = None,
    precondition: Precondition | None = None,
) -> LossReport:
    """Record when the DEA Field Division was notified in writing."""
    require(actor, Capability.LEDGER_REPORT_LOSS)
    locked = _locked_report(actor, report, precondition)
    if locked.dea_notified_at is not None:
        raise Conflict("The DEA notice is recorded already.", code="already_notified")
    locked.dea_notified_at = _done_at("notified_at", notified_at, locked)
    locked.dea_notified_by = actor
    locked.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="cs_loss_report",
        object_id=locked.uuid,
        summary=f"DEA notified of the {locked.get_kind_display().lower()}",
        changes={"dea_notified_at": {"before": None, "after": locked.dea_notified_at.isoformat()}},
    )
    return locked


@transaction.atomic
def loss_report_mark_form106(
    *,
    actor: User,
    report: LossReport,
    submitted_at: datetime.datetime | None = None,
    reference: str = "",
    precondition: Precondition | None = None,
) -> LossReport:
    """Record when DEA Form 106 was filed (electronically [J8]), after the DEA notice."""
    require(actor, Capability.LEDGER_REPORT_LOSS)
    reference = text_field("reference", reference, max_length=60, required=False, what="reference")
    locked = _locked_report(actor, report, precondition)
    if locked.dea_notified_at is None:
        raise Conflict("Record the DEA notice first.", code="not_notified")
    if locked.form106_submitted_at is not None:
        raise Conflict("Form 106 is recorded already.", code="already_submitted")
    locked.form106_submitted_at = _done_at("submitted_at", submitted_at, locked)
    locked.form106_submitted_by = actor
    locked.form106_reference = reference
    locked.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="cs_loss_report",
        object_id=locked.uuid,
        summary=f"DEA Form 106 filed for the {locked.get_kind_display().lower()}",
        changes={
            "form106_submitted_at": {
                "before": None,
                "after": locked.form106_submitted_at.isoformat(),
            }
        },
    )
    return locked
