"""A prescriber plans an IV course in Chromium at phone and tablet width (issue 11): the IV form
offers mg/kg and the infusion time (no esketamine doses), a start date in 2020 is refused next to
the field in words before any preview, and the preview and the plan page fit the screen with no
accessibility violation.

Expected values: 0.5 mg/kg × 80 kg = 40.0 mg over 40 minutes ([A1], [A2], policy-defaults.md
"Dosing"); a plan starts today or later by default (docs/configuration.md, plan_dates).
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic.patients.services import body_measurement_record
from clinic.protocols.tests.test_plans import SCREENED, TWO_FAILED_TRIALS
from clinic.screening import services as screening_services
from tests.e2e.conftest import PHONE, TABLET, assert_accessible, assert_fits_width


@pytest.fixture
def cleared_for_iv(patient, nurse, prescriber):
    body_measurement_record(
        actor=nurse,
        patient=patient,
        measured_on=timezone.localdate(),
        weight_kg="80",
        height_cm="170",
    )
    intake = screening_services.intake_start(actor=nurse, patient=patient)
    intake = screening_services.intake_save(
        actor=nurse,
        intake=intake,
        data={
            **SCREENED,
            "indication": "treatment_resistant_depression",
            "systolic_mmhg": 122,
            "diastolic_mmhg": 78,
        },
        trials=TWO_FAILED_TRIALS,
        submit=True,
    )
    screening_services.decision_sign(
        actor=prescriber, intake=intake, outcome="eligible", approved_routes=["iv"]
    )
    return patient


@pytest.mark.parametrize("size", [PHONE, TABLET], ids=["phone", "tablet"])
def test_a_prescriber_plans_an_iv_course_on_any_screen(
    page, live_server, login_as, cleared_for_iv, prescriber, size
):
    page.set_viewport_size(size)
    login_as(prescriber.username)
    page.goto(
        f"{live_server.url}/patients/{cleared_for_iv.uuid}/plans/new/"
        "?template=iv-induction-2x-weekly"
    )
    form = page.locator("main form")
    expect(form.get_by_label("Dose (mg/kg)")).to_be_visible()
    expect(form.get_by_label("Infusion time (minutes)")).to_be_visible()
    expect(form.locator("[name='esketamine_dose_mg']")).to_have_count(0)
    assert_fits_width(page)
    assert_accessible(page)

    # A start in 2020 is refused next to the field, in words, with no preview.
    form.get_by_label("Start date").fill("2020-01-06")
    page.get_by_role("button", name="Preview sessions and doses").click()
    expect(page.locator("#id_start_date_error")).to_have_text("A plan cannot start in the past.")
    expect(page.get_by_role("heading", name="Preview: 6 sessions")).to_have_count(0)
    assert_accessible(page)

    start = timezone.localdate() + datetime.timedelta(days=1)
    page.locator("main form").get_by_label("Start date").fill(start.isoformat())
    page.get_by_role("button", name="Preview sessions and doses").click()
    expect(page.get_by_role("heading", name="Preview: 6 sessions")).to_be_visible()
    expect(page.locator("main")).to_contain_text("40.0 mg over 40 min")
    assert_fits_width(page)
    assert_accessible(page)

    page.get_by_role("button", name="Create draft plan").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("IV induction")
    page.get_by_role("button", name="Sign and activate").click()
    expect(page.locator("main")).to_contain_text("Active")
    # The prescriber does not book chairs: the page says who does, and offers no link to a 403.
    expect(page.get_by_role("link", name="Book the sessions")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("The front desk books this plan's sessions")
    assert_fits_width(page)
    assert_accessible(page)
