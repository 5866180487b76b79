"""The session rules in force: SessionPolicy defaults (policy-defaults.md), the clinic's
overrides from CLINIC_POLICY["treatment_sessions"], the shared plausibility ranges from
CLINIC_POLICY["plausible_ranges"], and a session keeping the policy it was checked in under."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured

from clinic.core.exceptions import Conflict, InvalidInput
from clinic.treatment_sessions import services, state
from clinic.treatment_sessions.policy import policy_as_json, policy_from_json, session_policy
from clinic.treatment_sessions.rules import DEFAULT_POLICY, SessionPolicy
from clinic.treatment_sessions.tests.conftest import MONDAY, at, fresh, identity_of, pass_prechecks


def _sessions(settings, values):
    settings.CLINIC_POLICY = {"treatment_sessions": values}


def test_without_overrides_the_policy_is_the_defaults(settings):
    settings.CLINIC_POLICY = {}

    policy = session_policy()

    assert policy == DEFAULT_POLICY
    # policy-defaults.md: esketamine observation 2 h, IV 30 min, IM 60 min; Aldrete ≥ 9.
    assert (
        policy.esketamine_observation_minutes,
        policy.iv_observation_minutes,
        policy.im_observation_minutes,
        policy.discharge_aldrete_minimum,
    ) == (120, 30, 60, 9)


def test_the_clinic_overrides_are_read_from_settings(settings):
    _sessions(
        settings,
        {
            "iv_observation_minutes": 45,
            "fasting_solids_hours": 6,
            "discharge_aldrete_minimum": 10,
            "bp_action_recommendation": "stop",
        },
    )

    policy = session_policy()

    assert policy.iv_observation_minutes == 45
    assert policy.fasting_solids_hours == 6
    assert policy.discharge_aldrete_minimum == 10
    assert policy.bp_action_recommendation == "stop"
    assert policy.esketamine_observation_minutes == 120


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"iv_observation_mins": 30}, "iv_observation_mins"),
        ({"iv_observation_minutes": "30"}, "iv_observation_minutes"),
        ({"iv_observation_minutes": 30.0}, "iv_observation_minutes"),
        ({"iv_observation_minutes": True}, "iv_observation_minutes"),
        ({"escort_required": "yes"}, "escort_required"),
        ({"plausible_systolic_mmhg": [50, 250]}, "plausible_systolic_mmhg"),
    ],
)
def test_an_unknown_key_or_a_bad_type_is_a_configuration_error(settings, values, named):
    _sessions(settings, values)

    with pytest.raises(ImproperlyConfigured) as error:
        session_policy()

    assert named in str(error.value)


@pytest.mark.parametrize(
    "values",
    [
        # The label's and REMS's floors [C2], [C9], [C10], [C15]: stricter, never laxer.
        {"esketamine_observation_minutes": 119},
        {"esketamine_observation_minutes": 90},
        {"esketamine_minutes_between_devices": 4},
        {"rems_form_days": 8},
        {"esketamine_continuous_pulse_oximetry": False},
        # Inconsistent or out-of-range values.
        {"fasting_solids_hours": 3},
        {"fasting_solids_hours": 9},
        {"discharge_aldrete_minimum": 11},
        {"spo2_critical_below_percent": 95},
        {"bp_action_recommendation": "continue"},
        {"iv_observation_minutes": 0},
    ],
)
def test_values_the_rules_refuse_are_a_configuration_error(settings, values):
    _sessions(settings, values)

    with pytest.raises(ImproperlyConfigured):
        session_policy()


def test_a_stricter_esketamine_observation_is_allowed(settings):
    _sessions(settings, {"esketamine_observation_minutes": 150})

    assert session_policy().esketamine_observation_minutes == 150


def test_plausibility_follows_the_clinics_plausible_ranges(settings):
    settings.CLINIC_POLICY = {
        "plausible_ranges": {"systolic_mmhg": [60, 250], "temperature_c": ["34.0", "42.5"]}
    }

    policy = session_policy()

    assert policy.plausible_systolic_mmhg == (60, 250)
    assert policy.plausible_temperature_c == (Decimal("34.0"), Decimal("42.5"))
    # Ranges not overridden keep policy-defaults.md's.
    assert policy.plausible_diastolic_mmhg == (20, 200)
    assert policy.plausible_spo2_percent == (50, 100)


def test_an_inverted_plausible_range_is_a_configuration_error(settings):
    settings.CLINIC_POLICY = {"plausible_ranges": {"heart_rate_bpm": [250, 20]}}

    with pytest.raises(ImproperlyConfigured):
        session_policy()


@pytest.mark.parametrize(
    "policy",
    [
        DEFAULT_POLICY,
        SessionPolicy(
            iv_observation_minutes=45,
            esketamine_observation_minutes=150,
            bp_action_recommendation="stop",
            escort_required=False,
            plausible_systolic_mmhg=(60, 250),
            plausible_temperature_c=(Decimal("34.5"), Decimal("42.0")),
        ),
    ],
)
def test_the_recorded_policy_reads_back_the_same(policy):
    assert policy_from_json(policy_as_json(policy)) == policy


def test_values_recorded_by_an_older_version_are_ignored():
    values = {**policy_as_json(DEFAULT_POLICY), "retired_setting": 3}

    assert policy_from_json(values) == DEFAULT_POLICY


# --------------------------------------------------------------------------- the session's policy


@pytest.mark.django_db
def test_a_session_keeps_the_policy_it_was_checked_in_under(
    iv_appointment, nurse, prescriber, vials, clock, settings
):
    _sessions(settings, {"iv_observation_minutes": 45})
    clock.move_to(at(MONDAY, 8, 50))
    session = services.session_check_in(
        actor=nurse, appointment=iv_appointment, identity=identity_of(iv_appointment)
    )
    settings.CLINIC_POLICY = {}
    assert fresh(session).policy_values["iv_observation_minutes"] == 45

    session = pass_prechecks(nurse, session)
    clock.move_to(at(MONDAY, 9))
    services.infusion_start(actor=nurse, session=session, container=vials[0], drawn_mg="50")
    clock.move_to(at(MONDAY, 9, 40))
    services.infusion_stop(actor=nurse, session=session, given_mg="40", witness=prescriber)
    clock.move_to(at(MONDAY, 10, 10))
    services.session_score_record(
        actor=nurse, session=session, kind="modified-aldrete", answers=[2, 2, 2, 2, 2]
    )

    # The default 30 min would allow discharge at 10:10; the session's 45 min do not.
    status = state.discharge_status(fresh(session), escort_present=True)
    assert [f.code for f in status.blocking_reasons] == ["observation_not_complete"]
    assert status.observation_ends_at == at(MONDAY, 10, 25)
    with pytest.raises(Conflict):
        services.session_discharge(
            actor=nurse, session=session, escort_present=True, instructions_given=True
        )
    clock.move_to(at(MONDAY, 10, 25))
    services.session_discharge(
        actor=nurse, session=session, escort_present=True, instructions_given=True
    )
    assert fresh(session).phase == "discharged"


@pytest.mark.django_db
def test_a_session_keeps_the_plausible_ranges_it_was_checked_in_under(
    iv_appointment, nurse, clock, settings
):
    settings.CLINIC_POLICY = {"plausible_ranges": {"systolic_mmhg": [50, 250]}}
    session = services.session_check_in(
        actor=nurse, appointment=iv_appointment, identity=identity_of(iv_appointment)
    )
    settings.CLINIC_POLICY = {}

    with pytest.raises(InvalidInput) as error:
        services.vitals_record(actor=nurse, session=session, systolic_mmhg=260, diastolic_mmhg=100)

    assert error.value.errors == {
        "systolic_mmhg": ["Systolic pressure must be between 50 and 250 mmHg."]
    }
