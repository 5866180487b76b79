"""Pages that draw dates survive an odd value already in the database (issue 13, defect 1).

Validation now refuses a year-1 or year-9999 date at every door, but a row written before it
(or by a restore, or by hand) must never take a chart down: each page answers 200 and shows
the other records, and a response marked entered in error leaves the charts.
"""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from clinic.assessments import services
from clinic.assessments.models import AssessmentResponse
from clinic.patients.models import BodyMeasurement
from clinic.portal.tests.test_care import give_portal_account

pytestmark = pytest.mark.django_db

ODD_MOMENTS = {
    "year 1": datetime.datetime(1, 1, 1, tzinfo=datetime.UTC),
    "year 1900": datetime.datetime(1900, 1, 1, tzinfo=datetime.UTC),
    "year 9999": datetime.datetime(9999, 12, 31, 23, 59, tzinfo=datetime.UTC),
}
PHQ9 = [2, 2, 2, 2, 1, 1, 2, 0, 0]


def _store_odd(patient, nurse, moment: datetime.datetime) -> tuple[AssessmentResponse, ...]:
    """Two sane PHQ-9s and one at `moment`, its date written past validation."""
    sane = [
        services.response_record(actor=nurse, patient=patient, instrument_code="phq9", answers=PHQ9)
        for _ in range(2)
    ]
    odd = services.response_record(
        actor=nurse, patient=patient, instrument_code="phq9", answers=PHQ9
    )
    AssessmentResponse.objects.filter(pk=odd.pk).update(taken_at=moment)
    odd.refresh_from_db()
    return (*sane, odd)


def _staff_pages(patient, response) -> list[str]:
    return [
        reverse("patients:patient_chart", args=[patient.uuid]),
        reverse("assessments:response_detail", args=[patient.uuid, response.uuid]),
        f"/api/v1/patients/{patient.uuid}/assessments",
    ]


PORTAL_PAGES = ["portal:home", "portal:progress"]


@pytest.mark.parametrize("moment", list(ODD_MOMENTS.values()), ids=list(ODD_MOMENTS))
def test_an_odd_assessment_date_breaks_no_page(moment, patient, nurse, prescriber):
    *_, odd = _store_odd(patient, nurse, moment)
    staff = Client()
    staff.force_login(prescriber)
    for url in _staff_pages(patient, odd):
        assert staff.get(url).status_code == 200, url
    portal = Client()
    portal.force_login(give_portal_account(patient, "jordan"))
    for name in PORTAL_PAGES:
        assert portal.get(reverse(name)).status_code == 200, name


@pytest.mark.parametrize("moment", list(ODD_MOMENTS.values()), ids=list(ODD_MOMENTS))
def test_an_odd_measurement_date_breaks_no_page(moment, patient, prescriber):
    BodyMeasurement.objects.create(
        patient=patient, measured_on=moment.date(), weight_kg=80, recorded_by=prescriber
    )
    staff = Client()
    staff.force_login(prescriber)
    assert staff.get(reverse("patients:patient_chart", args=[patient.uuid])).status_code == 200
    assert staff.get(f"/api/v1/patients/{patient.uuid}/measurements").status_code == 200


def _points(svg: str) -> int:
    return svg.count('<circle class="point"')


def test_the_chart_draws_the_plausible_scores_and_shows_the_odd_row(patient, nurse, prescriber):
    *_, odd = _store_odd(patient, nurse, ODD_MOMENTS["year 1"])
    staff = Client()
    staff.force_login(prescriber)
    chart = staff.get(reverse("patients:patient_chart", args=[patient.uuid])).content.decode()
    # Two plausible PHQ-9s drawn; the year-1 one is not a point on the chart.
    assert _points(chart) == 2
    detail = staff.get(reverse("assessments:response_detail", args=[patient.uuid, odd.uuid]))
    # The odd row is shown as it is (so someone can mark it entered in error), not hidden.
    assert "0001" in detail.content.decode()


def test_an_entered_in_error_response_leaves_every_chart(patient, nurse, prescriber):
    first, second, odd = _store_odd(patient, nurse, ODD_MOMENTS["year 9999"])
    services.response_mark_entered_in_error(actor=prescriber, response=odd, reason="typo")
    services.response_mark_entered_in_error(actor=prescriber, response=second, reason="typo")
    staff = Client()
    staff.force_login(prescriber)
    chart = staff.get(reverse("patients:patient_chart", args=[patient.uuid]))
    assert chart.status_code == 200
    assert _points(chart.content.decode()) == 1
    portal = Client()
    portal.force_login(give_portal_account(patient, "jordan"))
    progress = portal.get(reverse("portal:progress"))
    assert progress.status_code == 200
    assert _points(progress.content.decode()) == 1


@pytest.mark.parametrize("moment", list(ODD_MOMENTS.values()), ids=list(ODD_MOMENTS))
def test_the_pure_chart_draws_any_date_without_error(moment):
    from clinic.outcomes.charts import course_chart_svg

    sane = datetime.datetime(2031, 6, 2, 9, 0)
    svg = course_chart_svg(
        title="PHQ-9",
        points=[(moment.replace(tzinfo=None), 12), (sane, 10)],
        scale_max=27,
        session_dates=[moment.date(), sane.date()],
    )
    assert svg.startswith("<svg") and _points(svg) == 2
