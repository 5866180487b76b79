"""The journal's rules keep scheduling's statuses as plain values (they import no Django):
the values must stay the ones scheduling uses."""

from clinic.journal import rules
from clinic.scheduling.choices import ACTIVE_STATUSES, AppointmentStatus


def test_the_rules_statuses_are_schedulings():
    assert rules.ACTIVE_STATUSES == ACTIVE_STATUSES
    assert rules.PAST_SESSION_STATUSES == (
        AppointmentStatus.CHECKED_IN,
        AppointmentStatus.COMPLETED,
    )
