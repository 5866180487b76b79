"""One container's ledger, and the moves its page makes (views.container_return,
container_transfer, entry_reverse), with the same services, forms, roles and audit:

- returning what is left in a container to a supplier or reverse distributor, and transferring
  a sealed container to another location (`ledger.receive`: the clinic administrator and
  prescribers), each optionally witnessed;
- reversing a wrong entry (the capability that records its kind: services.REVERSE_CAPABILITY).

Append-only, as the page: a return and a transfer are new entries (and a receipt at the other
location), a reversal is a new entry that undoes another, which stays as it was. A reversal is
created at POST /reversals, naming the entry in its body: nothing is ever posted to an entry.

The services take an optional witness that the page does not ask for; the API takes one only
as the pages take every witness (WitnessMixin, as the waste form): another active licensed
member of staff who works at the container's location, confirming with their own password.
Without a valid proof nothing is written (422)."""

from __future__ import annotations

import uuid

from ninja import Status

from clinic.accounts.permissions import Capability
from clinic.controlled_substances import selectors, selectors_api, services
from clinic.controlled_substances.api.common import (
    container_read,
    entry_read,
    receipt_read,
    registrant,
    router,
    row_read,
    witness_data,
)
from clinic.controlled_substances.forms import ReasonForm, ReturnForm, TransferForm, WitnessMixin
from clinic.controlled_substances.schemas import (
    ContainerLedgerRead,
    ContainerReturn,
    ContainerTransfer,
    EntryRead,
    ReversalRead,
    ReversalRecord,
    TransferRead,
)
from clinic.core.access import require
from clinic.core.api_forms import form_checked
from clinic.core.api_schemas import ApiError


class WitnessedReturnForm(WitnessMixin, ReturnForm):
    """The page's return form, with the witness the service allows, proved as on the pages."""

    def __init__(self, *args, actor, request, location, **kwargs):
        super().__init__(*args, **kwargs)
        self._witness_fields(actor=actor, request=request, location=location)

    def clean(self):
        data = super().clean()
        self._check_witness(data)
        return data


class WitnessedTransferForm(WitnessMixin, TransferForm):
    """The page's transfer form (another location the actor works at), with the witness the
    service allows, working where the container leaves from."""

    def __init__(self, *args, actor, request, container, **kwargs):
        super().__init__(*args, actor=actor, container=container, **kwargs)
        self._witness_fields(actor=actor, request=request, location=container.location)

    def clean(self):
        data = super().clean()
        self._check_witness(data)
        return data


@router.get(
    "/containers/{container_uuid}",
    response=ContainerLedgerRead,
    summary="One container, with every entry of its ledger",
    description=(
        "As the container's page: its lot, balance and status, and every entry oldest first "
        "(a container holds one vial or device, so its ledger stays short). The clinic "
        "administrator, prescribers and nurses at the container's location; 404 elsewhere."
    ),
    operation_id="ledger_container",
)
def ledger_container(request, container_uuid: uuid.UUID):
    container = selectors.container_get(actor=request.auth, container_uuid=container_uuid)
    ledger = selectors.container_ledger(actor=request.auth, container=container)
    return {
        **container_read(container),
        "location": registrant(container.location),
        "entries": [row_read(row) for row in ledger.rows],
    }


@router.post(
    "/containers/{container_uuid}/return",
    response={201: EntryRead, 404: ApiError, 409: ApiError},
    summary="Return what is left in a container to a supplier or reverse distributor",
    description=(
        "A return entry takes the whole balance off the container, which leaves the stock. "
        "The clinic administrator and prescribers at the container's location (404 "
        "elsewhere). An optional witness (active licensed staff at the location, not you) "
        "proves their presence with their own password: a wrong one, or a witness who may not "
        "witness, is 422 and nothing is written. 409 when the container is empty."
    ),
    operation_id="ledger_container_return",
)
def ledger_container_return(request, container_uuid: uuid.UUID, payload: ContainerReturn):
    actor = request.auth
    require(actor, Capability.LEDGER_RECEIVE)  # before looking anything up
    container = selectors.container_get(actor=actor, container_uuid=container_uuid)
    form = form_checked(
        WitnessedReturnForm(
            {
                "recipient": payload.recipient,
                "recipient_dea_number": payload.recipient_dea_number,
                "reason": payload.reason,
                **witness_data(payload),
            },
            actor=actor,
            request=request,
            location=container.location,
        )
    )
    data = form.cleaned_data
    entry = services.container_return(
        actor=actor,
        container=container,
        recipient=data["recipient"],
        recipient_dea_number=data["recipient_dea_number"],
        reason=data["reason"],
        witness=data.get("witness"),
    )
    return Status(201, entry_read(entry, reversed_=False))


@router.post(
    "/containers/{container_uuid}/transfer",
    response={201: TransferRead, 404: ApiError, 409: ApiError},
    summary="Transfer a sealed container to another location",
    description=(
        "Each location is its own registrant: a transfer-out entry here, naming the other "
        "location and its DEA number, and a receipt of a new container there. The clinic "
        "administrator and prescribers who work at both locations (`to_location` must be "
        "another active location you work at: 422 otherwise). An optional witness, working "
        "here, proves their presence with their own password (422 and nothing written "
        "without a valid proof). 409 when the container has been opened, or when either "
        "location has no DEA registration number."
    ),
    operation_id="ledger_container_transfer",
)
def ledger_container_transfer(request, container_uuid: uuid.UUID, payload: ContainerTransfer):
    actor = request.auth
    require(actor, Capability.LEDGER_RECEIVE)  # before looking anything up
    container = selectors.container_get(actor=actor, container_uuid=container_uuid)
    form = form_checked(
        WitnessedTransferForm(
            {
                "to_location": str(payload.to_location),
                "reason": payload.reason,
                **witness_data(payload),
            },
            actor=actor,
            request=request,
            container=container,
        )
    )
    data = form.cleaned_data
    receipt = services.container_transfer(
        actor=actor,
        container=container,
        to_location=data["to_location"],
        reason=data["reason"],
        witness=data.get("witness"),
    )
    return Status(
        201,
        {
            "transfer_out": entry_read(selectors_api.transfer_out_of(container), reversed_=False),
            "receipt": receipt_read(receipt),
        },
    )


@router.post(
    "/reversals",
    response={201: ReversalRead, 404: ApiError, 409: ApiError},
    summary="Reverse a wrong entry with a new entry",
    description=(
        "The balance goes back and both entries stay: nothing is edited or deleted. Reversing "
        "needs the capability that records the entry's kind: a receipt or a return, the "
        "clinic administrator and prescribers; an administration or a waste, prescribers and "
        "nurses (an administration only for a patient on your care team: 404 otherwise). 409 "
        "when the entry was reversed already, is itself a reversal, an adjustment or a "
        "transfer to another location, when an administration's residual waste stands, or "
        "when later entries used what it would take back. 404 for an entry out of reach."
    ),
    operation_id="ledger_reversal_create",
)
def ledger_reversal_create(request, payload: ReversalRecord):
    actor = request.auth
    # As the page: whoever may read the ledger reaches the entry; the service then asks for
    # the capability of the entry's kind.
    require(actor, Capability.LEDGER_VIEW)
    entry = selectors.entry_get(actor=actor, entry_uuid=payload.entry)
    form = form_checked(ReasonForm({"reason": payload.reason}))
    reversal = services.entry_reverse(actor=actor, entry=entry, reason=form.cleaned_data["reason"])
    return Status(201, {**entry_read(reversal, reversed_=False), "reverses": entry.uuid})
