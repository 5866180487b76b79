"""Controlled-substance pages: the permission matrix (anonymous, patient principal, each role on
and off the care team), denied posts that write nothing, reads that are audited, witnesses who
confirm with their own password, patients shown by MRN only, and flat query counts.

Expected values come from clinic/accounts/permissions.py and docs/permissions.md: ledger.view
(clinic admin, prescriber, nurse), ledger.record (prescriber, nurse), ledger.receive,
ledger.reconcile, ledger.report_loss and ledger.export (clinic admin, prescriber), ledger.count
(clinic admin, prescriber, nurse). Recording an administration for a patient off one's care team
finds no such MRN (the form is shown again, nothing is written); reversing an entry for a patient
off one's care team is a 404, like an entry that does not exist.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.controlled_substances import services
from clinic.controlled_substances.models import (
    Container,
    Discrepancy,
    InventoryCount,
    InventoryCountLine,
    LedgerEntry,
    LossReport,
    Lot,
    Product,
    Receipt,
)
from clinic.controlled_substances.tests.conftest import EXPIRY, receive
from clinic.core.models import AuditEvent
from conftest import TEST_PASSWORD
from tests.helpers import ACTOR_ORDER
from tests.helpers import client_as as _client
from tests.helpers import status_word as _status_word

pytestmark = pytest.mark.django_db

VIEW = ["login", 403, 200, 200, 200, 403, 403, 403, 200, 200, 403]
REGISTRANT_GET = ["login", 403, 200, 200, 403, 403, 403, 403, 200, 403, 403]
REGISTRANT_POST = ["login", 403, 302, 302, 403, 403, 403, 403, 302, 403, 403]
# fmt: off
PAGE_MATRIX = {
    #                   anon   portal admin presc nurse ther desk bill off-team ×3
    "inventory_get":    VIEW,
    "inventory_post":   REGISTRANT_POST,
    "receive_get":      REGISTRANT_GET,
    "receive_post":     REGISTRANT_POST,
    "ledger_get":       VIEW,
    "container_get":    VIEW,
    "administer_post":  ["login", 403, 403, 302, 302, 403, 403, 403, 200, 200, 403],
    "waste_post":       ["login", 403, 403, 302, 302, 403, 403, 403, 302, 302, 403],
    "return_post":      REGISTRANT_POST,
    "reverse_post":     ["login", 403, 403, 302, 302, 403, 403, 403, 404, 404, 403],
    "counts_get":       VIEW,
    "counts_post":      ["login", 403, 302, 302, 302, 403, 403, 403, 302, 302, 403],
    "count_get":        VIEW,
    "resolve_post":     REGISTRANT_POST,
    "losses_get":       VIEW,
    "losses_post":      REGISTRANT_POST,
    "notified_post":    REGISTRANT_POST,
    "form106_post":     REGISTRANT_POST,
    "exports_get":      REGISTRANT_GET,
    "export_csv_get":   REGISTRANT_GET,
    "export_pdf_get":   REGISTRANT_GET,
}
# fmt: on
WRITES = {page for page in PAGE_MATRIX if page.endswith("_post")}


@pytest.fixture
def witness(make_staff):
    return make_staff("nurse", username="witness_nurse", first_name="Wanda", last_name="Witt")


@pytest.fixture
def scene(nurse, prescriber, patient, vials, vial_product):
    """Two vials; 40 mg drawn and 35 mg given from the first; a count that found the second
    1 mg short; one theft not yet notified and one notified."""
    administration = services.administration_record(
        actor=nurse, container=vials[0], patient=patient, drawn_mg="40", given_mg="35"
    )
    count = services.count_record(actor=nurse, kind="daily", lines={vials[0]: "60", vials[1]: "99"})
    discovered = timezone.now() - datetime.timedelta(days=1)
    report = services.loss_report_create(
        actor=prescriber, kind="theft", discovered_at=discovered, description="Vial missing"
    )
    notified = services.loss_report_create(
        actor=prescriber, kind="significant_loss", discovered_at=discovered, description="Short"
    )
    services.loss_report_mark_notified(actor=prescriber, report=notified)
    return {
        "vials": vials,
        "product": vial_product,
        "administration": administration,
        "count": count,
        "discrepancy": Discrepancy.objects.get(),
        "report": report,
        "notified": notified,
    }


def _pages(scene, patient, witness):
    vial = scene["vials"][0]
    container = reverse("controlled_substances:container_detail", args=[vial.uuid])
    counted = {f"container_{c.uuid}": str(c.balance_mg) for c in Container.objects.all()}
    return {
        "inventory_get": ("get", reverse("controlled_substances:inventory"), None),
        "inventory_post": (
            "post",
            reverse("controlled_substances:inventory"),
            {
                "product-name": "Spravato device",
                "product-kind": "esketamine_device",
                "product-mg_per_device": "28",
            },
        ),
        "receive_get": ("get", reverse("controlled_substances:receipt_create"), None),
        "receive_post": (
            "post",
            reverse("controlled_substances:receipt_create"),
            {
                "product": str(scene["product"].uuid),
                "lot_number": "L200",
                "expiry": EXPIRY.isoformat(),
                "containers": "2",
                "supplier": "Acme",
                "supplier_address": "1 Way, Newark, NJ",
                "supplier_dea_number": "RA1234567",
                "invoice": "INV-9",
                "received_on": timezone.localdate().isoformat(),
            },
        ),
        "ledger_get": ("get", reverse("controlled_substances:ledger"), None),
        "container_get": ("get", container, None),
        "administer_post": (
            "post",
            container + "administer/",
            {"give-patient_mrn": patient.mrn, "give-drawn_mg": "10", "give-given_mg": "10"},
        ),
        "waste_post": (
            "post",
            container + "waste/",
            {
                "waste-quantity_mg": "2",
                "waste-reason": "Drawn but not needed",
                "waste-witness": str(witness.uuid),
                "waste-witness_password": TEST_PASSWORD,
            },
        ),
        "return_post": (
            "post",
            container + "return/",
            {
                "return-recipient": "Returns Co.",
                "return-recipient_dea_number": "RB7654321",
                "return-reason": "Recall",
            },
        ),
        "reverse_post": (
            "post",
            reverse("controlled_substances:entry_reverse", args=[scene["administration"].uuid]),
            {"reverse-reason": "Recorded on the wrong vial"},
        ),
        "counts_get": ("get", reverse("controlled_substances:count_list"), None),
        "counts_post": (
            "post",
            reverse("controlled_substances:count_list"),
            {"kind": "daily", **counted},
        ),
        "count_get": (
            "get",
            reverse("controlled_substances:count_detail", args=[scene["count"].uuid]),
            None,
        ),
        "resolve_post": (
            "post",
            reverse("controlled_substances:discrepancy_resolve", args=[scene["discrepancy"].uuid]),
            {"resolve-reason": "Miscounted"},
        ),
        "losses_get": ("get", reverse("controlled_substances:loss_reports"), None),
        "losses_post": (
            "post",
            reverse("controlled_substances:loss_reports"),
            {
                "loss-kind": "theft",
                "loss-discovered_on": timezone.localdate().isoformat(),
                "loss-discovered_time": "00:00",
                "loss-description": "Device missing",
            },
        ),
        "notified_post": (
            "post",
            reverse("controlled_substances:loss_report_notified", args=[scene["report"].uuid]),
            {},
        ),
        "form106_post": (
            "post",
            reverse("controlled_substances:loss_report_form106", args=[scene["notified"].uuid]),
            {"done-reference": "F106-77"},
        ),
        "exports_get": ("get", reverse("controlled_substances:export_list"), None),
        "export_csv_get": (
            "get",
            reverse("controlled_substances:export", args=["administrations", "csv"]),
            None,
        ),
        "export_pdf_get": (
            "get",
            reverse("controlled_substances:export", args=["receipts", "pdf"]),
            None,
        ),
    }


def _request(client, page, scene, patient, witness):
    method, url, data = _pages(scene, patient, witness)[page]
    return getattr(client, method)(url, data or {})


def _state():
    """Every row a controlled-substance page may write (the audit trail aside)."""
    models = (
        Product,
        Lot,
        Receipt,
        Container,
        LedgerEntry,
        InventoryCount,
        InventoryCountLine,
        Discrepancy,
        LossReport,
    )
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in models}


MATRIX_CASES = [
    pytest.param(page, who, expected, id=f"{page}-{who}")
    for page, row in PAGE_MATRIX.items()
    for who, expected in zip(ACTOR_ORDER, row, strict=True)
]


@pytest.mark.parametrize(("page", "who", "expected"), MATRIX_CASES)
def test_page_permission_matrix(client, actors, scene, patient, witness, page, who, expected):
    got = _request(_client(client, actors[who]), page, scene, patient, witness)
    assert _status_word(got) == expected


@pytest.mark.parametrize(
    ("page", "who"),
    [
        pytest.param(page, who, id=f"{page}-{who}")
        for page in sorted(WRITES)
        for who, expected in zip(ACTOR_ORDER, PAGE_MATRIX[page], strict=True)
        if expected != 302
    ],
)
def test_a_refused_post_writes_nothing(client, actors, scene, patient, witness, page, who):
    before = _state()
    got = _request(_client(client, actors[who]), page, scene, patient, witness)
    assert _status_word(got) != 302
    assert _state() == before


@pytest.mark.parametrize(
    ("page", "who"),
    [
        pytest.param(page, who, id=f"{page}-{who}")
        for page in sorted(WRITES)
        for who, expected in zip(ACTOR_ORDER, PAGE_MATRIX[page], strict=True)
        if expected == 302
    ],
)
def test_an_allowed_post_writes_and_is_audited(client, actors, scene, patient, witness, page, who):
    before, events = _state(), AuditEvent.objects.count()
    got = _request(_client(client, actors[who]), page, scene, patient, witness)
    assert _status_word(got) == 302
    assert _state() != before
    assert AuditEvent.objects.filter(actor=actors[who]).count() >= 1
    assert AuditEvent.objects.count() > events


@pytest.mark.parametrize(
    "page", [p for p in PAGE_MATRIX if p.endswith("_get") and not p.startswith("export_")]
)
def test_every_read_is_audited(client, prescriber, scene, patient, witness, page):
    client.force_login(prescriber)
    before = AuditEvent.objects.filter(actor=prescriber, action="view").count()
    assert _request(client, page, scene, patient, witness).status_code == 200
    if page not in ("receive_get", "exports_get"):  # forms only: no record is read
        assert AuditEvent.objects.filter(actor=prescriber, action="view").count() > before


# --------------------------------------------------------------------------- the pages at work


def test_a_waste_is_refused_without_the_witness_password(client, nurse, scene, witness):
    client.force_login(nurse)
    vial = scene["vials"][0]
    url = reverse("controlled_substances:container_waste", args=[vial.uuid])
    data = {
        "waste-quantity_mg": "2",
        "waste-reason": "Not needed",
        "waste-witness": str(witness.uuid),
        "waste-witness_password": "not-the-password",
    }
    before = _state()
    response = client.post(url, data)
    assert response.status_code == 200
    assert "The witness&#x27;s password is not right." in response.content.decode()
    assert _state() == before
    data.pop("waste-witness")
    response = client.post(url, data)
    assert "This field is required." in response.content.decode()
    assert _state() == before


def test_the_actor_is_not_offered_as_their_own_witness(client, nurse, scene):
    client.force_login(nurse)
    vial = scene["vials"][0]
    response = client.get(reverse("controlled_substances:container_detail", args=[vial.uuid]))
    waste_form = response.context["waste_form"]
    assert nurse not in waste_form.fields["witness"].queryset
    assert set(waste_form.fields["witness"].queryset.values_list("role", flat=True)) <= {
        "prescriber",
        "nurse",
    }


def test_the_residual_of_a_draw_is_wasted_from_the_page(client, nurse, scene, witness):
    client.force_login(nurse)
    vial = scene["vials"][0]
    administration = scene["administration"]
    response = client.post(
        reverse("controlled_substances:container_waste", args=[vial.uuid]),
        {
            "waste-administration": str(administration.uuid),
            "waste-quantity_mg": "5",
            "waste-reason": "Residual in the syringe",
            "waste-witness": str(witness.uuid),
            "waste-witness_password": TEST_PASSWORD,
        },
    )
    assert response.status_code == 302
    waste = LedgerEntry.objects.get(kind="waste")
    assert (waste.administration, waste.quantity_mg, waste.witness) == (
        administration,
        Decimal("0.000"),
        witness,
    )
    assert Container.objects.get(pk=vial.pk).balance_mg == Decimal("60.000")


def test_pages_show_the_patient_by_mrn_never_by_name(client, prescriber, scene, patient):
    client.force_login(prescriber)
    vial = scene["vials"][0]
    for url in (
        reverse("controlled_substances:ledger"),
        reverse("controlled_substances:container_detail", args=[vial.uuid]),
    ):
        html = client.get(url).content.decode()
        assert f"MRN {patient.mrn}" in html
        assert patient.legal_family_name not in html
        assert patient.legal_given_name not in html


def test_the_ledger_filters_by_date_and_product(client, prescriber, scene, device_product):
    receive(prescriber, device_product, lot_number="ESK1", containers=1)
    client.force_login(prescriber)
    url = reverse("controlled_substances:ledger")
    rows = client.get(url, {"product": str(device_product.uuid)}).context["ledger"].rows
    assert [row.entry.kind for row in rows] == ["receipt"]
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    assert client.get(url, {"date_from": tomorrow}).context["ledger"].rows == []
    today = timezone.localdate().isoformat()
    rows = client.get(url, {"date_from": today, "date_to": today, "kind": "administration"})
    assert [row.entry for row in rows.context["ledger"].rows] == [scene["administration"]]


def test_the_count_page_opens_discrepancies(client, nurse, scene):
    client.force_login(nurse)
    data = {"kind": "daily"}
    for container in Container.objects.all():
        data[f"container_{container.uuid}"] = str(container.balance_mg - 1)
    response = client.post(reverse("controlled_substances:count_list"), data)
    count = InventoryCount.objects.order_by("-pk").first()
    assert response.headers["Location"] == reverse(
        "controlled_substances:count_detail", args=[count.uuid]
    )
    assert Discrepancy.objects.filter(line__count=count, status="open").count() == 2


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_the_ledger_pages_cost_the_same_queries_however_long(
    client, nurse, prescriber, patient, scene, witness
):
    client.force_login(prescriber)
    vial = scene["vials"][0]
    urls = [
        reverse("controlled_substances:ledger"),
        reverse("controlled_substances:container_detail", args=[vial.uuid]),
        reverse("controlled_substances:inventory"),
    ]
    few = [_queries(client, url) for url in urls]
    for _ in range(4):
        given = services.administration_record(
            actor=nurse, container=vial, patient=patient, drawn_mg="5", given_mg="4"
        )
        services.waste_record(
            actor=nurse,
            container=vial,
            quantity_mg="1",
            witness=witness,
            reason="Residual",
            administration=given,
        )
        services.entry_reverse(actor=nurse, entry=given.residual_wastes.get(), reason="Wrong")
    receive(prescriber, scene["product"], lot_number="L300", containers=3)
    many = [_queries(client, url) for url in urls]
    assert many == few


def test_reversal_is_offered_only_for_the_entries_one_may_reverse(client, actors, scene):
    vial = scene["vials"][0]
    url = reverse("controlled_substances:container_detail", args=[vial.uuid])
    receipt = vial.entries.get(kind="receipt")
    administration = scene["administration"]
    offered = {
        who: {
            entry: reverse("controlled_substances:entry_reverse", args=[entry.uuid])
            in _client(client, actors[who]).get(url).content.decode()
            for entry in (receipt, administration)
        }
        for who in ("nurse", "prescriber", "clinic_admin")
    }
    assert offered == {
        "nurse": {receipt: False, administration: True},
        "prescriber": {receipt: True, administration: True},
        "clinic_admin": {receipt: True, administration: False},
    }
