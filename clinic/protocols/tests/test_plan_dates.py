"""A plan's start date within the clinic's plausibility bounds (issue 11), refused by the plan
form and the service alike, and the bounds as the clinic configures them.

The bounds are the defaults documented in docs/configuration.md (today to 180 days ahead).
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from clinic.core.exceptions import InvalidInput
from clinic.protocols import services
from clinic.protocols.models import TreatmentPlan
from clinic.protocols.policy import plan_date_policy
from clinic.protocols.tests.test_plan_form import field_error, in_days, new_url, template
from clinic.screening import selectors as screening_selectors

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------- plausible dates


@pytest.mark.parametrize(
    ("start", "message"),
    [
        (datetime.date(2020, 1, 6), "A plan cannot start in the past."),
        (
            "181 days",
            "A plan starts on {latest} at the latest (180 days from today, clinic policy): "
            "check the year.",
        ),
    ],
)
def test_a_start_date_out_of_bounds_never_previews(client, cleared, prescriber, start, message):
    latest = in_days(180)
    start_date = in_days(181) if start == "181 days" else start
    client.force_login(prescriber)
    post = {
        "template": "iv-induction-2x-weekly",
        "start_date": start_date.isoformat(),
        "action": "preview",
    }

    html = client.post(new_url(cleared, "iv-induction-2x-weekly"), post).content.decode()

    assert field_error(html, "start_date") == [message.format(latest=f"{latest:%m/%d/%Y}")]
    assert "Preview:" not in html
    with pytest.raises(InvalidInput) as caught:
        services.plan_preview(
            patient=cleared,
            template=template("iv-induction-2x-weekly"),
            start_date=start_date,
            options={},
        )
    assert caught.value.errors == {"start_date": [message.format(latest=f"{latest:%m/%d/%Y}")]}


def test_the_last_day_of_the_bounds_is_allowed(cleared, prescriber):
    plan = services.plan_create(
        actor=prescriber,
        patient=cleared,
        template=template("iv-induction-2x-weekly"),
        start_date=in_days(180),
    )
    assert plan.start_date == in_days(180)


def test_the_date_picker_offers_only_the_plausible_dates(client, cleared, prescriber):
    client.force_login(prescriber)

    html = client.get(new_url(cleared, "iv-induction-2x-weekly")).content.decode()

    start = re.search(r'<input type="date" name="start_date"[^>]*>', html).group(0)
    assert f'min="{timezone.localdate().isoformat()}"' in start
    assert f'max="{in_days(180).isoformat()}"' in start


def test_the_clinic_sets_its_own_bounds(cleared, prescriber, settings):
    settings.CLINIC_POLICY = {"plan_dates": {"start_days_back": 3, "start_days_ahead": 30}}

    assert services.plan_preview(
        patient=cleared,
        template=template("iv-induction-2x-weekly"),
        start_date=in_days(30),
        options={},
    )
    with pytest.raises(InvalidInput) as caught:
        services.plan_preview(
            patient=cleared,
            template=template("iv-induction-2x-weekly"),
            start_date=in_days(31),
            options={},
        )
    assert "30 days from today" in caught.value.errors["start_date"][0]
    # 3 days back is within the bounds, but the eligibility decision was signed today.
    with pytest.raises(InvalidInput) as caught:
        services.plan_preview(
            patient=cleared,
            template=template("iv-induction-2x-weekly"),
            start_date=in_days(-3),
            options={},
        )
    assert caught.value.errors["start_date"] == [
        "A plan cannot start before the eligibility decision that opens its route "
        f"(signed {timezone.localdate():%m/%d/%Y})."
    ]
    with pytest.raises(InvalidInput) as caught:
        services.plan_preview(
            patient=cleared,
            template=template("iv-induction-2x-weekly"),
            start_date=in_days(-4),
            options={},
        )
    assert caught.value.errors["start_date"] == [
        f"A plan starts on {in_days(-3):%m/%d/%Y} at the earliest (3 days back, clinic policy)."
    ]


def test_an_esketamine_plan_cannot_start_before_the_rems_enrolment(cleared, prescriber, settings):
    settings.CLINIC_POLICY = {"plan_dates": {"start_days_back": 30}}
    decision = screening_selectors.latest_decision(cleared)
    type(decision).objects.filter(pk=decision.pk).update(
        signed_at=timezone.now() - datetime.timedelta(days=20)
    )
    cleared.rems_enrollments.update(enrolled_on=in_days(-5))

    with pytest.raises(InvalidInput) as caught:
        services.plan_create(
            actor=prescriber,
            patient=cleared,
            template=template("esketamine-trd"),
            start_date=in_days(-6),
        )

    assert caught.value.errors["start_date"] == [
        f"An esketamine plan cannot start before the patient's REMS enrolment "
        f"({in_days(-5):%m/%d/%Y})."
    ]
    assert not TreatmentPlan.objects.exists()


@pytest.mark.parametrize("bad", [-1, "30", 2.5, True])
def test_a_bound_that_is_not_a_whole_number_of_days_is_a_configuration_error(settings, bad):
    settings.CLINIC_POLICY = {"plan_dates": {"start_days_ahead": bad}}
    with pytest.raises(ImproperlyConfigured, match="plan_dates"):
        plan_date_policy()


def test_an_unknown_date_bound_is_a_configuration_error(settings):
    settings.CLINIC_POLICY = {"plan_dates": {"days_ahead": 30}}
    with pytest.raises(ImproperlyConfigured, match="days_ahead"):
        plan_date_policy()
