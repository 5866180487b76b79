"""An appointment whose time was stored before validation (year 1, year 9999) breaks no page
that draws it: the calendar, the appointment, the patient's chart and the portal (issue 13)."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from clinic.portal.tests.test_care import give_portal_account
from clinic.scheduling import services
from clinic.scheduling.models import Appointment
from clinic.scheduling.tests.conftest import MONDAY, at

pytestmark = pytest.mark.django_db

ODD = {
    "year 1": datetime.datetime(1, 1, 1, 9, tzinfo=datetime.UTC),
    "year 9999": datetime.datetime(9999, 12, 30, 9, tzinfo=datetime.UTC),
}


@pytest.mark.parametrize("starts_at", list(ODD.values()), ids=list(ODD))
def test_an_odd_appointment_time_breaks_no_page(
    starts_at, clinic, patient, front_desk, chair1, nurse, prescriber
):
    appointment = services.appointment_book(
        actor=front_desk,
        patient=patient,
        chair=chair1,
        nurse=nurse,
        starts_at=at(MONDAY, 9),
        route="iv",
    )
    Appointment.objects.filter(pk=appointment.pk).update(
        starts_at=starts_at, ends_at=starts_at + datetime.timedelta(hours=1)
    )
    staff = Client()
    staff.force_login(front_desk)
    for url in (
        reverse("scheduling:calendar"),
        reverse("scheduling:calendar") + f"?date={MONDAY.isoformat()}",
        reverse("scheduling:appointment_detail", args=[appointment.uuid]),
    ):
        assert staff.get(url).status_code == 200, url
    staff.force_login(prescriber)
    assert staff.get(reverse("patients:patient_chart", args=[patient.uuid])).status_code == 200
    portal = Client()
    portal.force_login(give_portal_account(patient, "jordan"))
    for url in (
        reverse("portal:home"),
        reverse("portal:appointments"),
        reverse("portal:appointment", args=[appointment.uuid]),
    ):
        assert portal.get(url).status_code == 200, url
