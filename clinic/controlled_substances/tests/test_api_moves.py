"""One container's ledger and the moves its page makes, over the API (issue 16): a return to a
supplier, a transfer to another location and the reversal of a wrong entry, each by the roles
of clinic/accounts/permissions.py (`ledger.receive` for a return and a transfer; a reversal
needs the capability of the entry's kind), each a new entry (the ledger stays append-only),
each audited; an optional witness proves their presence with their own password, or nothing
is written.

The scene (conftest): sealed 100 mg vials of lot L100 received by the prescriber; the nurse
(on `patient`'s care team) records, the prescriber witnesses. Every password is TEST_PASSWORD.
Main and North as in test_locations.py (made-up DEA numbers); in the transfer tests the
prescriber works at both, the nurse at Main only, `north_nurse` at North only.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from clinic.accounts.services import api_token_create
from clinic.controlled_substances import services
from clinic.controlled_substances.models import Container, LedgerEntry, Receipt
from clinic.controlled_substances.tests.conftest import receive
from clinic.core.models import AuditEvent
from clinic.locations.models import Location, LocationStaff
from conftest import TEST_PASSWORD
from tests.concurrency import in_threads

pytestmark = pytest.mark.django_db

API = "/api/v1/ledger"
NORTH_DEA = "BN7654321"
MAIN_DEA = "BM1234563"
RETURN = {
    "recipient": "Acme Reverse Distribution",
    "recipient_dea_number": "RA1234567",
    "reason": "Expired",
}


def _post(client, url, body, **headers):
    return client.post(url, body, content_type="application/json", **headers)


def _entries() -> list[tuple]:
    return list(LedgerEntry.objects.order_by("pk").values_list("pk", "digest", "quantity_mg"))


def _ledger() -> list[tuple]:
    """Every entry as written, and every balance: to compare before and after a refusal."""
    return _entries() + list(
        Container.objects.order_by("pk").values_list("pk", "balance_mg", "status")
    )


def _as(client, actor):
    client.logout()
    if actor is not None:
        client.force_login(actor)


def _fields(response) -> list[str]:
    return [item["loc"][-1] for item in response.json()["detail"]]


# --------------------------------------------------------------------------- the container


def test_who_reads_a_container_and_its_ledger(client, vial, actors, nurse, prescriber):
    services.waste_record(
        actor=nurse, container=vial, quantity_mg="5", witness=prescriber, reason="Dropped"
    )
    expected = {
        "anonymous": 401,
        "patient_principal": 401,  # not staff: the API does not know them
        "clinic_admin": 200,
        "prescriber": 200,
        "nurse": 200,
        "therapist": 403,
        "front_desk": 403,
        "billing": 403,
        # The ledger is the location's, not a care team's.
        "prescriber_off_team": 200,
        "nurse_off_team": 200,
        "therapist_off_team": 403,
    }
    for name, status in expected.items():
        _as(client, actors[name])
        response = client.get(f"{API}/containers/{vial.uuid}")
        assert response.status_code == status, (name, response.content)
        if status != 200:
            assert set(response.json()) >= {"detail", "code"}
    _as(client, nurse)
    body = client.get(f"{API}/containers/{vial.uuid}").json()
    assert (body["label"], Decimal(body["balance_mg"]), body["status"]) == (
        "L100-001",
        Decimal("95"),
        "in_use",
    )
    assert [(e["kind"], Decimal(e["quantity_mg"]), e["witnessed"]) for e in body["entries"]] == [
        ("receipt", Decimal("100"), False),
        ("waste", Decimal("-5"), True),
    ]
    assert AuditEvent.objects.filter(
        actor=nurse, object_type="cs_container", object_id=str(vial.uuid), action="view"
    ).exists()
    assert client.get(f"{API}/containers/5d1d8a9c-0000-4000-8000-000000000009").status_code == 404


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_a_containers_ledger_reads_in_flat_queries(client, vial, nurse, prescriber, patient):
    def give():
        services.administration_record(
            actor=nurse, container=vial, patient=patient, drawn_mg="10", given_mg="8"
        )

    client.force_login(nurse)
    url = f"{API}/containers/{vial.uuid}"
    give()  # one of each kind the ledger reads things for: a receipt, an administration
    before = _queries(client, url)
    for _ in range(4):
        give()
    services.waste_record(
        actor=nurse, container=vial, quantity_mg="5", witness=prescriber, reason="Dropped"
    )
    assert len(client.get(url).json()["entries"]) == 7
    assert _queries(client, url) == before


# --------------------------------------------------------------------------- return


def test_a_return_takes_the_whole_balance_off_and_is_audited(client, vial, nurse, prescriber):
    services.waste_record(
        actor=nurse, container=vial, quantity_mg="40", witness=prescriber, reason="Spilled"
    )
    client.force_login(prescriber)
    witness = {"witness": str(nurse.uuid), "witness_password": TEST_PASSWORD}
    response = _post(client, f"{API}/containers/{vial.uuid}/return", {**RETURN, **witness})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["witnessed"], body["reversed"]) == ("return", True, False)
    assert (Decimal(body["quantity_mg"]), Decimal(body["balance_after_mg"])) == (-60, 0)
    entry = LedgerEntry.objects.get(uuid=body["uuid"])
    assert (entry.actor, entry.witness, entry.counterparty) == (
        prescriber,
        nurse,
        "Acme Reverse Distribution",
    )
    assert Container.objects.get(pk=vial.pk).status == "returned"
    audit = AuditEvent.objects.get(object_type="ledger_entry", object_id=str(entry.uuid))
    assert (audit.actor, audit.action) == (prescriber, "create")
    assert audit.summary == (
        "Returned 60 mg in L100-001 to Acme Reverse Distribution (DEA RA1234567)"
    )
    assert TEST_PASSWORD not in response.content.decode()
    # Nothing left: a second return is refused as the container's state, not as bad input.
    again = _post(client, f"{API}/containers/{vial.uuid}/return", RETURN)
    assert again.status_code == 409 and again.json()["code"] == "empty"


def test_who_may_return(client, vial_product, actors, prescriber):
    """ledger.receive: the clinic administrator and prescribers, whatever care team."""
    expected = {
        "anonymous": 401,
        "patient_principal": 401,
        "nurse": 403,
        "nurse_off_team": 403,
        "therapist": 403,
        "therapist_off_team": 403,
        "front_desk": 403,
        "billing": 403,
        "clinic_admin": 201,
        "prescriber": 201,
        "prescriber_off_team": 201,
    }
    receipt = receive(prescriber, vial_product, containers=len(expected), lot_number="R1")
    containers = list(receipt.containers.order_by("pk"))
    for (name, status), container in zip(expected.items(), containers, strict=True):
        before = _ledger()
        _as(client, actors[name])
        response = _post(client, f"{API}/containers/{container.uuid}/return", RETURN)
        assert response.status_code == status, (name, response.content)
        if status != 201:
            assert _ledger() == before, name
    assert Container.objects.filter(status="returned").count() == 3


@pytest.mark.parametrize(
    ("who", "password", "field"),
    [
        ("prescriber", TEST_PASSWORD, "witness"),  # oneself
        ("front_desk", TEST_PASSWORD, "witness"),  # not licensed
        ("therapist", TEST_PASSWORD, "witness"),  # licensed, but not a witness role
        ("nurse", "", "witness_password"),  # named, not confirmed
        ("nurse", "not-their-password", "witness_password"),
    ],
)
def test_a_return_with_a_witness_who_may_not_witness_writes_nothing(
    client, vial, actors, prescriber, who, password, field
):
    before = _ledger()
    client.force_login(prescriber)
    body = {**RETURN, "witness": str(actors[who].uuid), "witness_password": password}
    response = _post(client, f"{API}/containers/{vial.uuid}/return", body)
    assert response.status_code == 422, response.content
    assert field in _fields(response)
    assert _ledger() == before


def test_a_return_refuses_bad_input_with_the_pages_messages(client, vial, prescriber):
    client.force_login(prescriber)
    url = f"{API}/containers/{vial.uuid}/return"
    before = _ledger()
    bad_dea = _post(client, url, {**RETURN, "recipient_dea_number": "RA-12"})
    assert bad_dea.status_code == 422 and "recipient_dea_number" in _fields(bad_dea)
    blank = _post(client, url, {**RETURN, "reason": "  "})
    assert blank.status_code == 422 and "reason" in _fields(blank)
    unknown = _post(client, url, {**RETURN, "balance_mg": "0"})
    assert unknown.status_code == 422
    assert _ledger() == before
    missing = _post(client, f"{API}/containers/5d1d8a9c-0000-4000-8000-000000000009/return", RETURN)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


# --------------------------------------------------------------------------- transfer


@pytest.fixture
def places(nurse, prescriber, make_staff):
    main = Location.objects.get(is_default=True)
    main.dea_registration_number = MAIN_DEA
    main.save()
    north = Location.objects.create(
        name="North",
        code="NORTH",
        address_line1="9 Birch Road",
        city="Albany",
        state="NY",
        postal_code="12207",
        time_zone=settings.TIME_ZONE,
        dea_registration_number=NORTH_DEA,
    )
    north_nurse = make_staff("nurse", username="north_nurse")
    main_only = make_staff("prescriber", username="main_only")
    LocationStaff.objects.filter(user__in=[nurse, prescriber, north_nurse, main_only]).delete()
    for location, user in (
        (main, nurse),
        (main, prescriber),
        (north, prescriber),
        (north, north_nurse),
        (main, main_only),
    ):
        LocationStaff.objects.create(location=location, user=user)
    return {"main": main, "north": north, "north_nurse": north_nurse, "main_only": main_only}


def _transfer(client, container, to_location, **extra):
    body = {"to_location": str(to_location.uuid), "reason": "North is short", **extra}
    return _post(client, f"{API}/containers/{container.uuid}/transfer", body)


def test_a_transfer_is_a_transfer_out_here_and_a_receipt_there(
    client, vials, places, prescriber, nurse
):
    client.force_login(prescriber)
    witness = {"witness": str(nurse.uuid), "witness_password": TEST_PASSWORD}
    response = _transfer(client, vials[1], places["north"], **witness)
    assert response.status_code == 201, response.content
    body = response.json()
    out = body["transfer_out"]
    assert (out["kind"], out["container"], out["witnessed"]) == ("transfer_out", "L100-002", True)
    assert (Decimal(out["quantity_mg"]), Decimal(out["balance_after_mg"])) == (-100, 0)
    receipt = body["receipt"]
    assert receipt["location"]["uuid"] == str(places["north"].uuid)
    assert receipt["location"]["dea_registration_number"] == NORTH_DEA
    assert [(c["lot_number"], Decimal(c["balance_mg"])) for c in receipt["containers"]] == [
        ("L100", Decimal("100"))
    ]
    assert Container.objects.get(pk=vials[1].pk).status == "transferred"
    arrived = Receipt.objects.get(uuid=receipt["uuid"])
    assert (arrived.supplier_dea_number, arrived.location) == (MAIN_DEA, places["north"])
    assert AuditEvent.objects.filter(
        object_type="ledger_entry", object_id=out["uuid"], actor=prescriber
    ).exists()
    assert AuditEvent.objects.filter(object_type="cs_receipt", object_id=receipt["uuid"]).exists()
    # North's new container is out of reach of the nurse, who works at Main only.
    arrived_url = f"{API}/containers/{receipt['containers'][0]['uuid']}"
    assert client.get(arrived_url).status_code == 200
    client.force_login(nurse)
    assert client.get(arrived_url).status_code == 404


def test_who_may_transfer_and_where(client, vials, places, actors, nurse, clinic_admin):
    north = places["north"]
    for name, status in {
        "anonymous": 401,
        "patient_principal": 401,
        "nurse": 403,
        "therapist": 403,
        "front_desk": 403,
        "billing": 403,
    }.items():
        before = _ledger()
        _as(client, actors[name])
        assert _transfer(client, vials[0], north).status_code == status, name
        assert _ledger() == before
    # A prescriber of Main only has nowhere to send it: North is not theirs to receive at.
    _as(client, places["main_only"])
    refused = _transfer(client, vials[0], north)
    assert refused.status_code == 422 and "to_location" in _fields(refused)
    # A witness must work where the container leaves from.
    _as(client, clinic_admin)
    elsewhere = {"witness": str(places["north_nurse"].uuid), "witness_password": TEST_PASSWORD}
    assert "witness" in _fields(_transfer(client, vials[0], north, **elsewhere))
    assert Container.objects.get(pk=vials[0].pk).status == "in_stock"
    # The clinic administrator reaches every location.
    assert _transfer(client, vials[0], north).status_code == 201


def test_only_a_sealed_container_moves_to_a_registered_location(
    client, vials, places, prescriber, nurse, patient
):
    services.administration_record(
        actor=nurse, container=vials[0], patient=patient, drawn_mg="10", given_mg="10"
    )
    client.force_login(prescriber)
    opened = _transfer(client, vials[0], places["north"])
    assert opened.status_code == 409 and opened.json()["code"] == "container_opened"
    places["north"].dea_registration_number = ""
    places["north"].save()
    before = _ledger()
    unregistered = _transfer(client, vials[1], places["north"])
    assert unregistered.status_code == 409
    assert unregistered.json()["code"] == "no_dea_registration"
    assert _ledger() == before


# --------------------------------------------------------------------------- reversal


def _reverse(client, entry, reason="Recorded on the wrong vial"):
    return _post(client, f"{API}/reversals", {"entry": str(entry.uuid), "reason": reason})


def test_a_reversal_is_a_new_entry_and_the_wrong_one_stays(client, vial, nurse, prescriber):
    waste = services.waste_record(
        actor=nurse, container=vial, quantity_mg="10", witness=prescriber, reason="Dropped"
    )
    before = _entries()
    client.force_login(nurse)
    response = _reverse(client, waste)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["reverses"], body["reversed"]) == (
        "reversal",
        str(waste.uuid),
        False,
    )
    assert (Decimal(body["quantity_mg"]), Decimal(body["balance_after_mg"])) == (10, 100)
    # Append-only: every entry before is as it was, and one more follows them.
    assert _entries()[: len(before)] == before and len(_entries()) == len(before) + 1
    assert Container.objects.get(pk=vial.pk).balance_mg == Decimal("100")
    listed = client.get(f"{API}/containers/{vial.uuid}").json()["entries"]
    assert [(e["kind"], e["reversed"]) for e in listed] == [
        ("receipt", False),
        ("waste", True),
        ("reversal", False),
    ]
    audit = AuditEvent.objects.get(object_type="ledger_entry", object_id=body["uuid"])
    assert audit.summary == "Reversed a waste of 10 mg on L100-001: Recorded on the wrong vial"
    # The state refuses what follows: 409, and nothing more is written.
    after = _ledger()
    twice = _reverse(client, waste)
    assert twice.status_code == 409 and twice.json()["code"] == "already_reversed"
    undo = _reverse(client, LedgerEntry.objects.get(uuid=body["uuid"]))
    assert undo.status_code == 409 and undo.json()["code"] == "reversal_of_reversal"
    assert _ledger() == after


def test_a_reversal_needs_a_reason_and_an_entry_in_reach(client, vial, nurse):
    client.force_login(nurse)
    receipt_entry = vial.entries.get()
    blank = _reverse(client, receipt_entry, reason="   ")
    assert blank.status_code == 422 and "reason" in _fields(blank)
    missing = _post(
        client,
        f"{API}/reversals",
        {"entry": "5d1d8a9c-0000-4000-8000-000000000009", "reason": "Wrong"},
    )
    assert missing.status_code == 404


def test_who_may_reverse_an_administration(client, vials, patient, actors, nurse, prescriber):
    """The kind's capability (ledger.record: prescribers and nurses), and the patient in the
    actor's reach: off the care team the entry reads as not found."""
    given = [
        services.administration_record(
            actor=nurse, container=v, patient=patient, drawn_mg="10", given_mg="10"
        )
        for v in vials
    ]
    expected = {
        "anonymous": 401,
        "patient_principal": 401,
        "clinic_admin": 403,
        "therapist": 403,
        "therapist_off_team": 403,
        "front_desk": 403,
        "billing": 403,
        "prescriber_off_team": 404,
        "nurse_off_team": 404,
    }
    before = _ledger()
    for name, status in expected.items():
        _as(client, actors[name])
        response = _reverse(client, given[0])
        assert response.status_code == status, (name, response.content)
        assert set(response.json()) >= {"detail", "code"}
    assert _ledger() == before
    for actor, entry in ((nurse, given[0]), (prescriber, given[1])):
        _as(client, actor)
        assert _reverse(client, entry).status_code == 201
    assert [c.balance_mg for c in Container.objects.order_by("pk")] == [100, 100]


def test_who_may_reverse_a_receipt(client, vial, actors, nurse, clinic_admin):
    """ledger.receive, as for the receipt itself: not the nurses."""
    entry = vial.entries.get()
    _as(client, nurse)
    assert _reverse(client, entry).status_code == 403
    _as(client, clinic_admin)
    done = _reverse(client, entry)
    assert done.status_code == 201 and Decimal(done.json()["balance_after_mg"]) == 0


# --------------------------------------------------------------------------- the contract


def test_each_operation_declares_exactly_its_statuses_with_the_envelope(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    create = {"201", "400", "401", "403", "404", "409", "413", "422"}
    declared = {
        ("get", f"{API}/containers/{{container_uuid}}"): {"200", "401", "403", "404", "422"},
        ("post", f"{API}/containers/{{container_uuid}}/return"): create,
        ("post", f"{API}/containers/{{container_uuid}}/transfer"): create,
        ("post", f"{API}/reversals"): create,
    }
    for (method, path), statuses in declared.items():
        operation = paths[path][method]
        assert set(operation["responses"]) == statuses, (method, path)
        assert operation["security"], path  # the API's authentication
        for status in statuses - {"200", "201"}:
            schema = operation["responses"][status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ApiError"}, (path, status)
    # Append-only: nothing is ever posted to, put on or deleted from an entry.
    for path, methods in paths.items():
        if path.startswith(f"{API}/entries"):
            assert set(methods) == {"get"}, path


# --------------------------------------------------------------------------- PostgreSQL


def _bearer(user) -> str:
    return f"Bearer {api_token_create(actor=None, user=user, name='race')[1]}"


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_reversals_of_one_entry_at_once_write_one(vial, nurse, prescriber):
    waste = services.waste_record(
        actor=nurse, container=vial, quantity_mg="10", witness=prescriber, reason="Dropped"
    )
    tokens = [_bearer(nurse), _bearer(prescriber)]

    def work(i):
        return Client().post(
            f"{API}/reversals",
            {"entry": str(waste.uuid), "reason": "Recorded twice"},
            content_type="application/json",
            HTTP_AUTHORIZATION=tokens[i],
        )

    responses = in_threads(2, work)
    assert sorted(r.status_code for r in responses) == [201, 409], [r.content for r in responses]
    refused = next(r for r in responses if r.status_code == 409)
    assert refused.json()["code"] == "already_reversed"
    assert LedgerEntry.objects.filter(kind="reversal", reverses=waste).count() == 1
    assert Container.objects.get(pk=vial.pk).balance_mg == Decimal("100.000")
