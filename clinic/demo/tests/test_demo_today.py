"""The demo's "today" (issue 11): whatever day and hour `seed_demo` runs, the clinic is open
today with its nurses on shift, and every appointment it books lies within both, so the
calendar, the day list and the chair board tell the same story. Seeding again adds nothing the
same day and only the new day's shifts on a later one.

The moments are chosen to cover the cases that broke the demo: a Sunday (closed before), a
Saturday evening after closing, and a weekday night (America/New_York, the settings' zone).
"""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from clinic.accounts.models import User
from clinic.demo.scheduling import CLOSES, OPENS, SHIFT_DAYS
from clinic.scheduling.models import Appointment, OpeningHours, StaffShift
from clinic.scheduling.services import at

pytestmark = pytest.mark.django_db

MOMENTS = {
    "Sunday morning": datetime.datetime(2031, 6, 8, 10, 5),
    "Saturday after closing": datetime.datetime(2031, 6, 7, 19, 30),
    "Wednesday night": datetime.datetime(2031, 6, 4, 23, 40),
}


def _seed():
    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())


def _todays(today):
    start = at(today, datetime.time.min)
    return list(
        Appointment.objects.filter(
            starts_at__gte=start, starts_at__lt=start + datetime.timedelta(days=1)
        ).select_related("nurse", "patient")
    )


@pytest.fixture(params=MOMENTS.values(), ids=MOMENTS.keys())
def seeded_at(request):
    moment = timezone.make_aware(request.param)
    with time_machine.travel(moment, tick=False):
        _seed()
        yield timezone.localdate()


def test_today_is_open_with_the_nurses_on_shift(seeded_at):
    today = seeded_at
    hours = OpeningHours.objects.get(weekday=today.weekday())
    assert (hours.opens, hours.closes) == (OPENS, CLOSES)
    for username in ("nurse", "nurse2"):
        shift = StaffShift.objects.get(staff__username=username, date=today)
        assert (shift.start, shift.end) == (OPENS, CLOSES)


def test_every_appointment_today_is_within_the_hours_and_its_nurses_shift(seeded_at):
    today = seeded_at
    todays = _todays(today)
    assert sorted(a.route for a in todays) == ["esketamine", "iv", "iv"]
    for appointment in todays:
        assert at(today, OPENS) <= appointment.starts_at
        assert appointment.ends_at <= at(today, CLOSES)
        shift = StaffShift.objects.get(staff=appointment.nurse, date=today)
        assert at(today, shift.start) <= appointment.starts_at
        assert appointment.ends_at <= at(today, shift.end)


def test_every_booked_day_of_the_iv_course_is_open_and_staffed(seeded_at):
    for appointment in Appointment.objects.select_related("nurse"):
        day = timezone.localdate(appointment.starts_at)
        assert OpeningHours.objects.filter(weekday=day.weekday()).exists()
        assert StaffShift.objects.filter(staff=appointment.nurse, date=day).exists()


def test_the_calendar_the_day_list_and_the_board_agree(client, seeded_at):
    today = seeded_at
    names = {a.patient.display_name for a in _todays(today)}
    client.force_login(User.objects.get(username="frontdesk"))
    calendar = client.get(reverse("scheduling:calendar"), {"date": today.isoformat()})
    html = calendar.content.decode()
    assert "Closed" not in html and "No nurse shifts." not in html
    assert "Open 08:00–18:00" in html
    assert all(name in html for name in names)

    client.force_login(User.objects.get(username="nurse"))
    for page in ("treatment_sessions:day", "treatment_sessions:board"):
        text = client.get(reverse(page)).content.decode()
        assert all(name in text for name in names), page


def test_seeding_on_a_later_day_adds_that_days_shifts_and_no_duplicates():
    first = timezone.make_aware(MOMENTS["Saturday after closing"])
    with time_machine.travel(first, tick=False):
        _seed()
    with time_machine.travel(first + datetime.timedelta(days=1), tick=False):
        _seed()
        today = timezone.localdate()
        last = today + datetime.timedelta(days=SHIFT_DAYS - 1)
        for username in ("nurse", "nurse2"):
            shifts = StaffShift.objects.filter(staff__username=username)
            days = list(shifts.values_list("date", flat=True))
            assert len(days) == len(set(days))  # one shift a day
            assert shifts.filter(date=last).exists()
        assert sorted(a.route for a in _todays(today)) == ["esketamine", "iv", "iv"]
