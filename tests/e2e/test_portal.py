"""Issue 7's patient path in Chromium, at phone width.

The front desk invites a patient; the patient opens the activation link, chooses a password,
sees the next IV appointment (09:00 tomorrow) with its fasting times from the clinic policy
(no solid food within 4 h, clear liquids until 2 h before: 05:00 and 07:00), answers a PHQ-9,
writes an intention for the session, and after the session writes a journal entry shared with
the care team, which the therapist then reads on the chart.

The browser runs in real time: "after the session" is reached by moving the appointment's
times into the past and marking it completed, as the chair side does at discharge.
"""

from __future__ import annotations

import datetime
import re

from django.utils import timezone
from playwright.sync_api import expect

from clinic.patients.models import Patient
from clinic.patients.portal_access import portal_invitation_create
from clinic.scheduling import services as scheduling
from clinic.scheduling.models import Appointment
from conftest import TEST_PASSWORD  # the root conftest.py

PHONE = {"width": 390, "height": 844}
PASSWORD = "a-long-patient-password-7"


def test_a_patient_goes_from_invitation_to_a_shared_journal_entry(
    browser, live_server, patient, front_desk, nurse, therapist, clinic_admin
):
    Patient.objects.filter(pk=patient.pk).update(email="jordan.rivera@example.org")
    patient.refresh_from_db()
    room = scheduling.room_create(actor=clinic_admin, name="Room A")
    chair = scheduling.chair_create(
        actor=clinic_admin, room=room, name="Chair 1", capabilities=["iv_pump"]
    )
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    starts_at = timezone.make_aware(datetime.datetime.combine(tomorrow, datetime.time(9)))
    appointment = Appointment.objects.create(
        patient=patient,
        chair=chair,
        nurse=nurse,
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(minutes=70),
        route="iv",
        created_by=front_desk,
    )
    _invitation, token = portal_invitation_create(actor=front_desk, patient=patient)

    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    # Activation: the token leaves the address bar at once.
    page.goto(f"{live_server.url}/portal/activate/{token}/")
    assert token not in page.url
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_label("Type it again").fill(PASSWORD)
    page.get_by_role("button", name="Open my account").click()

    # Home: the next appointment with its preparation times.
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    main = page.locator("main")
    expect(main).to_contain_text("Ketamine infusion (IV")
    expect(main).to_contain_text("Stop eating solid food at 05:00")
    expect(main).to_contain_text("clear liquids until 07:00")
    expect(page.locator("footer")).to_contain_text("988")

    # A PHQ-9: items 1–8 "several days" (1), item 9 "not at all" (0): 8, mild.
    page.get_by_role("link", name="Questionnaires").first.click()
    page.get_by_role("link", name=re.compile("PHQ-9")).first.click()
    items = page.locator("fieldset.item")
    for index in range(items.count()):
        value = "0" if index == 8 else "1"
        items.nth(index).locator(f"input[value='{value}']").check()
    page.get_by_role("button", name="Submit my answers").click()
    expect(page.locator("main")).to_contain_text("8")
    expect(page.locator("main")).to_contain_text(re.compile("mild", re.IGNORECASE))

    # The intention for tomorrow's session.
    page.goto(f"{live_server.url}/portal/appointments/{appointment.uuid}/intention/")
    page.get_by_label("My intention for this session").fill("To meet my grief with kindness")
    page.get_by_role("button", name="Save my intention").click()
    expect(page.locator("main")).to_contain_text("To meet my grief with kindness")

    # After the session (discharged: the appointment is completed).
    ended = timezone.now() - datetime.timedelta(hours=2)
    Appointment.objects.filter(pk=appointment.pk).update(
        starts_at=ended - datetime.timedelta(minutes=70), ends_at=ended, status="completed"
    )
    page.goto(f"{live_server.url}/portal/journal/new/?appointment={appointment.uuid}")
    page.locator("input[name='mood_before'][value='3']").check()
    page.locator("input[name='mood_after'][value='7']").check()
    page.get_by_label("Reflections").fill("I felt far away, then very calm.")
    page.get_by_label("Insights").fill("I can let the sadness pass through.")
    page.get_by_label("Share this entry with my care team").check()
    page.get_by_role("button", name="Save my entry").click()
    expect(page.locator("main")).to_contain_text("I felt far away, then very calm.")
    context.close()

    # The therapist on the care team reads it on the chart.
    staff = browser.new_context(viewport={"width": 1280, "height": 900})
    page = staff.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", therapist.username)
    page.fill("#id_password", TEST_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/patients/{patient.uuid}/")
    journal = page.locator("section", has=page.get_by_role("heading", name="Integration journal"))
    expect(journal).to_contain_text("I felt far away, then very calm.")
    expect(journal).to_contain_text("I can let the sadness pass through.")
    staff.close()
