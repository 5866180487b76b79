"""The clinic's at-home blood pressure limit: 140/90 by default (policy-defaults.md "Vital
signs", [C2], [E1]), overridable in CLINIC_POLICY["home_program"], never silently wrong."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from clinic.home_program.policy import home_program_policy


def test_the_default_is_the_in_clinic_confirmation_limit():
    policy = home_program_policy()
    assert (policy.dose_blocked_systolic_above_mmhg, policy.dose_blocked_diastolic_above_mmhg) == (
        140,
        90,
    )
    assert policy.blocks(systolic_mmhg=141, diastolic_mmhg=80)
    assert policy.blocks(systolic_mmhg=130, diastolic_mmhg=91)
    assert not policy.blocks(systolic_mmhg=140, diastolic_mmhg=90)


def test_an_override_applies(settings):
    settings.CLINIC_POLICY = {"home_program": {"dose_blocked_systolic_above_mmhg": 135}}
    policy = home_program_policy()
    assert policy.blocks(systolic_mmhg=136, diastolic_mmhg=70)
    assert policy.dose_blocked_diastolic_above_mmhg == 90


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"systolic_limit": 140}, "unknown settings: systolic_limit"),
        ({"dose_blocked_systolic_above_mmhg": "140"}, "whole number"),
        ({"dose_blocked_systolic_above_mmhg": True}, "whole number"),
        ({"dose_blocked_diastolic_above_mmhg": 250}, "between 20 and 200"),
    ],
)
def test_a_bad_override_is_a_configuration_error(settings, overrides, named):
    settings.CLINIC_POLICY = {"home_program": overrides}
    with pytest.raises(ImproperlyConfigured) as caught:
        home_program_policy()
    assert named in str(caught.value)
