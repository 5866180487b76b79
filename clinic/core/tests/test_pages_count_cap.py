"""A section's total stops at SECTION_COUNT_CAP: its COUNT does not grow with years of
history, and the page says "at least" rather than a wrong number."""

from __future__ import annotations

import pytest

from clinic.core.models import AuditEvent
from clinic.core.pages import bounded

pytestmark = pytest.mark.django_db


def _events(n: int) -> None:
    for number in range(n):
        AuditEvent.objects.create(action="view", summary=f"event {number}")


def test_a_count_past_the_cap_is_shown_as_at_least_the_cap(settings):
    settings.SECTION_COUNT_CAP = 5
    _events(8)
    section = bounded(AuditEvent.objects.order_by("id"), size=3)
    assert (len(section), section.total, section.capped) == (3, 5, True)
    assert (section.total_text, section.more_text) == ("5+", "2+")


def test_a_count_within_the_cap_is_exact(settings):
    settings.SECTION_COUNT_CAP = 5
    _events(5)
    section = bounded(AuditEvent.objects.order_by("id"), size=3)
    assert (section.total, section.capped, section.total_text, section.more_text) == (
        5,
        False,
        "5",
        "2",
    )
