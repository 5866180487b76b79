"""Every rule of the controlled-substance services (ADR 0007): receipts, administrations with
given ≤ drawn, witnessed waste (required, a different person, active and licensed), balances
that never go below zero, reversals that restore the balance and leave both rows, counts with
discrepancies resolved by a reason, and theft or loss deadlines in business days [J8], [J9].

Long because: the ledger's rules are one set of invariants (balances, witnesses, reversals,
counts) exercised on the same containers and fixtures; the race tests are apart, in
test_concurrency.py."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.controlled_substances import services
from clinic.controlled_substances.models import (
    Container,
    Discrepancy,
    InventoryCount,
    LedgerEntry,
    LossReport,
    Receipt,
)
from clinic.controlled_substances.tests.conftest import EXPIRY, receive
from clinic.core.exceptions import Conflict, InvalidInput, NotFound, PermissionDenied
from clinic.core.models import AuditEvent

pytestmark = pytest.mark.django_db

D = Decimal


def _balance(container) -> Decimal:
    return Container.objects.get(pk=container.pk).balance_mg


def _give(actor, container, patient, drawn, given, **extra):
    return services.administration_record(
        actor=actor, container=container, patient=patient, drawn_mg=drawn, given_mg=given, **extra
    )


def _waste(actor, container, quantity, witness, **extra):
    extra.setdefault("reason", "Residual in the syringe")
    return services.waste_record(
        actor=actor, container=container, quantity_mg=quantity, witness=witness, **extra
    )


# --------------------------------------------------------------------------- products, receipts


def test_a_vial_holds_strength_times_volume_and_a_device_its_label_amount(
    vial_product, device_product
):
    assert vial_product.content_mg == D("100.000")
    assert vial_product.schedule == "III"
    assert device_product.content_mg == D("28")


def test_a_product_needs_the_amounts_of_its_kind(prescriber):
    with pytest.raises(InvalidInput) as caught:
        services.product_create(actor=prescriber, name="Vial", kind="racemic_ketamine_vial")
    assert set(caught.value.errors) == {"strength_mg_per_ml"}
    with pytest.raises(InvalidInput) as caught:
        services.product_create(actor=prescriber, name="Device", kind="esketamine_device")
    assert set(caught.value.errors) == {"mg_per_device"}


def test_only_the_registrant_roles_add_products(nurse):
    with pytest.raises(PermissionDenied):
        services.product_create(
            actor=nurse, name="X", kind="esketamine_device", mg_per_device=D("28")
        )


def test_a_receipt_makes_one_sealed_container_per_vial_each_with_a_receipt_entry(
    prescriber, nurse, vial_product
):
    receipt = receive(prescriber, vial_product, containers=3, witness=nurse)

    assert receipt.container_count == 3
    assert receipt.total_mg == D("300.000")
    assert receipt.supplier_dea_number == "RA1234567"
    containers = list(receipt.containers.order_by("label"))
    assert [c.label for c in containers] == ["L100-001", "L100-002", "L100-003"]
    for container in containers:
        assert container.balance_mg == D("100.000")
        assert container.status == "in_stock"
        (entry,) = container.entries.all()
        assert (entry.kind, entry.quantity_mg, entry.balance_after_mg) == (
            "receipt",
            D("100.000"),
            D("100.000"),
        )
        assert entry.witness == nurse
    assert AuditEvent.objects.filter(object_type="cs_receipt", object_id=receipt.uuid).exists()


def test_a_second_receipt_of_a_lot_numbers_on_and_keeps_the_expiry(prescriber, vial_product):
    receive(prescriber, vial_product, containers=2)
    second = receive(prescriber, vial_product, containers=1, invoice="INV-002")
    assert [c.label for c in second.containers.all()] == ["L100-003"]
    with pytest.raises(InvalidInput) as caught:
        receive(prescriber, vial_product, expiry=EXPIRY - datetime.timedelta(days=365))
    assert caught.value.errors == {
        "expiry": [f"Lot L100 was received before with expiry {EXPIRY:%m/%d/%Y}."]
    }


def test_a_receipt_needs_the_supplier_record_and_a_real_date(prescriber, vial_product):
    with pytest.raises(InvalidInput) as caught:
        receive(
            prescriber,
            vial_product,
            supplier="",
            supplier_address=" ",
            supplier_dea_number="RA-12",
            invoice="",
            containers=0,
        )
    assert set(caught.value.errors) == {
        "supplier",
        "supplier_address",
        "supplier_dea_number",
        "invoice",
        "containers",
    }
    with pytest.raises(InvalidInput) as caught:
        receive(prescriber, vial_product, received_at=timezone.now() + datetime.timedelta(days=1))
    assert caught.value.errors == {"received_at": ["That time is in the future."]}
    assert Receipt.objects.count() == 0


def test_nurses_do_not_receive_stock(nurse, vial_product):
    with pytest.raises(PermissionDenied):
        receive(nurse, vial_product)
    assert Container.objects.count() == 0


# --------------------------------------------------------------------------- administration


def test_what_is_drawn_comes_off_the_balance(nurse, patient, vial):
    entry = _give(nurse, vial, patient, "40", "35", session_ref="sess-1")

    assert (entry.kind, entry.quantity_mg, entry.balance_after_mg) == (
        "administration",
        D("-40.000"),
        D("60.000"),
    )
    assert (entry.drawn_mg, entry.given_mg, entry.residual_mg) == (D("40"), D("35"), D("5"))
    assert entry.patient == patient and entry.session_ref == "sess-1"
    assert _balance(vial) == D("60.000")
    assert Container.objects.get(pk=vial.pk).status == "in_use"
    event = AuditEvent.objects.get(object_type="ledger_entry", object_id=entry.uuid)
    assert event.patient == patient


def test_the_dose_given_cannot_exceed_what_was_drawn(nurse, patient, vial):
    with pytest.raises(InvalidInput) as caught:
        _give(nurse, vial, patient, "30", "30.001")
    assert caught.value.errors == {
        "given_mg": ["The dose given cannot be more than was drawn (30 mg)."]
    }
    assert _balance(vial) == D("100.000")
    assert vial.entries.count() == 1


def test_no_one_draws_more_than_the_balance(nurse, patient, vial):
    _give(nurse, vial, patient, "70", "70")
    with pytest.raises(Conflict) as caught:
        _give(nurse, vial, patient, "30.001", "30")
    assert caught.value.code == "insufficient_balance"
    assert caught.value.message == "L100-001 holds 30 mg: 30.001 mg cannot come out of it."
    assert _balance(vial) == D("30.000")
    _give(nurse, vial, patient, "30", "30")
    assert _balance(vial) == D("0.000")
    assert Container.objects.get(pk=vial.pk).status == "empty"


def test_amounts_are_positive_with_at_most_three_decimals(nurse, patient, vial):
    for drawn in ("0", "-1", "1.0001", "abc", None):
        with pytest.raises(InvalidInput):
            _give(nurse, vial, patient, drawn, "1")
    assert vial.entries.count() == 1


def test_a_patient_off_the_care_team_is_not_found(actors, patient, vial):
    with pytest.raises(NotFound):
        _give(actors["nurse_off_team"], vial, patient, "10", "10")
    assert _balance(vial) == D("100.000")


@pytest.mark.parametrize("who", ["clinic_admin", "therapist", "front_desk", "billing"])
def test_only_prescribers_and_nurses_administer(actors, patient, vial, who):
    with pytest.raises(PermissionDenied):
        _give(actors[who], vial, patient, "10", "10")


def test_an_expired_lot_is_not_given(prescriber, nurse, patient, vial_product):
    receipt = receive(prescriber, vial_product, lot_number="OLD", expiry=datetime.date(2020, 1, 1))
    with pytest.raises(Conflict) as caught:
        _give(nurse, receipt.containers.first(), patient, "10", "10")
    assert caught.value.code == "lot_expired"


def test_an_esketamine_device_is_drawn_whole(prescriber, nurse, patient, device_product):
    device = receive(prescriber, device_product, lot_number="ESK1", containers=1).containers.get()
    with pytest.raises(Conflict) as caught:
        _give(nurse, device, patient, "14", "14")
    assert caught.value.code == "device_used_whole"
    entry = _give(nurse, device, patient, "28", "28")
    assert entry.balance_after_mg == D("0.000")


# --------------------------------------------------------------------------- waste and witness


def test_a_residual_waste_settles_the_draw_without_touching_the_balance(
    nurse, prescriber, patient, vial
):
    given = _give(nurse, vial, patient, "40", "35")
    assert services.residual_outstanding_mg(given) == D("5.000")

    waste = _waste(nurse, vial, "5", prescriber, administration=given)

    assert (waste.kind, waste.quantity_mg, waste.wasted_mg, waste.balance_after_mg) == (
        "waste",
        D("0.000"),
        D("5.000"),
        D("60.000"),
    )
    assert waste.witness == prescriber and waste.patient == patient
    assert services.residual_outstanding_mg(given) == D("0.000")
    assert _balance(vial) == D("60.000")


def test_no_more_of_a_draw_is_wasted_than_was_left_over(nurse, prescriber, patient, vial):
    given = _give(nurse, vial, patient, "40", "35")
    _waste(nurse, vial, "3", prescriber, administration=given)
    with pytest.raises(Conflict) as caught:
        _waste(nurse, vial, "2.001", prescriber, administration=given)
    assert caught.value.code == "waste_exceeds_residual"
    assert caught.value.message == (
        "Only 2 mg of that draw is left to waste (drawn 40 mg, given 35 mg)."
    )


def test_a_waste_from_the_container_comes_off_the_balance(nurse, prescriber, vial):
    waste = _waste(nurse, vial, "12.5", prescriber, reason="Vial dropped; contents spilled")
    assert (waste.quantity_mg, waste.balance_after_mg) == (D("-12.500"), D("87.500"))
    with pytest.raises(Conflict) as caught:
        _waste(nurse, vial, "87.501", prescriber)
    assert caught.value.code == "insufficient_balance"


def test_a_waste_needs_a_witness(nurse, vial):
    with pytest.raises(InvalidInput) as caught:
        _waste(nurse, vial, "1", None)
    assert caught.value.errors == {
        "witness": ["A second licensed member of staff must witness this."]
    }


def test_the_witness_is_someone_else(nurse, vial):
    with pytest.raises(InvalidInput) as caught:
        _waste(nurse, vial, "1", nurse)
    assert caught.value.errors == {"witness": ["The witness must be someone other than you."]}


@pytest.mark.parametrize("who", ["clinic_admin", "therapist", "front_desk", "billing"])
def test_the_witness_is_licensed(actors, nurse, vial, who):
    with pytest.raises(InvalidInput) as caught:
        _waste(nurse, vial, "1", actors[who])
    assert caught.value.errors == {
        "witness": ["The witness must be an active prescriber or nurse."]
    }


def test_the_witness_is_active(nurse, make_staff, vial):
    former = make_staff("nurse", username="former_nurse")
    former.is_active = False
    former.save()
    with pytest.raises(InvalidInput):
        _waste(nurse, vial, "1", former)
    assert _balance(vial) == D("100.000")


def test_a_nurse_off_the_care_team_may_witness(actors, nurse, vial):
    waste = _waste(nurse, vial, "1", actors["nurse_off_team"])
    assert waste.witness == actors["nurse_off_team"]


def test_the_database_refuses_an_unwitnessed_or_self_witnessed_waste(nurse, vial):
    for witness in (None, nurse):
        with pytest.raises(IntegrityError), transaction.atomic():
            LedgerEntry.objects.create(
                kind="waste",
                container=vial,
                quantity_mg=D("-1"),
                wasted_mg=D("1"),
                balance_after_mg=D("99"),
                actor=nurse,
                witness=witness,
            )


def test_the_database_refuses_a_dose_given_beyond_the_draw(nurse, patient, vial):
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            kind="administration",
            container=vial,
            quantity_mg=D("-10"),
            drawn_mg=D("10"),
            given_mg=D("11"),
            balance_after_mg=D("90"),
            actor=nurse,
            patient=patient,
        )


# --------------------------------------------------------------------------- the balance floor


def test_the_database_refuses_a_negative_balance_even_from_a_raw_update(vial):
    from django.db import connection
    from django.db.models import F

    with pytest.raises(IntegrityError), transaction.atomic():
        Container.objects.filter(pk=vial.pk).update(balance_mg=F("balance_mg") - D("100.001"))
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE controlled_substances_container SET balance_mg = -1 WHERE id = %s", [vial.pk]
        )
    assert _balance(vial) == D("100.000")


def test_a_constraint_refusal_becomes_the_same_conflict(nurse, patient, vial, monkeypatch):
    """A stale read that passes the service's own check is still refused, by the constraint."""
    _give(nurse, vial, patient, "90", "90")
    stale = Container.objects.get(pk=vial.pk)
    stale.balance_mg = D("100.000")
    monkeypatch.setattr(services.administration, "container_lock", lambda container: stale)
    with pytest.raises(Conflict) as caught:
        _give(nurse, vial, patient, "50", "50")
    assert caught.value.code == "insufficient_balance"
    assert _balance(vial) == D("10.000")
    assert vial.entries.count() == 2


# --------------------------------------------------------------------------- reversals


def test_a_reversal_restores_the_balance_and_leaves_both_rows(nurse, patient, vial):
    given = _give(nurse, vial, patient, "40", "40")

    reversal = services.entry_reverse(actor=nurse, entry=given, reason="Wrong vial chosen")

    assert (reversal.kind, reversal.quantity_mg, reversal.balance_after_mg) == (
        "reversal",
        D("40.000"),
        D("100.000"),
    )
    assert reversal.reverses == given and reversal.reason == "Wrong vial chosen"
    assert reversal.patient == patient
    assert list(vial.entries.order_by("id").values_list("kind", flat=True)) == [
        "receipt",
        "administration",
        "reversal",
    ]
    assert LedgerEntry.objects.get(pk=given.pk).quantity_mg == D("-40.000")
    assert _balance(vial) == D("100.000")


def test_an_entry_is_reversed_once_and_a_reversal_never(nurse, patient, vial):
    given = _give(nurse, vial, patient, "10", "10")
    reversal = services.entry_reverse(actor=nurse, entry=given, reason="Duplicate")
    with pytest.raises(Conflict) as caught:
        services.entry_reverse(actor=nurse, entry=given, reason="Again")
    assert caught.value.code == "already_reversed"
    with pytest.raises(Conflict) as caught:
        services.entry_reverse(actor=nurse, entry=reversal, reason="Undo")
    assert caught.value.code == "reversal_of_reversal"
    with pytest.raises(InvalidInput):
        services.entry_reverse(actor=nurse, entry=_give(nurse, vial, patient, "1", "1"), reason="")


def test_an_administration_whose_residual_was_wasted_is_reversed_after_the_waste(
    nurse, prescriber, patient, vial
):
    given = _give(nurse, vial, patient, "40", "35")
    waste = _waste(nurse, vial, "5", prescriber, administration=given)
    with pytest.raises(Conflict) as caught:
        services.entry_reverse(actor=nurse, entry=given, reason="Wrong patient")
    assert caught.value.code == "residual_wasted"
    services.entry_reverse(actor=nurse, entry=waste, reason="Recorded on the wrong draw")
    assert services.residual_outstanding_mg(given) == D("5.000")
    services.entry_reverse(actor=nurse, entry=given, reason="Wrong patient")
    assert _balance(vial) == D("100.000")


def test_a_receipt_is_reversed_only_before_its_stock_is_used(nurse, prescriber, patient, vials):
    used, untouched = vials
    _give(nurse, used, patient, "10", "10")
    with pytest.raises(Conflict) as caught:
        services.entry_reverse(
            actor=prescriber, entry=used.entries.get(kind="receipt"), reason="Not delivered"
        )
    assert caught.value.code == "insufficient_balance"
    with pytest.raises(PermissionDenied):
        services.entry_reverse(
            actor=nurse, entry=untouched.entries.get(kind="receipt"), reason="Not delivered"
        )
    services.entry_reverse(
        actor=prescriber, entry=untouched.entries.get(kind="receipt"), reason="Not delivered"
    )
    assert Container.objects.get(pk=untouched.pk).status == "empty"


def test_a_return_sends_what_is_left_out_of_stock(prescriber, nurse, patient, vial):
    _give(nurse, vial, patient, "25", "25")
    entry = services.container_return(
        actor=prescriber,
        container=vial,
        recipient="Returns Co.",
        recipient_dea_number="rb 7654321",
        reason="Recall",
    )
    assert (entry.kind, entry.quantity_mg, entry.balance_after_mg) == (
        "return",
        D("-75.000"),
        D("0.000"),
    )
    assert entry.counterparty_dea_number == "RB7654321"
    assert Container.objects.get(pk=vial.pk).status == "returned"
    with pytest.raises(PermissionDenied):
        services.container_return(
            actor=nurse, container=vial, recipient="X", recipient_dea_number="X1", reason="Y"
        )


# --------------------------------------------------------------------------- counts


def _count(actor, lines, kind="daily", **extra):
    return services.count_record(actor=actor, kind=kind, lines=lines, **extra)


def test_a_count_that_matches_opens_no_discrepancy(nurse, prescriber, vials):
    count = _count(nurse, {vials[0]: "100", vials[1]: D("100")}, witness=prescriber)
    assert [(line.expected_mg, line.counted_mg) for line in count.lines.order_by("id")] == [
        (D("100.000"), D("100.000")),
        (D("100.000"), D("100.000")),
    ]
    assert Discrepancy.objects.count() == 0


def test_each_difference_opens_a_discrepancy(nurse, patient, vials):
    _give(nurse, vials[0], patient, "30", "30")
    count = _count(nurse, {vials[0]: "68.5", vials[1]: "100"})
    (discrepancy,) = Discrepancy.objects.all()
    assert discrepancy.line.count == count
    assert (discrepancy.line.expected_mg, discrepancy.line.counted_mg) == (D("70"), D("68.5"))
    assert discrepancy.difference_mg == D("-1.500")
    assert discrepancy.status == "open"


def test_every_container_on_hand_is_counted(nurse, vials):
    with pytest.raises(InvalidInput) as caught:
        _count(nurse, {vials[0]: "100"})
    assert caught.value.errors == {"lines": ["Count every container on hand; missing: L100-002."]}
    assert InventoryCount.objects.count() == 0


def test_the_initial_inventory_is_taken_once_and_says_opening_or_close(prescriber, db):
    with pytest.raises(InvalidInput) as caught:
        _count(prescriber, {}, kind="initial")
    assert set(caught.value.errors) == {"taken_at"}
    initial = _count(prescriber, {}, kind="initial", taken_at="opening")
    assert initial.lines.count() == 0  # no stock yet: the inventory records zero [J7]
    with pytest.raises(Conflict) as caught:
        _count(prescriber, {}, kind="initial", taken_at="close")
    assert caught.value.code == "initial_inventory_exists"


@pytest.mark.parametrize("who", ["therapist", "front_desk", "billing"])
def test_only_those_who_handle_stock_count(actors, who, vials):
    with pytest.raises(PermissionDenied):
        _count(actors[who], {vials[0]: "100", vials[1]: "100"})


def test_a_discrepancy_is_resolved_with_a_reason(nurse, prescriber, patient, vials):
    _count(nurse, {vials[0]: "99", vials[1]: "100"})
    discrepancy = Discrepancy.objects.get()
    with pytest.raises(PermissionDenied):
        services.discrepancy_resolve(actor=nurse, discrepancy=discrepancy, reason="Found it")
    with pytest.raises(InvalidInput):
        services.discrepancy_resolve(actor=prescriber, discrepancy=discrepancy, reason=" ")

    resolved = services.discrepancy_resolve(
        actor=prescriber, discrepancy=discrepancy, reason="Miscounted: meniscus misread"
    )

    assert (resolved.status, resolved.resolved_by, resolved.adjustment) == (
        "resolved",
        prescriber,
        None,
    )
    assert resolved.resolution_reason == "Miscounted: meniscus misread"
    assert _balance(vials[0]) == D("100.000")
    with pytest.raises(Conflict) as caught:
        services.discrepancy_resolve(actor=prescriber, discrepancy=discrepancy, reason="Again")
    assert caught.value.code == "already_resolved"


def test_a_resolution_may_bring_the_book_to_the_count(nurse, prescriber, vials):
    _count(nurse, {vials[0]: "96.5", vials[1]: "100"})
    resolved = services.discrepancy_resolve(
        actor=prescriber,
        discrepancy=Discrepancy.objects.get(),
        reason="Unexplained shortfall; loss reported",
        adjust_balance=True,
    )
    adjustment = resolved.adjustment
    assert (adjustment.kind, adjustment.quantity_mg, adjustment.balance_after_mg) == (
        "adjustment",
        D("-3.500"),
        D("96.500"),
    )
    assert _balance(vials[0]) == D("96.500")
    with pytest.raises(Conflict) as caught:
        services.entry_reverse(actor=prescriber, entry=adjustment, reason="Oops")
    assert caught.value.code == "adjustment_final"


# --------------------------------------------------------------------------- theft and loss


def _discovered(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@pytest.mark.parametrize(
    ("discovered", "notice_due", "form106_due"),
    [
        # Friday 5 June 2026 → the next business day is Monday 8 June [J8]; 45 days [J9].
        (datetime.date(2026, 6, 5), datetime.date(2026, 6, 8), datetime.date(2026, 7, 20)),
        # Saturday → Monday.
        (datetime.date(2026, 6, 6), datetime.date(2026, 6, 8), datetime.date(2026, 7, 21)),
        # Wednesday → Thursday.
        (datetime.date(2026, 6, 3), datetime.date(2026, 6, 4), datetime.date(2026, 7, 18)),
    ],
)
def test_loss_deadlines_are_one_business_day_and_45_days(
    prescriber, discovered, notice_due, form106_due
):
    report = services.loss_report_create(
        actor=prescriber,
        kind="theft",
        discovered_at=_discovered(discovered),
        description="Two vials missing from the locked cabinet",
    )
    assert (report.dea_notice_due_on, report.form106_due_on) == (notice_due, form106_due)


def test_listed_holidays_are_not_business_days(prescriber, settings):
    settings.CLINIC_POLICY = {"controlled_substances": {"non_business_days": ["2026-09-07"]}}
    report = services.loss_report_create(
        actor=prescriber,
        kind="significant_loss",
        discovered_at=_discovered(datetime.date(2026, 9, 4)),  # Friday before Labor Day
        description="Shortfall found at the daily count",
    )
    assert report.dea_notice_due_on == datetime.date(2026, 9, 8)


def test_late_night_discovery_counts_on_the_clinic_calendar_day(prescriber):
    # 23:00 on Friday in New York is already Saturday in UTC: the clinic's Friday counts.
    report = services.loss_report_create(
        actor=prescriber,
        kind="theft",
        discovered_at=_discovered(datetime.date(2026, 6, 5), 23),
        description="Missing device",
    )
    assert report.dea_notice_due_on == datetime.date(2026, 6, 8)


def test_the_dea_notice_comes_before_form_106(prescriber, nurse):
    report = services.loss_report_create(
        actor=prescriber,
        kind="theft",
        discovered_at=_discovered(datetime.date(2026, 6, 5)),
        description="Break-in",
    )
    with pytest.raises(Conflict) as caught:
        services.loss_report_mark_form106(actor=prescriber, report=report)
    assert caught.value.code == "not_notified"
    with pytest.raises(PermissionDenied):
        services.loss_report_mark_notified(actor=nurse, report=report)
    with pytest.raises(InvalidInput):
        services.loss_report_mark_notified(
            actor=prescriber, report=report, notified_at=_discovered(datetime.date(2026, 6, 4))
        )
    services.loss_report_mark_notified(
        actor=prescriber, report=report, notified_at=_discovered(datetime.date(2026, 6, 8))
    )
    done = services.loss_report_mark_form106(actor=prescriber, report=report, reference="F106-1")
    assert done.form106_reference == "F106-1" and done.form106_submitted_by == prescriber
    with pytest.raises(Conflict):
        services.loss_report_mark_notified(actor=prescriber, report=report)
    assert LossReport.objects.get().dea_notified_by == prescriber


def test_a_loss_is_not_discovered_in_the_future(prescriber):
    with pytest.raises(InvalidInput):
        services.loss_report_create(
            actor=prescriber,
            kind="theft",
            discovered_at=timezone.now() + datetime.timedelta(hours=1),
            description="x",
        )


def test_expiry_fixture_is_in_the_future():
    assert timezone.localdate() < EXPIRY
