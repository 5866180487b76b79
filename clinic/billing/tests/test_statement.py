"""The patient statement PDF: the self-pay IV session of $310.00 (96365 at $250.00 and J3490
at $60.00, see `priced_charge`), what the patient and their insurer paid, an adjustment, and
the balance due, as the desk prints it and as the patient downloads it from the portal. The
expected amounts are worked out by hand from the fixture's prices. A payment entered in error
is left out; a coded line without a price is named, not counted as $0; a long account says
that only its latest sessions are listed."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.urls import reverse

from clinic.billing import selectors_accounts
from clinic.billing.models import Charge
from clinic.billing.services import charges
from clinic.billing.services import payments as services
from clinic.billing.tests.test_payments import ACCOUNT, DAY, entry, priced_charge  # noqa: F401
from clinic.core.models import AuditEvent
from clinic.locations.models import Location
from clinic.patients.models import Patient
from clinic.portal.tests.test_care import give_portal_account, other_patient  # noqa: F401
from clinic.scheduling.tests.conftest import at
from tests.helpers import ACTOR_ORDER, client_as, status_word, words_drawn_in_pdf

pytestmark = pytest.mark.django_db


def statement_of(client, patient) -> str:
    response = client.get(reverse("billing:statement", args=[patient.uuid]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    return words_drawn_in_pdf(response.content)


@pytest.fixture
def paid_in_part(priced_charge, front_desk, billing, clock):  # noqa: F811
    """$310.00 charged. The patient paid $100.00 at the terminal for the session; three weeks
    later, the insurer sent $150.00 by transfer for the account; billing adjusted $20.00 off
    the session; a $75.00 cash payment was entered in error. Paid 100 + 150 = $250.00; balance
    310 - 250 - 20 = $40.00; the session's own balance 310 - 100 - 20 = $190.00."""
    patient = priced_charge.patient
    clock.move_to(at(DAY + datetime.timedelta(days=21), 12))
    Patient.objects.filter(pk=patient.pk).update(
        address_line1="12 Elm Street", city="Springfield", region="IL", postal_code="62701"
    )
    record = services.payment_record
    record(
        actor=front_desk,
        patient=patient,
        entry=entry(charge=priced_charge, amount_cents=100_00, reference="TERM-1"),
    )
    record(
        actor=billing,
        patient=patient,
        entry=entry(
            source="insurer",
            method="eft",
            amount_cents=150_00,
            received_on=DAY + datetime.timedelta(days=20),
        ),
    )
    record(
        actor=billing,
        patient=patient,
        entry=entry(
            source="adjustment",
            method="none",
            amount_cents=20_00,
            note="Prompt-pay courtesy",
            charge=priced_charge,
        ),
    )
    mistaken = record(
        actor=front_desk,
        patient=patient,
        entry=entry(method="cash", amount_cents=75_00, received_on=DAY + datetime.timedelta(1)),
    )
    services.payment_mark_entered_in_error(
        actor=front_desk, payment=mistaken, reason="Recorded on the wrong patient"
    )
    return priced_charge


@pytest.mark.parametrize("who", ACTOR_ORDER)
def test_the_statement_permission_matrix(priced_charge, client, actors, who):  # noqa: F811
    client = client_as(client, actors[who])
    url = reverse("billing:statement", args=[priced_charge.patient.uuid])
    assert status_word(client.get(url)) == ACCOUNT[who]


def test_an_unknown_patient_has_no_statement(client, actors):
    client = client_as(client, actors["billing"])
    assert client.get(reverse("billing:statement", args=[uuid.uuid4()])).status_code == 404


def test_the_desk_prints_what_was_charged_paid_and_is_due(paid_in_part, client, actors, settings):
    settings.CLINIC_NAME = "Lakeside Ketamine Clinic"
    settings.BILLING_PROVIDER_NAME = "Lakeside Ketamine Clinic"
    settings.CLINIC_PHONE = "(217) 555-0142"
    Location.objects.filter(is_default=True).update(
        address_line1="400 Lake Road", city="Springfield", state="IL", postal_code="62704"
    )
    patient = paid_in_part.patient
    desk = client_as(client, actors["front_desk"])

    account_page = desk.get(reverse("billing:account", args=[patient.uuid])).content.decode()
    assert reverse("billing:statement", args=[patient.uuid]) in account_page
    assert "Statement (PDF)" in account_page

    response = desk.get(reverse("billing:statement", args=[patient.uuid]))
    assert "no-store" in response["Cache-Control"]
    disposition = response["Content-Disposition"]
    assert disposition == f'inline; filename="statement-{patient.mrn}-20310623.pdf"'
    text = words_drawn_in_pdf(response.content)

    for shown in (
        "Lakeside Ketamine Clinic",
        "400 Lake Road",
        "Springfield, IL 62704",
        "Phone (217) 555-0142",
        "Patient statement",
        f"MRN: {patient.mrn}",
        "Jordan Rivera",
        "12 Elm Street",
        "Springfield, IL 62701",
    ):
        assert shown in text, shown
    assert "Statement date: 06/23/2031" in text
    # The summary, worked out by hand from the fixture.
    assert "Charged (priced services) $310.00" in text
    assert "Paid by you and your insurers $250.00" in text
    assert "Adjustments $20.00" in text
    assert "Balance due $40.00" in text
    # The session's row: charged, paid, adjusted, balance.
    assert "06/02/2031 Treatment session (96365, J3490) $310.00 $100.00 $20.00 $190.00" in text
    # The payments, latest first, without the one entered in error.
    assert "06/22/2031 Insurer Electronic transfer The whole account $150.00" in text
    assert "06/02/2031 Adjustment (write-off) - Session of 06/02/2031 $20.00" in text
    assert "06/02/2031 Patient Card, at the terminal Session of 06/02/2031 $100.00" in text
    assert "$75.00" not in text and "Cash" not in text
    assert "not yet priced" not in text
    assert "Only the latest" not in text


def test_the_statement_is_audited_as_an_export(paid_in_part, client, actors):
    patient = paid_in_part.patient
    client_as(client, actors["billing"]).get(reverse("billing:statement", args=[patient.uuid]))
    event = AuditEvent.objects.get(object_type="account", action="export")
    assert (event.actor, event.patient, event.object_id) == (
        actors["billing"],
        patient,
        str(patient.uuid),
    )
    assert event.summary == "Patient statement dated 06/23/2031 exported as PDF"
    assert AuditEvent.objects.filter(
        object_type="patient", action="view", patient=patient, summary="statement"
    ).exists()


def test_an_overpaid_account_shows_a_credit(priced_charge, front_desk, client, actors):  # noqa: F811
    services.payment_record(
        actor=front_desk, patient=priced_charge.patient, entry=entry(amount_cents=400_00)
    )
    text = statement_of(client_as(client, actors["front_desk"]), priced_charge.patient)
    assert "Credit on your account (nothing due) $90.00" in text  # 400 - 310
    assert "Balance due" not in text


def test_an_unpriced_line_is_named_not_counted_as_zero(iv_signed, billing, client, actors):
    charges.fee_set(
        actor=billing, code="96365", price_cents=250_00, effective_on=datetime.date(2031, 1, 1)
    )
    charge = charges.charge_recode(
        actor=billing, charge=Charge.objects.get(session=iv_signed), reason="96365 priced"
    )
    text = statement_of(client_as(client, actors["billing"]), charge.patient)
    assert (
        "1 charge line is not yet priced and is not included in these amounts: the balance "
        "may change once the clinic prices it." in text
    )
    assert "Treatment session (96365, J3490); J3490 not yet priced $250.00" in text
    assert "Balance due $250.00" in text
    assert "$0.00 $0.00 $250.00" in text  # paid and adjusted nothing: the row's balance


def _another_session_charged(charge: Charge, *, days_later: int) -> Charge:
    """A copy of `charge` on a later day, for its own copy of the session and appointment (the
    session services would need another week of clinic fixtures for the same thing)."""
    session = charge.session
    appointment = session.appointment
    later = datetime.timedelta(days=days_later)
    appointment.pk, appointment.uuid, appointment.planned_session = None, uuid.uuid4(), None
    appointment.starts_at += later
    appointment.ends_at += later
    appointment.save()
    lines = list(charge.lines.all())
    session.pk, session.uuid, session.appointment = None, uuid.uuid4(), appointment
    session.planned_session = None
    session.save()
    charge.pk, charge.uuid, charge.session = None, uuid.uuid4(), session
    charge.date_of_service += later
    charge.save()
    for line in lines:
        line.pk, line.uuid, line.charge = None, uuid.uuid4(), charge
        line.save()
    return charge


def test_a_long_account_lists_the_latest_sessions_and_totals_them_all(
    priced_charge,  # noqa: F811
    client,
    actors,
    monkeypatch,
):
    _another_session_charged(Charge.objects.get(pk=priced_charge.pk), days_later=7)
    monkeypatch.setattr(selectors_accounts, "ACCOUNT_ROWS", 1)
    text = statement_of(client_as(client, actors["billing"]), priced_charge.patient)
    assert (
        "Only the latest 1 of 2 sessions are listed; the summary's totals cover the whole "
        "account." in text
    )
    assert "06/09/2031 Treatment session" in text
    assert "06/02/2031 Treatment session" not in text
    assert "Charged (priced services) $620.00" in text  # two sessions of $310.00
    assert "Balance due $620.00" in text


# --------------------------------------------------------------------------- portal


def test_the_patient_downloads_their_own_statement(paid_in_part, client):
    patient = paid_in_part.patient
    user = give_portal_account(patient, "jordan")
    client.force_login(user)
    page = client.get(reverse("portal:bills")).content.decode()
    assert "Download my statement (PDF)" in page and reverse("portal:statement") in page

    response = client.get(reverse("portal:statement"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="statement-20310623.pdf"'
    text = words_drawn_in_pdf(response.content)
    assert f"MRN: {patient.mrn}" in text and "Jordan Rivera" in text
    assert "Balance due $40.00" in text
    assert "Downloaded from the patient portal" in text
    event = AuditEvent.objects.get(object_type="account", action="export")
    assert (event.actor, event.patient) == (user, patient)


def test_the_portal_statement_reaches_only_the_signed_in_patients_account(
    paid_in_part,
    other_patient,  # noqa: F811
    client,
):
    client.force_login(give_portal_account(other_patient, "casey"))
    text = words_drawn_in_pdf(client.get(reverse("portal:statement")).content)
    assert "Casey Morgan" in text and f"MRN: {other_patient.mrn}" in text
    assert "No charges on this account." in text and "Balance due $0.00" in text
    mine = paid_in_part.patient
    assert "Jordan Rivera" not in text and mine.mrn not in text and "$310.00" not in text


@pytest.mark.parametrize("who", ["anonymous", "patient_principal", "front_desk", "billing"])
def test_the_portal_statement_is_for_signed_in_patients_only(priced_charge, client, actors, who):  # noqa: F811
    # The actors' patient principal has no patient record: refused, like staff.
    expected = {"anonymous": "login", "patient_principal": 403, "front_desk": 403, "billing": 403}
    response = client_as(client, actors[who]).get(reverse("portal:statement"))
    assert status_word(response) == expected[who]
