"""The ledger per location (issue 14; ADR 0007, "Locations"). Each location is its own DEA
registrant (21 CFR 1301.12(a)): it receives its own stock, draws doses only from it, counts it
(the initial inventory once per location), reports its own losses and exports its own records
under its own DEA registration number. A transfer between two locations is a transfer out of
one and a receipt at the other. Staff reach only the locations they work at
(clinic/locations/selectors.py); the clinic administrator reaches every one.

The scene: the default location "Main" (migration locations 0002; DEA BM1234563) and "North"
(DEA BN7654321): registration numbers made up for the tests.
The root `nurse` works at Main only, `north_nurse` at North only, the `prescriber` at both.
Vials hold 100 mg (the ledger tests' product, chosen for easy arithmetic).

Long because: it is the permission and scoping matrix of one rule (a location is its own
registrant) across services, pages, exports and the API, sharing one set of fixtures.
"""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from clinic.controlled_substances import exports, selectors, services
from clinic.controlled_substances.models import (
    Container,
    InventoryCount,
    LedgerEntry,
    LossReport,
)
from clinic.controlled_substances.selectors import Period
from clinic.controlled_substances.tests.conftest import receive
from clinic.core.exceptions import Conflict, InvalidInput, NotFound, PermissionDenied
from clinic.core.models import AuditEvent
from clinic.locations.models import Location, LocationStaff

pytestmark = pytest.mark.django_db

NORTH_DEA = "BN7654321"
MAIN_DEA = "BM1234563"


@pytest.fixture
def main():
    location = Location.objects.get(is_default=True)
    location.dea_registration_number = MAIN_DEA
    location.save()
    return location


@pytest.fixture
def north():
    return Location.objects.create(
        name="North",
        code="NORTH",
        address_line1="9 Birch Road",
        city="Albany",
        state="NY",
        postal_code="12207",
        time_zone=settings.TIME_ZONE,
        dea_registration_number=NORTH_DEA,
    )


@pytest.fixture
def north_nurse(make_staff):
    return make_staff("nurse", username="north_nurse", first_name="Nora", last_name="North")


@pytest.fixture
def main_only(make_staff):
    """A prescriber who works at Main only."""
    return make_staff("prescriber", username="main_only")


@pytest.fixture
def staffed(main, north, nurse, prescriber, north_nurse, main_only):
    # Exactly these memberships (a new account may already work at the default location).
    LocationStaff.objects.filter(user__in=[nurse, prescriber, north_nurse, main_only]).delete()
    for location, user in (
        (main, nurse),
        (main, prescriber),
        (north, prescriber),
        (north, north_nurse),
        (main, main_only),
    ):
        LocationStaff.objects.create(location=location, user=user)


@pytest.fixture
def stock(staffed, main, north, prescriber, vial_product):
    """Two vials received at Main (lot L100), one at North (lot N200)."""
    at_main = receive(prescriber, vial_product, containers=2, location=main)
    at_north = receive(
        prescriber, vial_product, containers=1, lot_number="N200", invoice="N-1", location=north
    )
    return {
        "main": list(at_main.containers.order_by("pk")),
        "north": list(at_north.containers.order_by("pk")),
        "main_receipt": at_main,
        "north_receipt": at_north,
    }


def _on_hand_mg(actor, location) -> Decimal:
    inventory = selectors.inventory_get(actor=actor, location=location)
    return sum((stock.on_hand_mg for stock in inventory.stock), Decimal(0))


# --------------------------------------------------------------------------- services


def test_each_location_receives_and_holds_its_own_stock(stock, main, north, prescriber):
    assert stock["main_receipt"].location == main
    assert stock["north_receipt"].location == north
    assert {c.location for c in stock["main"]} == {main}
    assert {c.location for c in stock["north"]} == {north}
    assert _on_hand_mg(prescriber, main) == Decimal("200")
    assert _on_hand_mg(prescriber, north) == Decimal("100")


def test_a_receipt_at_a_location_one_does_not_work_at_is_refused(
    staffed, north, main_only, vial_product
):
    with pytest.raises(PermissionDenied):
        receive(main_only, vial_product, location=north)
    assert not Container.objects.exists()


def test_a_dose_at_one_location_cannot_draw_from_anothers_vial(stock, main, prescriber, patient):
    north_vial = stock["north"][0]
    with pytest.raises(Conflict) as refused:
        services.administration_record(
            actor=prescriber,
            container=north_vial,
            patient=patient,
            drawn_mg="40",
            given_mg="40",
            location=main,
        )
    assert refused.value.code == "container_elsewhere"
    assert Container.objects.get(pk=north_vial.pk).balance_mg == Decimal("100")
    assert not LedgerEntry.objects.filter(kind="administration").exists()
    # From the location's own vial it is recorded.
    services.administration_record(
        actor=prescriber,
        container=stock["main"][0],
        patient=patient,
        drawn_mg="40",
        given_mg="40",
        location=main,
    )
    assert _on_hand_mg(prescriber, main) == Decimal("160")


def test_a_nurse_cannot_draw_from_a_vial_of_a_location_she_does_not_work_at(stock, nurse, patient):
    with pytest.raises(NotFound):
        services.administration_record(
            actor=nurse, container=stock["north"][0], patient=patient, drawn_mg="1", given_mg="1"
        )
    assert not LedgerEntry.objects.filter(kind="administration").exists()


def test_the_witness_of_a_waste_works_at_the_containers_location(
    stock, prescriber, nurse, north_nurse
):
    north_vial = stock["north"][0]
    with pytest.raises(InvalidInput) as refused:
        services.waste_record(
            actor=prescriber,
            container=north_vial,
            quantity_mg="2",
            witness=nurse,  # works at Main only
            reason="Spilled",
        )
    assert refused.value.errors == {"witness": ["The witness must work at North."]}
    services.waste_record(
        actor=prescriber,
        container=north_vial,
        quantity_mg="2",
        witness=north_nurse,
        reason="Spilled",
    )
    assert Container.objects.get(pk=north_vial.pk).balance_mg == Decimal("98")


def test_a_count_covers_exactly_one_locations_containers(stock, main, north, prescriber):
    north_vial, main_vials = stock["north"][0], stock["main"]
    # North's daily count needs North's vial only.
    count = services.count_record(
        actor=prescriber, kind="daily", lines={north_vial: "100"}, location=north
    )
    assert count.location == north
    assert [line.container for line in count.lines.all()] == [north_vial]
    # One of Main's vials in North's count is refused, like a container that does not exist.
    with pytest.raises(InvalidInput) as refused:
        services.count_record(
            actor=prescriber,
            kind="daily",
            lines={north_vial: "100", main_vials[0]: "100"},
            location=north,
        )
    assert refused.value.errors == {"lines": ["A counted container does not exist."]}
    # Main's count must include both of Main's vials, and not North's.
    with pytest.raises(InvalidInput) as missing:
        services.count_record(
            actor=prescriber, kind="daily", lines={main_vials[0]: "100"}, location=main
        )
    assert main_vials[1].label in missing.value.errors["lines"][0]


def test_the_initial_inventory_is_taken_once_per_location(stock, main, north, prescriber):
    services.count_record(
        actor=prescriber,
        kind="initial",
        taken_at="opening",
        lines={c: "100" for c in stock["main"]},
        location=main,
    )
    services.count_record(
        actor=prescriber,
        kind="initial",
        taken_at="opening",
        lines={stock["north"][0]: "100"},
        location=north,
    )
    with pytest.raises(Conflict) as again:
        services.count_record(
            actor=prescriber,
            kind="initial",
            taken_at="close",
            lines={c: "100" for c in stock["main"]},
            location=main,
        )
    assert again.value.code == "initial_inventory_exists"
    assert InventoryCount.objects.filter(kind="initial").count() == 2


def test_a_discrepancy_belongs_to_its_counts_location(stock, main, north, main_only, prescriber):
    services.count_record(
        actor=prescriber, kind="daily", lines={stock["north"][0]: "99"}, location=north
    )
    discrepancy = selectors.count_overview(actor=prescriber, location=north).open_discrepancies[0]
    assert discrepancy.line.count.location == north
    assert selectors.count_overview(actor=prescriber, location=main).open_discrepancies == []
    with pytest.raises(NotFound):
        services.discrepancy_resolve(actor=main_only, discrepancy=discrepancy, reason="Recount")
    services.discrepancy_resolve(
        actor=prescriber, discrepancy=discrepancy, reason="Spilled", adjust_balance=True
    )
    assert Container.objects.get(pk=stock["north"][0].pk).balance_mg == Decimal("99")


def test_loss_reports_belong_to_the_reporting_location(stock, main, north, prescriber, main_only):
    discovered = timezone.now() - datetime.timedelta(hours=2)
    report = services.loss_report_create(
        actor=prescriber,
        kind="theft",
        discovered_at=discovered,
        description="Vial missing",
        location=north,
    )
    assert report.location == north
    assert [row.report for row in selectors.loss_report_list(actor=prescriber, location=north)] == [
        report
    ]
    assert selectors.loss_report_list(actor=prescriber, location=main) == []
    with pytest.raises(NotFound):
        services.loss_report_mark_notified(actor=main_only, report=report)
    assert LossReport.objects.get().dea_notified_at is None


def test_a_transfer_is_a_transfer_out_here_and_a_receipt_there(stock, main, north, prescriber):
    vial = stock["main"][1]
    receipt = services.container_transfer(
        actor=prescriber, container=vial, to_location=north, reason="North is short"
    )
    # Main: the vial left by a transfer out naming North and its DEA number.
    sent = Container.objects.get(pk=vial.pk)
    assert (sent.status, sent.balance_mg) == ("transferred", Decimal("0"))
    out = LedgerEntry.objects.get(container=vial, kind="transfer_out")
    assert out.quantity_mg == Decimal("-100")
    assert out.counterparty.startswith("North") and out.counterparty_dea_number == NORTH_DEA
    # North: a receipt from Main, of one new container of the same lot.
    assert receipt.location == north
    assert (receipt.supplier_name, receipt.supplier_dea_number) == (main.name, MAIN_DEA)
    (arrived,) = receipt.containers.all()
    assert (arrived.location, arrived.lot, arrived.balance_mg) == (north, vial.lot, Decimal("100"))
    # Each registrant's balance: Main 200 → 100, North 100 → 200.
    assert _on_hand_mg(prescriber, main) == Decimal("100")
    assert _on_hand_mg(prescriber, north) == Decimal("200")
    # Each ledger shows its own side.
    main_kinds = [
        r.entry.kind
        for r in selectors.ledger_page(actor=prescriber, period=Period(), location=main).rows
    ]
    north_kinds = [
        r.entry.kind
        for r in selectors.ledger_page(actor=prescriber, period=Period(), location=north).rows
    ]
    assert main_kinds.count("transfer_out") == 1 and "transfer_out" not in north_kinds
    assert north_kinds.count("receipt") == 2 and main_kinds.count("receipt") == 2
    # The transfer is final: it is sent back by another transfer, not reversed.
    with pytest.raises(Conflict) as reversal:
        services.entry_reverse(actor=prescriber, entry=out, reason="Oops")
    assert reversal.value.code == "transfer_received"


def test_only_a_sealed_container_is_transferred(stock, north, prescriber, patient):
    opened = stock["main"][0]
    services.administration_record(
        actor=prescriber, container=opened, patient=patient, drawn_mg="10", given_mg="10"
    )
    with pytest.raises(Conflict) as refused:
        services.container_transfer(
            actor=prescriber, container=opened, to_location=north, reason="Short"
        )
    assert refused.value.code == "container_opened"


def test_a_transfer_needs_both_registration_numbers(stock, main, prescriber, settings):
    settings.CLINIC_POLICY = {"controlled_substances": {"registrant_dea_number": ""}}
    south = Location.objects.create(name="South", code="SOUTH", time_zone=settings.TIME_ZONE)
    LocationStaff.objects.get_or_create(location=south, user=prescriber)
    with pytest.raises(Conflict) as refused:
        services.container_transfer(
            actor=prescriber, container=stock["main"][1], to_location=south, reason="Short"
        )
    assert refused.value.code == "no_dea_registration"
    assert Container.objects.get(pk=stock["main"][1].pk).status == "in_stock"


# --------------------------------------------------------------------------- exports


def _csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8"))))


def test_each_locations_export_holds_its_own_records_under_its_registration(
    stock, north, prescriber
):
    built = exports.export_build(
        actor=prescriber, report_key="receipts", fmt="csv", period=Period(), location=north
    )
    rows = _csv(built.content)
    assert rows[0][-2:] == ["Location", "Location DEA no."]
    assert [row[5] for row in rows[1:]] == ["N200"]  # the lot: North's receipt only
    assert rows[1][-2:] == ["North (NORTH)", NORTH_DEA]
    assert "NORTH" in built.filename and built.filename.startswith("receipts-")


def test_the_pdf_header_names_the_location_its_address_and_dea_number(stock, north, prescriber):
    lines = exports.registrant_lines(north)
    assert lines[0].endswith("location: North (NORTH), 9 Birch Road, Albany, NY 12207")
    assert lines[1] == f"Registrant DEA number: {NORTH_DEA}"
    built = exports.export_build(
        actor=prescriber, report_key="receipts", fmt="pdf", period=Period(), location=north
    )
    assert built.content.startswith(b"%PDF-")


def test_only_the_default_location_falls_back_to_the_policys_dea_number(main, north, settings):
    settings.CLINIC_POLICY = {"controlled_substances": {"registrant_dea_number": "AB1234563"}}
    main.dea_registration_number = ""
    north.dea_registration_number = ""
    assert selectors.registrant_dea_number(main) == "AB1234563"
    assert selectors.registrant_dea_number(north) == ""
    assert exports.registrant_lines(north)[1].startswith("Registrant DEA number: not set")
    north.dea_registration_number = NORTH_DEA
    assert selectors.registrant_dea_number(north) == NORTH_DEA


def test_the_administration_log_of_a_location_has_only_its_doses(
    stock, main, north, prescriber, patient
):
    for container, location in ((stock["main"][0], main), (stock["north"][0], north)):
        services.administration_record(
            actor=prescriber,
            container=container,
            patient=patient,
            drawn_mg="10",
            given_mg="10",
            location=location,
        )
    report = exports.administration_report(actor=prescriber, period=Period(), location=north)
    assert [row[4] for row in report.rows] == [stock["north"][0].label]
    assert report.registrant == ("North (NORTH)", NORTH_DEA)


# --------------------------------------------------------------------------- pages


def _url(name, location=None, *args):
    url = reverse(f"controlled_substances:{name}", args=args)
    return f"{url}?location={location.uuid}" if location is not None else url


LIST_PAGES = ["inventory", "ledger", "count_list", "loss_reports"]


@pytest.mark.parametrize("page", LIST_PAGES)
def test_a_nurse_sees_her_locations_ledger_and_is_refused_anothers(
    client, stock, main, north, nurse, north_nurse, page
):
    client.force_login(nurse)
    assert client.get(_url(page)).status_code == 200
    assert client.get(_url(page, main)).status_code == 200
    assert client.get(_url(page, north)).status_code == 403
    denied = AuditEvent.objects.filter(action="denied", actor=nurse)
    assert denied.count() == 1
    client.force_login(north_nurse)
    assert client.get(_url(page, north)).status_code == 200
    assert client.get(_url(page, main)).status_code == 403


def test_a_location_query_that_is_no_location_is_refused(client, stock, nurse):
    client.force_login(nurse)
    assert client.get(reverse("controlled_substances:ledger") + "?location=nope").status_code == 403


def test_the_list_pages_show_only_the_locations_own_records(client, stock, main, north, nurse):
    client.force_login(nurse)
    page = client.get(_url("inventory")).content.decode()
    assert stock["main"][0].label in page and stock["north"][0].label not in page
    ledger = client.get(_url("ledger")).content.decode()
    assert stock["main"][0].label in ledger and stock["north"][0].label not in ledger
    # She works at one location: no switcher, no other location offered.
    assert "Show location" not in ledger and "North" not in ledger


def test_anothers_records_read_as_not_found(client, stock, north, nurse, prescriber):
    north_vial = stock["north"][0]
    count = services.count_record(
        actor=prescriber, kind="daily", lines={north_vial: "99"}, location=north
    )
    report = services.loss_report_create(
        actor=prescriber,
        kind="theft",
        discovered_at=timezone.now() - datetime.timedelta(hours=1),
        description="Missing",
        location=north,
    )
    discrepancy = count.lines.get().discrepancy
    client.force_login(nurse)
    assert client.get(_url("container_detail", None, north_vial.uuid)).status_code == 404
    assert client.get(_url("count_detail", None, count.uuid)).status_code == 404
    administer = client.post(
        _url("container_administer", None, north_vial.uuid),
        {"give-patient_mrn": "x", "give-drawn_mg": "1", "give-given_mg": "1"},
    )
    assert administer.status_code == 404
    entry = LedgerEntry.objects.filter(container=north_vial).first()
    assert (
        client.post(_url("entry_reverse", None, entry.uuid), {"reverse-reason": "x"}).status_code
        == 404
    )
    assert client.post(
        reverse("controlled_substances:loss_report_notified", args=[report.uuid]),
        {"done-done_on": timezone.localdate().isoformat(), "done-done_time": "09:00"},
    ).status_code in (403, 404)  # a nurse may not record it at all (ledger.report_loss)
    client.force_login(prescriber)  # works at both: reaches North's records
    assert client.get(_url("container_detail", None, north_vial.uuid)).status_code == 200
    assert client.get(_url("count_detail", None, count.uuid)).status_code == 200
    assert discrepancy is not None


def test_a_count_posted_for_another_location_is_refused(client, stock, north, nurse):
    client.force_login(nurse)
    response = client.post(
        _url("count_list", north), {"kind": "daily", f"container_{stock['north'][0].uuid}": "100"}
    )
    assert response.status_code == 403
    assert not InventoryCount.objects.exists()


def test_exports_of_another_location_are_refused(client, stock, main, north, main_only):
    client.force_login(main_only)
    url = reverse("controlled_substances:export", args=["receipts", "csv"])
    assert client.get(f"{url}?location={main.uuid}").status_code == 200
    assert client.get(f"{url}?location={north.uuid}").status_code == 403
    assert client.get(_url("export_list", north)).status_code == 403
    response = client.get(f"{url}?location={main.uuid}")
    assert 'filename="receipts-MAIN-' in response["Content-Disposition"]


def test_the_clinic_admin_picks_any_location_and_sees_the_network(
    client, stock, main, north, clinic_admin
):
    client.force_login(clinic_admin)
    page = client.get(_url("inventory", north))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Stock on hand across the network" in text
    assert stock["north"][0].label in text  # North's containers listed
    summary = selectors.network_summary(actor=clinic_admin)
    totals = {(row.location.code, row.on_hand_mg) for row in summary}
    assert totals == {(main.code, Decimal("200.000")), ("NORTH", Decimal("100.000"))}
    for page_name in LIST_PAGES:
        assert client.get(_url(page_name, main)).status_code == 200
        assert client.get(_url(page_name, north)).status_code == 200


def test_only_the_clinic_admin_sees_the_network_summary(stock, prescriber):
    with pytest.raises(PermissionDenied):
        selectors.network_summary(actor=prescriber)


def test_a_staff_member_of_no_location_sees_no_ledger(client, stock, make_staff):
    nowhere = make_staff("nurse", username="nowhere")
    LocationStaff.objects.filter(user=nowhere).delete()  # e.g. taken off their last location
    client.force_login(nowhere)
    assert client.get(_url("ledger")).status_code == 403


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("who", ["prescriber", "clinic_admin"])
def test_the_ledger_pages_cost_the_same_queries_however_many_locations(
    client, stock, main, prescriber, clinic_admin, vial_product, who
):
    actor = {"prescriber": prescriber, "clinic_admin": clinic_admin}[who]
    client.force_login(actor)
    urls = [_url(page, main) for page in [*LIST_PAGES, "export_list"]]
    urls.append(_url("container_detail", None, stock["main"][0].uuid))
    few = [_queries(client, url) for url in urls]
    for number in range(4):
        place = Location.objects.create(
            name=f"Branch {number}",
            code=f"BR{number}",
            time_zone=settings.TIME_ZONE,
            dea_registration_number=f"BB000000{number}",
        )
        LocationStaff.objects.get_or_create(location=place, user=prescriber)
        receive(
            prescriber,
            vial_product,
            containers=2,
            lot_number=f"B{number}",
            invoice=f"B-{number}",
            location=place,
        )
    many = [_queries(client, url) for url in urls]
    assert many == few


# --------------------------------------------------------------------------- verify_integrity


def _verify() -> tuple[bool, str]:
    from django.core.management import CommandError, call_command

    out = io.StringIO()
    try:
        call_command("verify_integrity", stdout=out)
    except CommandError as error:
        return False, out.getvalue() + str(error)
    return True, out.getvalue()


def test_the_ledger_verifies_with_several_locations_and_a_transfer(
    stock, north, prescriber, patient
):
    services.administration_record(
        actor=prescriber, container=stock["north"][0], patient=patient, drawn_mg="5", given_mg="5"
    )
    services.container_transfer(
        actor=prescriber, container=stock["main"][1], to_location=north, reason="Short"
    )
    ok, out = _verify()
    assert ok, out
    assert "OK  ledger balances" in out and "OK  ledger locations" in out


def test_a_container_moved_to_another_location_outside_a_transfer_is_named(stock, north):
    vial = stock["main"][0]
    Container.objects.filter(pk=vial.pk).update(location=north)
    ok, out = _verify()
    assert not ok
    assert f"controlled_substances_container location row id {vial.pk}" in out


# --------------------------------------------------------------------------- API


STOCK_API = "/api/v1/ledger/stock"
ENTRIES_API = "/api/v1/ledger/entries"


@pytest.mark.parametrize("endpoint", [STOCK_API, ENTRIES_API])
def test_the_ledger_api_is_per_location_with_the_permission_matrix(
    client, stock, main, north, nurse, north_nurse, therapist, clinic_admin, endpoint
):
    assert client.get(endpoint).status_code == 401  # anonymous
    client.force_login(therapist)  # no ledger.view
    assert client.get(endpoint).status_code == 403
    client.force_login(nurse)  # works at Main only
    mine = client.get(endpoint)
    assert mine.status_code == 200
    assert mine.json()["location"]["code"] == main.code
    assert client.get(endpoint, {"location": str(main.uuid)}).status_code == 200
    refused = client.get(endpoint, {"location": str(north.uuid)})
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert AuditEvent.objects.filter(action="denied", actor=nurse).exists()
    client.force_login(north_nurse)
    theirs = client.get(endpoint, {"location": str(north.uuid)})
    assert theirs.status_code == 200
    assert theirs.json()["location"] == {
        "uuid": str(north.uuid),
        "name": "North",
        "code": "NORTH",
        "dea_registration_number": NORTH_DEA,
    }
    client.force_login(clinic_admin)
    for place in (main, north):
        assert client.get(endpoint, {"location": str(place.uuid)}).status_code == 200


def test_the_stock_api_lists_only_the_locations_containers(client, stock, north, prescriber):
    client.force_login(prescriber)
    body = client.get(STOCK_API, {"location": str(north.uuid)}).json()
    assert [c["label"] for c in body["containers"]] == [stock["north"][0].label]
    assert [c["balance_mg"] for c in body["containers"]] == ["100.000"]


def test_the_entries_api_lists_only_the_locations_entries(client, stock, main, north, prescriber):
    client.force_login(prescriber)
    body = client.get(ENTRIES_API, {"location": str(north.uuid)}).json()
    assert [(e["kind"], e["container"]) for e in body["items"]] == [
        ("receipt", stock["north"][0].label)
    ]
    assert body["next_cursor"] is None  # cursor-paged (issue 16): no count any more
    body = client.get(ENTRIES_API, {"location": str(main.uuid)}).json()
    assert len(body["items"]) == 2 and body["next_cursor"] is None


def test_a_registrant_at_both_locations_transfers_from_the_container_page(
    client, stock, main, north, prescriber, nurse, main_only
):
    vial = stock["main"][1]
    url = reverse("controlled_substances:container_transfer", args=[vial.uuid])
    data = {"transfer-to_location": str(north.uuid), "transfer-reason": "North is short"}
    page = reverse("controlled_substances:container_detail", args=[vial.uuid])
    # A nurse may not transfer (ledger.receive); a prescriber of Main only has nowhere to send it.
    client.force_login(nurse)
    assert client.post(url, data).status_code == 403
    client.force_login(main_only)
    assert "Transfer to another location" not in client.get(page).content.decode()
    assert client.post(url, data).status_code == 200  # the form again: North is no choice
    assert Container.objects.get(pk=vial.pk).status == "in_stock"
    client.force_login(prescriber)
    assert "Transfer to another location" in client.get(page).content.decode()
    response = client.post(url, data)
    assert response.status_code == 302
    assert response["Location"].endswith(f"?location={main.uuid}")
    assert Container.objects.get(pk=vial.pk).status == "transferred"
    assert _on_hand_mg(prescriber, north) == Decimal("200")
