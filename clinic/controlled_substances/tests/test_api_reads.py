"""The ledger's read API (issue 16): who may read what, at which location; counts with their
lines and discrepancies; cursor paging that gives each entry once even as entries arrive; flat
query counts.

The scene (conftest): two sealed 100 mg vials of lot L100 received by the prescriber, so two
receipt entries. The nurse counts them as 100 mg and 90 mg: one discrepancy of -10 mg on the
second vial. The prescriber reports a theft discovered an hour ago.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinic.controlled_substances import services
from clinic.controlled_substances.tests.conftest import receive
from clinic.locations.models import Location, LocationStaff

pytestmark = pytest.mark.django_db

API = "/api/v1/ledger"


@pytest.fixture
def scene(vials, nurse, prescriber):
    count = services.count_record(
        actor=nurse, kind="daily", lines={vials[0]: "100", vials[1]: "90"}
    )
    report = services.loss_report_create(
        actor=prescriber,
        kind="theft",
        discovered_at=timezone.now() - datetime.timedelta(hours=1),
        description="A vial missing from the safe",
    )
    discrepancy = count.lines.get(container=vials[1]).discrepancy
    return {"count": count, "report": report, "discrepancy": discrepancy}


def _reads(scene) -> list[str]:
    return [
        f"{API}/stock",
        f"{API}/entries",
        f"{API}/counts",
        f"{API}/counts/{scene['count'].uuid}",
        f"{API}/discrepancies/{scene['discrepancy'].uuid}",
        f"{API}/losses",
        f"{API}/losses/{scene['report'].uuid}",
    ]


def test_the_permission_matrix_of_every_read(client, scene, actors):
    """ledger.view: the clinic administrator, prescribers and nurses; nobody else."""
    expected = {
        "anonymous": 401,
        "patient_principal": 401,  # not staff: the API does not know them
        "clinic_admin": 200,
        "prescriber": 200,
        "nurse": 200,
        "therapist": 403,
        "front_desk": 403,
        "billing": 403,
    }
    for name, status in expected.items():
        client.logout()
        if name != "anonymous":
            client.force_login(actors[name])
        for url in _reads(scene):
            response = client.get(url)
            assert response.status_code == status, (name, url, response.content)
            if status != 200:
                assert set(response.json()) >= {"detail", "code"}


@pytest.fixture
def north(nurse, prescriber):
    """A second location; the nurse works at Main only, the prescriber at both."""
    main = Location.objects.get(is_default=True)
    north = Location.objects.create(
        name="North", code="NORTH", time_zone=settings.TIME_ZONE, postal_code="12207"
    )
    LocationStaff.objects.filter(user__in=[nurse, prescriber]).delete()
    for location, user in ((main, nurse), (main, prescriber), (north, prescriber)):
        LocationStaff.objects.create(location=location, user=user)
    return north


def test_another_locations_records_are_out_of_reach(client, scene, north, nurse, prescriber):
    north_receipt = receive(
        prescriber,
        scene["count"].lines.first().container.lot.product,
        containers=1,
        lot_number="N200",
        invoice="N-1",
        location=north,
    )
    north_count = services.count_record(
        actor=prescriber,
        kind="daily",
        lines={c: "100" for c in north_receipt.containers.all()},
        location=north,
    )
    client.force_login(nurse)
    for url in (f"{API}/entries", f"{API}/counts", f"{API}/losses", f"{API}/stock"):
        refused = client.get(url, {"location": str(north.uuid)})
        assert refused.status_code == 403, url
        assert refused.json()["code"] == "permission_denied"
    assert client.get(f"{API}/counts/{north_count.uuid}").status_code == 404
    client.force_login(prescriber)
    theirs = client.get(f"{API}/counts", {"location": str(north.uuid)}).json()
    assert [c["uuid"] for c in theirs["items"]] == [str(north_count.uuid)]
    assert client.get(f"{API}/counts/{north_count.uuid}").status_code == 200


def test_a_count_reads_with_its_lines_and_discrepancies(client, scene, vials, nurse):
    client.force_login(nurse)
    listed = client.get(f"{API}/counts").json()
    assert [
        (c["kind"], c["containers"], c["discrepancies"], c["open_discrepancies"])
        for c in listed["items"]
    ] == [("daily", 2, 1, 1)]
    assert listed["next_cursor"] is None
    body = client.get(f"{API}/counts/{scene['count'].uuid}").json()
    assert body["counted_by"]["uuid"] == str(nurse.uuid)
    assert body["witness"] is None
    lines = {line["container"]["label"]: line for line in body["lines"]}
    first, second = lines[vials[0].label], lines[vials[1].label]
    assert (Decimal(first["expected_mg"]), Decimal(first["counted_mg"])) == (100, 100)
    assert first["discrepancy"] is None
    assert Decimal(second["difference_mg"]) == Decimal("-10")
    assert second["discrepancy"]["status"] == "open"
    assert second["discrepancy"]["uuid"] == str(scene["discrepancy"].uuid)
    one = client.get(f"{API}/discrepancies/{scene['discrepancy'].uuid}")
    assert one["ETag"] == second["discrepancy"]["etag"]


def test_a_loss_report_reads_with_its_deadlines_and_etag(client, scene, prescriber):
    client.force_login(prescriber)
    listed = client.get(f"{API}/losses").json()["items"]
    assert [(r["kind"], r["dea_notice"], r["form106"]) for r in listed] == [("theft", "due", "due")]
    one = client.get(f"{API}/losses/{scene['report'].uuid}")
    assert one.status_code == 200 and one["ETag"].startswith('"')
    assert one.json()["description"] == "A vial missing from the safe"


def _page(client, **params):
    response = client.get(f"{API}/entries", params)
    assert response.status_code == 200, response.content
    return response.json()


def test_paging_gives_each_entry_once_while_entries_arrive(client, vials, nurse, prescriber):
    client.force_login(nurse)
    first = _page(client, limit=1)
    assert len(first["items"]) == 1 and first["next_cursor"]
    # A waste recorded between two pages is newer than both receipts: it comes before the
    # first page and shifts nothing after it.
    services.waste_record(
        actor=nurse, container=vials[0], quantity_mg="5", witness=prescriber, reason="Dropped"
    )
    second = _page(client, limit=1, cursor=first["next_cursor"])
    assert second["next_cursor"] is None
    seen = [e["uuid"] for e in first["items"] + second["items"]]
    assert len(set(seen)) == 2
    assert {e["kind"] for e in first["items"] + second["items"]} == {"receipt"}
    # From the start again, the waste comes first.
    assert _page(client)["items"][0]["kind"] == "waste"


def test_filters_and_a_cursor_bound_to_them(client, vials, nurse, prescriber):
    services.waste_record(
        actor=nurse, container=vials[0], quantity_mg="5", witness=prescriber, reason="Dropped"
    )
    client.force_login(nurse)
    wastes = _page(client, kind="waste")["items"]
    assert [(w["kind"], Decimal(w["quantity_mg"]), w["witnessed"]) for w in wastes] == [
        ("waste", Decimal("-5"), True)
    ]
    cursor = _page(client, limit=1)["next_cursor"]
    other = client.get(f"{API}/entries", {"limit": 1, "cursor": cursor, "kind": "receipt"})
    assert other.status_code == 422
    gone = client.get(f"{API}/entries", {"page": 2})
    assert gone.status_code == 422 and gone.json()["detail"][0]["loc"] == ["body", "page"]
    missing = client.get(f"{API}/entries", {"product": "5d1d8a9c-0000-4000-8000-000000000009"})
    assert missing.status_code == 404


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_lists_read_in_flat_queries(client, vials, vial_product, nurse, prescriber):
    client.force_login(nurse)
    counts = {
        "entries": _queries(client, f"{API}/entries"),
        "counts": _queries(client, f"{API}/counts"),
        "losses": _queries(client, f"{API}/losses"),
    }
    more = receive(prescriber, vial_product, containers=6, lot_number="L300", invoice="I-3")
    for _ in range(3):
        services.count_record(
            actor=nurse, kind="daily", lines={c: "100" for c in [*vials, *more.containers.all()]}
        )
        services.loss_report_create(
            actor=prescriber,
            kind="significant_loss",
            discovered_at=timezone.now() - datetime.timedelta(hours=2),
            description="Broken vial",
        )
    assert counts == {
        "entries": _queries(client, f"{API}/entries"),
        "counts": _queries(client, f"{API}/counts"),
        "losses": _queries(client, f"{API}/losses"),
    }


def test_a_bearer_token_reads_the_same(client, scene, nurse):
    from clinic.accounts.services import api_token_create

    plain = api_token_create(actor=None, user=nurse, name="reads")[1]
    response = client.get(f"{API}/counts", HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert response.status_code == 200
