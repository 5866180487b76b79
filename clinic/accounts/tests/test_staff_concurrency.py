"""PostgreSQL: two clinic administrators removing each other at the same moment leave one."""

from __future__ import annotations

import pytest

from clinic.accounts import staff
from clinic.accounts.models import User
from clinic.core.exceptions import Conflict
from tests.concurrency import in_threads

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_two_admins_deactivating_each_other_leave_one_active(make_staff):
    first = make_staff("clinic_admin", username="admin_a")
    second = make_staff("clinic_admin", username="admin_b")
    pairs = [(first, second), (second, first)]

    results = in_threads(2, lambda i: staff.staff_deactivate(actor=pairs[i][0], staff=pairs[i][1]))

    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    assert sum(isinstance(r, staff.Deactivation) for r in results) == 1, results
    assert User.objects.filter(role="clinic_admin", is_active=True).count() == 1


def test_two_admins_demoting_each_other_leave_one(make_staff):
    first = make_staff("clinic_admin", username="admin_a")
    second = make_staff("clinic_admin", username="admin_b")
    pairs = [(first, second), (second, first)]

    def demote(i):
        actor, target = pairs[i]
        return staff.staff_update(
            actor=actor,
            staff=target,
            role="billing",
            credentials="",
            first_name="",
            last_name="",
            email="",
        )

    results = in_threads(2, demote)

    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    assert User.objects.filter(role="clinic_admin", is_active=True).count() == 1
