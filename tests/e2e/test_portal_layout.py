"""The patient portal's main pages at phone (390 px) and tablet (1024 px) width: nothing needs
sideways scrolling and axe-core finds no accessibility violation (issue 11).

The patient has what makes each page full: upcoming, past and cancelled appointments (the
appointments table was the page cut off at 390 px), two PHQ-9 scores (the progress chart and
its table), a journal entry, and an at-home plan with a logged session. The patient signs in
on the patient sign-in page.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic.assessments import services as assessment_services
from clinic.home_program import services as home_services
from clinic.home_program.tests.conftest import sublingual_plan
from clinic.journal import services as journal_services
from clinic.patients.models import Patient
from clinic.scheduling import services as scheduling
from clinic.scheduling.models import Appointment
from conftest import TEST_PASSWORD  # the root conftest.py
from tests.e2e.conftest import PHONE, TABLET, assert_accessible, assert_fits_width

PAGES = {
    "home": "/portal/",
    "appointments": "/portal/appointments/",
    "preparation": "/portal/appointments/{upcoming}/",
    "questionnaires": "/portal/questionnaires/",
    "progress": "/portal/progress/",
    "journal": "/portal/journal/",
    "at-home log": "/portal/at-home/",
    "at-home session": "/portal/at-home/{log}/",
    "my record": "/portal/record/",
}


@pytest.fixture
def portal_patient(patient, front_desk, nurse, prescriber, clinic_admin, settings):
    """`patient` with a portal sign-in and a full history on every page."""
    from clinic.accounts.models import User

    settings.CLINIC_PHONE = "(212) 555-0142"
    user = User.objects.create_user(username="jordan", password=TEST_PASSWORD, role="patient")
    Patient.objects.filter(pk=patient.pk).update(user=user)
    patient.refresh_from_db()

    room = scheduling.room_create(actor=clinic_admin, name="Infusion suite")
    chair = scheduling.chair_create(
        actor=clinic_admin, room=room, name="Chair 1", capabilities=["iv_pump"]
    )
    now = timezone.now()

    def book(days, *, status="booked", route="iv", minutes=70):
        day = timezone.localdate() + datetime.timedelta(days=days)
        starts_at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(9)))
        return Appointment.objects.create(
            patient=patient,
            chair=chair,
            nurse=nurse,
            starts_at=starts_at,
            ends_at=starts_at + datetime.timedelta(minutes=minutes),
            route=route,
            status=status,
            status_reason="" if status in ("booked", "completed") else "Unwell",
            created_by=front_desk,
        )

    past = book(-7, status="completed")
    book(-3, status="cancelled")
    upcoming = book(2)
    book(5, route="esketamine", minutes=130)

    # Two PHQ-9s (18, then 9): the progress chart and its table.
    for days, total in ((-20, 18), (-1, 9)):
        answers = [min(3, max(0, total - 3 * i)) for i in range(8)] + [0]
        assessment_services.response_record(
            actor=prescriber,
            patient=patient,
            instrument_code="phq9",
            answers=answers,
            taken_at=now + datetime.timedelta(days=days),
        )
    journal_services.journal_entry_create(
        actor=user,
        patient=patient,
        appointment=past,
        mood_before=3,
        mood_after=7,
        reflections="A long sentence about feeling far away and then very calm " * 4,
        insights="Breathing helps.",
    )
    sublingual_plan(patient, nurse=nurse, prescriber=prescriber)
    log = home_services.home_session_start(
        actor=user, patient=patient, systolic_mmhg=124, diastolic_mmhg=80, monitor_name="Sam"
    )
    return {"user": user, "upcoming": upcoming.uuid, "log": log.uuid}


def _sign_in(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/patient/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Patient sign-in")
    page.fill("#id_username", "jordan")
    page.fill("#id_password", TEST_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize("size", [PHONE, TABLET], ids=["phone", "tablet"])
def test_every_main_portal_page_fits_and_is_accessible(page, live_server, portal_patient, size):
    page.set_viewport_size(size)
    _sign_in(page, live_server)

    for name, path in PAGES.items():
        page.goto(live_server.url + path.format(**portal_patient))
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert page.url.endswith(path.format(**portal_patient)), name
        assert_fits_width(page)
        assert_accessible(page)


def test_the_appointments_page_shows_how_to_prepare_for_each_visit_on_a_phone(
    page, live_server, portal_patient
):
    page.set_viewport_size(PHONE)
    _sign_in(page, live_server)
    page.goto(f"{live_server.url}/portal/appointments/")

    upcoming = page.locator("section", has=page.get_by_role("heading", name="Upcoming"))
    links = upcoming.get_by_role("link", name="Preparation")
    expect(links).to_have_count(2)
    for index in range(2):
        box = links.nth(index).bounding_box()
        # On screen, within the phone's width: nothing to scroll sideways to.
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    # Each value says what it is, as the column heading does on a wider screen.
    expect(upcoming.locator("td[data-label='How to prepare']").first).to_be_visible()
    tel = page.get_by_role("link", name="(212) 555-0142")
    expect(tel).to_have_attribute("href", "tel:2125550142")
    links.first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Appointment on")
    assert_fits_width(page)


def test_a_patient_downloads_their_record_and_opens_the_pdf(page, live_server, portal_patient):
    """From the portal's menu to the PDF in the browser: it is the patient's own record, with
    their appointments and their PHQ-9 totals (18, then 9), and it is audited as an export."""
    import io

    from pypdf import PdfReader

    from clinic.core.models import AuditEvent

    page.set_viewport_size(PHONE)
    _sign_in(page, live_server)
    page.get_by_role("navigation", name="Portal").get_by_role("link", name="My record").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My record")
    with page.expect_navigation() as opened:
        page.get_by_role("link", name="Download my record (PDF)").click()
    assert opened.value.status == 200
    assert opened.value.headers["content-type"] == "application/pdf"
    # The browser shows it in its PDF viewer; read the same file with the same sign-in.
    content = page.context.request.get(page.url).body()
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    assert "Health record: Jordan Rivera" in text
    assert "Infusion suite" not in text  # rooms are the clinic's, not the record's
    assert "PHQ-9" in text and "18" in text and "Moderately severe" in text
    assert "Cancelled: Unwell" in text
    assert AuditEvent.objects.filter(
        action="export", object_type="patient_record", actor=portal_patient["user"]
    ).exists()
