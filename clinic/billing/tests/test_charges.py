"""Charges from signed sessions: the codes follow the rules of docs/clinical/billing.md (infusion
time [P16], esketamine by payer [P3]-[P8], psychotherapy from its minutes [P17], modifier 25
[P15]); the fee schedule prices each line; re-coding amends, never edits; a charge that cannot
be coded waits in the queue with the reason; and the signature never fails for billing's sake.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from clinic.billing import session_codes
from clinic.billing.models import Charge, ChargeLine, VisitCode
from clinic.billing.selectors_charges import billing_queue, charge_get, fee_schedule
from clinic.billing.services import charges
from clinic.billing.tests.conftest import MONDAY
from clinic.billing.tests.factories import payer_with_plan, primary_coverage
from clinic.core.exceptions import Conflict, InvalidInput, NotFound, PermissionDenied
from clinic.core.models import AuditEvent
from clinic.treatment_sessions import rules

pytestmark = pytest.mark.django_db


def active_lines(charge: Charge) -> list[tuple[str, int, str, str]]:
    return [
        (line.code, line.units, line.modifiers, line.ndc)
        for line in ChargeLine.objects.filter(charge=charge, entered_in_error_at__isnull=True)
    ]


def charge_of(session) -> Charge:
    return Charge.objects.get(session=session)


# --------------------------------------------------------------------------- pure rules


@pytest.mark.parametrize(
    ("minutes", "alone", "beside_e_m"),
    [
        (16, "90832", "90833"),
        (37, "90832", "90833"),
        (38, "90834", "90836"),
        (52, "90834", "90836"),
        (53, "90837", "90838"),
        (90, "90837", "90838"),
    ],
)
def test_psychotherapy_is_coded_from_its_minutes(minutes, alone, beside_e_m):
    # Time bands 16-37 / 38-52 / >= 53 minutes [P17].
    assert session_codes.psychotherapy_code(minutes, with_e_m=False) == alone
    assert session_codes.psychotherapy_code(minutes, with_e_m=True) == beside_e_m


def test_fifteen_minutes_of_psychotherapy_is_not_psychotherapy():
    with pytest.raises(session_codes.CodingError) as error:
        session_codes.psychotherapy_code(15, with_e_m=False)
    assert error.value.field == "minutes"


def _event(kind, minute, second=0):
    return rules.InfusionEvent(
        kind=kind,
        at=datetime.datetime(2031, 6, 2, 9, 0, tzinfo=datetime.UTC)
        + datetime.timedelta(minutes=minute, seconds=second),
    )


def test_infusion_minutes_exclude_pauses_and_drop_an_unfinished_minute():
    # Ran 0-10 and 15-30: 25 minutes; a stop 50 s into minute 16 is still 15 (a push).
    paused = [_event("start", 0), _event("pause", 10), _event("resume", 15), _event("stop", 30)]
    assert rules.infusion_minutes_run(paused) == 25
    assert rules.infusion_minutes_run([_event("start", 0), _event("stop", 15, 50)]) == 15
    assert rules.infusion_minutes_run([_event("start", 0), _event("pause", 10)]) is None


@pytest.mark.parametrize(
    ("raw", "eleven"),
    [
        ("12345678901", "12345678901"),
        ("12345-6789-01", "12345678901"),
        ("1234-5678-90", "01234567890"),  # 4-4-2: the labeller gets the leading zero
        ("12345-678-90", "12345067890"),  # 5-3-2: the product
        ("12345-6789-0", "12345678900"),  # 5-4-1: the package
        ("1234567890", ""),  # 10 digits without hyphens: which segment is short is unknown
        ("", ""),
    ],
)
def test_a_products_ndc_is_carried_in_its_eleven_digit_form(raw, eleven):
    assert charges.ndc_11(raw) == eleven


# --------------------------------------------------------------------------- at the signature


def test_a_signed_iv_session_is_coded_at_once(iv_signed, prescriber):
    charge = charge_of(iv_signed)

    # 40 minutes run (09:00-09:40) -> 96365, no add-on; clinic stock -> J3490 with the NDC;
    # no coverage on file -> self-pay. The first signed session: a new patient.
    assert (charge.route, charge.infusion_minutes, charge.payer_rules) == ("iv", 40, "self_pay")
    assert charge.date_of_service == MONDAY
    assert charge.established_patient is False
    assert charge.rendering_provider == prescriber
    assert active_lines(charge) == [("96365", 1, "", ""), ("J3490", 1, "", "00000000000")]
    assert charge.coding_problem == ""
    assert AuditEvent.objects.filter(object_type="charge", object_id=str(charge.uuid)).exists()


def test_esketamine_for_a_commercial_plan_is_j0013_per_mg(
    esketamine_discharged, nurse, prescriber, billing, front_desk
):
    from clinic.billing.tests.conftest import COMPLETE_REMS, sign
    from clinic.treatment_sessions import services

    _, plan = payer_with_plan(billing)
    primary_coverage(front_desk, esketamine_discharged.patient, plan)
    services.rems_form_save(actor=nurse, session=esketamine_discharged, values=COMPLETE_REMS)
    signed = sign(esketamine_discharged, nurse, prescriber)

    charge = charge_of(signed)
    # 56 mg on a 2031 date of service, drug from the clinic's stock: J0013 x 56 [P6]-[P8].
    assert (charge.payer_rules, charge.esketamine_mg) == ("commercial", 56)
    assert active_lines(charge) == [("J0013", 56, "", "")]


def test_esketamine_for_a_new_medicare_patient_waits_with_the_reason(
    esketamine_discharged, nurse, prescriber, billing, front_desk
):
    from clinic.billing.tests.conftest import COMPLETE_REMS, sign
    from clinic.treatment_sessions import services

    _, plan = payer_with_plan(
        billing, name="Medicare Part B", payer_id="12502", kind="medicare", plan="Part B"
    )
    primary_coverage(front_desk, esketamine_discharged.patient, plan)
    services.rems_form_save(actor=nurse, session=esketamine_discharged, values=COMPLETE_REMS)
    signed = sign(esketamine_discharged, nurse, prescriber)

    charge = charge_of(signed)
    # G2082/G2083 are for established patients only [P4]: no lines, the reason kept, and the
    # charge in the billing queue.
    assert charge.payer_rules == "medicare"
    assert active_lines(charge) == []
    assert charge.coding_problem.startswith("New patient: G2082/G2083 are for established")
    queue = billing_queue(actor=billing)
    assert [c.pk for c in queue.problems] == [charge.pk]
    assert queue.problems_count == 1


def test_a_failure_in_billing_never_costs_the_signature(
    iv_discharged, nurse, prescriber, billing, clock, monkeypatch
):
    from clinic.billing.tests.conftest import sign

    def broken(*args, **kwargs):
        raise RuntimeError("billing is down")

    monkeypatch.setattr(charges, "_write_coding", broken)
    signed = sign(iv_discharged, nurse, prescriber)

    assert signed.is_signed
    assert not Charge.objects.filter(session=signed).exists()
    queue = billing_queue(actor=billing)
    assert [s.pk for s in queue.uncharged] == [signed.pk]

    monkeypatch.undo()
    charge = charges.charge_code_session(actor=billing, session=signed)
    assert active_lines(charge) == [("96365", 1, "", ""), ("J3490", 1, "", "00000000000")]
    assert billing_queue(actor=billing).uncharged == []
    with pytest.raises(Conflict):
        charges.charge_code_session(actor=billing, session=signed)


# --------------------------------------------------------------------------- prices


def test_the_fee_schedule_prices_each_line_by_the_date_of_service(
    iv_discharged, nurse, prescriber, billing
):
    from clinic.billing.tests.conftest import sign

    charges.fee_set(
        actor=billing, code="96365", price_cents=250_00, effective_on=datetime.date(2031, 1, 1)
    )
    # A later price does not reach back; one from after the date of service does not apply.
    charges.fee_set(
        actor=billing, code="96365", price_cents=275_00, effective_on=datetime.date(2031, 6, 1)
    )
    charges.fee_set(
        actor=billing, code="96365", price_cents=300_00, effective_on=datetime.date(2031, 7, 1)
    )
    charge = charge_of(sign(iv_discharged, nurse, prescriber))

    priced = {
        line.code: (line.unit_price_cents, line.amount_cents)
        for line in charge.lines.filter(entered_in_error_at__isnull=True)
    }
    assert priced == {"96365": (275_00, 275_00), "J3490": (None, None)}
    queue = billing_queue(actor=billing)
    assert [(row.charge.pk, row.total_cents, row.unpriced_lines) for row in queue.unpriced] == [
        (charge.pk, 275_00, 1)
    ]


def test_a_second_price_on_the_same_day_is_refused_until_the_first_is_marked_wrong(billing):
    first_of_month = timezone.localdate().replace(day=1)
    first = charges.fee_set(
        actor=billing, code="J0013", price_cents=40_00, effective_on=first_of_month
    )
    with pytest.raises(InvalidInput) as error:
        charges.fee_set(actor=billing, code="j0013", price_cents=45_00, effective_on=first_of_month)
    assert "effective_on" in error.value.errors
    charges.fee_mark_entered_in_error(actor=billing, entry=first, reason="Typed the old price")
    charges.fee_set(actor=billing, code="J0013", price_cents=45_00, effective_on=first_of_month)
    row = next(r for r in fee_schedule(actor=billing) if r.code == "J0013")
    assert row.current is not None and row.current.price_cents == 45_00
    assert [e.price_cents for e in row.past] == [40_00]


@pytest.mark.parametrize(
    ("code", "cents", "field"),
    [("J3000", 100, "code"), ("99999", 100, "code"), ("96365", 10_000_01, "price")],
)
def test_the_fee_schedule_takes_only_codes_a_charge_carries(billing, code, cents, field):
    with pytest.raises(InvalidInput) as error:
        charges.fee_set(
            actor=billing, code=code, price_cents=cents, effective_on=datetime.date(2031, 1, 1)
        )
    assert field in error.value.errors


def test_only_billing_and_the_administrator_set_prices(nurse, prescriber, front_desk):
    for actor in (nurse, prescriber, front_desk):
        with pytest.raises(PermissionDenied):
            charges.fee_set(
                actor=actor, code="96365", price_cents=1, effective_on=datetime.date(2031, 1, 1)
            )


# --------------------------------------------------------------------------- amend, never edit


def test_adding_coverage_then_re_coding_keeps_the_lines_it_replaced(iv_signed, billing, front_desk):
    charge = charge_of(iv_signed)
    _, plan = payer_with_plan(billing)
    primary_coverage(front_desk, iv_signed.patient, plan, starts_on=datetime.date(2031, 1, 1))

    with pytest.raises(InvalidInput):
        charges.charge_recode(actor=billing, charge=charge, reason="  ")
    charges.charge_recode(actor=billing, charge=charge, reason="Coverage added after the visit")

    charge.refresh_from_db()
    assert charge.payer_rules == "commercial"
    assert charge.coverage is not None
    assert active_lines(charge) == [("96365", 1, "", ""), ("J3490", 1, "", "00000000000")]
    replaced = ChargeLine.objects.filter(charge=charge, entered_in_error_at__isnull=False)
    assert replaced.count() == 2
    assert {line.entered_in_error_reason for line in replaced} == {
        "re-coded: Coverage added after the visit"
    }


def test_only_billing_re_codes(iv_signed, prescriber, front_desk, clinic_admin):
    charge = charge_of(iv_signed)
    for actor in (prescriber, front_desk, clinic_admin):
        with pytest.raises(PermissionDenied):
            charges.charge_recode(actor=actor, charge=charge, reason="Why not")


# --------------------------------------------------------------------------- visit codes


def test_psychotherapy_then_an_e_m_re_codes_both(iv_signed, prescriber, therapist):
    charge = charge_of(iv_signed)

    charges.visit_code_add(actor=therapist, charge=charge, kind="psychotherapy", minutes=40)
    assert active_lines(charge)[-1] == ("90834", 1, "", "")

    # With an E/M the psychotherapy becomes the add-on; the E/M beside the infusion carries
    # modifier 25 [P15], [P17].
    charges.visit_code_add(actor=prescriber, charge=charge, kind="e_m", code="99214")
    assert active_lines(charge) == [
        ("96365", 1, "", ""),
        ("J3490", 1, "", "00000000000"),
        ("90836", 1, "", ""),
        ("99214", 1, "25", ""),
    ]
    minutes = {
        line.code: line.visit_code.minutes
        for line in charge.lines.filter(entered_in_error_at__isnull=True, visit_code__isnull=False)
    }
    assert minutes == {"90836": 40, "99214": None}

    with pytest.raises(InvalidInput) as error:
        charges.visit_code_add(actor=prescriber, charge=charge, kind="e_m", code="99213")
    assert error.value.errors["code"] == ["This session already has 99214: mark it in error first."]

    e_m = VisitCode.objects.get(charge=charge, code="99214")
    charges.visit_code_mark_entered_in_error(actor=prescriber, visit=e_m, reason="Not billed")
    assert active_lines(charge)[-1] == ("90834", 1, "", "")


def test_psychotherapy_under_sixteen_minutes_is_refused(iv_signed, therapist):
    with pytest.raises(InvalidInput) as error:
        charges.visit_code_add(
            actor=therapist, charge=charge_of(iv_signed), kind="psychotherapy", minutes=15
        )
    assert "minutes" in error.value.errors


def test_only_the_care_teams_prescribers_and_therapists_add_visit_codes(
    iv_signed, nurse, billing, make_staff
):
    charge = charge_of(iv_signed)
    stranger = make_staff("prescriber", username="other_prescriber")
    for actor in (nurse, billing, stranger):
        with pytest.raises(PermissionDenied):
            charges.visit_code_add(actor=actor, charge=charge, kind="e_m", code="99213")
    assert not VisitCode.objects.exists()


def test_charges_are_read_by_billing_and_the_care_team_only(
    iv_signed, billing, clinic_admin, prescriber, nurse, front_desk, make_staff
):
    charge = charge_of(iv_signed)
    for actor in (billing, clinic_admin, prescriber):
        assert charge_get(actor=actor, charge_uuid=charge.uuid) == charge
    stranger = make_staff("therapist", username="other_therapist")
    for actor in (front_desk, stranger):
        with pytest.raises((NotFound, PermissionDenied)):
            charge_get(actor=actor, charge_uuid=charge.uuid)
    with pytest.raises(PermissionDenied):
        charge_get(actor=nurse, charge_uuid=charge.uuid)


def test_ketamine_without_an_ndc_is_coded_with_a_warning(iv_signed, billing):
    from clinic.controlled_substances.models import Product

    Product.objects.update(ndc="")
    charge = charges.charge_recode(actor=billing, charge=charge_of(iv_signed), reason="NDC")
    assert active_lines(charge) == [("96365", 1, "", ""), ("J3490", 1, "", "")]
    assert charges.WARNING_NO_NDC in charge.coding_warnings
