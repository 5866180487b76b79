"""The controlled-substance policy: defaults from policy-defaults.md, clinic overrides that may
be stricter than the federal values but never laxer, and business-day arithmetic."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured

from clinic.controlled_substances.policy import (
    ControlledSubstancePolicy,
    controlled_substance_policy,
)


def test_the_defaults_are_the_documented_ones(settings):
    settings.CLINIC_POLICY = {}
    policy = controlled_substance_policy()
    assert policy.witness_roles == ("prescriber", "nurse")
    assert policy.daily_count_required is True
    assert policy.inventory_interval_years == 2  # [J7]
    assert policy.retention_years == 2  # [J4]
    assert policy.dea_notice_business_days == 1  # [J8]
    assert policy.form106_days == 45  # [J9]
    assert policy.non_business_days == frozenset()


@pytest.mark.parametrize(
    "overrides",
    [
        {"retention_years": 1},
        {"inventory_interval_years": 3},
        {"dea_notice_business_days": 2},
        {"form106_days": 46},
        {"witness_roles": ["therapist"]},
        {"witness_roles": []},
        {"non_business_days": ["not a date"]},
        {"unknown_key": 1},
        {"daily_count_required": "yes"},
    ],
)
def test_a_laxer_or_malformed_setting_stops_start_up(settings, overrides):
    settings.CLINIC_POLICY = {"controlled_substances": overrides}
    with pytest.raises(ImproperlyConfigured):
        controlled_substance_policy()


def test_a_stricter_setting_is_taken(settings):
    settings.CLINIC_POLICY = {
        "controlled_substances": {
            "retention_years": 7,
            "form106_days": 30,
            "witness_roles": ["prescriber"],
            "registrant_dea_number": " ab1234563 ",
        }
    }
    policy = controlled_substance_policy()
    assert (policy.retention_years, policy.form106_days, policy.witness_roles) == (
        7,
        30,
        ("prescriber",),
    )
    assert policy.registrant_dea_number == "AB1234563"


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (datetime.date(2026, 6, 5), datetime.date(2026, 6, 8)),  # Friday → Monday
        (datetime.date(2026, 6, 6), datetime.date(2026, 6, 8)),  # Saturday → Monday
        (datetime.date(2026, 6, 7), datetime.date(2026, 6, 8)),  # Sunday → Monday
        (datetime.date(2026, 6, 8), datetime.date(2026, 6, 9)),  # Monday → Tuesday
    ],
)
def test_the_next_business_day(day, expected):
    assert ControlledSubstancePolicy().dea_notice_due_on(day) == expected


def test_holidays_are_skipped():
    policy = ControlledSubstancePolicy(
        non_business_days=frozenset({datetime.date(2026, 12, 25)})  # a Friday
    )
    assert policy.business_days_after(datetime.date(2026, 12, 24), 1) == datetime.date(2026, 12, 28)


def test_the_next_inventory_is_due_two_years_on():
    policy = ControlledSubstancePolicy()
    assert policy.next_inventory_due_on(datetime.date(2026, 3, 1)) == datetime.date(2028, 3, 1)
    assert policy.next_inventory_due_on(datetime.date(2028, 2, 29)) == datetime.date(2030, 2, 28)
