"""Prior authorization through the services: the request prefilled from the record (diagnosis,
trials with the rules engine's count and verdict, scores, REMS, NPI), a payer's checklist
showing what is documented and what is missing, the status path draft → submitted → approved
or denied → appealed, approvals checked, sessions using an approval up, and the notices that
warn of booked sessions outside it."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from clinic.assessments.services import response_record
from clinic.billing import prior_auth
from clinic.billing.models import PriorAuthorizationChange
from clinic.billing.selectors_prior_auth import (
    approvals_needing_attention,
    criteria_for,
    prior_auth_get,
    prior_auth_list,
    prior_auth_notices,
)
from clinic.billing.services import diagnoses
from clinic.billing.services import prior_auth as services
from clinic.billing.tests.factories import payer_with_plan, primary_coverage
from clinic.core.exceptions import Conflict, InvalidInput, NotFound, PermissionDenied
from clinic.screening import services as screening
from clinic.screening.tests.test_eligibility import TRD_HISTORY

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


@pytest.fixture
def plan(billing):
    payer, plan = payer_with_plan(billing)
    # Examples of what payers ask (docs/clinical/billing.md §4): 2 failed trials, PHQ-9 15.
    for text, evidence, threshold in [
        ("Adult", "age_adult", None),
        ("MDD diagnosis", "diagnosis", None),
        ("Two failed antidepressants, current episode", "failed_trials", 2),
        ("PHQ-9 of 15 or more", "baseline_phq9", 15),
        ("Enrolled in the Spravato REMS", "rems_enrolled", None),
        ("PDMP checked", "manual", None),
    ]:
        services.criterion_add(
            actor=billing, payer=payer, text=text, evidence=evidence, threshold=threshold
        )
    return plan


@pytest.fixture
def coverage(front_desk, patient, plan):
    return primary_coverage(front_desk, patient, plan)


@pytest.fixture
def documented(patient, nurse, prescriber):
    """The TRD intake of the screening tests (2 failed adequate trials), and a primary F33.2."""
    intake = screening.intake_start(actor=nurse, patient=patient)
    screening.intake_save(actor=nurse, intake=intake, submit=True, **TRD_HISTORY)
    diagnoses.diagnosis_record(actor=prescriber, patient=patient, code="F33.2", primary=True)
    return patient


def _draft(actor, patient, coverage):
    return services.prior_auth_create(
        actor=actor, patient=patient, coverage=coverage, route="esketamine"
    )


def _checklist(authorization):
    return [
        (row.criterion.text, row.documented)
        for row in prior_auth.checklist(authorization, criteria_for(authorization))
    ]


def test_a_draft_is_prefilled_and_the_checklist_shows_what_is_missing(
    documented, coverage, billing, prescriber
):
    authorization = _draft(billing, documented, coverage)

    packet = authorization.packet
    assert packet["diagnosis"]["code"] == "F33.2"
    assert [t["drug"] for t in packet["trials"]] == ["sertraline", "bupropion"]
    assert (packet["failed_adequate_trials"], packet["treatment_resistant"]) == (2, True)
    assert packet["prescriber"]["name"] == prescriber.display_name
    assert packet["coverage"]["member_id"] == "W123456789"
    assert _checklist(authorization) == [
        ("Adult", True),
        ("MDD diagnosis", True),
        ("Two failed antidepressants, current episode", True),
        ("PHQ-9 of 15 or more", False),
        ("Enrolled in the Spravato REMS", False),
        ("PDMP checked", False),
    ]


def test_refreshing_a_draft_reads_the_record_again(
    documented, coverage, billing, prescriber, nurse
):
    authorization = _draft(billing, documented, coverage)
    # PHQ-9 of 16 (2 on each of the first eight items); REMS enrolment by the prescriber.
    response_record(actor=nurse, patient=documented, instrument_code="phq9", answers=[2] * 8 + [0])
    screening.rems_record(
        actor=prescriber,
        patient=documented,
        enrolled_on=TODAY(),
        signed_by_patient=True,
        prescriber=prescriber,
    )
    criterion = next(c for c in criteria_for(authorization) if c.evidence == "manual")
    services.prior_auth_check_by_hand(
        actor=billing, authorization=authorization, criterion=criterion, checked=True
    )

    authorization = services.prior_auth_refresh(actor=billing, authorization=authorization)

    assert authorization.packet["phq9"]["total"] == 16
    assert all(documented for _, documented in _checklist(authorization))


def test_the_status_path_and_its_history(documented, coverage, billing):
    authorization = _draft(billing, documented, coverage)
    with pytest.raises(Conflict):  # an answer before a submission
        services.prior_auth_deny(actor=billing, authorization=authorization, note="No")
    services.prior_auth_submit(actor=billing, authorization=authorization, note="Via portal")
    with pytest.raises(Conflict):  # what was sent stays as sent
        services.prior_auth_refresh(actor=billing, authorization=authorization)
    with pytest.raises(InvalidInput):
        services.prior_auth_deny(actor=billing, authorization=authorization, note=" ")
    services.prior_auth_deny(
        actor=billing, authorization=authorization, note="Only one trial in this episode"
    )
    services.prior_auth_appeal(
        actor=billing, authorization=authorization, note="Both trials were in this episode"
    )
    approved = services.prior_auth_approve(
        actor=billing,
        authorization=authorization,
        approval=services.Approval("PA-2026-0001", 8, TODAY(), TODAY() + datetime.timedelta(90)),
    )
    assert approved.status == "approved"
    history = list(
        PriorAuthorizationChange.objects.filter(authorization=authorization).values_list(
            "from_status", "to_status"
        )
    )
    assert history == [
        ("", "draft"),
        ("draft", "submitted"),
        ("submitted", "denied"),
        ("denied", "appealed"),
        ("appealed", "approved"),
    ]
    with pytest.raises(Conflict):
        services.prior_auth_submit(actor=billing, authorization=authorization)


@pytest.mark.parametrize(
    ("number", "sessions", "starts", "ends", "field"),
    [
        ("", 8, 0, 90, "authorization_number"),
        ("PA-1", 0, 0, 90, "approved_sessions"),
        ("PA-1", 8, None, 90, "starts_on"),
        ("PA-1", 8, 10, 0, "ends_on"),
        ("PA-1", 8, 0, 400, "ends_on"),
    ],
)
def test_an_approval_names_its_number_sessions_and_dates(
    documented, coverage, billing, number, sessions, starts, ends, field
):
    authorization = _draft(billing, documented, coverage)
    services.prior_auth_submit(actor=billing, authorization=authorization)

    def day(offset):
        return None if offset is None else TODAY() + datetime.timedelta(days=offset)

    with pytest.raises(InvalidInput) as error:
        services.prior_auth_approve(
            actor=billing,
            authorization=authorization,
            approval=services.Approval(number, sessions, day(starts), day(ends)),
        )
    assert field in error.value.errors


def test_who_prepares_and_who_reads_a_request(
    documented, coverage, billing, prescriber, nurse, front_desk, therapist, make_staff
):
    authorization = _draft(prescriber, documented, coverage)
    for actor in (nurse, front_desk, therapist):
        with pytest.raises(PermissionDenied):
            _draft(actor, documented, coverage)
    stranger = make_staff("prescriber", username="other_prescriber")
    with pytest.raises(PermissionDenied):
        _draft(stranger, documented, coverage)
    # Front desk reads the status; a nurse does not; a prescriber off the team finds nothing.
    assert prior_auth_get(actor=front_desk, authorization_uuid=authorization.uuid)
    with pytest.raises(PermissionDenied):
        prior_auth_get(actor=nurse, authorization_uuid=authorization.uuid)
    with pytest.raises(NotFound):
        prior_auth_get(actor=stranger, authorization_uuid=authorization.uuid)
    assert prior_auth_list(actor=nurse, patient=documented) == []


def test_a_criterion_with_a_number_needs_the_payers_number(billing, coverage):
    payer = coverage.plan.payer
    with pytest.raises(InvalidInput) as error:
        services.criterion_add(
            actor=billing, payer=payer, text="PHQ-9 high", evidence="baseline_phq9"
        )
    assert "threshold" in error.value.errors
    with pytest.raises(PermissionDenied):
        services.criterion_add(
            actor=coverage.recorded_by, payer=payer, text="Adult", evidence="age_adult"
        )


# --------------------------------------------------------------------------- using it up


def _approved(billing, patient, coverage, *, sessions, days):
    authorization = _draft(billing, patient, coverage)
    services.prior_auth_submit(actor=billing, authorization=authorization)
    return services.prior_auth_approve(
        actor=billing,
        authorization=authorization,
        approval=services.Approval(
            "PA-77", sessions, TODAY() - datetime.timedelta(days=30), TODAY() + days
        ),
    )


def test_an_approval_ending_soon_is_in_the_queue_and_on_the_chart(
    documented, coverage, billing, settings
):
    settings.PRIOR_AUTH_EXPIRY_WARNING_DAYS = 14
    authorization = _approved(
        billing, documented, coverage, sessions=8, days=datetime.timedelta(days=10)
    )
    attention = approvals_needing_attention(actor=billing)
    assert [row.authorization.pk for row in attention.rows] == [authorization.pk]
    assert attention.rows[0].usage.left == 8
    notices = prior_auth_notices(actor=billing, patient=documented)
    ends = TODAY() + datetime.timedelta(days=10)
    assert [(n.level, n.text) for n in notices] == [
        (
            "warning",
            f"Prior authorization PA-77 ends {ends:%m/%d/%Y} (10 days); 8 of 8 sessions left.",
        )
    ]


def test_an_approval_ending_later_is_not_in_the_queue(documented, coverage, billing):
    _approved(billing, documented, coverage, sessions=8, days=datetime.timedelta(days=15))
    assert approvals_needing_attention(actor=billing).count == 0
    assert prior_auth_notices(actor=billing, patient=documented) == []


def test_sessions_use_an_approval_up_and_booked_ones_beyond_it_are_warned_of(
    esketamine_dosed, documented, coverage, billing, chair, nurse, front_desk, clock
):
    from clinic.scheduling.models import Appointment
    from clinic.treatment_sessions.tests.conftest import MONDAY, at

    # One session approved, from a month ago to a week on; today's esketamine dose used it.
    authorization = _approved(
        billing, documented, coverage, sessions=1, days=datetime.timedelta(days=7)
    )
    later = MONDAY + datetime.timedelta(days=3)
    after = MONDAY + datetime.timedelta(days=9)
    for day in (later, after):
        Appointment.objects.create(
            patient=documented,
            chair=chair,
            nurse=nurse,
            starts_at=at(day, 9),
            ends_at=at(day, 11, 30),
            route="esketamine",
            created_by=front_desk,
        )

    notices = [(n.level, n.text) for n in prior_auth_notices(actor=billing, patient=documented)]
    ends = MONDAY + datetime.timedelta(days=7)
    assert notices == [
        ("danger", "Prior authorization PA-77: all 1 approved sessions are used."),
        (
            "warning",
            f"1 booked session after Prior authorization PA-77 ends ({ends:%m/%d/%Y}): "
            f"first on {after:%m/%d/%Y}.",
        ),
        ("warning", "1 booked session beyond the 0 Prior authorization PA-77 has left."),
    ]
    attention = approvals_needing_attention(actor=billing)
    assert [row.authorization.pk for row in attention.rows] == [authorization.pk]
    assert attention.rows[0].usage.used == 1
