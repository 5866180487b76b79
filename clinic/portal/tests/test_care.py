"""Portal care pages: home with the next appointment and its preparation, appointments,
questionnaires through the portal with the result in plain words, and progress.

Expected values come from the sources, not from the code:
- IV/IM fasting (policy-defaults.md, "Preparation and discharge"; [E12]): no solid food 4 h
  before, clear liquids until 2 h before → for 09:00, 05:00 and 07:00.
- Esketamine [C3]: no food 2 h, no liquids 30 min, nasal corticosteroid/decongestant ≥ 1 h
  before → for 09:00, 07:00, 08:30 and 08:00; no driving until the next day after a restful
  sleep; observation ≥ 2 h [C9], [C10].
- PHQ-9 [G1], [G5]: total = sum of items 1–9 (all 1s → 9, "mild", 5–9); item 9 ≥ 1 raises a
  suicidality alert for the primary prescriber (policy-defaults.md, "Suicidality").
- Crisis resources: settings.CRISIS_RESOURCES (988 Suicide & Crisis Lifeline).
- Response: ≥ 50 % reduction from the first score (policy-defaults.md; [H1], [H4]).
"""

from __future__ import annotations

import datetime
import re
import uuid

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.accounts.models import User
from clinic.assessments import services as assessment_services
from clinic.assessments.models import AssessmentResponse, SuicidalityAlert
from clinic.core.models import AuditEvent
from clinic.notifications.models import Notification
from clinic.patients.models import Patient
from clinic.patients.tests.factories import register
from clinic.scheduling.models import Appointment, Chair, Room

pytestmark = pytest.mark.django_db

# A Sunday noon in the clinic's time zone (America/New_York); the appointments fall on the
# Monday after, 2 June 2031 (no daylight-saving change that week).
SUNDAY = datetime.date(2031, 6, 1)
MONDAY = datetime.date(2031, 6, 2)


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


NOW = at(SUNDAY, 12)


# --------------------------------------------------------------------------- fixtures


def give_portal_account(patient: Patient, username: str) -> User:
    user = User.objects.create_user(username=username, password="x" * 12, role="patient")
    Patient.objects.filter(pk=patient.pk).update(user=user)
    patient.refresh_from_db()
    return user


@pytest.fixture
def patient_user(patient):
    return give_portal_account(patient, "jordan")


@pytest.fixture
def other_patient(front_desk, prescriber, nurse):
    from clinic.patients.services import care_team_set

    other = register(front_desk, legal_given_name="Casey", legal_family_name="Morgan")
    care_team_set(actor=front_desk, patient=other, primary_prescriber=prescriber, nurses=[nurse])
    return other


@pytest.fixture
def other_user(other_patient):
    return give_portal_account(other_patient, "casey")


@pytest.fixture
def chair(db):
    room = Room.objects.create(name="Room A")
    return Chair.objects.create(
        room=room, name="Chair 1", capabilities=["iv_pump", "cardiac_monitor", "pulse_oximeter"]
    )


@pytest.fixture
def book(chair, nurse, front_desk):
    """Make an appointment row for a patient (the booking rules are the schedule's tests)."""

    def make(patient, starts_at, *, route="iv", minutes=70, status="booked"):
        return Appointment.objects.create(
            patient=patient,
            chair=chair,
            nurse=nurse,
            starts_at=starts_at,
            ends_at=starts_at + datetime.timedelta(minutes=minutes),
            route=route,
            status=status,
            status_reason="" if status in ("booked", "checked_in", "completed") else "Test",
            created_by=front_desk,
        )

    return make


@pytest.fixture(autouse=True)
def clock():
    """The clock stands at NOW for every test; a test moves it with `clock.move_to` (and signs
    in again: the idle-session limit would sign out a patient after a jump in time)."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def portal(client, patient_user):
    client.force_login(patient_user)
    return client


def move_to(clock, client, user, when):
    clock.move_to(when)
    client.force_login(user)


def crisis_section(html: str) -> str:
    """The result page's own crisis block (the footer on every page is not it)."""
    match = re.search(r'<section class="crisis".*?</section>', html, re.S)
    return match.group(0) if match else ""


def text_of(response) -> str:
    """The page as text, whitespace collapsed, for sentences split over template lines."""
    html = response.content.decode()
    html = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", html)


def phq9_post(values):
    return {f"item_{number}": str(value) for number, value in enumerate(values, start=1)}


# --------------------------------------------------------------------------- home


def test_home_shows_the_next_iv_appointment_with_fasting_times_for_0900(portal, patient, book):
    book(patient, at(MONDAY, 9), route="iv", minutes=70)
    page = text_of(portal.get(reverse("portal:home")))
    assert "Your next appointment" in page
    assert "Monday, June 2, 2031" in page
    assert "09:00 to about 10:10 (1 hour 10 minutes)" in page
    assert "Ketamine infusion (IV" in page
    # Default policy: solids 4 h, clear liquids until 2 h before [E12].
    assert "Stop eating solid food at 05:00 (4 hours before your appointment)." in page
    assert "You may drink clear liquids until 07:00 (2 hours before)" in page
    assert "A responsible adult must take you home after the session." in page
    assert "Do not drive until the next day." in page
    assert "nasal" not in page.lower().replace("nasal spray", "")


def test_home_follows_the_esketamine_label_for_preparation(portal, patient, book):
    book(patient, at(MONDAY, 9), route="esketamine", minutes=130)
    page = text_of(portal.get(reverse("portal:home")))
    assert "Esketamine nasal spray (Spravato)" in page
    # [C3]: no food ≥ 2 h, no liquids ≥ 30 min, nasal medicines ≥ 1 h before.
    assert "Do not eat after 07:00 (2 hours before your appointment)." in page
    assert "Do not drink anything after 08:30 (30 minutes before your appointment)." in page
    assert "use it no later than 08:00 (at least 1 hour before)." in page
    assert "Do not drive or use machinery until the next day, after a restful sleep." in page
    # Observation ≥ 2 h after the dose [C9], [C10].
    assert "rest at the clinic for at least 2 hours" in page
    assert "solid food" not in page


def test_a_fasting_time_before_midnight_names_its_day(portal, patient, book, settings):
    # A clinic may choose up to 8 h of fasting before IV/IM (policy-defaults.md).
    settings.CLINIC_POLICY = {"scheduling": {"fasting_solids_min": {"iv": 480}}}
    book(patient, at(MONDAY, 7), route="iv")
    page = text_of(portal.get(reverse("portal:home")))
    assert "Stop eating solid food at 23:00 on Sunday, June 1 (8 hours before" in page
    assert "clear liquids until 05:00 (2 hours before)" in page


def test_past_and_cancelled_appointments_are_not_the_next_one(portal, patient, book):
    book(patient, at(SUNDAY, 9), route="iv", status="completed")
    book(patient, at(SUNDAY, 11), route="iv")  # booked, started before now
    book(patient, at(MONDAY, 9), route="iv", status="cancelled")
    page = text_of(portal.get(reverse("portal:home")))
    assert "You have no upcoming appointment." in page
    assert "Stop eating" not in page

    book(patient, at(MONDAY, 13), route="im", minutes=60)
    page = text_of(portal.get(reverse("portal:home")))
    assert "13:00 to about 14:00 (1 hour)" in page
    assert "Stop eating solid food at 09:00" in page


def test_home_lists_open_tasks_for_intention_and_journal(portal, patient, book):
    last = book(patient, at(SUNDAY, 9), status="completed")
    coming = book(patient, at(MONDAY, 9))
    response = portal.get(reverse("portal:home"))
    html = response.content.decode()
    assert reverse("portal:intention", args=[coming.uuid]) in html
    assert f"{reverse('portal:journal_new')}?appointment={last.uuid}" in html
    page = text_of(response)
    assert "Before your session on Monday, June 2, 2031: set an intention" in page
    assert "After your session on Sunday, June 1, 2031: how did it go?" in page


def test_written_intention_and_journal_entry_close_their_tasks(portal, patient, patient_user, book):
    from clinic.journal.models import Intention, JournalEntry

    last = book(patient, at(SUNDAY, 9), status="completed")
    coming = book(patient, at(MONDAY, 9))
    Intention.objects.create(
        patient=patient, appointment=coming, text="To rest.", written_at=timezone.now()
    )
    JournalEntry.objects.create(patient=patient, appointment=last, mood_before=3, mood_after=6)
    response = portal.get(reverse("portal:home"))
    page = text_of(response)
    assert "You have written your intention for your session on Monday, June 2, 2031." in page
    assert "Write your intention" not in page
    assert f"?appointment={last.uuid}" not in response.content.decode()


def test_home_lists_the_baseline_questionnaires_due(portal, patient):
    # Baseline at screening: PHQ-9, GAD-7 and the C-SSRS screen (policy-defaults.md).
    response = portal.get(reverse("portal:home"))
    html = response.content.decode()
    for code in ("phq9", "gad7", "cssrs-screen"):
        assert reverse("portal:questionnaire", args=[code]) in html
    assert "Baseline (screening)" in text_of(response)


def test_home_is_audited_as_the_patients_own_read(portal, patient, patient_user, book):
    appointment = book(patient, at(MONDAY, 9))
    portal.get(reverse("portal:home"))
    events = AuditEvent.objects.filter(patient=patient, actor=patient_user)
    assert events.filter(action="view", object_id=str(appointment.uuid)).exists()
    assert events.filter(action="list", object_type="assessment_response").exists()


# --------------------------------------------------------------------------- appointments


def test_appointments_lists_upcoming_and_past_in_words(portal, patient, book):
    book(patient, at(SUNDAY, 9), status="completed")
    book(patient, at(MONDAY, 13), status="cancelled")
    upcoming = book(patient, at(MONDAY, 9), route="esketamine", minutes=130)
    response = portal.get(reverse("portal:appointments"))
    page = text_of(response)
    upcoming_part, earlier_part = page.split("Past and cancelled", 1)
    assert "Monday, June 2, 2031 09:00 (2 hours 10 minutes) Esketamine" in upcoming_part
    iv = "Ketamine infusion (IV, through a drip in your arm)"
    assert f"Sunday, June 1, 2031 09:00 {iv} Completed" in earlier_part
    assert f"Monday, June 2, 2031 13:00 {iv} Cancelled" in earlier_part
    assert reverse("portal:appointment", args=[upcoming.uuid]) in response.content.decode()


def test_an_upcoming_appointment_has_its_own_preparation_page(portal, patient, book):
    appointment = book(patient, at(MONDAY, 9), route="im", minutes=60)
    page = text_of(portal.get(reverse("portal:appointment", args=[appointment.uuid])))
    assert "Ketamine injection (IM" in page
    assert "Stop eating solid food at 05:00" in page
    assert "clear liquids until 07:00" in page
    assert "set an intention" in page


def test_a_completed_appointment_page_has_no_preparation(portal, patient, book):
    appointment = book(patient, at(SUNDAY, 9), status="completed")
    page = text_of(portal.get(reverse("portal:appointment", args=[appointment.uuid])))
    assert "Status Completed" in page
    assert "How to prepare" not in page


def test_another_patients_appointment_is_not_found_and_denied_in_the_audit(
    portal, patient_user, other_patient, book
):
    theirs = book(other_patient, at(MONDAY, 9))
    response = portal.get(reverse("portal:appointment", args=[theirs.uuid]))
    assert response.status_code == 404
    assert "Casey" not in response.content.decode()
    assert AuditEvent.objects.filter(
        actor=patient_user, action="denied", object_id=str(theirs.uuid)
    ).exists()
    assert portal.get(reverse("portal:appointment", args=[uuid.uuid4()])).status_code == 404


def test_a_patient_never_sees_another_patients_appointments(portal, patient, other_patient, book):
    book(other_patient, at(MONDAY, 15), route="esketamine", minutes=130)
    book(other_patient, at(SUNDAY, 8), status="completed")
    for name in ("portal:home", "portal:appointments"):
        page = text_of(portal.get(reverse(name)))
        assert "15:00" not in page
        assert "Esketamine" not in page
        assert "Completed" not in page


# --------------------------------------------------------------------------- questionnaires


def test_questionnaires_lists_due_and_any_time(portal, patient):
    response = portal.get(reverse("portal:questionnaires"))
    page = text_of(response)
    due, any_time = page.split("Any time", 1)
    assert "PHQ-9" in due and "GAD-7" in due and "C-SSRS Screener" in due
    assert "PHQ-9" in any_time and "GAD-7" in any_time


def test_the_questionnaire_page_shows_the_published_items_and_options(portal, patient):
    page = text_of(portal.get(reverse("portal:questionnaire", args=["phq9"])))
    assert (
        "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
        in page
    )
    assert "Little interest or pleasure in doing things" in page
    assert "Thoughts that you would be better off dead or of hurting yourself in some way" in page
    for option in ("Not at all", "Several days", "More than half the days", "Nearly every day"):
        assert option in page


def test_phq9_without_item_9_stores_a_portal_response_and_shows_the_band(
    portal, patient, patient_user
):
    response = portal.post(reverse("portal:questionnaire", args=["phq9"]), phq9_post([1] * 8 + [0]))
    stored = AssessmentResponse.objects.get(patient=patient)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:questionnaire_result", args=[stored.uuid])
    assert stored.source == "portal"
    assert stored.total == 8
    assert stored.severity == "mild"
    assert stored.timepoint == "baseline"  # the baseline was due (no session yet)
    assert stored.recorded_by is None
    assert not SuicidalityAlert.objects.filter(patient=patient).exists()
    assert AuditEvent.objects.filter(
        actor=patient_user, action="create", object_id=str(stored.uuid)
    ).exists()

    result = portal.get(response["Location"])
    page = text_of(result)
    assert "Your total is 8 out of a possible 27." in page
    assert "Totals from 5 to 9 are in the range the PHQ-9 calls “mild”." in page
    assert "Your care team sees your answers." in page
    assert crisis_section(result.content.decode()) == ""


def test_phq9_item_9_raises_an_alert_and_the_result_shows_crisis_resources_at_once(
    portal, patient, prescriber
):
    response = portal.post(reverse("portal:questionnaire", args=["phq9"]), phq9_post([1] * 9))
    stored = AssessmentResponse.objects.get(patient=patient)
    assert stored.total == 9
    assert stored.severity == "mild"
    assert stored.source == "portal"
    alert = SuicidalityAlert.objects.get(patient=patient)
    assert alert.response == stored
    assert alert.kind == "suicidal_ideation"
    assert alert.assigned_to == prescriber  # the primary prescriber, as for links
    assert Notification.objects.filter(alert=alert, recipient=prescriber).count() == 1

    result = portal.get(response["Location"])
    crisis = crisis_section(result.content.decode())
    assert "988" in crisis
    assert "Your care team has been told" in crisis
    assert "911" in crisis
    # The C-SSRS screen is prompted after a positive answer (policy-defaults.md).
    assert reverse("portal:questionnaire", args=["cssrs-screen"]) in crisis
    assert "Your total is 9 out of a possible 27." in text_of(result)


def test_the_cssrs_prompt_stays_until_the_screen_is_answered(portal, patient):
    # Baseline done first, so only the prompt can offer the C-SSRS.
    no = {"item_1": "0", "item_2": "0", "item_6": "0"}  # Q3–Q5 and Q6-recent skipped
    portal.post(reverse("portal:questionnaire", args=["cssrs-screen"]), no)
    portal.post(reverse("portal:questionnaire", args=["gad7"]), phq9_post([0] * 7))
    portal.post(reverse("portal:questionnaire", args=["phq9"]), phq9_post([0] * 8 + [2]))
    page = text_of(portal.get(reverse("portal:questionnaires")))
    assert "Your care team asks you to answer a few more questions" in page
    response = portal.post(reverse("portal:questionnaire", args=["cssrs-screen"]), no)
    assert response.status_code == 302
    page = text_of(portal.get(reverse("portal:questionnaires")))
    assert "Your care team asks you to answer a few more questions" not in page


def test_an_answer_out_of_range_is_refused_next_to_the_form_and_nothing_is_stored(portal, patient):
    response = portal.post(reverse("portal:questionnaire", args=["phq9"]), phq9_post([1] * 8 + [7]))
    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert not AssessmentResponse.objects.filter(patient=patient).exists()


def test_a_cssrs_answer_to_a_skipped_question_is_explained_in_plain_words(portal, patient):
    page = text_of(portal.get(reverse("portal:questionnaire", args=["cssrs-screen"])))
    assert "If your answer to question 2 is No, leave questions 3, 4 and 5 blank" in page
    answers = {"item_1": "0", "item_2": "0", "item_3": "0", "item_6": "0"}
    response = portal.post(reverse("portal:questionnaire", args=["cssrs-screen"]), answers)
    assert response.status_code == 200
    assert "Please leave question 3 blank: it is only for a Yes to question 2." in text_of(response)
    assert not AssessmentResponse.objects.filter(patient=patient).exists()


def test_unanswered_items_give_no_total(portal, patient):
    response = portal.post(reverse("portal:questionnaire", args=["gad7"]), {"item_1": "2"})
    page = text_of(portal.get(response["Location"]))
    assert "no total could be worked out" in page
    assert AssessmentResponse.objects.get(patient=patient).complete is False


@pytest.mark.parametrize("code", ["madrs", "cadss", "moaas", "no-such-thing"])
def test_clinician_rated_or_unknown_instruments_are_not_offered(portal, patient, code):
    assert portal.get(reverse("portal:questionnaire", args=[code])).status_code == 404
    response = portal.post(reverse("portal:questionnaire", args=[code]), {"item_1": "0"})
    assert response.status_code == 404
    assert not AssessmentResponse.objects.filter(patient=patient).exists()


def test_a_questionnaire_not_due_and_not_always_available_is_not_offered(portal, patient):
    # PCL-5 is self-report but neither due (baseline is PHQ-9, GAD-7, C-SSRS) nor always on.
    assert portal.get(reverse("portal:questionnaire", args=["pcl5"])).status_code == 404


def test_the_pre_session_phq9_is_due_on_the_day_of_a_session(
    portal, patient, patient_user, prescriber, book, clock
):
    for code, answers in (
        ("phq9", [1] * 8 + [0]),
        ("gad7", [1] * 7),
        ("cssrs-screen", [0, 0, None, None, None, 0, None]),
    ):
        assessment_services.response_record(
            actor=prescriber,
            patient=patient,
            instrument_code=code,
            answers=answers,
            taken_at=at(SUNDAY, 10),
        )
    book(patient, at(MONDAY, 15))
    move_to(clock, portal, patient_user, at(MONDAY, 10))
    page = text_of(portal.get(reverse("portal:questionnaires")))
    assert "Before a session" in page
    assert "Please answer by 15:00 on Monday, June 2, 2031." in page
    portal.post(reverse("portal:questionnaire", args=["phq9"]), phq9_post([0] * 9))
    latest = AssessmentResponse.objects.filter(patient=patient).order_by("-taken_at").first()
    assert latest.timepoint == "pre_session"
    assert "Before a session" not in text_of(portal.get(reverse("portal:questionnaires")))


def test_the_result_of_another_patients_response_is_not_found(
    portal, patient_user, other_patient, prescriber
):
    theirs = assessment_services.response_record(
        actor=prescriber, patient=other_patient, instrument_code="phq9", answers=[3] * 9
    )
    response = portal.get(reverse("portal:questionnaire_result", args=[theirs.uuid]))
    assert response.status_code == 404
    assert AuditEvent.objects.filter(
        actor=patient_user, action="denied", object_id=str(theirs.uuid)
    ).exists()


# --------------------------------------------------------------------------- service


def test_the_portal_service_refuses_anyone_but_the_patient_themselves(
    patient, patient_user, other_user, prescriber
):
    from clinic.core.exceptions import PermissionDenied

    for user in (other_user, prescriber, None):
        with pytest.raises(PermissionDenied):
            assessment_services.portal_response_record(
                patient_user=user,
                patient=patient,
                instrument_code="phq9",
                answers=[0] * 9,
                timepoint="unscheduled",
            )
    with pytest.raises(PermissionDenied):
        assessment_services.portal_response_record(
            patient_user=patient_user,
            patient=patient,
            instrument_code="madrs",
            answers=[0] * 10,
            timepoint="unscheduled",
        )
    assert not AssessmentResponse.objects.filter(patient=patient).exists()
    assert not AuditEvent.objects.filter(object_type="assessment_response").exists()


# --------------------------------------------------------------------------- progress


def _phq9_at(prescriber, patient, when, total):
    # Items 1–9 summing to `total` (0–27), item 9 kept at 0.
    answers = []
    left = total
    for _ in range(8):
        answers.append(min(3, left))
        left -= answers[-1]
    answers.append(0)
    assert left == 0
    return assessment_services.response_record(
        actor=prescriber, patient=patient, instrument_code="phq9", answers=answers, taken_at=when
    )


def test_progress_shows_the_patients_own_scores_in_plain_words(
    portal, patient, other_patient, prescriber
):
    _phq9_at(prescriber, patient, at(SUNDAY - datetime.timedelta(days=20), 10), 18)
    _phq9_at(prescriber, patient, at(SUNDAY, 10), 9)
    _phq9_at(prescriber, other_patient, at(SUNDAY, 11), 24)
    response = portal.get(reverse("portal:progress"))
    page = text_of(response)
    assert (
        "Your latest PHQ-9 score is 9 (mild), down 9 points from your first score of 18 "
        "(a 50% drop)." in page
    )
    # Response: ≥ 50 % reduction from the first score (policy-defaults.md).
    assert "what your care team calls a response to treatment" in page
    assert "remission" not in page  # 9 is not below 5
    html = response.content.decode()
    assert "<svg" in html
    # Never another patient's score: two rows, 9 then 18.
    assert "All PHQ-9 scores (2)" in page
    assert re.search(r"2031 9 Mild .*2031 18 Moderately severe", page)


def test_progress_leaves_out_entries_in_error(portal, patient, prescriber):
    first = _phq9_at(prescriber, patient, at(SUNDAY - datetime.timedelta(days=7), 10), 20)
    _phq9_at(prescriber, patient, at(SUNDAY, 10), 4)
    assessment_services.response_mark_entered_in_error(
        actor=prescriber, response=first, reason="Wrong patient"
    )
    page = text_of(portal.get(reverse("portal:progress")))
    assert "Your first PHQ-9 score was 4 (none–minimal)." in page


def test_progress_with_no_scores_says_so(portal, patient):
    page = text_of(portal.get(reverse("portal:progress")))
    assert "No scores yet." in page


# --------------------------------------------------------------------------- query counts


def _count(client, url) -> int:
    client.get(url)  # the first request after signing in also touches the session
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("name", ["portal:home", "portal:progress", "portal:appointments"])
def test_pages_stay_flat_as_history_grows(
    portal, patient, prescriber, book, name, django_assert_num_queries
):
    book(patient, at(SUNDAY - datetime.timedelta(days=2), 9), status="completed")
    book(patient, at(MONDAY, 9))
    _phq9_at(prescriber, patient, at(SUNDAY - datetime.timedelta(days=3), 10), 12)
    url = reverse(name)
    few = _count(portal, url)
    for week in range(1, 9):
        day = SUNDAY - datetime.timedelta(days=7 * week + 2)
        book(patient, at(day, 9), status="completed")
        _phq9_at(prescriber, patient, at(day, 8), 12 + week % 3)
    with django_assert_num_queries(few):
        portal.get(url)


def test_the_care_team_sees_a_portal_response_with_its_source(
    portal, patient, patient_user, client, prescriber
):
    response = portal.post(reverse("portal:questionnaire", args=["gad7"]), phq9_post([2] * 7))
    stored = AssessmentResponse.objects.get(patient=patient)
    result = portal.get(response["Location"])
    assert "Totals from 10 to 14 are in the range the GAD-7 calls “moderate”." in text_of(result)
    assert AuditEvent.objects.filter(
        actor=patient_user, action="view", object_id=str(stored.uuid)
    ).exists()
    client.force_login(prescriber)
    page = text_of(
        client.get(reverse("assessments:response_detail", args=[patient.uuid, stored.uuid]))
    )
    assert "Patient, in the portal" in page
    assert "14" in page  # GAD-7 total: 7 items × 2
