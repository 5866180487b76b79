# ruff: noqa: F811 (fixtures imported by name, then used)
"""Replacement (frequency 7) and void (frequency 8) claims: box 22 / CLM05-3 and REF*F8 with
the payer's claim number of the claim corrected [P29] (docs/clinical/billing.md §5, §6),
checked and exported as any claim, the earlier claim kept as sent."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clinic.billing.models import Claim
from clinic.billing.services import claims
from clinic.billing.services.claim_corrections import claim_correct
from clinic.billing.tests.test_claims import billing_settings, covered_charge  # noqa: F401
from clinic.billing.tests.test_x12_837p import assert_pyx12_valid
from clinic.core.exceptions import Conflict, InvalidInput, PermissionDenied
from tests.helpers import ACTOR_ORDER, client_as, status_word

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_claim(covered_charge, billing, billing_settings):
    claim = claims.claim_create(actor=billing, charge=covered_charge)
    claims.claims_export(actor=billing, claims=[claim])
    claims.claim_record(
        actor=billing, claim=claim, to_status="accepted", payer_claim_number="AET-2031-0042"
    )
    return claims.claim_record(actor=billing, claim=claim, to_status="paid")


def test_a_replacement_names_the_payers_claim_and_exports(paid_claim, billing, tmp_path):
    replacement = claim_correct(
        actor=billing, claim=paid_claim, kind="replacement", reason="Wrong units on J3490"
    )
    assert (replacement.frequency_code, replacement.status) == ("7", "ready")
    assert replacement.data["original_reference"] == "AET-2031-0042"
    batch = claims.claims_export(actor=billing, claims=[replacement])
    assert f"CLM*{replacement.claim_number}*310.00***11:B:7*Y*A*Y*Y" in batch.content
    assert "REF*F8*AET-2031-0042~" in batch.content
    assert_pyx12_valid(batch.content, tmp_path)
    paid_claim.refresh_from_db()
    assert paid_claim.status == "paid"  # the earlier claim stays as it was


def test_a_void_is_frequency_8(paid_claim, billing):
    void = claim_correct(actor=billing, claim=paid_claim, kind="void", reason="Billed in error")
    assert void.frequency_code == "8" and void.replaces_id == paid_claim.pk


def test_one_correction_at_a_time(paid_claim, billing):
    first = claim_correct(actor=billing, claim=paid_claim, kind="replacement", reason="Units")
    with pytest.raises(Conflict) as error:
        claim_correct(actor=billing, claim=paid_claim, kind="void", reason="Cancel")
    assert first.claim_number in str(error.value)


def test_a_claim_the_payer_does_not_have_is_not_corrected(
    covered_charge, billing, billing_settings
):
    claim = claims.claim_create(actor=billing, charge=covered_charge)
    with pytest.raises(Conflict) as error:
        claim_correct(actor=billing, claim=claim, kind="replacement", reason="Units")
    assert "only a claim the payer has" in str(error.value)


def test_without_the_payers_claim_number_it_says_to_record_it(
    covered_charge, billing, billing_settings
):
    claim = claims.claim_create(actor=billing, charge=covered_charge)
    claims.claims_export(actor=billing, claims=[claim])
    claims.claim_record(actor=billing, claim=claim, to_status="accepted")
    with pytest.raises(InvalidInput) as error:
        claim_correct(actor=billing, claim=claim, kind="void", reason="Cancel")
    assert "payer's claim number first" in error.value.errors["kind"][0]


def test_a_correction_says_why_and_only_billing_makes_it(paid_claim, billing, clinic_admin):
    with pytest.raises(InvalidInput):
        claim_correct(actor=billing, claim=paid_claim, kind="replacement", reason=" ")
    with pytest.raises(PermissionDenied):
        claim_correct(actor=clinic_admin, claim=paid_claim, kind="replacement", reason="Units")
    assert not Claim.objects.filter(replaces=paid_claim).exists()


CORRECT = dict(
    zip(ACTOR_ORDER, ["login", 403, 403, 403, 403, 403, 403, 302, 403, 403, 403], strict=True)
)


@pytest.mark.parametrize("who", ACTOR_ORDER)
def test_the_correction_permission_matrix(paid_claim, client, actors, who):
    client = client_as(client, actors[who])
    url = reverse("billing:claim_correct", args=[paid_claim.uuid])
    response = client.post(url, {"kind": "void", "reason": "Billed in error"})
    assert status_word(response) == CORRECT[who]


def test_the_claim_page_offers_the_correction_and_links_both_ways(paid_claim, client, actors):
    billing = client_as(client, actors["billing"])
    page = billing.get(reverse("billing:claim", args=[paid_claim.uuid])).content.decode()
    assert "Correct the claim at the payer" in page
    response = billing.post(
        reverse("billing:claim_correct", args=[paid_claim.uuid]),
        {"kind": "replacement", "reason": "Wrong units"},
    )
    replacement = Claim.objects.get(replaces=paid_claim)
    assert response["Location"] == reverse("billing:claim", args=[replacement.uuid])
    page = billing.get(response["Location"]).content.decode()
    assert f'Replaces claim <a href="{reverse("billing:claim", args=[paid_claim.uuid])}">' in page
    original = billing.get(reverse("billing:claim", args=[paid_claim.uuid])).content.decode()
    assert (
        f'Replaced by claim <a href="{reverse("billing:claim", args=[replacement.uuid])}">'
        in original
    )
