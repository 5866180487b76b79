"""Races, prevented by the database: PostgreSQL only (SQLite serialises all writers)."""

import threading

import pytest
from django.db import connection

from clinic.patients import services
from clinic.patients.measurements import mrn_is_valid
from clinic.patients.models import CareTeamMember, Patient
from clinic.patients.tests.factories import register

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _in_threads(count, work):
    barrier = threading.Barrier(count)
    errors = []

    def run(index):
        try:
            barrier.wait(timeout=10)
            work(index)
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_desks_registering_at_the_same_moment_get_distinct_mrns(front_desk):
    errors = _in_threads(8, lambda i: register(front_desk, legal_given_name=f"Concurrent{i}"))
    assert errors == []
    mrns = list(Patient.objects.values_list("mrn", flat=True))
    assert len(mrns) == 8 and len(set(mrns)) == 8
    assert all(mrn_is_valid(m) for m in mrns)


def test_concurrent_care_team_changes_leave_one_whole_team(front_desk, make_staff):
    patient = register(front_desk)
    prescribers = [make_staff("prescriber", username=f"rx{i}") for i in range(6)]
    nurses = [make_staff("nurse", username=f"rn{i}") for i in range(6)]

    def change(i):
        services.care_team_set(
            actor=front_desk, patient=patient, primary_prescriber=prescribers[i], nurses=[nurses[i]]
        )

    assert _in_threads(6, change) == []
    team = list(
        CareTeamMember.objects.filter(patient=patient).values_list("staff__username", "team_role")
    )
    # The row lock serialises the writers: the team is exactly one writer's, never a mixture.
    assert len(team) == 2
    primary = next(u for u, r in team if r == "primary_prescriber")
    nurse = next(u for u, r in team if r == "nurse")
    assert primary.removeprefix("rx") == nurse.removeprefix("rn")
