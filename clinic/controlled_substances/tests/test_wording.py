"""The ledger says what an entry refers to, in words, never by an id (issue 11): the chair-side
session it was recorded in (by the patient's MRN and the day, ADR 0007: MRN only), the entry a
reversal undoes and the draw a residual waste comes from. A session links to its page only for
those who may open it (the care team with clinical access); and the CSV exports are safe to open
in a spreadsheet: no cell ever runs as a formula.
"""

from __future__ import annotations

import csv
import io
import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.controlled_substances import exports, services
from clinic.controlled_substances.selectors import Period
from clinic.controlled_substances.tests.conftest import receive
from clinic.core.spreadsheet import spreadsheet_safe
from tests.helpers import ACTOR_ORDER, client_as

pytestmark = pytest.mark.django_db

LEDGER = reverse("controlled_substances:ledger")


@pytest.fixture
def witness(make_staff):
    return make_staff("nurse", username="witness_nurse")


@pytest.fixture
def at_the_chair(nurse, patient, vials, witness):
    """40 mg drawn and 35 mg given at a chair-side session (its UUID as the session page
    records it), the 5 mg residual wasted there; and a draw with a reference typed by hand."""
    session = uuid.uuid4()
    given = services.administration_record(
        actor=nurse,
        container=vials[0],
        patient=patient,
        drawn_mg="40",
        given_mg="35",
        session_ref=str(session),
    )
    waste = services.waste_record(
        actor=nurse,
        container=vials[0],
        quantity_mg="5",
        witness=witness,
        reason="Residual in the syringe",
        administration=given,
        session_ref=str(session),
    )
    typed = services.administration_record(
        actor=nurse,
        container=vials[1],
        patient=patient,
        drawn_mg="10",
        given_mg="10",
        session_ref="Room 2 AM list",
    )
    return {"session": session, "given": given, "waste": waste, "typed": typed}


def _day(entry) -> str:
    return f"{timezone.localtime(entry.occurred_at):%m/%d/%Y}"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# Who sees the session as a link: clinical access and the patient on their care team.
LINK = {
    "clinic_admin": True,
    "prescriber": True,
    "nurse": True,
    "prescriber_off_team": False,
    "nurse_off_team": False,
}


@pytest.mark.parametrize(("who", "linked"), LINK.items())
def test_the_ledger_names_the_session_in_words_and_links_it_only_for_the_care_team(
    client, actors, patient, at_the_chair, who, linked
):
    html = client_as(client, actors[who]).get(LEDGER).content.decode()

    words = f"Chair-side session of MRN {patient.mrn} on {_day(at_the_chair['given'])}"
    assert _text(html).count(words) == 2  # the draw and its residual waste
    session_url = reverse("treatment_sessions:detail", args=[at_the_chair["session"]])
    assert (f'<a href="{session_url}">{words}</a>' in html) is linked
    # The id itself is never shown as text; it is only ever the link's address.
    assert html.count(str(at_the_chair["session"])) == (2 if linked else 0)


def test_roles_without_the_ledger_do_not_reach_it(client, actors, at_the_chair):
    statuses = {}
    for who in ACTOR_ORDER:
        response = client_as(client, actors[who]).get(LEDGER)
        statuses[who] = "login" if response.status_code == 302 else response.status_code
        client.logout()
    assert statuses == {
        "anonymous": "login",
        "patient_principal": 403,
        "clinic_admin": 200,
        "prescriber": 200,
        "nurse": 200,
        "therapist": 403,
        "front_desk": 403,
        "billing": 403,
        "prescriber_off_team": 200,
        "nurse_off_team": 200,
        "therapist_off_team": 403,
    }


def test_a_typed_reference_is_shown_as_typed(client, prescriber, at_the_chair):
    client.force_login(prescriber)

    text = _text(client.get(LEDGER).content.decode())

    assert "Session Room 2 AM list" in text


def test_a_residual_and_a_reversal_say_what_they_refer_to(
    client, nurse, prescriber, patient, at_the_chair, vials
):
    services.entry_reverse(actor=nurse, entry=at_the_chair["typed"], reason="Wrong vial")
    client.force_login(prescriber)

    text = _text(client.get(LEDGER).content.decode())

    given_at = f"{timezone.localtime(at_the_chair['given'].occurred_at):%m/%d/%Y %H:%M}"
    typed_at = f"{timezone.localtime(at_the_chair['typed'].occurred_at):%m/%d/%Y %H:%M}"
    assert (
        f"5.000 mg wasted. Residual of the 40.000 mg drawn at {given_at} (MRN {patient.mrn})"
        in text
    )
    assert (
        f"Reverses the administration of {typed_at} ({vials[1].label}, MRN {patient.mrn})" in text
    )


def test_the_container_page_says_the_same(client, nurse, patient, at_the_chair, vials):
    client.force_login(nurse)
    url = reverse("controlled_substances:container_detail", args=[vials[0].uuid])

    text = _text(client.get(url).content.decode())

    assert f"Chair-side session of MRN {patient.mrn} on {_day(at_the_chair['given'])}" in text


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_naming_sessions_costs_the_same_queries_however_many(
    client, nurse, patient, at_the_chair, vials
):
    client.force_login(nurse)
    few = _queries(client, LEDGER)
    for _ in range(5):
        services.administration_record(
            actor=nurse,
            container=vials[1],
            patient=patient,
            drawn_mg="1",
            given_mg="1",
            session_ref=str(uuid.uuid4()),
        )
    assert _queries(client, LEDGER) == few


def test_the_export_names_the_session_in_words(prescriber, patient, at_the_chair):
    rows = list(
        csv.reader(
            io.StringIO(
                exports.as_csv(
                    exports.administration_report(actor=prescriber, period=Period())
                ).decode()
            )
        )
    )

    session = rows[0].index("Session")
    day = f"{timezone.localtime(at_the_chair['given'].occurred_at):%Y-%m-%d}"
    assert [row[session] for row in rows[1:]] == [
        f"Chair-side session of MRN {patient.mrn} on {day}",
        f"Chair-side session of MRN {patient.mrn} on {day}",
        "Session Room 2 AM list",
    ]
    assert str(at_the_chair["session"]) not in str(rows)


# --------------------------------------------------------------------------- spreadsheets


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r'=1"),  # and the line after the carriage return
        ("\uff1d1+1", "'\uff1d1+1"),  # a full-width equals sign
        ("-40.000", "-40.000"),  # a withdrawal stays a number
        ("-7", "-7"),
        ("Acme Pharma", "Acme Pharma"),
        ("", ""),
        (None, ""),
    ],
)
def test_a_cell_that_would_start_a_formula_is_kept_as_text(value, cell):
    assert spreadsheet_safe(value) == cell


def test_text_typed_into_the_ledger_never_runs_in_a_spreadsheet(
    client, prescriber, nurse, patient, vial_product, witness
):
    receive(
        prescriber,
        vial_product,
        lot_number="=1+1",
        supplier='=HYPERLINK("http://evil.example","Invoice")',
        invoice="@INV",
        containers=1,
    )
    container = vial_product.lots.get().containers.get()
    services.waste_record(
        actor=nurse,
        container=container,
        quantity_mg="2",
        witness=witness,
        reason="+cmd|' /C calc'!A0",
    )
    client.force_login(prescriber)

    for report in ("receipts", "administrations"):
        response = client.get(reverse("controlled_substances:export", args=[report, "csv"]))
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
        cells = [cell for row in rows for cell in row]
        assert not [c for c in cells if c[:1] in ("=", "+", "@") or c.startswith("-c")], report
    receipts = client.get(reverse("controlled_substances:export", args=["receipts", "csv"]))
    row = list(csv.reader(io.StringIO(receipts.content.decode("utf-8"))))[1]
    assert "'=1+1" in row and '\'=HYPERLINK("http://evil.example","Invoice")' in row
    assert "'@INV" in row
