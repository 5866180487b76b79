"""The patient's at-home session pages in the portal.

Every page is for the signed-in patient's own record: anonymous visitors are sent to sign in,
staff are refused (403), and another patient's log looks like no log (404) on every page,
writing nothing. Expected values: the default at-home limit is 140/90 (policy-defaults.md
"Vital signs", [C2], [E1]); above it the page says not to dose today and shows the crisis
resources (settings.CRISIS_RESOURCES: 988, 911); plausibility is systolic 50–300 mmHg
(policy-defaults.md); the test plan's prescribed dose is 100 mg.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from clinic.core.models import AuditEvent
from clinic.home_program import services
from clinic.home_program.models import HomeBpAlert, HomeSessionLog, HomeSideEffect
from clinic.home_program.tests.conftest import link_portal_user, sublingual_plan
from clinic.notifications.models import Notification
from tests.helpers import client_as, status_word

pytestmark = pytest.mark.django_db

LIST = reverse("portal:home_sessions")
NEW = reverse("portal:home_session_new")


@pytest.fixture
def portal_user(patient):
    """`patient`'s own portal sign-in."""
    return link_portal_user(patient, "jordan")


@pytest.fixture
def home_plan(patient, nurse, prescriber):
    """`patient`'s active at-home plan: three sessions at the prescriber-set 100 mg."""
    return sublingual_plan(patient, nurse=nurse, prescriber=prescriber)


@pytest.fixture
def other_patient(front_desk, make_staff):
    """Another patient (Casey Morgan) with their own team, portal user and at-home plan."""
    from clinic.patients.services import care_team_set
    from clinic.patients.tests.factories import register

    prescriber_b = make_staff("prescriber", username="prescriber_b")
    nurse_b = make_staff("nurse", username="nurse_b")
    other = register(front_desk, legal_given_name="Casey", legal_family_name="Morgan")
    care_team_set(
        actor=front_desk, patient=other, primary_prescriber=prescriber_b, nurses=[nurse_b]
    )
    other.portal_user = link_portal_user(other, "casey")
    other.home_plan = sublingual_plan(other, nurse=nurse_b, prescriber=prescriber_b)
    return other


def _log_url(log) -> str:
    return reverse("portal:home_session", args=[log.uuid])


def _start(client, systolic="120", diastolic="80", monitor="Sam Rivera"):
    return client.post(
        NEW, {"systolic_mmhg": systolic, "diastolic_mmhg": diastolic, "monitor_name": monitor}
    )


def _state():
    return (
        list(HomeSessionLog.objects.values_list("status", "dose_taken_mg").order_by("id")),
        HomeSideEffect.objects.count(),
        HomeBpAlert.objects.count(),
    )


# --------------------------------------------------------------------------- who may enter


@pytest.mark.parametrize("who", ["anonymous", "clinic_admin", "prescriber", "nurse", "front_desk"])
def test_only_a_signed_in_patient_reaches_the_pages(
    client, actors, patient, portal_user, home_plan, who
):
    log = services.home_session_start(
        actor=portal_user,
        patient=patient,
        systolic_mmhg=120,
        diastolic_mmhg=80,
        monitor_name="Sam Rivera",
    )
    client = client_as(client, actors[who])
    before = _state()
    expected = "login" if who == "anonymous" else 403
    assert status_word(client.get(LIST)) == expected
    assert status_word(client.get(NEW)) == expected
    assert status_word(_start(client)) == expected
    assert status_word(client.get(_log_url(log))) == expected
    assert status_word(client.post(_log_url(log), {"action": "dose", "dose_mg": "100"})) == expected
    assert _state() == before


def test_another_patients_log_is_not_found_and_nothing_is_written(
    client, patient, portal_user, home_plan, other_patient
):
    theirs = services.home_session_start(
        actor=other_patient.portal_user,
        patient=other_patient,
        systolic_mmhg=120,
        diastolic_mmhg=80,
        monitor_name="Alex Morgan",
    )
    client.force_login(portal_user)
    before = _state()

    assert client.get(_log_url(theirs)).status_code == 404
    for data in (
        {"action": "dose", "dose_mg": "100"},
        {"action": "not_taken"},
        {"action": "side_effect", "effect-kind": "nausea", "effect-severity": "mild"},
        {"action": "check_in", "checkin-feeling": "Fine"},
    ):
        assert client.post(_log_url(theirs), data).status_code == 404
    assert _state() == before
    html = client.get(LIST).content.decode()
    assert "Alex Morgan" not in html and str(theirs.uuid) not in html
    assert AuditEvent.objects.filter(
        actor=portal_user, action="denied", object_type="home_session_log"
    ).exists()


def test_a_patient_without_an_at_home_plan_gets_a_clear_message_and_no_log(
    client, patient, portal_user
):
    client.force_login(portal_user)
    for url in (LIST, NEW):
        html = client.get(url).content.decode()
        assert "You do not have an active at-home program" in html
        assert 'name="systolic_mmhg"' not in html
    response = _start(client, "150", "95")
    assert response.status_code == 200
    assert "You do not have an active at-home program" in response.content.decode()
    assert not HomeSessionLog.objects.exists() and not HomeBpAlert.objects.exists()
    # The navigation offers the at-home pages only to patients on the program.
    assert (
        "At-home sessions</a>" not in client.get(reverse("portal:home_sessions")).content.decode()
    )


def test_the_no_program_message_gives_the_clinics_number_as_a_link(client, portal_user, settings):
    settings.CLINIC_PHONE = "(212) 555-0142"
    client.force_login(portal_user)

    html = client.get(LIST).content.decode()

    assert (
        'If you think this is wrong, please call the clinic on <a href="tel:2125550142" '
        'class="clinic-phone">(212) 555-0142</a>.' in html
    )
    settings.CLINIC_PHONE = ""
    html = client.get(LIST).content.decode()
    assert "If you think this is wrong, please call the clinic.</p>" in html
    assert "tel:" not in html


def test_a_wrong_dose_is_refused_with_the_clinics_number(client, portal_user, home_plan, settings):
    settings.CLINIC_PHONE = "(212) 555-0142"
    client.force_login(portal_user)
    log_url = _start(client, "120", "80").headers["Location"]

    response = client.post(log_url, {"action": "dose", "dose_mg": "150", "taken_at": ""})

    assert (
        "Take only the prescribed dose. If you took a different amount, call the clinic on "
        "(212) 555-0142." in response.content.decode()
    )
    assert _state()[0] == [("waiting", None)]


def test_the_navigation_offers_at_home_sessions_to_a_patient_on_the_program(
    client, portal_user, home_plan
):
    client.force_login(portal_user)
    html = client.get(LIST).content.decode()
    assert f'href="{LIST}">At-home sessions</a>' in html
    assert "Your prescribed dose" in html and "100 mg" in html


# --------------------------------------------------------------------------- the flow


def test_a_whole_session_blood_pressure_dose_side_effect_check_in(
    client, patient, portal_user, home_plan
):
    client.force_login(portal_user)
    response = _start(client, "128", "84")
    log = HomeSessionLog.objects.get()
    assert response.status_code == 302 and response.headers["Location"] == _log_url(log)

    html = client.get(_log_url(log)).content.decode()
    assert "Waiting for the dose" in html
    assert "Your blood pressure allows today's dose" in html
    assert "prescribed dose of <strong>100 mg</strong>" in html

    wrong = client.post(_log_url(log), {"action": "dose", "dose_mg": "150"})
    assert wrong.status_code == 200
    assert "Your prescribed dose is 100 mg." in wrong.content.decode()
    assert HomeSessionLog.objects.get().status == "waiting"

    assert client.post(_log_url(log), {"action": "dose", "dose_mg": "100"}).status_code == 302
    html = client.get(_log_url(log)).content.decode()
    assert "Dosed" in html and "100 mg taken at" in html and "Log a side effect" in html

    other = client.post(
        _log_url(log), {"action": "side_effect", "effect-kind": "other", "effect-severity": "mild"}
    )
    assert "Describe the side effect." in other.content.decode()
    client.post(
        _log_url(log),
        {"action": "side_effect", "effect-kind": "dizziness", "effect-severity": "moderate"},
    )
    done = client.post(
        _log_url(log),
        {
            "action": "check_in",
            "checkin-feeling": "Calm, a little tired.",
            "checkin-mood_after": "6",
        },
    )
    assert done.status_code == 302
    html = client.get(_log_url(log)).content.decode()
    assert "Checked in" in html and "Calm, a little tired." in html and "6 out of 10" in html
    assert "Dizziness — moderate" in html
    assert "Log a side effect" not in html

    log.refresh_from_db()
    assert (log.status, log.mood_after) == ("checked_in", 6)
    writes = AuditEvent.objects.filter(actor=portal_user, patient=patient)
    assert writes.filter(object_type="home_session_log", action="create").count() == 1
    assert writes.filter(object_type="home_session_log", action="view").exists()
    list_html = client.get(LIST).content.decode()
    assert "128/84 mmHg" in list_html and "Checked in" in list_html


def test_over_the_limit_the_page_says_do_not_dose_with_crisis_resources(
    client, patient, portal_user, home_plan, prescriber, nurse, settings
):
    settings.CLINIC_PHONE = "(212) 555-0142"
    client.force_login(portal_user)
    response = _start(client, "141", "80")
    log = HomeSessionLog.objects.get()
    html = client.get(response.headers["Location"]).content.decode()

    assert "Do not take your dose today" in html
    assert "141/80 mmHg" in html and "140/90 mmHg" in html
    assert (
        'Rest, and call the clinic on <a href="tel:2125550142" class="clinic-phone">'
        "(212) 555-0142</a>." in html
    )
    assert "988 Suicide &amp; Crisis Lifeline" in html and "call 911" in html
    assert 'name="dose_mg"' not in html
    assert HomeBpAlert.objects.filter(log=log, status="open").exists()
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == [
        nurse.username,
        prescriber.username,
    ]
    # A dose posted anyway is refused and nothing changes.
    refused = client.post(_log_url(log), {"action": "dose", "dose_mg": "100"})
    assert "do not take the dose" in refused.content.decode()
    assert HomeSessionLog.objects.get().status == "do_not_dose"


def test_entry_errors_show_next_to_the_field_and_store_nothing(client, portal_user, home_plan):
    client.force_login(portal_user)
    response = _start(client, "30", "20", "Sam Rivera")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_systolic_mmhg_error"' in html
    assert "Systolic pressure must be between 50 and 300 mmHg." in html

    html = _start(client, "", "80", "").content.decode()
    assert 'id="id_systolic_mmhg_error"' in html
    assert "Enter the upper number of your blood pressure." in html
    assert 'id="id_monitor_name_error"' in html
    assert "needs a treatment monitor physically present" in html
    assert not HomeSessionLog.objects.exists()


def test_not_taking_the_dose_is_logged(client, portal_user, home_plan):
    client.force_login(portal_user)
    _start(client)
    log = HomeSessionLog.objects.get()
    assert client.post(_log_url(log), {"action": "not_taken"}).status_code == 302
    assert "No dose was taken in this session." in client.get(_log_url(log)).content.decode()
    assert HomeSessionLog.objects.get().status == "not_taken"
