"""One active plan per route under concurrency: PostgreSQL only (SQLite serialises all
writers). Two activations at once queue on the patient's row lock
(patients.services.patient_lock); the second then sees the first's active plan."""

from __future__ import annotations

import pytest

from clinic.core.exceptions import Conflict
from clinic.protocols import services, services_templates
from clinic.protocols.choices import PlanStatus
from clinic.protocols.models import ProtocolTemplate, TreatmentPlan
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


def test_two_first_versions_of_a_new_protocol_at_once_keep_one(clinic_admin):
    """A brand-new code has no version to lock: the (code, version) constraint decides, and the
    second administrator is told to read the protocol again (409), not shown a server error."""
    services.builtin_templates_ensure()
    definition = ProtocolTemplate.objects.get(code="iv-induction-2x-weekly").definition

    results = in_threads(
        2,
        lambda i: services_templates.template_create(
            actor=clinic_admin, code="iv-our-series", name=f"Series {i}", definition=definition
        ),
    )

    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1
    assert isinstance(refused[0], Conflict) and refused[0].code == "template_version_taken"
    assert list(
        ProtocolTemplate.objects.filter(code="iv-our-series").values_list("version", flat=True)
    ) == [1]
