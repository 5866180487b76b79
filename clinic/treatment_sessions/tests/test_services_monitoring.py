"""The vitals flowsheet, its alerts and their acknowledgement, scores, side effects and adverse
events.

Limits are the policy defaults (policy-defaults.md "Vital signs"; rules.SessionPolicy):
plausible systolic 50–300, diastolic 20–200 and below systolic, SpO2 50–100; BP alert at
≥ 180/110, pause on two such readings 5 min apart or ≥ 200/120 once; HR alert > 120, sustained
5 min → pause; SpO2 alert < 92, critical < 90; respiratory rate alert < 10 or > 30.
"""

from __future__ import annotations

import datetime

import pytest

from clinic.assessments.models import AssessmentResponse
from clinic.core.exceptions import Conflict, InvalidInput, PermissionDenied
from clinic.core.models import AuditEvent
from clinic.treatment_sessions import services, state
from clinic.treatment_sessions.models import (
    AdverseEvent,
    InfusionEvent,
    SessionAlert,
    SideEffect,
    VitalsEntry,
)
from clinic.treatment_sessions.tests.conftest import MONDAY, at, fresh

pytestmark = pytest.mark.django_db


def _vitals(actor, session, clock=None, when=None, **values):
    if clock is not None and when is not None:
        clock.move_to(when)
    return services.vitals_record(actor=actor, session=session, **values)


def _codes(alerts) -> list[str]:
    return [a.code for a in alerts]


# --------------------------------------------------------------------------- plausibility


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        (
            {"systolic_mmhg": 301, "diastolic_mmhg": 80},
            {"systolic_mmhg": ["Systolic pressure must be between 50 and 300 mmHg."]},
        ),
        (
            {"systolic_mmhg": 120, "diastolic_mmhg": 120},
            {"diastolic_mmhg": ["Diastolic pressure (120) must be below systolic (120)."]},
        ),
        (
            {"systolic_mmhg": 90, "diastolic_mmhg": 110},
            {"diastolic_mmhg": ["Diastolic pressure (110) must be below systolic (90)."]},
        ),
        ({"spo2_percent": 101}, {"spo2_percent": ["SpO2 must be between 50 and 100 %."]}),
        (
            {"heart_rate_bpm": 19},
            {"heart_rate_bpm": ["Heart rate must be between 20 and 250 bpm."]},
        ),
        (
            {"systolic_mmhg": 120},
            {"diastolic_mmhg": ["A blood pressure needs both systolic and diastolic."]},
        ),
        ({"heart_rate_bpm": "72.5"}, {"heart_rate_bpm": ["Enter a whole number."]}),
        (
            {"systolic_mmhg": 120, "diastolic_mmhg": 80, "heart_rate_bpm": "seventy"},
            {"heart_rate_bpm": ["Enter a number."]},
        ),
        ({}, {"systolic_mmhg": ["Enter at least one vital sign."]}),
        ({"pulse": 70}, {"pulse": ["Not a vital sign."]}),
    ],
)
def test_implausible_vitals_are_refused_naming_the_field(iv_running, nurse, values, errors):
    stored = VitalsEntry.objects.count()

    with pytest.raises(InvalidInput) as error:
        services.vitals_record(actor=nurse, session=iv_running, **values)

    assert error.value.errors == errors
    assert VitalsEntry.objects.count() == stored
    assert not SessionAlert.objects.exists()


def test_plausible_bounds_are_accepted(iv_running, nurse):
    entry, alerts = services.vitals_record(
        actor=nurse,
        session=iv_running,
        systolic_mmhg=300,
        diastolic_mmhg=20,
        spo2_percent=100,
        respiratory_rate_per_min=14,
        temperature_c="36.8",
    )

    assert (entry.systolic_mmhg, entry.diastolic_mmhg, entry.spo2_percent) == (300, 20, 100)
    assert str(entry.temperature_c) == "36.8"
    assert _codes(alerts) == ["bp_very_high"]


def test_a_reading_in_the_future_or_before_check_in_is_refused(iv_running, nurse):
    # The clock is at 09:00; check-in was at 08:50.
    with pytest.raises(InvalidInput) as error:
        services.vitals_record(
            actor=nurse, session=iv_running, taken_at=at(MONDAY, 9, 6), heart_rate_bpm=70
        )
    assert error.value.errors == {"taken_at": ["This time is in the future."]}

    with pytest.raises(InvalidInput) as error:
        services.vitals_record(
            actor=nurse, session=iv_running, taken_at=at(MONDAY, 8, 49), heart_rate_bpm=70
        )
    assert error.value.errors == {"taken_at": ["This time is before 08:50."]}


def test_a_reading_keeps_its_time_phase_and_author(iv_running, nurse, clock):
    clock.move_to(at(MONDAY, 9, 10))

    entry, alerts = services.vitals_record(
        actor=nurse,
        session=iv_running,
        systolic_mmhg=128,
        diastolic_mmhg=78,
        heart_rate_bpm=76,
        spo2_percent=97,
        respiratory_rate_per_min=14,
    )

    assert alerts == []
    entry = VitalsEntry.objects.get(pk=entry.pk)
    assert (entry.taken_at, entry.phase, entry.recorded_by) == (at(MONDAY, 9, 10), "dosing", nurse)
    assert entry.bp_text == "128/78"


# --------------------------------------------------------------------------- alerts


def test_bp_at_180_over_100_alerts_and_recommends_a_recheck(iv_running, nurse, clock):
    _entry, alerts = _vitals(
        nurse, iv_running, clock, at(MONDAY, 9, 10), systolic_mmhg=180, diastolic_mmhg=100
    )

    assert _codes(alerts) == ["bp_high"]
    alert = SessionAlert.objects.get()
    assert (alert.severity, alert.recommendation, alert.source) == ("alert", "continue", "[E4]")
    assert alert.acknowledged_at is None


def test_two_readings_at_180_110_five_minutes_apart_recommend_a_pause(iv_running, nurse, clock):
    _vitals(nurse, iv_running, clock, at(MONDAY, 9, 10), systolic_mmhg=182, diastolic_mmhg=100)

    _entry, alerts = _vitals(
        nurse, iv_running, clock, at(MONDAY, 9, 15), systolic_mmhg=170, diastolic_mmhg=112
    )

    assert _codes(alerts) == ["bp_high_repeated"]
    assert (alerts[0].severity, alerts[0].recommendation) == ("critical", "pause")


def test_two_high_readings_four_minutes_apart_are_not_yet_repeated(iv_running, nurse, clock):
    _vitals(nurse, iv_running, clock, at(MONDAY, 9, 10), systolic_mmhg=182, diastolic_mmhg=100)

    _entry, alerts = _vitals(
        nurse, iv_running, clock, at(MONDAY, 9, 14), systolic_mmhg=185, diastolic_mmhg=100
    )

    assert _codes(alerts) == ["bp_high"]


def test_a_high_reading_entered_in_error_does_not_make_a_repeat(iv_running, nurse, clock):
    first, _alerts = _vitals(
        nurse, iv_running, clock, at(MONDAY, 9, 10), systolic_mmhg=182, diastolic_mmhg=100
    )
    services.vitals_mark_entered_in_error(actor=nurse, vitals=first, reason="Cuff too small")

    _entry, alerts = _vitals(
        nurse, iv_running, clock, at(MONDAY, 9, 15), systolic_mmhg=182, diastolic_mmhg=100
    )

    assert _codes(alerts) == ["bp_high"]


def test_bp_at_200_120_once_recommends_a_pause(iv_running, nurse, clock):
    _entry, alerts = _vitals(
        nurse, iv_running, clock, at(MONDAY, 9, 10), systolic_mmhg=200, diastolic_mmhg=95
    )

    assert _codes(alerts) == ["bp_very_high"]
    assert (alerts[0].severity, alerts[0].recommendation) == ("critical", "pause")


def test_heart_rate_above_120_for_five_minutes_is_sustained(iv_running, nurse, clock):
    _entry, alerts = _vitals(nurse, iv_running, clock, at(MONDAY, 9, 10), heart_rate_bpm=120)
    assert alerts == []

    _entry, alerts = _vitals(nurse, iv_running, clock, at(MONDAY, 9, 11), heart_rate_bpm=121)
    assert _codes(alerts) == ["hr_high"]
    assert alerts[0].recommendation == "continue"

    _entry, alerts = _vitals(nurse, iv_running, clock, at(MONDAY, 9, 16), heart_rate_bpm=124)
    assert _codes(alerts) == ["hr_high_sustained"]
    assert (alerts[0].severity, alerts[0].recommendation) == ("critical", "pause")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"spo2_percent": 92}, []),
        ({"spo2_percent": 91}, [("spo2_low", "alert")]),
        ({"spo2_percent": 90}, [("spo2_low", "alert")]),
        ({"spo2_percent": 89}, [("spo2_critical", "critical")]),
        ({"respiratory_rate_per_min": 10}, []),
        ({"respiratory_rate_per_min": 9}, [("respiratory_rate_low", "alert")]),
        ({"respiratory_rate_per_min": 30}, []),
        ({"respiratory_rate_per_min": 31}, [("respiratory_rate_high", "alert")]),
        ({"systolic_mmhg": 179, "diastolic_mmhg": 109}, []),
        ({"systolic_mmhg": 150, "diastolic_mmhg": 110}, [("bp_high", "alert")]),
    ],
)
def test_alert_limits(iv_running, nurse, values, expected):
    _entry, alerts = services.vitals_record(actor=nurse, session=iv_running, **values)

    assert [(a.code, a.severity) for a in alerts] == expected
    assert SessionAlert.objects.count() == len(expected)


def test_a_reading_with_alerts_is_audited_with_the_patient(iv_running, nurse, patient):
    entry, _alerts = services.vitals_record(actor=nurse, session=iv_running, spo2_percent=89)

    event = AuditEvent.objects.get(object_type="session_vitals", object_id=str(entry.uuid))
    assert event.patient == patient
    assert event.summary == "Vitals recorded with 1 alert(s)"


# --------------------------------------------------------------------------- acknowledgement


@pytest.fixture
def open_alert(iv_running, nurse, clock):
    clock.move_to(at(MONDAY, 9, 10))
    _entry, alerts = services.vitals_record(
        actor=nurse, session=iv_running, systolic_mmhg=205, diastolic_mmhg=100
    )
    return alerts[0]


@pytest.mark.parametrize(
    ("action", "note", "errors"),
    [
        ("", "", {"action": ["Choose one of the options."]}),
        ("ignore", "", {"action": ["Choose one of the options."]}),
        ("stop", "", {"note": ["Say what was done."]}),
        ("intervention", " ", {"note": ["Say what was done."]}),
    ],
)
def test_an_acknowledgement_needs_an_action_and_for_stop_or_intervention_a_note(
    open_alert, nurse, action, note, errors
):
    with pytest.raises(InvalidInput) as error:
        services.session_alert_acknowledge(actor=nurse, alert=open_alert, action=action, note=note)

    assert error.value.errors == errors
    assert SessionAlert.objects.get(pk=open_alert.pk).acknowledged_at is None


def test_an_alert_is_acknowledged_once(open_alert, nurse, prescriber, clock):
    clock.move_to(at(MONDAY, 9, 11))
    services.session_alert_acknowledge(
        actor=nurse, alert=open_alert, action="intervention", note="Labetalol per prescriber"
    )

    alert = SessionAlert.objects.get(pk=open_alert.pk)
    assert (alert.acknowledged_at, alert.acknowledged_by) == (at(MONDAY, 9, 11), nurse)
    assert (alert.action, alert.action_note) == ("intervention", "Labetalol per prescriber")
    with pytest.raises(Conflict) as error:
        services.session_alert_acknowledge(actor=prescriber, alert=open_alert, action="continue")
    assert error.value.code == "already_acknowledged"


def test_a_pause_acknowledgement_pauses_a_running_infusion(open_alert, nurse, iv_running, clock):
    clock.move_to(at(MONDAY, 9, 11))

    services.session_alert_acknowledge(actor=nurse, alert=open_alert, action="pause")

    session = fresh(iv_running)
    assert not state.infusion_running(session)
    pause = InfusionEvent.objects.get(session=session, kind="pause")
    assert pause.occurred_at == at(MONDAY, 9, 11)
    assert pause.reason.startswith(
        "Alert: BP 205/100 mmHg: systolic 205 mmHg is at or above 200 mmHg (very high)"
    )


def test_a_continue_acknowledgement_leaves_the_infusion_running(open_alert, nurse, iv_running):
    services.session_alert_acknowledge(actor=nurse, alert=open_alert, action="continue")

    assert state.infusion_running(fresh(iv_running))


def test_a_pause_acknowledgement_after_dosing_records_no_infusion_event(
    esketamine_dosed, nurse, clock
):
    clock.move_to(at(MONDAY, 9, 45))
    _entry, alerts = services.vitals_record(actor=nurse, session=esketamine_dosed, spo2_percent=89)

    services.session_alert_acknowledge(actor=nurse, alert=alerts[0], action="pause")

    assert not InfusionEvent.objects.exists()
    assert SessionAlert.objects.get(pk=alerts[0].pk).action == "pause"


def test_a_reading_entered_in_error_stays_and_its_alert_stays_open(open_alert, nurse, patient):
    entry = open_alert.vitals

    with pytest.raises(InvalidInput):
        services.vitals_mark_entered_in_error(actor=nurse, vitals=entry, reason="")
    services.vitals_mark_entered_in_error(actor=nurse, vitals=entry, reason="Cuff on the wrong arm")

    entry = VitalsEntry.objects.get(pk=entry.pk)
    assert (entry.entered_in_error_by, entry.entered_in_error_reason) == (
        nurse,
        "Cuff on the wrong arm",
    )
    assert not entry.is_valid
    assert SessionAlert.objects.get(pk=open_alert.pk).acknowledged_at is None
    assert (
        AuditEvent.objects.filter(
            object_type="session_vitals", object_id=str(entry.uuid), patient=patient
        ).count()
        == 2
    )


def test_acknowledging_needs_session_run(open_alert, therapist):
    with pytest.raises(PermissionDenied):
        services.session_alert_acknowledge(actor=therapist, alert=open_alert, action="continue")


# --------------------------------------------------------------------------- scores


def test_scores_are_stored_as_assessment_responses_with_totals(iv_stopped, nurse, patient, clock):
    clock.move_to(at(MONDAY, 9, 45))
    moaas = services.session_score_record(
        actor=nurse, session=iv_stopped, kind="moaas", answers=[4]
    )
    cadss = services.session_score_record(
        actor=nurse, session=iv_stopped, kind="cadss", answers=[1] * 23
    )
    aldrete = services.session_score_record(
        actor=nurse, session=iv_stopped, kind="modified-aldrete", answers=[2, 2, 2, 1, 2]
    )

    assert [
        (s.kind, s.response.instrument_code, s.response.total) for s in (moaas, cadss, aldrete)
    ] == [
        ("moaas", "moaas", 4),
        ("cadss", "cadss", 23),
        ("modified-aldrete", "modified-aldrete", 9),
    ]
    responses = AssessmentResponse.objects.filter(patient=patient)
    assert responses.count() == 3
    assert all(r.taken_at == at(MONDAY, 9, 45) and r.recorded_by == nurse for r in responses)
    assert state.latest_aldrete(fresh(iv_stopped)).total == 9


@pytest.mark.parametrize(
    ("kind", "answers", "field"),
    [
        ("cadss", [1] * 22, "answers"),
        ("moaas", [6], "answers"),
        ("modified-aldrete", [2, 2, 2, 2, 3], "answers"),
        ("phq9", [0] * 9, "kind"),
    ],
)
def test_bad_scores_are_refused(iv_stopped, nurse, patient, kind, answers, field):
    with pytest.raises(InvalidInput) as error:
        services.session_score_record(actor=nurse, session=iv_stopped, kind=kind, answers=answers)

    assert field in error.value.errors
    assert not AssessmentResponse.objects.filter(patient=patient).exists()


# --------------------------------------------------------------------------- side effects


def test_a_side_effect_with_severity_and_intervention(iv_running, nurse, patient, clock):
    clock.move_to(at(MONDAY, 9, 20))

    effect = services.side_effect_record(
        actor=nurse,
        session=iv_running,
        kind="nausea",
        severity="moderate",
        intervention="Ondansetron 4 mg ODT",
    )

    effect = SideEffect.objects.get(pk=effect.pk)
    assert (effect.label, effect.severity, effect.intervention) == (
        "Nausea",
        "moderate",
        "Ondansetron 4 mg ODT",
    )
    assert (effect.noticed_at, effect.recorded_by) == (at(MONDAY, 9, 20), nurse)
    assert AuditEvent.objects.filter(object_id=str(effect.uuid), patient=patient).exists()


@pytest.mark.parametrize(
    "kind",
    ["nausea", "vomiting", "dizziness", "blurred_vision", "headache", "anxiety", "confusion"],
)
def test_every_listed_side_effect_kind_is_accepted(iv_running, nurse, kind):
    effect = services.side_effect_record(
        actor=nurse, session=iv_running, kind=kind, severity="mild"
    )

    assert effect.kind == kind


def test_other_side_effects_need_a_description(iv_running, nurse):
    with pytest.raises(InvalidInput) as error:
        services.side_effect_record(actor=nurse, session=iv_running, kind="other", severity="mild")
    assert error.value.errors == {"other_text": ["Describe the side effect."]}

    effect = services.side_effect_record(
        actor=nurse, session=iv_running, kind="other", severity="mild", other_text="Tingling lips"
    )
    assert effect.label == "Tingling lips"


@pytest.mark.parametrize(
    ("kind", "severity", "field"), [("itching", "mild", "kind"), ("nausea", "awful", "severity")]
)
def test_side_effect_choices_are_checked(iv_running, nurse, kind, severity, field):
    with pytest.raises(InvalidInput) as error:
        services.side_effect_record(actor=nurse, session=iv_running, kind=kind, severity=severity)

    assert field in error.value.errors
    assert not SideEffect.objects.exists()


def test_a_side_effect_entered_in_error_stays_struck_through(iv_running, nurse):
    effect = services.side_effect_record(
        actor=nurse, session=iv_running, kind="headache", severity="mild"
    )

    services.session_record_mark_entered_in_error(
        actor=nurse, record=effect, reason="Other patient's chair"
    )

    effect = SideEffect.objects.get(pk=effect.pk)
    assert not effect.is_valid
    assert effect.entered_in_error_reason == "Other patient's chair"


# --------------------------------------------------------------------------- adverse events


@pytest.mark.parametrize("seriousness", ["serious", "non_serious"])
def test_an_adverse_event_with_its_seriousness(iv_stopped, nurse, patient, clock, seriousness):
    clock.move_to(at(MONDAY, 9, 50))

    event = services.adverse_event_record(
        actor=nurse,
        session=iv_stopped,
        description="Vasovagal syncope on standing",
        seriousness=seriousness,
        outcome="resolved",
        action_taken="Supine, legs raised, fluids",
        onset_at=at(MONDAY, 9, 48),
    )

    event = AdverseEvent.objects.get(pk=event.pk)
    assert (event.seriousness, event.outcome, event.onset_at) == (
        seriousness,
        "resolved",
        at(MONDAY, 9, 48),
    )
    assert AuditEvent.objects.filter(object_id=str(event.uuid), patient=patient).exists()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"description": "", "seriousness": "serious", "outcome": "resolved"}, "description"),
        ({"description": "Syncope", "seriousness": "severe", "outcome": "resolved"}, "seriousness"),
        ({"description": "Syncope", "seriousness": "serious", "outcome": ""}, "outcome"),
    ],
)
def test_an_adverse_event_needs_description_seriousness_and_outcome(
    iv_stopped, nurse, values, field
):
    with pytest.raises(InvalidInput) as error:
        services.adverse_event_record(actor=nurse, session=iv_stopped, **values)

    assert field in error.value.errors
    assert not AdverseEvent.objects.exists()


def test_an_adverse_event_may_be_recorded_after_discharge_until_signing(iv_stopped, nurse, clock):
    session = fresh(iv_stopped)
    clock.move_to(at(MONDAY, 10, 10))
    services.session_score_record(
        actor=nurse, session=session, kind="modified-aldrete", answers=[2, 2, 2, 2, 2]
    )
    services.session_discharge(
        actor=nurse, session=session, escort_present=True, instructions_given=True
    )
    clock.move_to(at(MONDAY, 10, 40) + datetime.timedelta(minutes=5))

    event = services.adverse_event_record(
        actor=nurse,
        session=session,
        description="Called: headache at home",
        seriousness="non_serious",
        outcome="ongoing",
        onset_at=at(MONDAY, 10, 30),
    )

    assert event.session == session
