"""Vocabularies of the schedule."""

from django.db import models

from clinic.screening.choices import Route


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    CHECKED_IN = "checked_in", "Checked in"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"


# An appointment in one of these statuses holds its chair, patient and one of its nurse's
# concurrent places: the database's exclusion constraints (PostgreSQL) and the booking
# service's checks cover only these.
ACTIVE_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN)
# A planned session counts as booked while one of its appointments is in these statuses.
BOOKED_SESSION_STATUSES = (*ACTIVE_STATUSES, AppointmentStatus.COMPLETED)


class ChairCapability(models.TextChoices):
    # Labels read inside sentences ("Chair 2 has no IV pump and cardiac monitor").
    IV_PUMP = "iv_pump", "IV pump"
    CARDIAC_MONITOR = "cardiac_monitor", "cardiac monitor"
    PULSE_OXIMETER = "pulse_oximeter", "pulse oximeter"


# The routes given in a chair at the clinic. At-home sublingual sessions are not booked here.
IN_CLINIC_ROUTES = (Route.IV, Route.IM, Route.ESKETAMINE)


class Weekday(models.IntegerChoices):
    # Python's date.weekday(): Monday is 0.
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"
