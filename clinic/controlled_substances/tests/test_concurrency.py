"""Two nurses drawing from one vial at the same moment, through the service, on PostgreSQL
(SQLite serialises all writers, so it cannot race): the vial's row lock queues them, the second
sees the first's draw, and the balance is exact. PostgreSQL only."""

from __future__ import annotations

from decimal import Decimal

import pytest

from clinic.controlled_substances import services
from clinic.controlled_substances.models import Container, LedgerEntry
from clinic.core.exceptions import Conflict
from clinic.patients.services import care_team_set
from tests.concurrency import in_threads

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def nurses(make_staff, front_desk, prescriber, nurse, patient):
    """Five nurses, all on `patient`'s care team."""
    others = [make_staff("nurse", username=f"nurse_{i}") for i in range(4)]
    team = [nurse, *others]
    care_team_set(actor=front_desk, patient=patient, primary_prescriber=prescriber, nurses=team)
    return team


def _draw(nurses, vial, patient, drawn):
    def work(i):
        return services.administration_record(
            actor=nurses[i], container=vial, patient=patient, drawn_mg=drawn, given_mg=drawn
        )

    return work


def test_two_draws_the_balance_allows_both_succeed_exactly(nurses, vial, patient):
    results = in_threads(2, _draw(nurses, vial, patient, "40"))

    assert all(isinstance(r, LedgerEntry) for r in results), results
    assert Container.objects.get(pk=vial.pk).balance_mg == Decimal("20.000")
    assert sorted(r.balance_after_mg for r in results) == [Decimal("20.000"), Decimal("60.000")]
    assert {r.actor for r in results} == {nurses[0], nurses[1]}


def test_with_a_balance_for_one_draw_exactly_one_succeeds(nurses, vial, patient):
    results = in_threads(2, _draw(nurses, vial, patient, "60"))

    given = [r for r in results if isinstance(r, LedgerEntry)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(given) == 1 and len(refused) == 1, results
    assert refused[0].code == "insufficient_balance"
    assert refused[0].message == "L100-001 holds 40 mg: 60 mg cannot come out of it."
    assert Container.objects.get(pk=vial.pk).balance_mg == Decimal("40.000")
    assert vial.entries.filter(kind="administration").count() == 1


def test_five_nurses_at_once_take_only_what_is_there(nurses, vial, patient):
    results = in_threads(5, _draw(nurses, vial, patient, "30"))

    given = [r for r in results if isinstance(r, LedgerEntry)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert (len(given), len(refused)) == (3, 2), results
    assert sorted(r.balance_after_mg for r in given) == [
        Decimal("10.000"),
        Decimal("40.000"),
        Decimal("70.000"),
    ]
    assert Container.objects.get(pk=vial.pk).balance_mg == Decimal("10.000")


def test_one_entry_reversed_twice_at_once_is_reversed_once(nurses, vial, patient):
    entry = services.administration_record(
        actor=nurses[0], container=vial, patient=patient, drawn_mg="25", given_mg="25"
    )

    def work(i):
        return services.entry_reverse(actor=nurses[i], entry=entry, reason="Duplicate entry")

    results = in_threads(2, work)

    reversed_ = [r for r in results if isinstance(r, LedgerEntry)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(reversed_) == 1 and len(refused) == 1, results
    assert refused[0].code == "already_reversed"
    assert Container.objects.get(pk=vial.pk).balance_mg == Decimal("100.000")
