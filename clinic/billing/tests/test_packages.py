# ruff: noqa: F811 (the priced charge fixture is imported by name, then used)
"""Self-pay packages. The IV session of Monday 2 June 2031 lists at $250.00 (96365) + $60.00
(J3490) = $310.00 (test_payments' `priced_charge`). A three-infusion package at $1,000.00:
sessions 1 and 2 cost 100000 // 3 = 33333 cents, session 3 costs 33333 + 1 = 33334 cents
(the division's remaining cent), 100000 in all. Session 1's 33333 cents spread by list
amount: 96365 gets 33333 × 25000 // 31000 = 26881, J3490 33333 × 6000 // 31000 = 6451; the
1 cent left goes on the larger line, 96365: 26882 + 6451 = 33333."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from clinic.billing.models import Charge
from clinic.billing.package_pricing import session_share_cents, spread_cents
from clinic.billing.selectors_accounts import account_get
from clinic.billing.services import charges, packages
from clinic.billing.services import coverage as coverage_services
from clinic.billing.tests.test_payments import DAY, priced_charge  # noqa: F401
from clinic.core.exceptions import Conflict, InvalidInput, PermissionDenied
from clinic.core.models import AuditEvent
from tests.helpers import ACTOR_ORDER, client_as, status_word

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("number", "cents"), [(1, 33333), (2, 33333), (3, 33334)])
def test_a_package_price_is_shared_out_to_the_cent(number, cents):
    assert session_share_cents(100_000, 3, number) == cents


def test_the_shares_add_up_to_the_package_price():
    assert sum(session_share_cents(155_000, 6, n) for n in range(1, 7)) == 155_000


@pytest.mark.parametrize(
    ("share", "amounts", "parts"),
    [
        (33333, [25000, 6000], [26882, 6451]),
        (31000, [25000, 6000], [25000, 6000]),
        (11, [0, 0], [6, 5]),
        (500, [], []),
    ],
)
def test_a_session_share_is_spread_by_list_amount(share, amounts, parts):
    assert spread_cents(share, amounts) == parts


@pytest.fixture
def three_infusions(billing):
    return packages.package_offer_add(
        actor=billing,
        entry=packages.OfferEntry(
            name="IV induction, three infusions", route="iv", sessions=3, price_cents=1_000_00
        ),
    )


def amounts_of(charge):
    return [
        (line.code, line.unit_price_cents, line.amount_cents)
        for line in charge.lines.filter(entered_in_error_at__isnull=True).order_by("position")
    ]


def test_a_session_is_priced_from_the_patients_package(
    priced_charge,
    three_infusions,
    front_desk,
    billing,
):
    patient = priced_charge.patient
    packages.package_sell(
        actor=front_desk, patient=patient, offer=three_infusions, purchased_on=DAY
    )
    charge = charges.charge_recode(actor=billing, charge=priced_charge, reason="Package sold")
    assert (charge.package_session, charge.package_purchase.name) == (
        1,
        "IV induction, three infusions",
    )
    assert amounts_of(charge) == [("96365", 250_00, 26882), ("J3490", 60_00, 6451)]
    assert account_get(actor=billing, patient=patient).totals.charged_cents == 33333

    again = charges.charge_recode(actor=billing, charge=charge, reason="Checked")
    assert again.package_session == 1  # it keeps its session, not the next one


def test_a_package_bought_after_the_session_or_for_another_route_is_not_used(
    priced_charge,
    front_desk,
    billing,
):
    im_offer = packages.package_offer_add(
        actor=billing,
        entry=packages.OfferEntry(name="IM course", route="im", sessions=4, price_cents=800_00),
    )
    patient = priced_charge.patient
    packages.package_sell(actor=front_desk, patient=patient, offer=im_offer, purchased_on=DAY)
    charge = charges.charge_recode(actor=billing, charge=priced_charge, reason="Check")
    assert charge.package_purchase is None
    assert amounts_of(charge) == [("96365", 250_00, 250_00), ("J3490", 60_00, 60_00)]


def test_an_insured_session_is_never_priced_from_a_package(
    priced_charge,
    three_infusions,
    front_desk,
    billing,
):
    patient = priced_charge.patient
    packages.package_sell(
        actor=front_desk, patient=patient, offer=three_infusions, purchased_on=DAY
    )
    charge = charges.charge_recode(actor=billing, charge=priced_charge, reason="Package sold")
    assert charge.package_session == 1
    payer = coverage_services.payer_create(
        actor=billing, name="Aetna", payer_id="60054", kind="commercial"
    )
    plan = coverage_services.plan_create(actor=billing, payer=payer, name="Choice POS II")
    coverage_services.coverage_add(
        actor=billing,
        patient=patient,
        entry=coverage_services.CoverageEntry(plan=plan, priority="primary", member_id="W1"),
    )
    insured = charges.charge_recode(actor=billing, charge=charge, reason="Coverage found")
    assert (insured.package_purchase, insured.package_session) == (None, None)
    assert [amount for _, _, amount in amounts_of(insured)] == [250_00, 60_00]


def test_a_sale_with_charged_sessions_cannot_be_marked_in_error(
    priced_charge,
    three_infusions,
    front_desk,
    billing,
):
    purchase = packages.package_sell(
        actor=front_desk, patient=priced_charge.patient, offer=three_infusions, purchased_on=DAY
    )
    charges.charge_recode(actor=billing, charge=priced_charge, reason="Package sold")
    with pytest.raises(Conflict) as error:
        packages.package_mark_entered_in_error(
            actor=front_desk, purchase=purchase, reason="Wrong patient"
        )
    assert "1 session was charged from this package" in str(error.value)


def test_an_unused_sale_is_marked_in_error_and_no_longer_prices(
    priced_charge,
    three_infusions,
    front_desk,
    billing,
):
    purchase = packages.package_sell(
        actor=front_desk, patient=priced_charge.patient, offer=three_infusions, purchased_on=DAY
    )
    packages.package_mark_entered_in_error(actor=front_desk, purchase=purchase, reason="Sold twice")
    charge = charges.charge_recode(actor=billing, charge=priced_charge, reason="Check")
    assert charge.package_purchase is None
    assert AuditEvent.objects.filter(object_type="package_purchase", action="update").exists()


def test_an_offer_no_longer_sold_cannot_be_sold(
    priced_charge, three_infusions, front_desk, billing
):
    packages.package_offer_switch(actor=billing, offer=three_infusions, active=False)
    with pytest.raises(InvalidInput) as error:
        packages.package_sell(
            actor=front_desk, patient=priced_charge.patient, offer=three_infusions, purchased_on=DAY
        )
    assert error.value.errors["offer"] == ["This package is no longer sold."]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": " "}, "name"),
        ({"route": "sublingual"}, "route"),
        ({"sessions": 0}, "sessions"),
        ({"sessions": 53}, "sessions"),
        ({"price_cents": 0}, "price"),
    ],
)
def test_an_offer_out_of_bounds_is_refused(billing, changes, field):
    values = {"name": "Course", "route": "iv", "sessions": 6, "price_cents": 1_500_00}
    with pytest.raises(InvalidInput) as error:
        packages.package_offer_add(
            actor=billing, entry=packages.OfferEntry(**{**values, **changes})
        )
    assert set(error.value.errors) == {field}


def test_a_sale_dated_in_the_future_is_refused(priced_charge, three_infusions, front_desk):
    with pytest.raises(InvalidInput) as error:
        packages.package_sell(
            actor=front_desk,
            patient=priced_charge.patient,
            offer=three_infusions,
            purchased_on=DAY + datetime.timedelta(days=2),
        )
    assert set(error.value.errors) == {"purchased_on"}


def test_only_the_desk_and_billing_sell_and_only_billing_prices(
    priced_charge,
    three_infusions,
    nurse,
    prescriber,
    front_desk,
):
    with pytest.raises(PermissionDenied):
        packages.package_sell(
            actor=nurse, patient=priced_charge.patient, offer=three_infusions, purchased_on=DAY
        )
    for actor in (prescriber, front_desk):
        with pytest.raises(PermissionDenied):
            packages.package_offer_add(
                actor=actor,
                entry=packages.OfferEntry(name="X", route="iv", sessions=2, price_cents=100),
            )
    assert Charge.objects.filter(package_purchase__isnull=False).count() == 0


def _earlier_charge(priced_charge) -> Charge:
    """Another charge of the patient's, a week earlier (a copy of the rows; the helper reuses
    the object it is given, so the original is read again)."""
    from clinic.billing.tests.test_statement import _another_session_charged

    original_pk = priced_charge.pk
    copy = _another_session_charged(Charge.objects.get(pk=original_pk), days_later=-7)
    return copy


def test_a_used_up_package_leaves_the_next_session_to_the_fee_schedule(
    priced_charge, billing, front_desk
):
    earlier = _earlier_charge(priced_charge)
    one = packages.package_offer_add(
        actor=billing,
        entry=packages.OfferEntry(name="One infusion", route="iv", sessions=1, price_cents=200_00),
    )
    purchase = packages.package_sell(
        actor=front_desk, patient=priced_charge.patient, offer=one, purchased_on=DAY
    )
    # The earlier session took the package's only session.
    Charge.objects.filter(pk=earlier.pk).update(package_purchase=purchase, package_session=1)
    charge = charges.charge_recode(actor=billing, charge=priced_charge, reason="Package sold")
    assert charge.package_purchase is None
    assert [a for _, _, a in amounts_of(charge)] == [250_00, 60_00]


def test_the_database_keeps_a_package_session_to_one_charge(priced_charge, billing, front_desk):
    from django.db import IntegrityError, transaction

    earlier = _earlier_charge(priced_charge)
    offer = packages.package_offer_add(
        actor=billing,
        entry=packages.OfferEntry(name="Two", route="iv", sessions=2, price_cents=500_00),
    )
    purchase = packages.package_sell(
        actor=front_desk, patient=priced_charge.patient, offer=offer, purchased_on=DAY
    )
    Charge.objects.filter(pk=priced_charge.pk).update(package_purchase=purchase, package_session=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Charge.objects.filter(pk=earlier.pk).update(package_purchase=purchase, package_session=1)


# --------------------------------------------------------------------------- pages

SELL = dict(
    zip(ACTOR_ORDER, ["login", 403, 403, 403, 403, 403, 302, 302, 403, 403, 403], strict=True)
)
SWITCH = dict(
    zip(ACTOR_ORDER, ["login", 403, 302, 403, 403, 403, 403, 302, 403, 403, 403], strict=True)
)


@pytest.mark.parametrize("who", ACTOR_ORDER)
def test_the_package_pages_permission_matrix(priced_charge, three_infusions, client, actors, who):
    client = client_as(client, actors[who])
    patient = priced_charge.patient
    sale = {
        "form": "package",
        "sale-offer": three_infusions.uuid,
        "sale-purchased_on": DAY.isoformat(),
    }
    response = client.post(reverse("billing:account", args=[patient.uuid]), sale)
    assert status_word(response) == SELL[who]
    switch = reverse("billing:package_offer_switch", args=[three_infusions.uuid])
    assert status_word(client.post(switch, {"active": "0"})) == SWITCH[who]


def package_offer(**values):
    fields = {"name": "Induction", "route": "iv", **values}
    return {"form": "package", **{f"package-{k}": v for k, v in fields.items()}}


def test_billing_adds_a_package_and_the_desk_sells_it(priced_charge, client, actors):
    billing = client_as(client, actors["billing"])
    refused = billing.post(
        reverse("billing:fee_schedule"),
        package_offer(sessions="0", price="1500"),
    )
    assert refused.status_code == 422
    added = billing.post(
        reverse("billing:fee_schedule"),
        package_offer(sessions="3", price="1000"),
    )
    assert added.status_code == 302
    offer = packages.PackageOffer.objects.get(name="Induction")
    assert (offer.sessions, offer.price_cents) == (3, 1_000_00)

    patient = priced_charge.patient
    desk = client_as(client, actors["front_desk"])
    account = reverse("billing:account", args=[patient.uuid])
    future = desk.post(
        account, {"form": "package", "sale-offer": offer.uuid, "sale-purchased_on": "2099-01-01"}
    )
    assert future.status_code == 422
    assert (
        desk.post(
            account,
            {"form": "package", "sale-offer": offer.uuid, "sale-purchased_on": DAY.isoformat()},
        ).status_code
        == 302
    )
    charges.charge_recode(actor=actors["billing"], charge=priced_charge, reason="Package sold")
    page = desk.get(account).content.decode()
    assert "1 of 3 used" in page and "$333.33" in page
    billing = client_as(client, actors["billing"])
    charge_page = billing.get(reverse("billing:charge", args=[priced_charge.uuid])).content
    assert "Priced from Induction: session 1 of 3" in charge_page.decode()
