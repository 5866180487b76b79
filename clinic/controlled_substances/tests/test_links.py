"""No link on the controlled-substance pages ends in a refusal (issue 11), and each action is
offered only to the roles that may take it: a crawl of every link for every staff role, and
one test per link or form, a role that sees it and one that does not.

Expected values come from docs/permissions.md: ledger.view (clinic admin, prescriber, nurse),
ledger.record (prescriber, nurse), ledger.receive, ledger.reconcile, ledger.report_loss and
ledger.export (clinic admin, prescriber), ledger.export_named (clinic admin).
"""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.controlled_substances import services
from tests.helpers import ACTOR_ORDER, client_as
from tests.links import refused_links

pytestmark = pytest.mark.django_db

STAFF = [who for who in ACTOR_ORDER if who not in ("anonymous", "patient_principal")]


@pytest.fixture
def scene(nurse, prescriber, patient, vials):
    """A draw at a chair-side session, a count 1 mg short (an open discrepancy) and a theft not
    yet notified."""
    services.administration_record(
        actor=nurse,
        container=vials[0],
        patient=patient,
        drawn_mg="40",
        given_mg="35",
        session_ref=str(uuid.uuid4()),
    )
    services.count_record(actor=nurse, kind="daily", lines={vials[0]: "59", vials[1]: "100"})
    services.loss_report_create(
        actor=prescriber,
        kind="theft",
        discovered_at=timezone.now() - datetime.timedelta(hours=3),
        description="Vial missing",
    )
    return {"vial": vials[0]}


def _pages(scene) -> dict[str, str]:
    return {
        "inventory": reverse("controlled_substances:inventory"),
        "ledger": reverse("controlled_substances:ledger"),
        "container": reverse("controlled_substances:container_detail", args=[scene["vial"].uuid]),
        "counts": reverse("controlled_substances:count_list"),
        "losses": reverse("controlled_substances:loss_reports"),
        "exports": reverse("controlled_substances:export_list"),
    }


@pytest.mark.parametrize("who", STAFF)
def test_no_link_on_the_ledger_pages_ends_in_a_refusal(client, actors, scene, who):
    client = client_as(client, actors[who])
    refused = {}
    for url in _pages(scene).values():
        response = client.get(url)
        if response.status_code != 200:
            continue
        # The scene's session is an id only (no chair-side session behind it): who is offered
        # that link is test_wording's matrix, under the session page's own rule.
        found = refused_links(client, response.content.decode(), skip=("/sessions/",))
        if found:
            refused[url] = found
    assert refused == {}


# (page, the words that offer it, a role that sees it, a role that does not)
OFFERS = [
    ("inventory", "Receive stock", "prescriber", "nurse"),
    ("inventory", "Exports", "clinic_admin", "nurse"),
    ("inventory", "Add product", "clinic_admin", "nurse"),
    ("container", "Record administration", "nurse", "clinic_admin"),
    ("container", "Record waste", "prescriber", "clinic_admin"),
    ("container", "Return what is left", "prescriber", "nurse"),
    ("counts", ">Resolve</button>", "prescriber", "nurse"),
    ("counts", "Record the count", "nurse", "therapist"),
    ("losses", "Record the DEA notice", "clinic_admin", "nurse"),
    ("exports", "administrations-named", "clinic_admin", "prescriber"),
]


@pytest.mark.parametrize(("page", "words", "sees", "does_not"), OFFERS)
def test_each_action_is_offered_only_to_a_role_that_may_take_it(
    client, actors, scene, page, words, sees, does_not
):
    url = _pages(scene)[page]

    offered = client_as(client, actors[sees]).get(url)
    assert offered.status_code == 200 and words in offered.content.decode()

    hidden = client_as(client, actors[does_not]).get(url)
    # Either the page says nothing of it, or the role does not reach the page at all.
    assert hidden.status_code in (200, 403)
    assert words not in hidden.content.decode()
