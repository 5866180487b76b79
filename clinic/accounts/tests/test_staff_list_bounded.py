"""The staff list pages (issue 14): a network's hundreds of accounts cost the same queries and
bytes per page as a practice's ten (tests/scale.py)."""

from __future__ import annotations

import pytest

from clinic.accounts.models import User
from tests.helpers import client_as
from tests.scale import LARGE, SMALL, measured

pytestmark = pytest.mark.django_db


def _staff_in_bulk(count: int, start: int) -> None:
    User.objects.bulk_create(
        User(
            username=f"bulk{n:05d}",
            first_name=f"First{n:05d}",
            last_name=f"Last{n:05d}",
            role="nurse",
            password="!",
        )
        for n in range(start, start + count)
    )


def test_the_staff_list_costs_the_same_at_two_sizes(client, clinic_admin, settings):
    settings.PAGE_SIZE = 5
    client_as(client, clinic_admin)
    _staff_in_bulk(SMALL, 0)
    small = measured(client, "/accounts/staff/")
    _staff_in_bulk(LARGE - SMALL, SMALL)
    large = measured(client, "/accounts/staff/")
    assert large[0] == small[0]
    assert abs(large[1] - small[1]) <= 16


def test_the_staff_list_pages_through_everyone(client, clinic_admin, settings):
    settings.PAGE_SIZE = 5
    _staff_in_bulk(12, 0)  # and the clinic administrator: 13 staff, 3 pages
    client_as(client, clinic_admin)
    html = client.get("/accounts/staff/?page=3").content.decode()
    assert "Page 3 of 3" in html and "Last00011" in html and "Last00000" not in html
