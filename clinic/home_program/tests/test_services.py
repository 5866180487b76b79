"""The at-home program's services.

Expected values come from the sources, not from the code: the default at-home limit is the
in-clinic pre-dose limit that needs a prescriber's confirmation, systolic > 140 or diastolic > 90
mmHg (policy-defaults.md "Vital signs", [C2], [E1]; clinical-reference §2.4 marks at-home
cut-offs UNCONFIRMED), so 141/80 and 130/91 must not dose and 140/90 may. Plausibility: systolic
50–300, diastolic 20–200 mmHg and below systolic (policy-defaults.md). A treatment monitor, an
adult physically present, is required [B9]. The prescribed dose is the test plan's 100 mg.
Alert e-mails go to the primary prescriber (else the team's prescribers) and the team's nurses
(issue 7), never to the therapist.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from clinic.core.exceptions import Conflict, InvalidInput, PermissionDenied
from clinic.core.models import AuditEvent
from clinic.home_program import services
from clinic.home_program.models import HomeBpAlert, HomeSessionLog, HomeSideEffect
from clinic.home_program.tests.conftest import sublingual_plan
from clinic.notifications.models import Notification

pytestmark = pytest.mark.django_db


def start(patient, user, systolic=120, diastolic=80, monitor="Sam Rivera"):
    return services.home_session_start(
        actor=user,
        patient=patient,
        systolic_mmhg=systolic,
        diastolic_mmhg=diastolic,
        monitor_name=monitor,
    )


def _state():
    return (
        HomeSessionLog.objects.count(),
        HomeBpAlert.objects.count(),
        Notification.objects.count(),
        list(HomeSessionLog.objects.values_list("status", flat=True).order_by("id")),
        list(HomeBpAlert.objects.values_list("status", flat=True).order_by("id")),
    )


# --------------------------------------------------------------------------- the BP rule


@pytest.mark.parametrize(("systolic", "diastolic"), [(141, 80), (130, 91)])
def test_over_the_limit_the_patient_must_not_dose_and_the_team_is_alerted(
    patient, portal_user, home_plan, prescriber, nurse, therapist, systolic, diastolic
):
    log = start(patient, portal_user, systolic, diastolic)

    assert log.status == "do_not_dose"
    assert log.get_status_display() == "Do not dose (blood pressure)"
    assert (log.limit_systolic_mmhg, log.limit_diastolic_mmhg) == (140, 90)
    alert = HomeBpAlert.objects.get(log=log)
    assert alert.status == "open" and alert.patient == patient
    mails = Notification.objects.filter(created_at__gte=log.created_at)
    assert sorted(n.recipient.username for n in mails) == sorted(
        [prescriber.username, nurse.username]
    )
    assert therapist.username not in {n.recipient.username for n in mails}
    for mail in mails:
        # No PHI in the e-mail: no name, MRN or reading.
        for secret in (patient.legal_given_name, patient.legal_family_name, patient.mrn):
            assert secret not in mail.subject and secret not in mail.body
        assert f"{systolic}/{diastolic}" not in mail.subject + mail.body
        assert f"/at-home/alerts/{alert.uuid}/" in mail.body
    with pytest.raises(Conflict) as caught:
        services.home_session_dose_record(actor=portal_user, log=log, dose_mg="100")
    assert caught.value.code == "do_not_dose"
    log.refresh_from_db()
    assert log.dose_taken_at is None


def test_exactly_140_over_90_may_dose(patient, portal_user, home_plan):
    log = start(patient, portal_user, 140, 90)

    assert log.status == "waiting"
    assert not HomeBpAlert.objects.exists() and not Notification.objects.exists()
    dosed = services.home_session_dose_record(actor=portal_user, log=log, dose_mg="100")
    assert dosed.status == "dosed" and dosed.dose_taken_mg == Decimal("100")


def test_without_a_primary_prescriber_every_team_prescriber_and_nurse_is_told(
    patient, portal_user, home_plan, front_desk, make_staff, nurse, therapist
):
    from clinic.patients.services import care_team_set

    first = make_staff("prescriber", username="prescriber_one")
    second = make_staff("prescriber", username="prescriber_two")
    care_team_set(
        actor=front_desk,
        patient=patient,
        primary_prescriber=None,
        prescribers=[first, second],
        nurses=[nurse],
        therapists=[therapist],
    )
    start(patient, portal_user, 150, 95)

    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == [
        "nurse",
        "prescriber_one",
        "prescriber_two",
    ]


def test_the_clinic_can_set_its_own_limits(settings, patient, portal_user, home_plan):
    settings.CLINIC_POLICY = {
        "home_program": {
            "dose_blocked_systolic_above_mmhg": 150,
            "dose_blocked_diastolic_above_mmhg": 95,
        }
    }
    allowed = start(patient, portal_user, 145, 92)
    assert allowed.status == "waiting" and allowed.limit_text == "150/95"

    blocked = start(patient, portal_user, 151, 80)
    assert blocked.status == "do_not_dose"
    assert HomeBpAlert.objects.filter(log=blocked).exists()


# --------------------------------------------------------------------------- entry errors


@pytest.mark.parametrize(
    ("systolic", "diastolic", "monitor", "field", "message"),
    [
        (49, 30, "Sam", "systolic_mmhg", "Systolic pressure must be between 50 and 300 mmHg."),
        (301, 80, "Sam", "systolic_mmhg", "Systolic pressure must be between 50 and 300 mmHg."),
        (120, 19, "Sam", "diastolic_mmhg", "Diastolic pressure must be between 20 and 200 mmHg."),
        (120, 201, "Sam", "diastolic_mmhg", "Diastolic pressure must be between 20 and 200 mmHg."),
        (120, 120, "Sam", "diastolic_mmhg", "must be below the systolic"),
        ("", 80, "Sam", "systolic_mmhg", "Enter your systolic pressure"),
        ("12x", 80, "Sam", "systolic_mmhg", "whole number"),
        (120.5, 80, "Sam", "systolic_mmhg", "whole number"),
        (120, 80, "   ", "monitor_name", "treatment monitor physically present"),
    ],
)
def test_entry_errors_name_the_field_and_store_nothing(
    patient, portal_user, home_plan, systolic, diastolic, monitor, field, message
):
    before = _state()
    audits = AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as caught:
        start(patient, portal_user, systolic, diastolic, monitor)

    assert list(caught.value.errors) == [field]
    assert message in caught.value.errors[field][0]
    assert _state() == before and AuditEvent.objects.count() == audits


def test_a_high_but_implausible_reading_raises_no_alert(patient, portal_user, home_plan):
    with pytest.raises(InvalidInput):
        start(patient, portal_user, 320, 100)
    assert not HomeBpAlert.objects.exists() and not Notification.objects.exists()


# --------------------------------------------------------------------------- who may write


def test_a_patient_without_an_active_at_home_plan_gets_a_clear_message(
    patient, portal_user, nurse, prescriber
):
    sublingual_plan(patient, nurse=nurse, prescriber=prescriber, status="draft")
    with pytest.raises(Conflict) as caught:
        start(patient, portal_user, 150, 95)

    assert caught.value.code == "no_home_program"
    assert "You do not have an active at-home program" in caught.value.message
    assert not HomeSessionLog.objects.exists() and not HomeBpAlert.objects.exists()


def test_nobody_but_the_patient_writes_the_log(
    patient, portal_user, home_plan, other_patient, prescriber, nurse
):
    for actor in (other_patient.portal_user, prescriber, nurse):
        with pytest.raises(PermissionDenied):
            start(patient, actor)
    log = start(patient, portal_user)
    with pytest.raises(PermissionDenied):
        services.home_session_dose_record(actor=other_patient.portal_user, log=log, dose_mg="100")
    assert HomeSessionLog.objects.count() == 1
    assert HomeSessionLog.objects.get().status == "waiting"


def test_an_inactive_portal_user_cannot_write(patient, portal_user, home_plan):
    portal_user.is_active = False
    portal_user.save()
    with pytest.raises(PermissionDenied):
        start(patient, portal_user)
    assert not HomeSessionLog.objects.exists()


# --------------------------------------------------------------------------- the dose


@pytest.mark.parametrize("dose", ["99", "100.5", "200", "0"])
def test_the_dose_must_equal_the_prescribed_dose(patient, portal_user, home_plan, dose):
    log = start(patient, portal_user)
    with pytest.raises(InvalidInput) as caught:
        services.home_session_dose_record(actor=portal_user, log=log, dose_mg=dose)

    assert caught.value.errors["dose_mg"][0].startswith("Your prescribed dose is 100 mg.")
    log.refresh_from_db()
    assert log.status == "waiting" and log.dose_taken_mg is None


def test_the_dose_follows_the_next_planned_session_and_the_plan_ends(
    patient, portal_user, nurse, prescriber
):
    plan = sublingual_plan(patient, nurse=nurse, prescriber=prescriber, sessions=2)
    plan.sessions.filter(number=2).update(dose_mg=Decimal("125"))

    first = start(patient, portal_user)
    assert first.planned_session.number == 1 and first.prescribed_dose_mg == Decimal("100")
    services.home_session_dose_record(actor=portal_user, log=first, dose_mg="100")
    # A reading over the limit does not use up the planned session.
    blocked = start(patient, portal_user, 150, 80)
    assert blocked.planned_session.number == 2
    second = start(patient, portal_user)
    assert second.planned_session.number == 2 and second.prescribed_dose_mg == Decimal("125")
    services.home_session_dose_record(actor=portal_user, log=second, dose_mg="125")

    with pytest.raises(Conflict) as caught:
        start(patient, portal_user)
    assert "All 2 planned sessions" in caught.value.message
    assert HomeSessionLog.objects.count() == 3


def test_starting_again_closes_a_session_still_waiting_for_its_dose(
    patient, portal_user, home_plan
):
    first = start(patient, portal_user)
    second = start(patient, portal_user, 125, 82)
    first.refresh_from_db()

    assert first.status == "not_taken" and first.get_status_display() == "Dose not taken"
    assert second.status == "waiting" and second.planned_session == first.planned_session
    with pytest.raises(Conflict):
        services.home_session_dose_record(actor=portal_user, log=first, dose_mg="100")


def test_no_dose_once_the_plan_is_no_longer_active(patient, portal_user, home_plan):
    log = start(patient, portal_user)
    home_plan.status = "completed"
    home_plan.save()
    with pytest.raises(Conflict) as caught:
        services.home_session_dose_record(actor=portal_user, log=log, dose_mg="100")
    assert caught.value.code == "plan_not_active"


def test_the_dose_time_cannot_be_before_the_reading_or_in_the_future(
    patient, portal_user, home_plan
):
    log = start(patient, portal_user)
    with pytest.raises(InvalidInput) as caught:
        services.home_session_dose_record(
            actor=portal_user,
            log=log,
            dose_mg="100",
            taken_at=log.started_at - timezone.timedelta(minutes=1),
        )
    assert "after the blood pressure reading" in caught.value.errors["taken_at"][0]
    with pytest.raises(InvalidInput) as caught:
        services.home_session_dose_record(
            actor=portal_user,
            log=log,
            dose_mg="100",
            taken_at=timezone.now() + timezone.timedelta(hours=1),
        )
    assert caught.value.errors["taken_at"] == ["This time is in the future."]


# --------------------------------------------------------------------------- after the dose


def test_side_effects_and_the_check_in_complete_the_log(patient, portal_user, home_plan):
    log = start(patient, portal_user)
    with pytest.raises(Conflict):  # nothing after the dose before the dose
        services.home_session_check_in(actor=portal_user, log=log, feeling="Fine")
    services.home_session_dose_record(actor=portal_user, log=log, dose_mg="100")

    with pytest.raises(InvalidInput) as caught:
        services.home_side_effect_record(actor=portal_user, log=log, kind="other", severity="mild")
    assert caught.value.errors == {"other_text": ["Describe the side effect."]}
    services.home_side_effect_record(actor=portal_user, log=log, kind="nausea", severity="mild")
    services.home_side_effect_record(
        actor=portal_user, log=log, kind="other", severity="moderate", other_text="Tingling"
    )
    with pytest.raises(InvalidInput) as caught:
        services.home_session_check_in(actor=portal_user, log=log, feeling="  ")
    assert list(caught.value.errors) == ["feeling"]
    for mood in (0, 11, "ten"):
        with pytest.raises(InvalidInput) as caught:
            services.home_session_check_in(
                actor=portal_user, log=log, feeling="Calm", mood_after=mood
            )
        assert list(caught.value.errors) == ["mood_after"]

    done = services.home_session_check_in(
        actor=portal_user, log=log, feeling="Calm and a bit tired", mood_after="7"
    )
    assert done.status == "checked_in" and done.get_status_display() == "Checked in"
    assert done.mood_after == 7 and done.feeling_text == "Calm and a bit tired"
    assert [e.label for e in HomeSideEffect.objects.filter(log=log)] == ["Nausea", "Tingling"]
    with pytest.raises(Conflict):
        services.home_side_effect_record(actor=portal_user, log=log, kind="nausea", severity="mild")
    events = AuditEvent.objects.filter(
        actor=portal_user, patient=patient, object_type="home_session_log"
    )
    assert events.filter(action="create").count() == 1
    assert events.filter(action="update").count() == 4  # dose, 2 side effects, check-in


# --------------------------------------------------------------------------- acknowledging


@pytest.fixture
def open_alert(patient, portal_user, home_plan):
    return HomeBpAlert.objects.get(log=start(patient, portal_user, 160, 100))


def test_the_alert_stays_open_until_a_clinician_acknowledges_it(
    open_alert, prescriber, nurse, clinic_admin, therapist, make_staff
):
    outsider_nurse = make_staff("nurse", username="nurse_elsewhere")
    for actor in (clinic_admin, therapist, outsider_nurse):
        with pytest.raises(PermissionDenied):
            services.home_bp_alert_acknowledge(actor=actor, alert=open_alert, note="Seen")
        open_alert.refresh_from_db()
        assert open_alert.status == "open" and open_alert.acknowledged_by is None
    with pytest.raises(InvalidInput) as caught:
        services.home_bp_alert_acknowledge(actor=nurse, alert=open_alert, note="   ")
    assert list(caught.value.errors) == ["note"]
    open_alert.refresh_from_db()
    assert open_alert.status == "open"

    done = services.home_bp_alert_acknowledge(
        actor=nurse, alert=open_alert, note="Called the patient; BP recheck tomorrow."
    )
    assert done.status == "acknowledged" and done.acknowledged_by == nurse
    assert AuditEvent.objects.filter(
        actor=nurse, object_type="home_bp_alert", action="update", object_id=str(done.uuid)
    ).exists()
    with pytest.raises(Conflict):
        services.home_bp_alert_acknowledge(actor=prescriber, alert=open_alert, note="Also seen")
