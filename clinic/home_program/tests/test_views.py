"""Staff pages of the at-home program: the permission matrix (anonymous, patient principal,
each role on and off the care team) for the chart section, the open-alerts page and the
acknowledge page, denials that write nothing, the clinician home's alert block, and a flat
query count as the logs grow.

Expected values come from docs/permissions.md: `home_program.review` is held by prescribers and
nurses, for their care team's patients; the chart opens for directory roles (clinic admin,
front desk, billing) and the care team; an alert of another team's patient looks like no alert
(404). Anonymous visitors are sent to sign in; a patient principal is refused staff pages (403).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.core.models import AuditEvent
from clinic.home_program import services
from clinic.home_program.models import HomeBpAlert
from tests.helpers import ACTOR_ORDER, client_as, status_word

pytestmark = pytest.mark.django_db

SECTION_HEADING = "At-home sessions (sublingual)"

# fmt: off
MATRIX = {
    #                   anon   portal admin presc nurse ther desk bill off-team presc/nurse/ther
    "chart_get":       ["login", 403, 200, 200, 200, 200, 200, 200, 404, 404, 404],
    "alerts_get":      ["login", 403, 403, 200, 200, 403, 403, 403, 200, 200, 403],
    "acknowledge_get": ["login", 403, 403, 200, 200, 403, 403, 403, 404, 404, 403],
    "acknowledge_post": ["login", 403, 403, 302, 302, 403, 403, 403, 404, 404, 403],
}
# Who sees the at-home section on the chart (and its acknowledge form).
SECTION_SHOWN = {"prescriber", "nurse"}
# fmt: on


def start(patient, user, systolic=120, diastolic=80):
    return services.home_session_start(
        actor=user,
        patient=patient,
        systolic_mmhg=systolic,
        diastolic_mmhg=diastolic,
        monitor_name="Sam Rivera",
    )


@pytest.fixture
def open_alert(patient, portal_user, home_plan):
    return HomeBpAlert.objects.get(log=start(patient, portal_user, 152, 96))


def _request(client, page, patient, alert):
    if page == "chart_get":
        return client.get(reverse("patients:patient_chart", args=[patient.uuid]))
    if page == "alerts_get":
        return client.get(reverse("home_program:alerts"))
    url = reverse("home_program:alert_acknowledge", args=[alert.uuid])
    if page == "acknowledge_get":
        return client.get(url)
    return client.post(url, {"note": "Called the patient; will recheck.", "next": "/"})


def _state():
    return list(
        HomeBpAlert.objects.values_list("status", "acknowledged_by_id", "acknowledgement_note")
    )


MATRIX_CASES = [
    pytest.param(page, who, expected, id=f"{page}-{who}")
    for page, row in MATRIX.items()
    for who, expected in zip(ACTOR_ORDER, row, strict=True)
]


@pytest.mark.parametrize(("page", "who", "expected"), MATRIX_CASES)
def test_permission_matrix(client, actors, patient, open_alert, page, who, expected):
    before = _state()
    response = _request(client_as(client, actors[who]), page, patient, open_alert)

    assert status_word(response) == expected
    if expected == 302:
        assert _state() != before
        assert AuditEvent.objects.filter(
            actor=actors[who], patient=patient, object_type="home_bp_alert", action="update"
        ).exists()
    else:
        assert _state() == before  # a denial, or a read, writes nothing
    if page == "chart_get" and expected == 200:
        html = response.content.decode()
        assert (SECTION_HEADING in html) == (who in SECTION_SHOWN)
        assert ("152/96" in html) == (who in SECTION_SHOWN | {"clinic_admin", "therapist"})
    if page == "alerts_get" and expected == 200:
        html = response.content.decode()
        assert (patient.legal_family_name in html) == (who in SECTION_SHOWN)


def test_acknowledging_from_the_chart_returns_to_the_chart(client, nurse, patient, open_alert):
    client.force_login(nurse)
    chart = reverse("patients:patient_chart", args=[patient.uuid])
    html = client.get(chart).content.decode()
    assert "BP 152/96 mmHg" in html and "Acknowledge" in html

    response = client.post(
        reverse("home_program:alert_acknowledge", args=[open_alert.uuid]),
        {"note": "Spoke with the patient.", "next": chart},
    )
    assert response.status_code == 302 and response.headers["Location"] == chart
    html = client.get(chart).content.decode()
    assert "Acknowledged by" in html and "Spoke with the patient." in html
    assert "not yet acknowledged" not in html


def test_an_empty_note_is_refused_next_to_the_field(client, nurse, open_alert):
    client.force_login(nurse)
    response = client.post(
        reverse("home_program:alert_acknowledge", args=[open_alert.uuid]),
        {"note": "", "next": "https://evil.example/"},
    )
    assert response.status_code == 200
    assert "Write a short note" in response.content.decode()
    open_alert.refresh_from_db()
    assert open_alert.status == "open"


def test_an_outside_next_is_not_followed(client, nurse, open_alert):
    client.force_login(nurse)
    response = client.post(
        reverse("home_program:alert_acknowledge", args=[open_alert.uuid]),
        {"note": "Seen", "next": "https://evil.example/"},
    )
    assert response.headers["Location"] == reverse("home_program:alerts")


def test_the_alert_stays_on_the_alerts_page_until_acknowledged(
    client, prescriber, nurse, patient, open_alert
):
    client.force_login(prescriber)
    page = reverse("home_program:alerts")
    assert "BP 152/96 mmHg" in client.get(page).content.decode()
    assert "BP 152/96 mmHg" in client.get(page).content.decode()  # reading does not clear it
    services.home_bp_alert_acknowledge(actor=nurse, alert=open_alert, note="Handled")
    html = client.get(page).content.decode()
    assert "BP 152/96 mmHg" not in html and "No open at-home blood pressure alerts." in html


def test_the_clinician_home_shows_the_open_alert(
    client, prescriber, therapist, patient, open_alert
):
    client.force_login(prescriber)
    html = client.get(reverse("dashboard:home")).content.decode()
    assert "At-home blood pressure alerts" in html
    assert f"{patient.legal_family_name}, {patient.legal_given_name}" in html
    assert "BP 152/96 over the 140/90 limit" in html
    assert reverse("home_program:alert_acknowledge", args=[open_alert.uuid]) in html

    client.force_login(therapist)  # no home_program.review: no block
    assert (
        "At-home blood pressure alerts"
        not in client.get(reverse("dashboard:home")).content.decode()
    )


def test_the_clinician_home_says_when_there_is_nothing_open(client, nurse, patient):
    # The at-home alerts are part of the in-basket (clinic/dashboard/inbasket.py): with none
    # open, nothing waits; the page of all open at-home alerts stays a link away.
    client.force_login(nurse)
    html = client.get(reverse("dashboard:home")).content.decode()
    assert "Nothing is waiting for you." in html
    assert "At-home blood pressure alerts" not in html
    assert reverse("home_program:alerts") in html


def test_the_chart_section_reads_a_fixed_number_of_queries_as_logs_grow(
    client, nurse, patient, portal_user, home_plan
):
    client.force_login(nurse)
    chart = reverse("patients:patient_chart", args=[patient.uuid])

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(chart).status_code == 200
        return len(queries)

    first = start(patient, portal_user)
    services.home_session_dose_record(actor=portal_user, log=first, dose_mg="100")
    services.home_side_effect_record(actor=portal_user, log=first, kind="nausea", severity="mild")
    one = count()
    for systolic in (150, 151, 152):
        start(patient, portal_user, systolic, 80)
    second = start(patient, portal_user)
    services.home_session_dose_record(actor=portal_user, log=second, dose_mg="100")
    services.home_side_effect_record(
        actor=portal_user, log=second, kind="headache", severity="mild"
    )
    assert count() == one
