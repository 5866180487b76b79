"""Reads of requests for a copy of a patient's record: the chart's list for one patient, one
request, and the clinic's open requests by due date for the front desk and the clinic
administrator, who must see a request before it is late. Reads naming patients are audited."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from django.core.paginator import Page
from django.db.models import QuerySet
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.api_pages import Keyset, KeysetPage, keyset_page
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import NotFound
from clinic.core.pages import page_of
from clinic.core.parsing import record_uuid
from clinic.patients.choices import RecordsRequestStatus
from clinic.patients.models import Patient, RecordsRequest
from clinic.patients.records_policy import records_request_policy
from clinic.patients.selectors import patient_get


@dataclass(frozen=True)
class DueCounts:
    """Open requests for the home page: how many, how many due within the policy's days,
    how many late. No patient is named, so reading it is not audited."""

    open: int
    due_soon: int
    overdue: int


def due_state(request: RecordsRequest, today: datetime.date | None = None) -> str:
    """overdue, due_soon, open, or the closed request's status."""
    if request.status != RecordsRequestStatus.OPEN:
        return request.status
    today = today or timezone.localdate()
    if request.due_on < today:
        return "overdue"
    if request.due_on <= today + datetime.timedelta(days=records_request_policy().due_soon_days):
        return "due_soon"
    return "open"


def records_request_counts(*, actor: User) -> DueCounts | None:
    """None for a role that does not handle records requests."""
    if not actor.can(Capability.RECORDS_REQUEST_MANAGE):
        return None
    today = timezone.localdate()
    soon = today + datetime.timedelta(days=records_request_policy().due_soon_days)
    open_requests = RecordsRequest.objects.filter(status=RecordsRequestStatus.OPEN)
    return DueCounts(
        open=open_requests.count(),
        due_soon=open_requests.filter(due_on__gte=today, due_on__lte=soon).count(),
        overdue=open_requests.filter(due_on__lt=today).count(),
    )


def _mark(requests: list[RecordsRequest]) -> list[RecordsRequest]:
    today = timezone.localdate()
    for request in requests:
        request.due_state = due_state(request, today)  # type: ignore[attr-defined]
    return requests


def open_records_requests(*, actor: User, page_number: object = 1) -> Page:
    """The clinic's open requests, the one due first on top (late ones first of all)."""
    require(actor, Capability.RECORDS_REQUEST_MANAGE)
    rows: QuerySet[RecordsRequest] = (
        RecordsRequest.objects.filter(status=RecordsRequestStatus.OPEN)
        .select_related("patient")
        .order_by("due_on", "id")
    )
    page = page_of(rows, page_number)
    _mark(list(page.object_list))
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="records_request",
        summary=f"{len(page.object_list)} of {page.paginator.count} open records requests",
    )
    return page


# The API's orders (keyset pages): the open list as the page, the one due first on top; a
# patient's requests as the chart, the newest first.
OPEN_ORDER = Keyset(("due_on",))
PATIENT_ORDER = Keyset(("-received_on",))


def open_records_requests_page(
    *, actor: User, after: list | None, limit: int
) -> KeysetPage[RecordsRequest]:
    """The open list's page through the API (as open_records_requests), audited the same."""
    require(actor, Capability.RECORDS_REQUEST_MANAGE)
    rows = RecordsRequest.objects.filter(status=RecordsRequestStatus.OPEN).select_related("patient")
    page = keyset_page(rows, keyset=OPEN_ORDER, after=after, limit=limit)
    _mark(page.items)
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="records_request",
        summary=f"{len(page.items)} open records requests (API page)",
    )
    return page


def patient_records_requests_page(
    *, actor: User, patient: Patient, after: list | None, limit: int
) -> KeysetPage[RecordsRequest]:
    """One patient's requests through the API (the caller reached the patient through
    patients.selectors.patient_get, which audited the view)."""
    require(actor, Capability.RECORDS_REQUEST_MANAGE)
    rows = RecordsRequest.objects.filter(patient=patient).select_related("patient")
    page = keyset_page(rows, keyset=PATIENT_ORDER, after=after, limit=limit)
    _mark(page.items)
    return page


def records_requests_of(*, actor: User, patient: Patient) -> list[RecordsRequest] | None:
    """The patient's requests, newest first, for the chart (the chart view has reached the
    patient and audited the view); None for a role that does not handle them."""
    if not actor.can(Capability.RECORDS_REQUEST_MANAGE):
        return None
    return _mark(list(patient.records_requests.select_related("closed_by")))


def records_request_get(
    *, actor: User, patient: Patient, request_uuid: uuid.UUID | str
) -> RecordsRequest:
    require(actor, Capability.RECORDS_REQUEST_MANAGE)
    request = (
        RecordsRequest.objects.filter(patient=patient, uuid=request_uuid)
        .select_related("logged_by", "closed_by", "extended_by")
        .first()
    )
    if request is None:
        raise NotFound("No such records request for this patient.")
    return _mark([request])[0]


def records_request_by_uuid(*, actor: User, request_uuid: uuid.UUID | str) -> RecordsRequest:
    """A request by its own UUID (the API's path): the role first, then the request, then its
    patient as the request page reaches it (patient_get, which audits the view)."""
    require(actor, Capability.RECORDS_REQUEST_MANAGE)
    found = (
        RecordsRequest.objects.filter(uuid=record_uuid(request_uuid))
        .select_related("patient")
        .first()
    )
    if found is None:
        raise NotFound("No such records request.")
    patient = patient_get(actor=actor, patient_uuid=found.patient.uuid, purpose="records request")
    return records_request_get(actor=actor, patient=patient, request_uuid=found.uuid)


def chart_section_context(*, actor: User, patient: Patient, clinical: bool):
    """The chart's "Copies of the record": the requests, for those who handle them, and the
    whole-record download, for those who may read it (the chart view has already reached the
    patient and audited the view)."""
    requests = records_requests_of(actor=actor, patient=patient)
    if requests is None and not clinical:
        return None
    return {"patient": patient, "requests": requests, "can_produce": clinical}
