# ruff: noqa: F811 (fixtures imported by name, then used)
"""Posting an 835 remittance (ASC X12 005010X221A1). The claim is the IV session's commercial
claim of Monday 2 June 2031, $310.00 (test_claims' `covered_charge`). In the file the payer
processed it as primary (CLP02 1) and paid $248.00, with a $22.00 contractual adjustment
(CAS*CO*45) and $40.00 the patient owes (CAS*PR*2): 248 + 22 + 40 = 310. So the account keeps
$310.00 - $248.00 - $22.00 = $40.00, the patient's part."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clinic.billing.era_835 import RemittanceError, parse_835
from clinic.billing.models import Payment, Remittance
from clinic.billing.selectors_accounts import account_get
from clinic.billing.services import claims
from clinic.billing.services.remittances import remittance_import
from clinic.billing.tests.test_claims import billing_settings, covered_charge  # noqa: F401
from clinic.core.exceptions import Conflict, InvalidInput
from tests.helpers import ACTOR_ORDER, client_as, status_word

pytestmark = pytest.mark.django_db

ISA = (
    "ISA*00*          *00*          *ZZ*AETNA          *ZZ*HARBORKC       "
    "*310602*1200*^*00501*000000777*0*T*:~"
)


def an_835(
    claim_number: str,
    *,
    status="1",
    paid="248",
    cas=("CAS*CO*45*22", "CAS*PR*2*40"),
    paid_on="20310602",
):
    transaction = [
        "ST*835*0001",
        f"BPR*I*{paid}*C*ACH*CCP*01*999999999*DA*123456*1512345678**01*999988880*DA*98765*{paid_on}",
        "TRN*1*EFT-835-0001*1512345678",
        "N1*PR*AETNA",
        "N3*151 FARMINGTON AVE",
        "N4*HARTFORD*CT*06156",
        "PER*BL*EDI SUPPORT*TE*8005551212",
        "N1*PE*HARBOR KETAMINE CLINIC*XX*1234567893",
        "LX*1",
        f"CLP*{claim_number}*{status}*310*{paid}*40*12*AET-2031-0042",
        *cas,
        "NM1*QC*1*RIVERA*JORDAN****MI*W123456789",
        "SVC*HC:96365*250*200**1",
        "SVC*HC:J3490*60*48**1",
    ]
    transaction.append(f"SE*{len(transaction) + 1}*0001")
    body = [
        "GS*HP*AETNA*HARBORKC*20310602*1200*777*X*005010X221A1",
        *transaction,
        "GE*1*777",
        "IEA*1*000000777",
    ]
    return ISA + "".join(segment + "~\n" for segment in body)


def test_the_sample_remittance_is_a_valid_835(tmp_path):
    """pyx12 checks the sample against the 835 implementation guide's map. (Its 999 writer
    fails on an 835, so the verdict and the logged errors are read instead.)"""
    import io
    import logging

    from pyx12 import params, x12n_document

    source = tmp_path / "era.835"
    source.write_text(an_835("A1B2C3D4E5F6"), encoding="ascii")
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    handler.setLevel(logging.ERROR)
    logger = logging.getLogger("pyx12")
    logger.addHandler(handler)
    try:
        ok = x12n_document.x12n_document(
            param=params.params(), src_file=str(source), fd_997=None, fd_html=None, fd_xmldoc=None
        )
    finally:
        logger.removeHandler(handler)
    assert ok and not log.getvalue(), log.getvalue()


@pytest.fixture
def exported_claim(covered_charge, billing, billing_settings):
    claim = claims.claim_create(actor=billing, charge=covered_charge)
    claims.claims_export(actor=billing, claims=[claim])
    claim.refresh_from_db()
    return claim


def test_the_reader_takes_the_payment_and_each_claims_adjustments():
    remittance = parse_835(an_835("A1B2C3D4E5F6"))
    assert (remittance.payer_name, remittance.paid_cents, remittance.method) == (
        "AETNA",
        248_00,
        "ACH",
    )
    assert (remittance.trace_number, remittance.paid_on.isoformat()) == (
        "EFT-835-0001",
        "2031-06-02",
    )
    [claim] = remittance.claims
    assert (claim.patient_control_number, claim.status_code, claim.paid_cents) == (
        "A1B2C3D4E5F6",
        "1",
        248_00,
    )
    assert [(a.group, a.reason, a.cents) for a in claim.adjustments] == [
        ("CO", "45", 22_00),
        ("PR", "2", 40_00),
    ]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("hello", "does not begin with an ISA"),
        (ISA + "GS*HC~ST*837*0001~", "no ST*835"),
    ],
)
def test_a_file_that_is_not_an_835_is_refused_with_the_reason(text, words):
    with pytest.raises(RemittanceError) as error:
        parse_835(text)
    assert words in str(error.value)


def test_a_paid_claim_is_posted_and_the_patient_keeps_their_part(exported_claim, billing):
    remittance = remittance_import(actor=billing, content=an_835(exported_claim.claim_number))
    exported_claim.refresh_from_db()
    assert (exported_claim.status, exported_claim.payer_claim_number) == ("paid", "AET-2031-0042")
    posted = Payment.objects.filter(claim=exported_claim).order_by("id")
    assert [(p.source, p.method, p.amount_cents, p.reference) for p in posted] == [
        ("insurer", "eft", 248_00, "EFT-835-0001"),
        ("adjustment", "none", 22_00, "EFT-835-0001"),
    ]
    assert "CO-45 $22.00" in posted[1].note
    account = account_get(actor=billing, patient=exported_claim.patient)
    assert account.totals.balance_cents == 40_00
    [row] = remittance.results
    assert row["posted"] is True
    assert row["outcome"] == (
        "Marked paid; the insurer's $248.00 posted; $22.00 adjusted off; the patient owes $40.00."
    )


def test_a_denial_is_recorded_with_the_payers_codes_and_nothing_posted(exported_claim, billing):
    remittance_import(
        actor=billing,
        content=an_835(exported_claim.claim_number, status="4", paid="0", cas=("CAS*CO*197*310",)),
    )
    exported_claim.refresh_from_db()
    assert exported_claim.status == "denied"
    assert "CO-197 $310.00" in exported_claim.changes.order_by("-id").first().note
    assert not Payment.objects.filter(claim=exported_claim).exists()


def test_a_file_is_posted_once(exported_claim, billing):
    text = an_835(exported_claim.claim_number)
    remittance_import(actor=billing, content=text)
    with pytest.raises(Conflict):
        remittance_import(actor=billing, content=text)
    assert Payment.objects.filter(claim=exported_claim, source="insurer").count() == 1


def test_an_unknown_claim_or_a_reversal_is_left_for_billing_by_hand(exported_claim, billing):
    unknown = remittance_import(actor=billing, content=an_835("FFFFFFFFFFFF"))
    assert unknown.results[0]["posted"] is False
    assert "No claim with this number" in unknown.results[0]["outcome"]
    reversal = remittance_import(
        actor=billing, content=an_835(exported_claim.claim_number, status="22", paid="-248")
    )
    assert "reversal of a previous payment" in reversal.results[0]["outcome"]
    assert not Payment.objects.exists()


def test_a_claim_already_answered_is_not_posted_again(exported_claim, billing):
    claims.claim_record(actor=billing, claim=exported_claim, to_status="accepted")
    claims.claim_record(actor=billing, claim=exported_claim, to_status="paid")
    remittance = remittance_import(actor=billing, content=an_835(exported_claim.claim_number))
    assert remittance.results[0]["posted"] is False
    assert "Not posted" in remittance.results[0]["outcome"]
    assert not Payment.objects.exists()


def test_a_malformed_file_is_refused_and_nothing_kept(billing):
    with pytest.raises(InvalidInput):
        remittance_import(actor=billing, content="not an 835")
    assert not Remittance.objects.exists()


PAGE = dict(
    zip(ACTOR_ORDER, ["login", 403, 403, 403, 403, 403, 403, 200, 403, 403, 403], strict=True)
)


@pytest.mark.parametrize("who", ACTOR_ORDER)
def test_the_remittance_page_permission_matrix(client, actors, who):
    client = client_as(client, actors[who])
    assert status_word(client.get(reverse("billing:remittances"))) == PAGE[who]


def test_billing_uploads_an_835_and_reads_what_was_posted(exported_claim, client, actors):
    client = client_as(client, actors["billing"])
    upload = SimpleUploadedFile(
        "era.835", an_835(exported_claim.claim_number).encode(), content_type="text/plain"
    )
    response = client.post(reverse("billing:remittances"), {"file": upload}, follow=True)
    page = response.content.decode()
    assert "1 claim posted." in page
    assert exported_claim.claim_number in page and "the patient owes $40.00" in page
    bad = SimpleUploadedFile("era.835", b"hello", content_type="text/plain")
    refused = client.post(reverse("billing:remittances"), {"file": bad})
    assert refused.status_code == 422
    assert "does not begin with an ISA segment" in refused.content.decode()


def test_a_payment_that_differs_from_its_claims_is_flagged(exported_claim, client, actors):
    # The payer paid $238.00 in all for a claim paid $248.00: $10.00 recovered at the
    # provider level (PLB), which is not posted per claim and must be said.
    text = an_835(exported_claim.claim_number).replace("BPR*I*248*", "BPR*I*238*")
    remittance = remittance_import(actor=actors["billing"], content=text)
    assert remittance.unexplained_cents == -10_00
    page = client_as(client, actors["billing"]).get(
        reverse("billing:remittance", args=[remittance.uuid])
    )
    assert "differ by $10.00" in page.content.decode()
