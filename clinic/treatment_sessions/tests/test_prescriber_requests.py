"""Decisions the chair waits for: opened at once (a high pre-dose BP) or by the nurse, answered,
declined or withdrawn by the record itself, and e-mailed to the care team's prescribers once
they have waited longer than the clinic's delay.

The pre-dose limit is the clinic-policy default, systolic > 140 or diastolic > 90 mmHg
(policy-defaults.md [C2], [E1]); the e-mail delay is the clinic-policy default of 5 minutes
(KetaCare's default, set per clinic). Times are those of the session fixtures (Monday
2 June 2031): check-in 08:50, the 09:00 IV appointment.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured

from clinic.core.exceptions import Conflict, InvalidInput, NotFound, PermissionDenied
from clinic.core.models import AuditEvent
from clinic.notifications.models import Notification
from clinic.patients.services import care_team_set
from clinic.treatment_sessions import prescriber_requests, services
from clinic.treatment_sessions.models import PrescriberRequest, SessionOverride
from clinic.treatment_sessions.services import prescriber as asks
from clinic.treatment_sessions.tests.conftest import (
    MONDAY,
    at,
    fresh,
    pass_prechecks,
    passing_prechecks,
)

pytestmark = pytest.mark.django_db


def _bp(actor, session, systolic, diastolic):
    return services.vitals_record(
        actor=actor,
        session=session,
        systolic_mmhg=systolic,
        diastolic_mmhg=diastolic,
        heart_rate_bpm=72,
    )


def _requests(session):
    return list(PrescriberRequest.objects.filter(session=session).order_by("created_at", "id"))


# --------------------------------------------------------------------------- the pre-dose BP


def test_a_high_pre_dose_bp_asks_a_prescriber_at_once(iv_checked_in, nurse, patient):
    services.precheck_record(actor=nurse, session=iv_checked_in, data=passing_prechecks())

    _bp(nurse, iv_checked_in, 190, 120)

    (request,) = _requests(iv_checked_in)
    assert (request.kind, request.status, request.requested_by) == ("pre_dose_bp", "open", nurse)
    assert request.about[0] == "Pre-dose BP 190/120 mmHg at 08:50."
    assert any("Systolic 190 mmHg is above 140 mmHg" in line for line in request.about)
    assert any("Diastolic 120 mmHg is above 90 mmHg" in line for line in request.about)
    assert AuditEvent.objects.filter(
        patient=patient,
        object_type="prescriber_request",
        summary="Prescriber asked: Confirm the pre-dose blood pressure",
    ).exists()

    # A second high reading does not open a second request: one waits already.
    _bp(nurse, iv_checked_in, 170, 100)
    assert len(_requests(iv_checked_in)) == 1


def test_a_pre_dose_bp_within_the_limit_asks_nobody(iv_checked_in, nurse):
    _bp(nurse, iv_checked_in, 140, 90)  # not above 140/90
    assert _requests(iv_checked_in) == []


def test_a_later_reading_within_the_limit_withdraws_the_request(iv_checked_in, nurse, clock):
    _bp(nurse, iv_checked_in, 150, 85)
    clock.move_to(at(MONDAY, 8, 56))

    _bp(nurse, iv_checked_in, 132, 84)

    (request,) = _requests(iv_checked_in)
    assert (request.status, request.closed_by, request.closed_at) == (
        "withdrawn",
        None,
        at(MONDAY, 8, 56),
    )
    assert request.closing_note == "The latest pre-dose reading needs no confirmation."


def test_the_high_reading_entered_in_error_withdraws_the_request(iv_checked_in, nurse, clock):
    _bp(nurse, iv_checked_in, 128, 80)
    clock.move_to(at(MONDAY, 8, 52))
    entry, _alerts = _bp(nurse, iv_checked_in, 210, 95)
    assert _requests(iv_checked_in)[0].status == "open"

    services.vitals_mark_entered_in_error(actor=nurse, vitals=entry, reason="Cuff too small")

    assert _requests(iv_checked_in)[0].status == "withdrawn"


def test_the_prescribers_confirmation_answers_the_request(iv_checked_in, nurse, prescriber):
    _bp(nurse, iv_checked_in, 190, 120)

    override = services.pre_dose_bp_confirm(
        actor=prescriber, session=iv_checked_in, reason="Known white-coat hypertension"
    )

    (request,) = _requests(iv_checked_in)
    assert (request.status, request.closed_by, request.override) == (
        "answered",
        prescriber,
        override,
    )
    assert request.closing_note == "Known white-coat hypertension"


def test_a_pre_check_override_answers_both_kinds(iv_checked_in, nurse, prescriber):
    _bp(nurse, iv_checked_in, 190, 120)
    asks.prescriber_request_ask(
        actor=nurse, session=iv_checked_in, kind="pre_checks", note="No escort until 11:00"
    )

    services.precheck_override(actor=prescriber, session=iv_checked_in, reason="Escort coming")

    assert {(r.kind, r.status) for r in _requests(iv_checked_in)} == {
        ("pre_dose_bp", "answered"),
        ("pre_checks", "answered"),
    }


# --------------------------------------------------------------------------- asking


def test_a_nurse_asks_for_a_pre_check_override(iv_checked_in, nurse):
    request = asks.prescriber_request_ask(
        actor=nurse, session=iv_checked_in, kind="pre_checks", note="Ate at 07:30"
    )

    assert (request.status, request.note) == ("open", "Ate at 07:30")
    # Every pre-check is unmet on a fresh check-in; the prescriber reads which.
    assert any(line.startswith("Fasting:") for line in request.about)
    assert any(line.startswith("Escort home:") for line in request.about)

    with pytest.raises(Conflict) as error:
        asks.prescriber_request_ask(actor=nurse, session=iv_checked_in, kind="pre_checks")
    assert error.value.code == "already_asked"
    assert error.value.message == "A prescriber was asked at 08:50; the request is still waiting."


def test_nothing_to_decide_is_not_asked(iv_cleared, nurse):
    for kind in ("pre_checks", "pre_dose_bp"):
        with pytest.raises(Conflict) as error:
            asks.prescriber_request_ask(actor=nurse, session=iv_cleared, kind=kind)
        assert error.value.code == "not_needed"
    with pytest.raises(InvalidInput):
        asks.prescriber_request_ask(actor=nurse, session=iv_cleared, kind="lunch")
    assert _requests(iv_cleared) == []


def test_a_discharge_request_is_for_the_aftercare_phases(iv_checked_in, nurse):
    with pytest.raises(Conflict) as error:
        asks.prescriber_request_ask(actor=nurse, session=iv_checked_in, kind="discharge")
    assert error.value.code == "wrong_phase"


def test_only_the_care_teams_nurses_and_prescribers_ask(iv_checked_in, actors):
    for who in ("therapist", "front_desk", "clinic_admin"):
        with pytest.raises(PermissionDenied):
            asks.prescriber_request_ask(actor=actors[who], session=iv_checked_in, kind="pre_checks")
    with pytest.raises(NotFound):
        asks.prescriber_request_ask(
            actor=actors["nurse_off_team"], session=iv_checked_in, kind="pre_checks"
        )
    assert _requests(iv_checked_in) == []


# --------------------------------------------------------------------------- declining, withdrawing


def test_a_prescriber_declines_with_what_to_do_instead(iv_checked_in, nurse, prescriber, clock):
    _bp(nurse, iv_checked_in, 190, 120)
    request = _requests(iv_checked_in)[0]
    with pytest.raises(InvalidInput) as error:
        asks.prescriber_request_decline(actor=prescriber, request=request, note="  ")
    assert list(error.value.errors) == ["note"]

    clock.move_to(at(MONDAY, 8, 58))
    declined = asks.prescriber_request_decline(
        actor=prescriber, request=request, note="Recheck in 15 minutes, seated and calm"
    )

    assert (declined.status, declined.closed_by, declined.closed_at) == (
        "declined",
        prescriber,
        at(MONDAY, 8, 58),
    )
    with pytest.raises(Conflict) as error:
        asks.prescriber_request_decline(actor=prescriber, request=request, note="Again")
    assert error.value.code == "not_waiting"
    # A new high reading after the decline is new information: a new request.
    clock.move_to(at(MONDAY, 9, 13))
    _bp(nurse, iv_checked_in, 176, 104)
    assert [r.status for r in _requests(iv_checked_in)] == ["declined", "open"]


def test_only_a_prescriber_on_the_care_team_declines(iv_checked_in, nurse, actors):
    _bp(nurse, iv_checked_in, 190, 120)
    request = _requests(iv_checked_in)[0]
    with pytest.raises(PermissionDenied):
        asks.prescriber_request_decline(actor=nurse, request=request, note="No")
    with pytest.raises(NotFound):
        asks.prescriber_request_decline(
            actor=actors["prescriber_off_team"], request=request, note="No"
        )
    assert fresh_request(request).status == "open"


def fresh_request(request):
    return PrescriberRequest.objects.get(pk=request.pk)


def test_a_nurse_withdraws_what_is_no_longer_needed(iv_checked_in, nurse):
    request = asks.prescriber_request_ask(actor=nurse, session=iv_checked_in, kind="pre_checks")

    asks.prescriber_request_withdraw(actor=nurse, request=request, note="Escort arrived")

    request = fresh_request(request)
    assert (request.status, request.closed_by, request.closing_note) == (
        "withdrawn",
        nurse,
        "Escort arrived",
    )


def test_starting_the_dose_withdraws_what_waits_before_it(
    iv_checked_in, nurse, prescriber, vials, clock
):
    request = asks.prescriber_request_ask(actor=nurse, session=iv_checked_in, kind="pre_checks")
    session = pass_prechecks(nurse, iv_checked_in)  # the nurse completed them meanwhile
    clock.move_to(at(MONDAY, 9))

    services.infusion_start(actor=nurse, session=session, container=vials[0], drawn_mg="40")

    request = fresh_request(request)
    assert (request.status, request.closing_note) == ("withdrawn", "Dosing started.")


def test_stopping_the_session_withdraws_every_open_request(iv_checked_in, nurse):
    _bp(nurse, iv_checked_in, 190, 120)
    services.session_stop(actor=nurse, session=iv_checked_in, reason="BP stays high; rebooked")
    assert [(r.status, r.closing_note) for r in _requests(iv_checked_in)] == [
        ("withdrawn", "The session was stopped.")
    ]


# --------------------------------------------------------------------------- discharge


@pytest.fixture
def iv_in_recovery(iv_stopped, nurse, clock):
    """The infusion ended at 09:40 (iv_stopped); at 09:50, 10 of the 30 minutes of observation
    after IV have passed ([E11]) and no Aldrete is scored."""
    clock.move_to(at(MONDAY, 9, 50))
    return fresh(iv_stopped)


def test_a_prescriber_lets_the_patient_go_from_the_in_basket(
    iv_in_recovery, nurse, prescriber, clock
):
    with pytest.raises(Conflict) as error:
        services.session_discharge(
            actor=nurse, session=iv_in_recovery, escort_present=True, instructions_given=True
        )
    assert error.value.code == "discharge_blocked"
    request = asks.prescriber_request_ask(
        actor=nurse, session=iv_in_recovery, kind="discharge", note="Feels well, wants to go"
    )
    assert len(request.about) == 2  # observation not elapsed; no Aldrete scored

    override = asks.discharge_override_grant(
        actor=prescriber, session=iv_in_recovery, reason="Seen her: alert, BP fine, escort here"
    )
    assert fresh_request(request).status == "answered"
    assert fresh_request(request).override == override

    clock.move_to(at(MONDAY, 9, 52))
    discharged = services.session_discharge(
        actor=nurse, session=iv_in_recovery, escort_present=True, instructions_given=True
    )
    assert discharged.phase == "discharged"
    assert SessionOverride.objects.filter(session=iv_in_recovery, kind="discharge").count() == 1


def test_a_granted_override_does_not_cover_a_missing_escort(iv_in_recovery, nurse, prescriber):
    asks.discharge_override_grant(actor=prescriber, session=iv_in_recovery, reason="Seen her")

    with pytest.raises(Conflict) as error:
        services.session_discharge(
            actor=nurse, session=iv_in_recovery, escort_present=False, instructions_given=True
        )
    assert error.value.code == "discharge_blocked"
    assert "No escort present" in error.value.message


def test_only_a_prescriber_grants_a_discharge_override(iv_in_recovery, nurse):
    with pytest.raises(PermissionDenied):
        asks.discharge_override_grant(actor=nurse, session=iv_in_recovery, reason="Fine")


# --------------------------------------------------------------------------- reminders


def test_a_request_waiting_past_the_delay_e_mails_the_care_teams_prescribers(
    iv_checked_in, nurse, prescriber, make_staff, front_desk, patient, clock
):
    second = make_staff("prescriber", username="prescriber_b", email="b@example.org")
    care_team_set(
        actor=front_desk,
        patient=patient,
        primary_prescriber=prescriber,
        prescribers=[second],
        nurses=[nurse],
    )
    _bp(nurse, iv_checked_in, 190, 120)  # asked at 08:50

    clock.move_to(at(MONDAY, 8, 54) + datetime.timedelta(seconds=59))
    assert prescriber_requests.prescriber_reminders_send() == 0
    assert not Notification.objects.exists()

    clock.move_to(at(MONDAY, 8, 55))
    assert prescriber_requests.prescriber_reminders_send() == 1

    notices = list(Notification.objects.order_by("recipient__username"))
    assert {n.recipient for n in notices} == {prescriber, second}
    body = notices[0].body
    assert "has waited 5 minutes for a prescriber's decision: Confirm the pre-dose blood " in body
    assert "Chair 1 (Room A)" in body
    # No patient information in e-mail.
    for word in (patient.legal_family_name, patient.legal_given_name, patient.mrn, "190/120"):
        assert word not in body and word not in notices[0].subject
    assert _requests(iv_checked_in)[0].email_queued_at == at(MONDAY, 8, 55)
    # Once per request.
    clock.move_to(at(MONDAY, 9, 10))
    assert prescriber_requests.prescriber_reminders_send() == 0


def test_an_answered_request_is_not_e_mailed(iv_checked_in, nurse, prescriber, clock):
    _bp(nurse, iv_checked_in, 190, 120)
    services.pre_dose_bp_confirm(actor=prescriber, session=iv_checked_in, reason="Usual for her")
    clock.move_to(at(MONDAY, 9, 30))
    assert prescriber_requests.prescriber_reminders_send() == 0


def test_without_a_prescriber_on_the_care_team_the_clinic_admins_are_e_mailed(
    iv_checked_in, nurse, clinic_admin, front_desk, patient, clock
):
    _bp(nurse, iv_checked_in, 190, 120)
    care_team_set(actor=front_desk, patient=patient, primary_prescriber=None, nurses=[nurse])
    clock.move_to(at(MONDAY, 9))

    assert prescriber_requests.prescriber_reminders_send() == 1
    assert [n.recipient for n in Notification.objects.all()] == [clinic_admin]


def test_the_delay_is_clinic_policy(settings, iv_checked_in, nurse, clock):
    settings.CLINIC_POLICY = {"prescriber_requests": {"email_after_min": 0}}
    _bp(nurse, iv_checked_in, 190, 120)
    assert prescriber_requests.prescriber_reminders_send() == 1


@pytest.mark.parametrize("value", [-1, "5", 1441, True, 2.5])
def test_a_delay_that_is_not_whole_minutes_is_refused(settings, value):
    settings.CLINIC_POLICY = {"prescriber_requests": {"email_after_min": value}}
    with pytest.raises(ImproperlyConfigured):
        prescriber_requests.request_policy()


def test_a_newer_high_reading_keeps_the_request_and_says_what_is_now_asked(
    iv_checked_in, nurse, clock
):
    _bp(nurse, iv_checked_in, 150, 85)
    clock.move_to(at(MONDAY, 8, 55))
    _bp(nurse, iv_checked_in, 176, 104)

    (request,) = _requests(iv_checked_in)
    assert request.status == "open" and request.created_at == at(MONDAY, 8, 50)
    assert request.about[0] == "Pre-dose BP 176/104 mmHg at 08:55."


def test_a_remote_answer_is_checked_against_what_the_prescriber_read(
    iv_checked_in, nurse, prescriber, clock
):
    _bp(nurse, iv_checked_in, 190, 120)
    request = _requests(iv_checked_in)[0]
    read = request.about_digest

    now = asks.prescriber_request_check_current(actor=prescriber, request=request, seen_digest=read)
    assert now.changed is False

    clock.move_to(at(MONDAY, 8, 55))
    _bp(nurse, iv_checked_in, 132, 84)  # within the limit: nothing left to decide
    with pytest.raises(Conflict) as error:
        asks.prescriber_request_check_current(actor=prescriber, request=request, seen_digest=read)
    assert error.value.code == "not_waiting"  # the calm reading withdrew it
