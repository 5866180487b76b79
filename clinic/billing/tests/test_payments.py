"""Payments, balances and superbills: a self-pay IV patient's session is charged from the fee
schedule, they pay at the desk and owe nothing; an adjustment needs a reason and moves no
money; no card number is stored; a mistaken payment is marked, not deleted; the account page's
permission matrix; the superbill PDF for the desk and for the patient in the portal."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from clinic.billing.models import Charge, Payment
from clinic.billing.selectors_accounts import account_get, own_account
from clinic.billing.services import charges
from clinic.billing.services import payments as services
from clinic.core.exceptions import InvalidInput, PermissionDenied
from clinic.core.models import AuditEvent
from tests.helpers import ACTOR_ORDER, chart_html, client_as, status_word

pytestmark = pytest.mark.django_db

DAY = datetime.date(2031, 6, 2)  # the session tests' clinic day


@pytest.fixture
def priced_charge(iv_signed, billing):
    """The self-pay IV session: 96365 at $250.00 and J3490 at $60.00 = $310.00."""
    for code, cents in (("96365", 250_00), ("J3490", 60_00)):
        charges.fee_set(
            actor=billing, code=code, price_cents=cents, effective_on=datetime.date(2031, 1, 1)
        )
    charge = Charge.objects.get(session=iv_signed)
    return charges.charge_recode(actor=billing, charge=charge, reason="Prices set")


def entry(**changes):
    values = dict(source="patient", method="card_terminal", amount_cents=310_00, received_on=DAY)
    return services.PaymentEntry(**{**values, **changes})


def test_a_self_pay_patient_pays_at_the_desk_and_owes_nothing(priced_charge, front_desk, billing):
    patient = priced_charge.patient
    assert account_get(actor=front_desk, patient=patient).totals.balance_cents == 310_00

    services.payment_record(
        actor=front_desk,
        patient=patient,
        entry=entry(charge=priced_charge, reference="TERM-0042-7781"),
    )

    account = account_get(actor=billing, patient=patient)
    assert (
        account.totals.charged_cents,
        account.totals.paid_cents,
        account.totals.balance_cents,
    ) == (
        310_00,
        310_00,
        0,
    )
    assert [(row.charged_cents, row.paid_cents) for row in account.charges] == [(310_00, 310_00)]


def test_an_adjustment_names_why_and_moves_no_money(priced_charge, billing):
    patient = priced_charge.patient
    with pytest.raises(InvalidInput) as error:
        services.payment_record(
            actor=billing, patient=patient, entry=entry(source="adjustment", method="cash")
        )
    assert set(error.value.errors) == {"method", "note"}
    services.payment_record(
        actor=billing,
        patient=patient,
        entry=entry(source="adjustment", method="none", amount_cents=60_00, note="Courtesy"),
    )
    account = account_get(actor=billing, patient=patient)
    assert (account.totals.adjusted_cents, account.totals.balance_cents) == (60_00, 250_00)


@pytest.mark.parametrize("reference", ["4111 1111 1111 1111", "4111111111111111"])
def test_a_card_number_is_never_stored(priced_charge, front_desk, reference):
    with pytest.raises(InvalidInput) as error:
        services.payment_record(
            actor=front_desk, patient=priced_charge.patient, entry=entry(reference=reference)
        )
    assert "never the card" in error.value.errors["reference"][0]
    assert not Payment.objects.exists()


@pytest.mark.parametrize("cents", [0, 100_000_01])
def test_an_amount_out_of_bounds_is_refused(priced_charge, front_desk, cents):
    with pytest.raises(InvalidInput):
        services.payment_record(
            actor=front_desk, patient=priced_charge.patient, entry=entry(amount_cents=cents)
        )


def test_a_mistaken_payment_is_marked_not_deleted(priced_charge, front_desk):
    patient = priced_charge.patient
    payment = services.payment_record(actor=front_desk, patient=patient, entry=entry())
    services.payment_mark_entered_in_error(
        actor=front_desk, payment=payment, reason="Charged twice at the terminal"
    )
    payment.refresh_from_db()
    assert payment.entered_in_error_reason == "Charged twice at the terminal"
    assert account_get(actor=front_desk, patient=patient).totals.balance_cents == 310_00


def test_clinicians_record_no_payment(priced_charge, prescriber, nurse):
    for actor in (prescriber, nurse):
        with pytest.raises(PermissionDenied):
            services.payment_record(actor=actor, patient=priced_charge.patient, entry=entry())


# --------------------------------------------------------------------------- pages

ACCOUNT = dict(
    zip(ACTOR_ORDER, ["login", 403, 200, 403, 403, 403, 200, 200, 403, 403, 403], strict=True)
)


@pytest.mark.parametrize("who", ACTOR_ORDER)
def test_the_account_and_superbill_permission_matrix(priced_charge, client, actors, who):
    client = client_as(client, actors[who])
    patient = priced_charge.patient
    assert status_word(client.get(reverse("billing:account", args=[patient.uuid]))) == ACCOUNT[who]
    superbill = reverse("billing:superbill", args=[patient.uuid, priced_charge.uuid])
    assert status_word(client.get(superbill)) == ACCOUNT[who]


def test_the_desk_takes_a_payment_and_hands_over_the_superbill(priced_charge, client, actors):
    patient = priced_charge.patient
    desk = client_as(client, actors["front_desk"])
    assert "Balance due: $310.00." in chart_html(desk, patient)
    response = desk.post(
        reverse("billing:account", args=[patient.uuid]),
        {
            "source": "patient",
            "method": "card_terminal",
            "amount": "310.00",
            "received_on": DAY.isoformat(),
            "charge": priced_charge.pk,
            "reference": "TERM-0042-7781",
        },
    )
    assert response.status_code == 302
    page = desk.get(reverse("billing:account", args=[patient.uuid])).content.decode()
    assert "Balance: $0.00" in page and "ref. TERM-0042-7781" in page
    pdf = desk.get(reverse("billing:superbill", args=[patient.uuid, priced_charge.uuid]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(
        object_type="charge", action="export", object_id=str(priced_charge.uuid)
    ).exists()


def test_the_patient_sees_what_they_owe_and_downloads_their_superbill(priced_charge, client):
    from clinic.portal.tests.test_care import give_portal_account

    patient = priced_charge.patient
    client.force_login(give_portal_account(patient, "jordan"))
    page = client.get(reverse("portal:bills")).content.decode()
    assert "You owe $310.00" in page
    pdf = client.get(reverse("portal:superbill", args=[priced_charge.uuid]))
    assert pdf.content.startswith(b"%PDF")
    assert own_account(patient=patient).totals.balance_cents == 310_00


def test_an_unpriced_line_is_named_not_counted_as_zero(
    iv_signed, billing, front_desk, client, actors
):
    charges.fee_set(
        actor=billing, code="96365", price_cents=250_00, effective_on=datetime.date(2031, 1, 1)
    )
    charge = charges.charge_recode(
        actor=billing, charge=Charge.objects.get(session=iv_signed), reason="96365 priced"
    )
    totals = account_get(actor=front_desk, patient=charge.patient).totals
    assert (totals.charged_cents, totals.unpriced_lines) == (250_00, 1)
    page = client_as(client, actors["front_desk"]).get(
        reverse("billing:account", args=[charge.patient.uuid])
    )
    assert "1 charge line not priced yet" in page.content.decode()
