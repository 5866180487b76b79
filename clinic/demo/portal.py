"""A demo patient who can sign in to the portal: the patient of the demo's active IV course
(booked from tomorrow), so the portal home shows a next appointment with its preparation.

Written directly (a demo account shares the published demo password, which the invitation
flow's password rules rightly refuse), and audited. Idempotent: one demo portal account.
"""

from __future__ import annotations

from clinic.accounts.models import User
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.patients.models import Patient
from clinic.protocols.choices import PlanStatus
from clinic.screening.choices import Route

DEMO_PATIENT_USERNAME = "patient"


def seed_portal_account(*, password: str) -> Patient | None:
    if User.objects.filter(username=DEMO_PATIENT_USERNAME).exists():
        return None
    patient = (
        Patient.objects.filter(
            user__isnull=True,
            treatment_plans__status=PlanStatus.ACTIVE,
            treatment_plans__route=Route.IV,
        )
        .order_by("pk")
        .first()
    )
    if patient is None:
        return None
    user = User.objects.create_user(
        username=DEMO_PATIENT_USERNAME, password=password, role="patient"
    )
    Patient.objects.filter(pk=patient.pk).update(user=user)
    audit_record(
        actor=None,
        action=AuditAction.CREATE,
        object_type="user",
        object_id=user.uuid,
        patient=patient,
        summary="Demo portal account",
        changes={"username": user.username},
    )
    return patient
