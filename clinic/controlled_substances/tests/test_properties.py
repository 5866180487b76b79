"""Property: for any sequence of receipts, administrations, wastes, reversals and count
adjustments, a container's balance is receipts − drawn − waste ± adjustments (reversed entries
cancelled), equals the last entry's balance_after, is never below zero, and every entry's
balance_after is the previous one plus its quantity. Operations the balance cannot allow are
refused and change nothing.

The expected balance is computed here, from the operations, not read back from the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.controlled_substances import services
from clinic.controlled_substances.models import Container, Discrepancy
from clinic.controlled_substances.tests.conftest import receive
from clinic.core.exceptions import Conflict, InvalidInput

pytestmark = pytest.mark.django_db

CONTENT = Decimal("100.000")  # the conftest's vial: 10 mg/mL × 10 mL
amounts = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("60"), places=3)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("give"), amounts, st.integers(min_value=0, max_value=100)),
        st.tuples(st.just("waste"), amounts),
        st.tuples(st.just("waste_residual"), st.integers(min_value=0, max_value=30), amounts),
        st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=30)),
        st.tuples(
            st.just("adjust"),
            st.decimals(min_value=Decimal(0), max_value=CONTENT, places=3),
        ),
    ),
    max_size=14,
)


@dataclass
class Done:
    """One entry as this model sees it."""

    kind: str
    entry: object
    change: Decimal
    drawn: Decimal = Decimal(0)
    given: Decimal = Decimal(0)
    wasted: Decimal = Decimal(0)
    administration: Done | None = None
    reversed: bool = False


def _outstanding(admin: Done, done: list[Done]) -> Decimal:
    wasted = sum(
        (d.wasted for d in done if d.administration is admin and not d.reversed), Decimal(0)
    )
    return admin.drawn - admin.given - wasted


def _expected(done: list[Done]) -> Decimal:
    """receipts − drawn − waste from the container ± adjustments, reversed entries left out."""
    live = [d for d in done if not d.reversed]
    receipts = sum((d.change for d in live if d.kind == "receipt"), Decimal(0))
    drawn = sum((d.drawn for d in live if d.kind == "administration"), Decimal(0))
    waste = sum(
        (d.wasted for d in live if d.kind == "waste" and d.administration is None), Decimal(0)
    )
    adjustments = sum((d.change for d in live if d.kind == "adjustment"), Decimal(0))
    return receipts - drawn - waste + adjustments


def _apply(op, *, container, done, nurse, prescriber, patient) -> None:
    balance = _expected(done)
    name = op[0]
    if name == "give":
        drawn = op[1]
        given = max(Decimal("0.001"), (drawn * op[2] / 100).quantize(Decimal("0.001")))
        given = min(given, drawn)
        allowed = drawn <= balance
        call = lambda: services.administration_record(  # noqa: E731
            actor=nurse, container=container, patient=patient, drawn_mg=drawn, given_mg=given
        )
        record = Done("administration", None, -drawn, drawn=drawn, given=given)
    elif name == "waste":
        wasted = op[1]
        allowed = wasted <= balance
        call = lambda: services.waste_record(  # noqa: E731
            actor=nurse, container=container, quantity_mg=wasted, witness=prescriber, reason="r"
        )
        record = Done("waste", None, -wasted, wasted=wasted)
    elif name == "waste_residual":
        admins = [d for d in done if d.kind == "administration"]
        if not admins:
            return
        admin = admins[op[1] % len(admins)]
        wasted = op[2]
        allowed = not admin.reversed and wasted <= _outstanding(admin, done)
        call = lambda: services.waste_record(  # noqa: E731
            actor=nurse,
            container=container,
            quantity_mg=wasted,
            witness=prescriber,
            reason="residual",
            administration=admin.entry,
        )
        record = Done("waste", None, Decimal(0), wasted=wasted, administration=admin)
    elif name == "reverse":
        target = done[op[1] % len(done)]
        allowed = (
            not target.reversed
            and target.kind not in ("reversal", "adjustment")
            and not (
                target.kind == "administration"
                and any(d.administration is target and not d.reversed for d in done)
            )
            and 0 <= balance - target.change <= CONTENT
        )
        actor = prescriber if target.kind == "receipt" else nurse
        call = lambda: services.entry_reverse(actor=actor, entry=target.entry, reason="r")  # noqa: E731
        record = Done("reversal", None, -target.change)
    else:  # a daily count, and a discrepancy settled by an adjustment to the count
        counted = op[1]
        if Container.objects.get(pk=container.pk).status not in ("in_stock", "in_use"):
            return  # an empty or returned container is not on hand, so not counted
        services.count_record(actor=nurse, kind="daily", lines={container: counted})
        discrepancy = Discrepancy.objects.filter(status="open").first()
        if discrepancy is None:
            assert counted == balance
            return
        resolved = services.discrepancy_resolve(
            actor=prescriber, discrepancy=discrepancy, reason="count", adjust_balance=True
        )
        done.append(Done("adjustment", resolved.adjustment, counted - balance))
        return
    if allowed:
        record.entry = call()
        if name == "reverse":
            target.reversed = True
        done.append(record)
    else:
        with pytest.raises((Conflict, InvalidInput)):
            call()
    assert Container.objects.get(pk=container.pk).balance_mg == _expected(done)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_the_balance_is_the_sum_of_the_ledger(ops, nurse, prescriber, patient, vial_product):
    with transaction.atomic():
        container = receive(prescriber, vial_product, containers=1).containers.get()
        done = [Done("receipt", container.entries.get(), CONTENT)]
        for op in ops:
            _apply(
                op,
                container=container,
                done=done,
                nurse=nurse,
                prescriber=prescriber,
                patient=patient,
            )

        balance = Container.objects.get(pk=container.pk).balance_mg
        entries = list(container.entries.order_by("id"))
        assert balance == _expected(done) >= 0
        assert balance == entries[-1].balance_after_mg
        assert len(entries) == len(done)
        running = Decimal(0)
        for entry in entries:
            running += entry.quantity_mg
            assert entry.balance_after_mg == running >= 0
        transaction.set_rollback(True)
