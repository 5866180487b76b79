"""The pre-checks before dosing, through the services, and the prescriber's decisions on them.

Expected values come from the policy defaults (policy-defaults.md, rules.SessionPolicy): fasting
4 h solids / 2 h clear liquids before IV/IM and 2 h food / 30 min liquids before esketamine
(measured to the 09:00 appointment start), pre-dose BP above 140/90 needs the prescriber's
confirmation, and the fixture dose 0.5 mg/kg.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from clinic.assessments.models import SuicidalityAlert
from clinic.assessments.services import response_record
from clinic.core.exceptions import Conflict, InvalidInput, NotFound, PermissionDenied
from clinic.core.models import AuditEvent
from clinic.patients.models import BodyMeasurement, Patient
from clinic.treatment_sessions import services, state
from clinic.treatment_sessions.models import SessionOverride
from clinic.treatment_sessions.tests.conftest import (
    MONDAY,
    at,
    fresh,
    pass_prechecks,
    passing_prechecks,
)

pytestmark = pytest.mark.django_db


def _item(status, key):
    return next(item for item in status.items if item.key == key)


def _record(actor, session, **data):
    return services.precheck_record(actor=actor, session=session, data=data)


def _bp(actor, session, systolic, diastolic):
    entry, _alerts = services.vitals_record(
        actor=actor, session=session, systolic_mmhg=systolic, diastolic_mmhg=diastolic
    )
    return entry


# --------------------------------------------------------------------------- fasting


@pytest.mark.parametrize(
    ("last_food", "last_liquid", "ok"),
    [
        # IV: solids 4 h, clear liquids 2 h before the 09:00 start.
        ((5, 0), (7, 0), True),
        ((5, 1), (7, 0), False),  # food 3 h 59 min before
        ((5, 0), (7, 1), False),  # clear liquid 1 h 59 min before
    ],
)
def test_iv_fasting_boundaries(iv_checked_in, nurse, last_food, last_liquid, ok):
    _record(
        nurse,
        iv_checked_in,
        last_food_at=at(MONDAY, *last_food),
        last_liquid_at=at(MONDAY, *last_liquid),
    )

    item = _item(state.precheck_status(fresh(iv_checked_in)), "fasting")

    assert item.ok is ok


def test_iv_fasting_message_names_the_gap_and_the_policy(iv_checked_in, nurse):
    _record(nurse, iv_checked_in, last_food_at=at(MONDAY, 5, 1), last_liquid_at=at(MONDAY, 7, 1))

    item = _item(state.precheck_status(fresh(iv_checked_in)), "fasting")

    assert item.messages == (
        "Last food 3 h 59 min before the appointment; clinic policy is none within 4 h [E12].",
        "Last clear liquid 1 h 59 min before the appointment; clinic policy is none within "
        "2 h [E12].",
    )


@pytest.mark.parametrize(
    ("last_food", "last_liquid", "ok"),
    [
        # Esketamine: no food 2 h, no liquids 30 min before the 09:00 start [C3].
        ((7, 0), (8, 30), True),
        ((7, 1), (8, 30), False),
        ((7, 0), (8, 31), False),
    ],
)
def test_esketamine_fasting_boundaries(esketamine_checked_in, nurse, last_food, last_liquid, ok):
    _record(
        nurse,
        esketamine_checked_in,
        last_food_at=at(MONDAY, *last_food),
        last_liquid_at=at(MONDAY, *last_liquid),
    )

    item = _item(state.precheck_status(fresh(esketamine_checked_in)), "fasting")

    assert item.ok is ok


def test_fasting_not_recorded_is_unmet(iv_checked_in):
    item = _item(state.precheck_status(iv_checked_in), "fasting")

    assert not item.ok
    assert item.messages == (
        "Time of the last food not recorded: ask the patient.",
        "Time of the last clear liquid not recorded: ask the patient.",
    )


def test_a_last_meal_in_the_future_is_refused(iv_checked_in, nurse):
    # The clock is at 08:50; 5 minutes of tablet clock skew are tolerated.
    with pytest.raises(InvalidInput) as error:
        _record(nurse, iv_checked_in, last_food_at=at(MONDAY, 8, 56))

    assert error.value.errors == {"last_food_at": ["This time is in the future."]}
    assert fresh(iv_checked_in).last_food_at is None


# --------------------------------------------------------------------------- escort


def test_escort_must_be_confirmed(iv_checked_in, nurse):
    _record(nurse, iv_checked_in, escort_name="Sam Rivera")
    assert not _item(state.precheck_status(fresh(iv_checked_in)), "escort").ok

    _record(nurse, iv_checked_in, escort_confirmed=True)
    assert _item(state.precheck_status(fresh(iv_checked_in)), "escort").ok


def test_a_confirmed_escort_needs_a_name(iv_checked_in, nurse):
    with pytest.raises(InvalidInput) as error:
        _record(nurse, iv_checked_in, escort_confirmed=True)

    assert "escort_name" in error.value.errors
    assert fresh(iv_checked_in).escort_confirmed is False


# --------------------------------------------------------------------------- pre-dose BP


@pytest.mark.parametrize(
    ("systolic", "diastolic", "needs_confirmation"),
    [(141, 80, True), (130, 91, True), (140, 90, False)],
)
def test_pre_dose_bp_above_140_90_needs_the_prescribers_confirmation(
    iv_checked_in, nurse, systolic, diastolic, needs_confirmation
):
    session = pass_prechecks(nurse, iv_checked_in, systolic=systolic, diastolic=diastolic)

    status = state.precheck_status(session)

    assert _item(status, "pre_dose_vitals").ok is not needs_confirmation
    assert status.cleared is not needs_confirmation


def test_without_a_pre_dose_bp_dosing_is_not_cleared(iv_checked_in, nurse):
    _record(nurse, iv_checked_in, **passing_prechecks())

    status = state.precheck_status(fresh(iv_checked_in))

    item = _item(status, "pre_dose_vitals")
    assert (item.ok, item.messages) == (False, ("Take a blood pressure.",))
    assert not status.cleared


def test_only_a_prescriber_confirms_a_high_pre_dose_bp(iv_checked_in, nurse, prescriber):
    session = pass_prechecks(nurse, iv_checked_in, systolic=150, diastolic=85)

    with pytest.raises(PermissionDenied):
        services.pre_dose_bp_confirm(actor=nurse, session=session, reason="Known hypertension")
    with pytest.raises(InvalidInput) as error:
        services.pre_dose_bp_confirm(actor=prescriber, session=session, reason="  ")
    assert "reason" in error.value.errors
    assert not SessionOverride.objects.exists()

    override = services.pre_dose_bp_confirm(
        actor=prescriber, session=session, reason="Known hypertension, treated; 150/85 usual"
    )

    assert (override.kind, override.prescriber) == ("pre_dose_bp", prescriber)
    status = state.precheck_status(fresh(session))
    assert status.bp_confirmed and status.cleared
    assert _item(status, "pre_dose_vitals").messages == (
        "BP 150/85 mmHg confirmed by the prescriber.",
    )


def test_a_new_pre_dose_reading_needs_its_own_confirmation(iv_checked_in, nurse, prescriber):
    session = pass_prechecks(nurse, iv_checked_in, systolic=150, diastolic=85)
    services.pre_dose_bp_confirm(actor=prescriber, session=session, reason="Usual for her")

    _bp(nurse, session, 155, 88)

    status = state.precheck_status(fresh(session))
    assert not status.bp_confirmed
    assert not _item(status, "pre_dose_vitals").ok
    assert not status.cleared


def test_a_bp_within_limits_needs_no_confirmation(iv_cleared, prescriber):
    with pytest.raises(Conflict) as error:
        services.pre_dose_bp_confirm(actor=prescriber, session=iv_cleared, reason="Just in case")

    assert error.value.code == "not_needed"


def test_a_pre_dose_reading_entered_in_error_no_longer_counts(iv_checked_in, nurse):
    session = pass_prechecks(nurse, iv_checked_in)
    entry = session.vitals.get()

    services.vitals_mark_entered_in_error(actor=nurse, vitals=entry, reason="Wrong patient")

    assert not _item(state.precheck_status(fresh(session)), "pre_dose_vitals").ok


def test_an_open_pre_dose_alert_blocks_dosing(iv_checked_in, nurse):
    session = pass_prechecks(nurse, iv_checked_in)
    # SpO2 91 % is below the 92 % alert limit: spo2_low.
    _entry, alerts = services.vitals_record(
        actor=nurse, session=session, systolic_mmhg=100, diastolic_mmhg=60, spo2_percent=91
    )
    assert [a.code for a in alerts] == ["spo2_low"]

    status = state.precheck_status(fresh(session))
    assert not _item(status, "alerts").ok
    assert not status.cleared

    services.session_alert_acknowledge(actor=nurse, alert=alerts[0], action="continue")
    assert state.precheck_status(fresh(session)).cleared


# --------------------------------------------------------------------------- pregnancy


def test_pregnancy_is_not_applicable_for_a_male_patient(iv_checked_in, nurse, patient):
    Patient.objects.filter(pk=patient.pk).update(sex="male")
    session = fresh(iv_checked_in)

    item = _item(state.precheck_status(session), "pregnancy")
    assert (item.ok, item.messages) == (True, ("Not applicable.",))
    with pytest.raises(InvalidInput) as error:
        _record(nurse, session, pregnancy_test="negative")
    assert "pregnancy_test" in error.value.errors


@pytest.mark.parametrize(
    ("result", "ok"),
    [("negative", True), ("not_applicable", True), ("positive", False), ("declined", False)],
)
def test_pregnancy_test_results(iv_checked_in, nurse, result, ok):
    session = pass_prechecks(nurse, iv_checked_in, pregnancy_test=result)

    status = state.precheck_status(session)

    assert _item(status, "pregnancy").ok is ok
    assert status.cleared is ok


def test_a_positive_pregnancy_test_says_why(iv_checked_in, nurse):
    _record(nurse, iv_checked_in, pregnancy_test="positive")

    item = _item(state.precheck_status(fresh(iv_checked_in)), "pregnancy")

    assert item.messages == ("Positive pregnancy test: do not dose without the prescriber.",)


def test_pregnancy_not_recorded_for_a_female_patient_is_unmet(iv_checked_in):
    assert not _item(state.precheck_status(iv_checked_in), "pregnancy").ok


# --------------------------------------------------------------------------- questionnaires


def test_questionnaires_marked_done_need_a_response_today(iv_checked_in, nurse, patient):
    _record(nurse, iv_checked_in, questionnaires="done")
    item = _item(state.precheck_status(fresh(iv_checked_in)), "questionnaires")
    assert (item.ok, item.messages) == (
        False,
        ("Marked done, but no questionnaire is recorded today.",),
    )

    response_record(actor=nurse, patient=patient, instrument_code="gad7", answers=[1] * 7)

    assert _item(state.precheck_status(fresh(iv_checked_in)), "questionnaires").ok


def test_a_questionnaire_from_yesterday_does_not_count_as_done(iv_checked_in, nurse, patient):
    response_record(
        actor=nurse,
        patient=patient,
        instrument_code="gad7",
        answers=[1] * 7,
        taken_at=at(MONDAY - datetime.timedelta(days=1), 18),
    )
    _record(nurse, iv_checked_in, questionnaires="done")

    assert not _item(state.precheck_status(fresh(iv_checked_in)), "questionnaires").ok


def test_a_session_score_is_not_a_questionnaire(iv_checked_in, nurse):
    services.session_score_record(actor=nurse, session=iv_checked_in, kind="moaas", answers=[5])
    _record(nurse, iv_checked_in, questionnaires="done")

    assert not _item(state.precheck_status(fresh(iv_checked_in)), "questionnaires").ok


def test_skipped_questionnaires_need_a_reason(iv_checked_in, nurse):
    with pytest.raises(InvalidInput) as error:
        _record(nurse, iv_checked_in, questionnaires="skipped")
    assert error.value.errors == {
        "questionnaires_skip_reason": ["Say why the questionnaires were skipped."]
    }

    _record(
        nurse,
        iv_checked_in,
        questionnaires="skipped",
        questionnaires_skip_reason="Tablet out of charge; PHQ-9 after the session",
    )
    assert _item(state.precheck_status(fresh(iv_checked_in)), "questionnaires").ok


@pytest.mark.parametrize(("status", "ok"), [("", False), ("none_due", True)])
def test_questionnaires_not_recorded_or_none_due(iv_checked_in, nurse, status, ok):
    _record(nurse, iv_checked_in, questionnaires=status)

    assert _item(state.precheck_status(fresh(iv_checked_in)), "questionnaires").ok is ok


def test_an_unknown_questionnaire_status_is_refused(iv_checked_in, nurse):
    with pytest.raises(InvalidInput) as error:
        _record(nurse, iv_checked_in, questionnaires="maybe")

    assert error.value.errors == {"questionnaires": ["Choose one of the options."]}


# --------------------------------------------------------------------------- suicidality


def test_flagged_suicidality_needs_todays_follow_up(iv_checked_in, nurse, patient):
    assert _item(state.precheck_status(iv_checked_in), "suicidality").ok
    # PHQ-9 item 9 answered 1 raises a suicidality alert [G5].
    response_record(
        actor=nurse, patient=patient, instrument_code="phq9", answers=[1, 1, 1, 1, 1, 1, 1, 1, 1]
    )
    assert SuicidalityAlert.objects.filter(patient=patient).unresolved().exists()

    item = _item(state.precheck_status(fresh(iv_checked_in)), "suicidality")
    assert (item.ok, item.messages) == (
        False,
        ("Suicidality is flagged on the chart: record today's follow-up.",),
    )
    assert not state.precheck_status(
        pass_prechecks(nurse, iv_checked_in, questionnaires="done")
    ).cleared

    _record(
        nurse,
        iv_checked_in,
        suicidality_follow_up="Passive thoughts this week, no plan or intent; safety plan done.",
    )
    status = state.precheck_status(fresh(iv_checked_in))
    assert _item(status, "suicidality").ok
    assert status.cleared


# --------------------------------------------------------------------------- intention, setting


def test_intention_and_setting_are_required(iv_checked_in, nurse):
    session = pass_prechecks(nurse, iv_checked_in, intention="", setting_lighting="")

    status = state.precheck_status(session)

    assert [item.key for item in status.unmet] == ["intention", "setting"]
    assert _item(status, "intention").messages == (
        "Ask the patient for their intention, in their own words.",
    )


def test_the_setting_and_intention_are_kept_as_given(iv_checked_in, nurse):
    session = pass_prechecks(nurse, iv_checked_in)

    assert session.intention == "To feel lighter and kinder to myself"
    assert (session.setting_eye_mask, session.setting_headphones_music) == (True, True)
    assert (session.setting_music_choice, session.setting_lighting) == (
        "Ambient playlist",
        "dimmed",
    )


def test_unknown_pre_check_fields_are_refused(iv_checked_in, nurse):
    with pytest.raises(InvalidInput) as error:
        _record(nurse, iv_checked_in, phase="dosing")

    assert error.value.errors == {"phase": ["Not a pre-check."]}


def test_pre_checks_are_audited_with_the_patient(iv_checked_in, nurse, patient):
    _record(nurse, iv_checked_in, intention="To rest")

    event = AuditEvent.objects.filter(summary="Pre-checks recorded").get()
    assert event.patient == patient
    assert event.changes["intention"] == {"before": "", "after": "To rest"}


def test_the_care_team_only_records_pre_checks(iv_checked_in, make_staff, therapist):
    stranger = make_staff("nurse", username="nurse_elsewhere")

    with pytest.raises(NotFound):
        _record(stranger, iv_checked_in, intention="To rest")
    with pytest.raises(PermissionDenied):
        _record(therapist, iv_checked_in, intention="To rest")
    assert fresh(iv_checked_in).intention == ""


# --------------------------------------------------------------------------- weight and dose


def test_todays_weight_goes_into_the_chart_and_the_dose(iv_checked_in, nurse, patient, vials):
    session = pass_prechecks(nurse, iv_checked_in, weight_today_kg="90")

    assert session.weight_today_kg == Decimal("90.0")
    latest = BodyMeasurement.objects.filter(patient=patient).first()
    assert (latest.measured_on, latest.weight_kg) == (MONDAY, Decimal("90.0"))
    dose = state.precheck_status(session).dose
    # 0.5 mg/kg × 90 kg = 45 mg over the plan's 40 minutes.
    assert dose.dose_mg == Decimal("45.0")
    assert dose.weight_used_kg == Decimal("90.0")
    assert dose.infusion_minutes == 40

    with pytest.raises(InvalidInput) as error:
        services.infusion_start(actor=nurse, session=session, container=vials[0], drawn_mg="40")
    assert error.value.errors == {"drawn_mg": ["Today's dose is 45 mg: draw at least that."]}

    services.infusion_start(actor=nurse, session=session, container=vials[0], drawn_mg="45")
    session = fresh(session)
    assert session.dose_planned_mg == Decimal("45.0")
    assert session.dose_mg_per_kg == Decimal("0.50")
    assert session.dose_weight_used_kg == Decimal("90.0")


def test_an_implausible_weight_is_refused(iv_checked_in, nurse, patient):
    with pytest.raises(InvalidInput) as error:
        _record(nurse, iv_checked_in, weight_today_kg="900")

    assert error.value.errors == {"weight_today_kg": ["Weight must be between 25 and 350 kg."]}
    assert fresh(iv_checked_in).weight_today_kg is None
    assert BodyMeasurement.objects.filter(patient=patient).count() == 1


# --------------------------------------------------------------------------- clearing and override


def test_dosing_is_refused_until_the_pre_checks_pass(iv_checked_in, nurse, vials):
    with pytest.raises(Conflict) as error:
        services.infusion_start(
            actor=nurse, session=iv_checked_in, container=vials[0], drawn_mg="50"
        )

    assert error.value.code == "pre_checks_unmet"
    assert error.value.message == (
        "Dosing cannot start until the pre-checks pass or a prescriber overrides them: "
        "Fasting; Escort home; Pre-dose vitals; Pregnancy test; Today's questionnaires; "
        "Intention; Setting."
    )
    assert fresh(iv_checked_in).phase == "checked_in"
    assert not vials[0].entries.filter(kind="administration").exists()


def test_only_a_prescriber_overrides_the_pre_checks_with_a_reason(
    iv_checked_in, nurse, prescriber, vials
):
    session = pass_prechecks(nurse, iv_checked_in, last_food_at=at(MONDAY, 6))

    with pytest.raises(PermissionDenied):
        services.precheck_override(actor=nurse, session=session, reason="Small snack")
    with pytest.raises(InvalidInput):
        services.precheck_override(actor=prescriber, session=session, reason="")
    assert not SessionOverride.objects.exists()

    override = services.precheck_override(
        actor=prescriber, session=session, reason="Dry toast only; low aspiration risk"
    )

    assert override.kind == "pre_checks"
    assert [item["key"] for item in override.unmet] == ["fasting"]
    assert state.precheck_status(fresh(session)).cleared
    services.infusion_start(actor=nurse, session=session, container=vials[0], drawn_mg="50")
    assert fresh(session).phase == "dosing"


def test_an_override_is_refused_when_every_check_passed(iv_cleared, prescriber):
    with pytest.raises(Conflict) as error:
        services.precheck_override(actor=prescriber, session=iv_cleared, reason="To be sure")

    assert error.value.code == "not_needed"


def test_an_override_does_not_cover_a_problem_found_after_it(iv_checked_in, nurse, prescriber):
    session = pass_prechecks(nurse, iv_checked_in, last_food_at=at(MONDAY, 6))
    services.precheck_override(actor=prescriber, session=session, reason="Dry toast only")
    assert state.precheck_status(fresh(session)).cleared

    # A new pre-dose reading of 160/95 needs the prescriber's confirmation of its own.
    _bp(nurse, session, 160, 95)

    status = state.precheck_status(fresh(session))
    assert not status.overridden
    assert not status.cleared
    assert [item.key for item in status.unmet] == ["fasting", "pre_dose_vitals"]


def test_pre_checks_are_refused_once_dosing_started(iv_running, nurse, prescriber):
    with pytest.raises(Conflict) as error:
        _record(nurse, iv_running, intention="Something else")
    assert error.value.code == "wrong_phase"

    with pytest.raises(Conflict) as error:
        services.precheck_override(actor=prescriber, session=iv_running, reason="Late")
    assert error.value.code == "wrong_phase"
    assert fresh(iv_running).intention == "To feel lighter and kinder to myself"
