# ruff: noqa: F811 (fixtures imported by name, then used)
"""An esketamine patient's course authorized, coded and billed exactly, end to end through
the services: the payer approves one session (PA-2031-7, 06/01/2031–08/31/2031); the 56 mg
session of Monday 2 June 2031 is signed under the commercial coverage and coded J0013 × 56
[P6]–[P8]; at the clinic's $40.00 per mg that is 56 × $40.00 = $2,240.00. The claim carries
the authorization in box 23 (REF*G1) and exports as an 837P pyx12 accepts; the payer accepts
and pays, the insurer's $2,240.00 is posted and the balance is zero; the approval is used up
and the billing queue says so."""

from __future__ import annotations

import datetime

import pytest

from clinic.billing.models import Charge
from clinic.billing.selectors_accounts import account_get
from clinic.billing.selectors_prior_auth import approvals_needing_attention
from clinic.billing.services import charges, claims, diagnoses, payments
from clinic.billing.services import prior_auth as prior_auth_services
from clinic.billing.tests.conftest import COMPLETE_REMS, sign
from clinic.billing.tests.factories import give_npi, payer_with_plan, primary_coverage
from clinic.billing.tests.test_claims import billing_settings  # noqa: F401
from clinic.billing.tests.test_x12_837p import assert_pyx12_valid
from clinic.treatment_sessions import services as sessions

pytestmark = pytest.mark.django_db

DAY = datetime.date(2031, 6, 2)


def test_an_esketamine_course_is_authorized_coded_billed_and_paid(
    esketamine_discharged,
    nurse,
    prescriber,
    billing,
    front_desk,
    clinic_admin,
    billing_settings,
    tmp_path,
):
    patient = esketamine_discharged.patient
    _, plan = payer_with_plan(billing)
    coverage = primary_coverage(front_desk, patient, plan, starts_on=datetime.date(2031, 1, 1))
    diagnoses.diagnosis_record(actor=prescriber, patient=patient, code="F33.2", primary=True)
    give_npi(clinic_admin, prescriber)
    patient.address_line1, patient.city, patient.region, patient.postal_code = (
        "12 Elm Street",
        "Quincy",
        "MA",
        "02169",
    )
    patient.save()
    charges.fee_set(
        actor=billing, code="J0013", price_cents=40_00, effective_on=datetime.date(2031, 1, 1)
    )
    request = prior_auth_services.prior_auth_create(
        actor=billing, patient=patient, coverage=coverage, route="esketamine"
    )
    prior_auth_services.prior_auth_submit(actor=billing, authorization=request)
    prior_auth_services.prior_auth_approve(
        actor=billing,
        authorization=request,
        approval=prior_auth_services.Approval(
            "PA-2031-7", 1, datetime.date(2031, 6, 1), datetime.date(2031, 8, 31)
        ),
    )

    sessions.rems_form_save(actor=nurse, session=esketamine_discharged, values=COMPLETE_REMS)
    signed = sign(esketamine_discharged, nurse, prescriber)
    charge = Charge.objects.get(session=signed)
    lines = [
        (line.code, line.units, line.amount_cents)
        for line in charge.lines.filter(entered_in_error_at__isnull=True)
    ]
    assert lines == [("J0013", 56, 2_240_00)]

    claim = claims.claim_create(actor=billing, charge=charge)
    assert (claim.status, claim.problems, claim.total_cents) == ("ready", [], 2_240_00)
    assert claim.data["prior_authorization"] == "PA-2031-7"
    batch = claims.claims_export(actor=billing, claims=[claim])
    assert "REF*G1*PA-2031-7~" in batch.content
    assert "SV1*HC:J0013*2240.00*UN*56" in batch.content
    assert_pyx12_valid(batch.content, tmp_path)

    claims.claim_record(actor=billing, claim=claim, to_status="accepted", payer_claim_number="P1")
    claims.claim_record(actor=billing, claim=claim, to_status="paid")
    payments.payment_record(
        actor=billing,
        patient=patient,
        entry=payments.PaymentEntry(
            source="insurer",
            method="eft",
            amount_cents=2_240_00,
            received_on=DAY,
            reference="EFT-1",
            charge=charge,
            claim=claim,
        ),
    )
    assert account_get(actor=billing, patient=patient).totals.balance_cents == 0

    attention = approvals_needing_attention(actor=billing)
    used_up = [row for row in attention.rows if row.authorization.pk == request.pk]
    assert [(row.usage.used, row.usage.left) for row in used_up] == [(1, 0)]
