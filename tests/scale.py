"""Rows in bulk for the query-count tests at two sizes (issue 14: no page's query count or size
grows with the clinic's size). `bulk_create` only, never the services: 10,000 patients take
seconds on SQLite, where registering them one by one would take many minutes."""

from __future__ import annotations

import datetime
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.patients.models import CareTeamMember, Patient

# Two sizes, as issue 14 names them: a small clinic and a network of 10,000 patients.
SMALL = 10
LARGE = 10_000


def patients_in_bulk(count: int, *, care_team: dict | None = None, start: int = 0) -> list:
    """`count` active patients with names and MRNs of one width, on `care_team`
    ({staff user: team role}) if given."""
    patients = Patient.objects.bulk_create(
        Patient(
            mrn=f"B{n:09d}",
            legal_given_name=f"Given{n:05d}",
            legal_family_name=f"Family{n:05d}",
            date_of_birth=datetime.date(1980, 1, 1),
            sex="female",
        )
        for n in range(start, start + count)
    )
    if not patients[0].pk:  # a backend that does not return ids from a bulk insert
        patients = list(Patient.objects.filter(mrn__startswith="B").order_by("-pk")[:count])
    for staff, role in (care_team or {}).items():
        CareTeamMember.objects.bulk_create(
            CareTeamMember(patient=p, staff=staff, team_role=role) for p in patients
        )
    return patients


def measured(client, url: str, **kwargs) -> tuple[int, int]:
    """The page's query count and its size in bytes (the CSRF token and digits normalised, so
    that only more rows, not longer numbers, make it bigger)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **kwargs)
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    html = re.sub(r'value="[^"]*"', 'value=""', html)
    html = re.sub(r"\d+", "0", html)
    return len(captured.captured_queries), len(html.encode())
