"""One active plan per route under concurrency: PostgreSQL only (SQLite serialises all
writers). Two activations at once queue on the patient's row lock
(patients.services.patient_lock); the second then sees the first's active plan."""

from __future__ import annotations

import pytest

from clinic.core.exceptions import Conflict
from clinic.protocols import services
from clinic.protocols.choices import PlanStatus
from clinic.protocols.models import TreatmentPlan
from clinic.protocols.tests.test_plans import monday_after, template
from tests.concurrency import in_threads

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_two_activations_at_once_leave_one_active_plan(eligible, prescriber):
    plans = [
        services.plan_create(
            actor=prescriber,
            patient=eligible,
            template=template(code),
            start_date=monday_after(),
        )
        for code in ("iv-induction-2x-weekly", "iv-induction-3x-weekly")
    ]

    results = in_threads(2, lambda i: services.plan_activate(actor=prescriber, plan=plans[i]))

    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1
    assert isinstance(refused[0], Conflict) and refused[0].code == "plan_already_active"
    assert TreatmentPlan.objects.filter(patient=eligible, status=PlanStatus.ACTIVE).count() == 1
