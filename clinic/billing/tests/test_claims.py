"""Claims: the checks a claim passes before export (each naming its CMS-1500 box: NPI check
digits, the tax ID, diagnoses and pointers, prices, Medicare's esketamine G-code rules), a
claim built from a signed session's charge, the 837P file pyx12 accepts, and the status path
as the clearinghouse and the payer answer."""

from __future__ import annotations

import dataclasses
import datetime

import pytest
from django.urls import reverse

from clinic.billing import claim_rules
from clinic.billing.claim_data import Address, Claim, ClaimLine, Party, Subscriber
from clinic.billing.models import Charge, ClaimStatus, ClaimStatusChange
from clinic.billing.services import charges, claims, diagnoses
from clinic.billing.tests.factories import (
    VALID_NPI,
    give_npi,
    payer_with_plan,
    primary_coverage,
)
from clinic.billing.tests.test_x12_837p import assert_pyx12_valid
from clinic.core.exceptions import Conflict, InvalidInput, PermissionDenied
from clinic.locations.models import Location
from tests.helpers import ACTOR_ORDER, client_as, status_word

pytestmark = pytest.mark.django_db

BOSTON = Address("100 Harbor Street", "", "Boston", "MA", "021101234")


def a_claim(**changes) -> Claim:
    claim = Claim(
        claim_number="A1B2C3D4E5F6",
        total_cents=250_00,
        place_of_service="11",
        frequency_code="1",
        diagnosis_codes=("F33.2",),
        prior_authorization="",
        billing_provider=Party("Harbor Ketamine Clinic", identifier=VALID_NPI, address=BOSTON),
        billing_tax_id="123456789",
        rendering_provider=Party("Okafor", "Maya", VALID_NPI, is_person=True),
        service_facility=None,
        payer=Party("Aetna", identifier="60054"),
        subscriber=Subscriber(
            "W123456789", "", "CI", "18", "Doe", "Jane", datetime.date(1980, 1, 2), "F", BOSTON
        ),
        patient_last_name="Doe",
        patient_first_name="Jane",
        patient_date_of_birth=datetime.date(1980, 1, 2),
        patient_sex="F",
        patient_address=BOSTON,
        lines=(ClaimLine("96365", (), 1, 250_00, (1,), datetime.date(2031, 6, 2)),),
    )
    return dataclasses.replace(claim, **changes)


def test_a_complete_claim_has_no_problem():
    assert claim_rules.claim_problems(a_claim()) == []


def test_a_mistyped_npi_is_caught_by_its_check_digit():
    wrong = dataclasses.replace(a_claim().rendering_provider, identifier="1234567890")
    assert claim_rules.claim_problems(a_claim(rendering_provider=wrong)) == [
        "Box 24J: Maya Okafor's NPI: This NPI's check digit is wrong: check each digit against "
        "NPPES. Add it on their staff record."
    ]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"billing_tax_id": "12-345678"}, "Box 25: the federal tax ID (EIN) is 9 digits"),
        ({"diagnosis_codes": ()}, "Box 21: no diagnosis"),
        ({"place_of_service": ""}, "Box 24B"),
        ({"payer": Party("Aetna")}, "the payer has no electronic payer ID"),
    ],
)
def test_each_missing_box_is_named(changes, expected):
    problems = claim_rules.claim_problems(a_claim(**changes))
    assert any(p.startswith(expected) or expected in p for p in problems), problems


def test_medicare_esketamine_g_codes_carry_kx_and_no_e_m():
    lines = (
        ClaimLine("G2083", (), 1, 1_250_00, (1,), datetime.date(2031, 6, 2)),
        ClaimLine("99214", ("25",), 1, 180_00, (1,), datetime.date(2031, 6, 2)),
    )
    problems = claim_rules.claim_problems(a_claim(lines=lines, total_cents=1_430_00))
    assert "Line 1 (G2083): G2082/G2083 carry KX, the REMS attestation [P2]." in problems
    assert (
        "G2082/G2083 include the E/M visit: no separate E/M on the same claim [P3], [P8]."
        in problems
    )


def test_an_unpriced_line_and_a_j3490_without_ndc_are_named():
    lines = (ClaimLine("J3490", (), 1, 0, (1,), datetime.date(2031, 6, 2)),)
    problems = claim_rules.claim_problems(a_claim(lines=lines, total_cents=0))
    assert "Line 1 (J3490), box 24F: no charge: set its price in the fee schedule." in problems
    assert "Line 1 (J3490): J3490 needs the drug's 11-digit NDC [P13], [P18]." in problems


# --------------------------------------------------------------------------- from a charge


@pytest.fixture
def billing_settings(settings):
    settings.BILLING_PROVIDER_NAME = "Harbor Ketamine Clinic"
    settings.BILLING_PROVIDER_NPI = VALID_NPI
    settings.BILLING_TAX_ID = "123456789"
    settings.BILLING_CONTACT_NAME = "Billing Office"
    settings.BILLING_CONTACT_PHONE = "(617) 555-0100"
    settings.CLEARINGHOUSE_NAME = "Example Clearinghouse"
    settings.CLEARINGHOUSE_SENDER_ID = "HARBORKC"
    settings.CLEARINGHOUSE_RECEIVER_ID = "EXCHOUSE"
    Location.objects.update(
        address_line1="100 Harbor Street", city="Boston", state="MA", postal_code="02110-1234"
    )
    return settings


@pytest.fixture
def covered_charge(iv_signed, billing, front_desk, prescriber, clinic_admin):
    """The IV session's charge, re-coded under a commercial coverage, with the diagnosis,
    the prescriber's NPI and prices for its lines."""
    _, plan = payer_with_plan(billing)
    primary_coverage(front_desk, iv_signed.patient, plan, starts_on=datetime.date(2031, 1, 1))
    diagnoses.diagnosis_record(
        actor=prescriber, patient=iv_signed.patient, code="F33.2", primary=True
    )
    give_npi(clinic_admin, prescriber)
    for code, cents in (("96365", 250_00), ("J3490", 60_00)):
        charges.fee_set(
            actor=billing, code=code, price_cents=cents, effective_on=datetime.date(2031, 1, 1)
        )
    from clinic.patients.models import Patient

    Patient.objects.filter(pk=iv_signed.patient_id).update(
        address_line1="12 Elm Street", city="Quincy", region="MA", postal_code="02169"
    )
    charge = Charge.objects.get(session=iv_signed)
    return charges.charge_recode(actor=billing, charge=charge, reason="Coverage on file")


def test_a_self_pay_charge_has_no_claim(iv_signed, billing):
    with pytest.raises(Conflict) as error:
        claims.claim_create(actor=billing, charge=Charge.objects.get(session=iv_signed))
    assert error.value.code == "self_pay"


def test_a_claim_names_what_stops_it_then_exports_as_an_837p_pyx12_accepts(
    covered_charge, billing, billing_settings, settings, tmp_path
):
    settings.BILLING_TAX_ID = ""
    claim = claims.claim_create(actor=billing, charge=covered_charge)
    assert claim.status == ClaimStatus.DRAFT
    assert claim.problems == ["Box 25: the federal tax ID (EIN) is 9 digits (BILLING_TAX_ID)."]

    settings.BILLING_TAX_ID = "123456789"
    claim = claims.claim_check(actor=billing, claim=claim)
    assert (claim.status, claim.problems, claim.total_cents) == ("ready", [], 310_00)
    assert claim.data["diagnosis_codes"] == ["F33.2"]
    assert [line["code"] for line in claim.data["lines"]] == ["96365", "J3490"]

    batch = claims.claims_export(actor=billing, claims=[claim])
    claim.refresh_from_db()
    assert (claim.status, claim.batch_id) == ("exported", batch.pk)
    assert batch.claim_count == 1 and batch.production is False
    assert f"CLM*{claim.claim_number}*310.00***11:B:1*Y*A*Y*Y" in batch.content
    assert "HI*ABK:F332" in batch.content
    assert_pyx12_valid(batch.content, tmp_path)
    with pytest.raises(Conflict):  # what was sent stays as sent
        claims.claim_check(actor=billing, claim=claim)


def test_the_payers_answers_move_the_claim_along(covered_charge, billing, billing_settings):
    claim = claims.claim_create(actor=billing, charge=covered_charge)
    claims.claims_export(actor=billing, claims=[claim])
    with pytest.raises(InvalidInput):  # a rejection gives the reason
        claims.claim_record(actor=billing, claim=claim, to_status="rejected")
    claims.claim_record(
        actor=billing, claim=claim, to_status="accepted", payer_claim_number="AET-99"
    )
    with pytest.raises(Conflict):
        claims.claim_record(actor=billing, claim=claim, to_status="rejected", note="Late")
    claims.claim_record(actor=billing, claim=claim, to_status="denied", note="CO-197 no PA")
    claims.claim_record(actor=billing, claim=claim, to_status="appealed", note="PA attached")
    claims.claim_record(actor=billing, claim=claim, to_status="paid")
    claim.refresh_from_db()
    assert (claim.status, claim.payer_claim_number) == ("paid", "AET-99")
    assert list(
        ClaimStatusChange.objects.filter(claim=claim).values_list("to_status", flat=True)
    ) == ["ready", "exported", "accepted", "denied", "appealed", "paid"]


def test_one_original_claim_per_charge_and_only_billing_makes_it(
    covered_charge, billing, prescriber, front_desk
):
    for actor in (prescriber, front_desk):
        with pytest.raises(PermissionDenied):
            claims.claim_create(actor=actor, charge=covered_charge)
    claims.claim_create(actor=billing, charge=covered_charge)
    with pytest.raises(Conflict):
        claims.claim_create(actor=billing, charge=covered_charge)


def test_no_export_until_the_clearinghouse_is_set(covered_charge, billing, billing_settings):
    billing_settings.CLEARINGHOUSE_SENDER_ID = ""
    claim = claims.claim_create(actor=billing, charge=covered_charge)
    with pytest.raises(Conflict) as error:
        claims.claims_export(actor=billing, claims=[claim])
    assert "CLEARINGHOUSE_SENDER_ID" in error.value.message


# --------------------------------------------------------------------------- pages

CLAIM_PAGE = dict(
    zip(ACTOR_ORDER, ["login", 403, 200, 403, 403, 403, 403, 200, 403, 403, 403], strict=True)
)


@pytest.mark.parametrize("who", ACTOR_ORDER)
def test_the_claim_page_permission_matrix(covered_charge, billing, client, actors, who):
    claim = claims.claim_create(actor=billing, charge=covered_charge)
    url = reverse("billing:claim", args=[claim.uuid])
    assert status_word(client_as(client, actors[who]).get(url)) == CLAIM_PAGE[who]


def test_billing_exports_from_the_queue_and_downloads_the_file(
    covered_charge, billing, billing_settings, client, actors
):
    client = client_as(client, actors["billing"])
    response = client.post(reverse("billing:claim_create", args=[covered_charge.uuid]))
    assert response.status_code == 302
    home = client.get(reverse("billing:queue")).content.decode()
    assert "Export the 1 ready as an 837P file" in home
    response = client.post(reverse("billing:claims_export"), follow=True)
    page = response.content.decode()
    assert "837P file 1 written with 1 claim(s)" in page and "download it" in page
    claim = covered_charge.claims.get()
    waiting = page.split("Waiting on the clearinghouse or the payer")[1].split("</ul>")[0]
    assert claim.claim_number in waiting and "exported since" in waiting
    download = client.get(reverse("billing:batch_download", args=[claim.batch.uuid]))
    assert download["Content-Disposition"] == 'attachment; filename="837p-1.txt"'
    assert download.content.decode().startswith("ISA*")
    assert (
        client_as(client, actors["front_desk"])
        .get(reverse("billing:batch_download", args=[claim.batch.uuid]))
        .status_code
        == 403
    )


def test_the_queue_lists_insured_charges_without_a_claim_and_makes_them(
    covered_charge, billing_settings, client, actors
):
    client = client_as(client, actors["billing"])
    home = client.get(reverse("billing:queue")).content.decode()
    unclaimed = home.split("Insured charges without a claim")[1].split("</form>")[0]
    assert covered_charge.patient.display_name in unclaimed and "Aetna" in unclaimed
    assert "Make the claims for the 1 listed" in unclaimed

    response = client.post(reverse("billing:claims_create_batch"), follow=True)
    page = response.content.decode()
    assert "1 claim ready to export." in page
    assert "Every insured charge has its claim." in page
    assert covered_charge.claims.get().status == "ready"
    again = client.post(reverse("billing:claims_create_batch"), follow=True)
    assert "0 claims ready to export." in again.content.decode()
    assert covered_charge.claims.count() == 1


def test_a_self_pay_charge_is_not_listed_for_a_claim(iv_signed, client, actors):
    client = client_as(client, actors["billing"])
    assert (
        "Every insured charge has its claim."
        in client.get(reverse("billing:queue")).content.decode()
    )


@pytest.mark.parametrize("who", ["front_desk", "clinic_admin", "prescriber"])
def test_only_billing_makes_claims_from_the_queue(covered_charge, client, actors, who):
    response = client_as(client, actors[who]).post(reverse("billing:claims_create_batch"))
    assert response.status_code == 403
    assert not covered_charge.claims.exists()
